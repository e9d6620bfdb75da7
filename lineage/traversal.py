"""Bounded walks over the lineage graph: upstream, downstream, impact and paths.

Lineage is plain RDF (DESIGN.md): ``semcat:derivedFrom`` between data assets (tables from
tables, columns from columns), ``semcat:consumes`` (what a pipeline, dashboard or model reads)
and ``semcat:produces`` (what a pipeline writes). At table level, column edges are lifted to
their tables, so a table built from another only through its columns still shows the edge.

A pipeline is shown where it reads or writes an asset, but a walk does not go through it: a job
that reads ten tables and writes ten others does not make each output derived from every input
(the dataset edges say which is); that over-reach is what makes other catalogs' lineage graphs
unreadable.

A walk reads the caller's dataset (the graphs it may read), so an asset the caller may not read
is never reached, returned or counted; and it stops at
``MAX_NODES`` nodes or ``MAX_EDGES`` edges (``partial``), so a monster graph costs a bounded
amount of work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Final, Literal, NamedTuple, Protocol

from pyoxigraph import NamedNode

from graph_store.protocol import QuadSource
from ontology.namespaces import RDF_TYPE, SEMCAT

__all__ = ["MAX_EDGES", "MAX_NODES", "Direction", "Edge", "Level", "LineageGraph", "SparqlSteps",
           "Step", "Steps", "Walk"]

DERIVED_FROM: Final = NamedNode(SEMCAT + "derivedFrom")
PART_OF: Final = NamedNode(SEMCAT + "partOf")
TYPE: Final = NamedNode(RDF_TYPE)
MAX_NODES: Final = 10_000
MAX_EDGES: Final = 50_000

CHUNK: Final = 500  # frontier nodes per query
Direction = Literal["upstream", "downstream"]
Level = Literal["table", "column"]

_QUERY = ("PREFIX semcat: <https://w3id.org/semcat#> SELECT DISTINCT ?here ?there ?via ?job "
          "WHERE {{ VALUES ?here {{ {values} }} {{ {body} }} ?there a ?type . "
          "BIND(EXISTS {{ ?there a semcat:Pipeline }} AS ?job) }}")
_STEPS: Final[dict[str, str]] = {
    "upstream": '{ ?here semcat:derivedFrom ?there BIND("derivedFrom" AS ?via) } UNION '
                '{ ?here semcat:consumes ?there BIND("consumes" AS ?via) } UNION '
                '{ ?there semcat:produces ?here BIND("produces" AS ?via) }',
    "downstream": '{ ?there semcat:derivedFrom ?here BIND("derivedFrom" AS ?via) } UNION '
                  '{ ?there semcat:consumes ?here BIND("consumes" AS ?via) } UNION '
                  '{ ?here semcat:produces ?there BIND("produces" AS ?via) }',
}
_LIFTED: Final[dict[str, str]] = {  # column edges, lifted to the tables
    "upstream": ' UNION { ?c semcat:partOf ?here . ?c semcat:derivedFrom ?o . '
                '?o semcat:partOf ?there BIND("derivedFrom" AS ?via) }',
    "downstream": ' UNION { ?c semcat:partOf ?here . ?d semcat:derivedFrom ?c . '
                  '?d semcat:partOf ?there BIND("derivedFrom" AS ?via) } UNION '
                  '{ ?c semcat:partOf ?here . ?there semcat:consumes ?c '
                  'BIND("consumes" AS ?via) }',
}


class Edge(NamedTuple):
    """Data flows from ``source`` to ``target`` (``target`` is derived from, consumes, or is
    produced from ``source``); ``via`` names the statement that says so. A tuple, not a
    dataclass: a walk makes and sorts tens of thousands of them."""
    source: str
    target: str
    via: str


# (node, neighbour, edge in the direction data flows, whether the neighbour is a pipeline)
Step = tuple[str, str, Edge, bool]
_EDGE: Final = itemgetter(2)


class Steps(Protocol):
    """One breadth-first layer: from the index for the current lineage, by SPARQL for the
    lineage as of a past time."""

    def steps(self, frontier: Sequence[str], direction: Direction, level: Level
              ) -> Iterable[Step]:
        """A step for every neighbour one edge away from the frontier (IRIs), each once."""
        ...


@dataclass
class Walk:
    nodes: dict[str, tuple[int, str]] = field(default_factory=dict)  # iri -> (distance, side)
    edges: set[Edge] = field(default_factory=set)
    partial: bool = False  # stopped at MAX_NODES / MAX_EDGES, not at the depth asked


class SparqlSteps:
    """Steps by SPARQL over the caller's dataset (``select``), where no index follows the
    store (lineage as of a past time). One query per breadth-first layer, for the whole
    frontier: the engine joins in Rust what a look-up per node and column would cost in
    Python."""

    def __init__(self, select: Callable[[str], Iterable[Any]]) -> None:
        self._select = select

    def steps(self, frontier: Sequence[str], direction: Direction, level: Level
              ) -> Iterable[Step]:
        body = _STEPS[direction] + (_LIFTED[direction] if level == "table" else "")
        for i in range(0, len(frontier), CHUNK):
            values = " ".join(f"<{n}>" for n in frontier[i:i + CHUNK])
            for row in self._select(_QUERY.format(values=values, body=body)):
                here, there, via = row["here"], row["there"], row["via"].value
                if not isinstance(here, NamedNode) or not isinstance(there, NamedNode) or \
                        here == there:
                    continue
                edge = Edge(there.value, here.value, via) if direction == "upstream" else \
                    Edge(here.value, there.value, via)
                yield here.value, there.value, edge, row["job"].value == "true"


class LineageGraph:
    """The lineage a caller may read: ``steps`` takes one layer over the caller's view (an
    asset is reached only where its type statement is readable; a SPARQL select function
    stands for ``SparqlSteps``), ``source`` reads statements the same way."""

    def __init__(self, source: QuadSource, steps: Steps | Callable[[str], Iterable[Any]], *,
                 max_nodes: int = MAX_NODES, max_edges: int = MAX_EDGES) -> None:
        self._source = source
        self._steps: Steps = SparqlSteps(steps) if callable(steps) else steps
        self._max_nodes = max_nodes
        self._max_edges = max_edges

    def columns(self, table: NamedNode) -> list[NamedNode]:
        return sorted((q.subject for q in self._source.quads(None, PART_OF, table)
                       if isinstance(q.subject, NamedNode)), key=str)

    # -- walks -------------------------------------------------------------------------------
    def walk(self, start: list[NamedNode], directions: tuple[Direction, ...], depth: int,
             level: Level) -> Walk:
        """Breadth first from ``start`` in each direction, up to ``depth`` edges away; each
        layer in edge order, so that where a bound cuts it does not depend on the ``Steps``.
        Downstream an edge starts at its frontier node, so the frontier, sorted, is stepped a
        chunk at a time in edge order, and a walk that meets its bounds stops expanding."""
        out = Walk()
        nodes, edges = out.nodes, out.edges
        max_nodes, max_edges = self._max_nodes, self._max_edges
        for s in start:
            nodes[s.value] = (0, "self")
        for direction in directions:
            frontier = [s.value for s in start]
            seen = set(frontier)
            for d in range(depth):
                layer: list[str] = []
                if direction == "downstream":
                    frontier.sort()
                    chunks = [frontier[i:i + CHUNK] for i in range(0, len(frontier), CHUNK)]
                else:
                    chunks = [frontier]
                for chunk in chunks:
                    for _here, nxt, edge, job in sorted(
                            self._steps.steps(chunk, direction, level), key=_EDGE):
                        if len(edges) >= max_edges or (nxt not in seen and len(nodes) >= max_nodes
                                                       and nxt not in nodes):
                            out.partial = True
                            return out
                        edges.add(edge)
                        if nxt in seen:
                            continue
                        seen.add(nxt)
                        nodes.setdefault(nxt, (d + 1, direction))
                        if not job:
                            layer.append(nxt)
                if not layer:
                    break
                frontier = layer
        return out

    def paths(self, source: NamedNode, target: NamedNode, depth: int, level: Level,
              limit: int) -> tuple[list[list[str]], bool]:
        """Up to ``limit`` shortest paths along which data flows from ``source`` to
        ``target``; and whether the search stopped at its bounds."""
        preds: dict[str, set[str]] = {source.value: set()}
        frontier = [source.value]
        found = partial = False
        for _ in range(depth):
            layer: dict[str, set[str]] = {}
            jobs: set[str] = set()
            for here, nxt, _edge, job in self._steps.steps(frontier, "downstream", level):
                if nxt not in preds:
                    layer.setdefault(nxt, set()).add(here)
                    if job:
                        jobs.add(nxt)
            preds.update(layer)
            if target.value in layer:
                found = True
                break
            if len(preds) >= self._max_nodes:
                partial = True
                break
            frontier = [v for v in sorted(layer) if v not in jobs]
            if not frontier:
                break
        if not found:
            return [], partial
        paths: list[list[str]] = []

        def back(node: str, tail: list[str]) -> None:
            if len(paths) >= limit:
                return
            if node == source.value:
                paths.append([node, *tail])
                return
            for p in sorted(preds[node]):
                back(p, [node, *tail])

        back(target.value, [])
        return paths, partial
