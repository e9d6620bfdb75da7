"""Bounded walks over the lineage graph: upstream, downstream, impact and paths.

Lineage is plain RDF (DESIGN.md): ``semcat:derivedFrom`` between data assets (tables from
tables, columns from columns), ``semcat:consumes`` (what a pipeline, dashboard or model reads)
and ``semcat:produces`` (what a pipeline writes). At table level, column edges are lifted to
their tables, so a table built from another only through its columns still shows the edge.

A pipeline is shown where it reads or writes an asset, but a walk does not go through it: a job
that reads ten tables and writes ten others does not make each output derived from every input
(the dataset edges say which is); that over-reach is what makes other catalogs' lineage graphs
unreadable.

A walk reads through the caller's view of the store (``graph_store.overlay.Restricted``), so an
asset the caller may not read is never reached, returned or counted; and it stops at
``MAX_NODES`` nodes or ``MAX_EDGES`` edges (``partial``), so a monster graph costs a bounded
amount of work.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

from pyoxigraph import NamedNode

from graph_store.protocol import QuadSource
from ontology.namespaces import RDF_TYPE, SEMCAT

__all__ = ["MAX_EDGES", "MAX_NODES", "Direction", "Edge", "Level", "LineageGraph", "Walk"]

DERIVED_FROM: Final = NamedNode(SEMCAT + "derivedFrom")
CONSUMES: Final = NamedNode(SEMCAT + "consumes")
PRODUCES: Final = NamedNode(SEMCAT + "produces")
PART_OF: Final = NamedNode(SEMCAT + "partOf")
PIPELINE: Final = NamedNode(SEMCAT + "Pipeline")
TYPE: Final = NamedNode(RDF_TYPE)
MAX_NODES: Final = 10_000
MAX_EDGES: Final = 50_000

Direction = Literal["upstream", "downstream"]
Level = Literal["table", "column"]


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
    """The lineage a caller may read. ``visible`` says whether an asset is readable (its type
    statement lies in a graph the caller may read)."""

    def __init__(self, source: QuadSource, visible: Callable[[NamedNode], bool], *,
                 max_nodes: int = MAX_NODES, max_edges: int = MAX_EDGES) -> None:
        self._source = source
        self._visible = visible
        self._max_nodes = max_nodes
        self._max_edges = max_edges
        self._parents: dict[NamedNode, NamedNode | None] = {}

    def _is_job(self, node: NamedNode) -> bool:
        return next(iter(self._source.quads(node, TYPE, PIPELINE)), None) is not None

    # -- one step ------------------------------------------------------------------------------
    def _objects(self, s: NamedNode, p: NamedNode) -> Iterator[NamedNode]:
        for q in self._source.quads(s, p, None):
            if isinstance(q.object, NamedNode):
                yield q.object

    def _subjects(self, p: NamedNode, o: NamedNode) -> Iterator[NamedNode]:
        for q in self._source.quads(None, p, o):
            if isinstance(q.subject, NamedNode):
                yield q.subject

    def parent(self, column: NamedNode) -> NamedNode | None:
        """The table (or other container) a column is part of."""
        if column not in self._parents:
            self._parents[column] = next(self._objects(column, PART_OF), None)
        return self._parents[column]

    def columns(self, table: NamedNode) -> list[NamedNode]:
        return sorted(self._subjects(PART_OF, table), key=str)

    def steps(self, node: NamedNode, direction: Direction, level: Level
              ) -> Iterator[tuple[NamedNode, Edge]]:
        """Neighbours one edge away, each with the edge (in the direction data flows)."""
        n = node.value
        if direction == "upstream":
            for p, via in ((DERIVED_FROM, "derivedFrom"), (CONSUMES, "consumes")):
                for o in self._objects(node, p):
                    yield o, Edge(o.value, n, via)
            for s in self._subjects(PRODUCES, node):
                yield s, Edge(s.value, n, "produces")
            if level == "table":  # column edges, lifted to the tables
                for c in self.columns(node):
                    for o in self._objects(c, DERIVED_FROM):
                        up = self.parent(o)
                        if up is not None and up != node:
                            yield up, Edge(up.value, n, "derivedFrom")
        else:
            for p, via in ((DERIVED_FROM, "derivedFrom"), (CONSUMES, "consumes")):
                for s in self._subjects(p, node):
                    yield s, Edge(n, s.value, via)
            for o in self._objects(node, PRODUCES):
                yield o, Edge(n, o.value, "produces")
            if level == "table":
                for c in self.columns(node):
                    for s in self._subjects(DERIVED_FROM, c):
                        down = self.parent(s)
                        if down is not None and down != node:
                            yield down, Edge(n, down.value, "derivedFrom")
                    for s in self._subjects(CONSUMES, c):  # a chart reading a column
                        if s != node:
                            yield s, Edge(n, s.value, "consumes")

    # -- walks ---------------------------------------------------------------------------------
    def walk(self, start: list[NamedNode], directions: tuple[Direction, ...], depth: int,
             level: Level) -> Walk:
        """Breadth first from ``start`` in each direction, up to ``depth`` edges away."""
        out = Walk()
        for s in start:
            out.nodes[s.value] = (0, "self")
        for direction in directions:
            frontier = deque((s, 0) for s in start)
            seen = {s.value for s in start}
            while frontier:
                node, d = frontier.popleft()
                if d >= depth:
                    continue
                for nxt, edge in self.steps(node, direction, level):
                    if not self._visible(nxt):
                        continue
                    if len(out.edges) >= self._max_edges:
                        out.partial = True
                        return out
                    out.edges.add(edge)
                    if nxt.value in seen:
                        continue
                    if len(out.nodes) >= self._max_nodes and nxt.value not in out.nodes:
                        out.edges.discard(edge)
                        out.partial = True
                        return out
                    seen.add(nxt.value)
                    out.nodes.setdefault(nxt.value, (d + 1, direction))
                    if not self._is_job(nxt):
                        frontier.append((nxt, d + 1))
        return out

    def paths(self, source: NamedNode, target: NamedNode, depth: int, level: Level,
              limit: int) -> tuple[list[list[str]], bool]:
        """Up to ``limit`` shortest paths along which data flows from ``source`` to
        ``target``; and whether the search stopped at its bounds."""
        preds: dict[str, set[str]] = {source.value: set()}
        frontier = [source]
        found = False
        partial = False
        for _ in range(depth):
            layer: dict[str, set[str]] = {}
            for node in frontier:
                for nxt, _edge in self.steps(node, "downstream", level):
                    if nxt.value in preds or not self._visible(nxt):
                        continue
                    layer.setdefault(nxt.value, set()).add(node.value)
            preds.update(layer)
            if target.value in layer:
                found = True
                break
            if len(preds) >= self._max_nodes:
                partial = True
                break
            frontier = [n for n in map(NamedNode, sorted(layer)) if not self._is_job(n)]
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
