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

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pyoxigraph import NamedNode

from graph_store.protocol import QuadSource
from ontology.namespaces import RDF_TYPE, SEMCAT

__all__ = ["MAX_EDGES", "MAX_NODES", "Direction", "Edge", "Level", "LineageGraph", "Walk"]

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


@dataclass(frozen=True, order=True)
class Edge:
    """Data flows from ``source`` to ``target`` (``target`` is derived from, consumes, or is
    produced from ``source``); ``via`` names the statement that says so."""
    source: str
    target: str
    via: str


@dataclass
class Walk:
    nodes: dict[str, tuple[int, str]] = field(default_factory=dict)  # iri -> (distance, side)
    edges: set[Edge] = field(default_factory=set)
    partial: bool = False  # stopped at MAX_NODES / MAX_EDGES, not at the depth asked


class LineageGraph:
    """The lineage a caller may read: ``select`` runs a SPARQL SELECT over the caller's dataset
    (an asset is reached only where its type statement is readable), ``source`` reads
    statements the same way. One query per breadth-first layer, for the whole frontier: the
    engine joins in Rust what a look-up per node and column would cost in Python."""

    def __init__(self, source: QuadSource, select: Callable[[str], Iterable[Any]], *,
                 max_nodes: int = MAX_NODES, max_edges: int = MAX_EDGES) -> None:
        self._source = source
        self._select = select
        self._max_nodes = max_nodes
        self._max_edges = max_edges

    def columns(self, table: NamedNode) -> list[NamedNode]:
        return sorted((q.subject for q in self._source.quads(None, PART_OF, table)
                       if isinstance(q.subject, NamedNode)), key=str)

    # -- one layer -----------------------------------------------------------------------------
    def steps(self, frontier: Sequence[NamedNode], direction: Direction, level: Level
              ) -> Iterator[tuple[NamedNode, NamedNode, Edge, bool]]:
        """(node, neighbour, edge in the direction data flows, whether the neighbour is a
        pipeline) for every neighbour one edge away from the frontier."""
        body = _STEPS[direction] + (_LIFTED[direction] if level == "table" else "")
        for i in range(0, len(frontier), CHUNK):
            values = " ".join(str(n) for n in frontier[i:i + CHUNK])
            for row in self._select(_QUERY.format(values=values, body=body)):
                here, there, via = row["here"], row["there"], row["via"].value
                if not isinstance(here, NamedNode) or not isinstance(there, NamedNode) or \
                        here == there:
                    continue
                edge = Edge(there.value, here.value, via) if direction == "upstream" else \
                    Edge(here.value, there.value, via)
                yield here, there, edge, row["job"].value == "true"

    # -- walks ---------------------------------------------------------------------------------
    def walk(self, start: list[NamedNode], directions: tuple[Direction, ...], depth: int,
             level: Level) -> Walk:
        """Breadth first from ``start`` in each direction, up to ``depth`` edges away."""
        out = Walk()
        for s in start:
            out.nodes[s.value] = (0, "self")
        for direction in directions:
            frontier = list(start)
            seen = {s.value for s in start}
            for d in range(depth):
                layer: list[NamedNode] = []
                for _here, nxt, edge, job in sorted(self.steps(frontier, direction, level),
                                                    key=lambda t: t[2]):
                    if len(out.edges) >= self._max_edges:
                        out.partial = True
                        return out
                    if nxt.value not in seen and len(out.nodes) >= self._max_nodes and \
                            nxt.value not in out.nodes:
                        out.partial = True
                        return out
                    out.edges.add(edge)
                    if nxt.value in seen:
                        continue
                    seen.add(nxt.value)
                    out.nodes.setdefault(nxt.value, (d + 1, direction))
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
        frontier = [source]
        found = partial = False
        for _ in range(depth):
            layer: dict[str, set[str]] = {}
            jobs: set[str] = set()
            for here, nxt, _edge, job in self.steps(frontier, "downstream", level):
                if nxt.value not in preds:
                    layer.setdefault(nxt.value, set()).add(here.value)
                    if job:
                        jobs.add(nxt.value)
            preds.update(layer)
            if target.value in layer:
                found = True
                break
            if len(preds) >= self._max_nodes:
                partial = True
                break
            frontier = [NamedNode(v) for v in sorted(layer) if v not in jobs]
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
