"""The lineage statements in memory, so that a walk costs dictionary look-ups rather than a
SPARQL query per layer (issue 13: impact at depth 20 within 100 ms on 100,000 tables).

A projection of the asserted graphs, kept in step with them by ``Journal.on_applied`` (every
write to them goes through ``Journal.commit``) and read by ``LineageGraph`` exactly as
``SparqlSteps`` reads the store. The reasoner's inferences are not followed, so
``semcat:derivesInto`` is read as the ``derivedFrom`` it states.

Each statement keeps the graph it sits in, so one index serves every caller: a statement
counts where its graph is readable, a neighbour is reached where one of its type statements is.
Column edges lifted to tables are kept ready, with how many column edges support them per set
of graphs that must all be readable (the column edge's and both ``partOf`` statements'), so a
hidden column lends no edge to its table. IRIs are interned as ints and a node's neighbours
are one flat tuple (about a million nodes in the benchmark).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import repeat
from typing import Any, Final

from pyoxigraph import NamedNode, Quad

from graph_store.changeset import Changeset
from graph_store.protocol import QuadSource
from lineage.traversal import DERIVED_FROM, PART_OF, TYPE, Direction, Edge, Level, Step
from ontology.namespaces import SEMCAT

__all__ = ["LineageIndex"]

DERIVES_INTO: Final = NamedNode(SEMCAT + "derivesInto")
CONSUMES: Final = NamedNode(SEMCAT + "consumes")
PRODUCES: Final = NamedNode(SEMCAT + "produces")
PIPELINE: Final = NamedNode(SEMCAT + "Pipeline")
PREDICATES: Final = (TYPE, DERIVED_FROM, DERIVES_INTO, CONSUMES, PRODUCES, PART_OF)
_HELD: Final = frozenset(PREDICATES)

Row = tuple[int, ...]
# Relations, each a dict by node id. Statements: flat (neighbour, graph) pairs, one per
# statement (a multiset: a statement may sit in several graphs, derivesInto may repeat
# derivedFrom). Types: the graphs of the node's type statements. Lifted: flat
# (neighbour, key, count) triples, a key naming the graphs that must all be readable.
(UP, DOWN, READS, READ_BY, WRITES, WRITTEN_BY, PARENT, TYPES, PIPELINES, LIFT_UP, LIFT_DOWN,
 LIFT_READ_BY) = range(12)
_STEPS: Final[dict[str, tuple[tuple[int, str], ...]]] = {
    "upstream": ((UP, "derivedFrom"), (READS, "consumes"), (WRITTEN_BY, "produces")),
    "downstream": ((DOWN, "derivedFrom"), (READ_BY, "consumes"), (WRITES, "produces"))}
_LIFTED: Final[dict[str, tuple[tuple[int, str], ...]]] = {
    "upstream": ((LIFT_UP, "derivedFrom"),),
    "downstream": ((LIFT_DOWN, "derivedFrom"), (LIFT_READ_BY, "consumes"))}


def _pairs(row: Row | None) -> Iterator[tuple[int, int]]:
    it = iter(row or ())
    return zip(it, it, strict=False)


class LineageIndex:
    def __init__(self, store: QuadSource, journal_lock: AbstractContextManager[Any]) -> None:
        """``journal_lock`` is held while the index is first built from ``store``, so that no
        write lands between the scan and ``on_applied``."""
        self._store = store
        self._journal_lock = journal_lock
        self._lock = threading.Lock()  # a layer is read whole, never half-way through a write
        self._clear()

    def _clear(self) -> None:
        self._built = False
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._graph_ids: dict[str, int] = {}
        self._graphs: list[str] = []
        self._key_ids: dict[tuple[int, ...], int] = {}
        self._keys: list[tuple[int, ...]] = []
        self._shared: dict[Row, Row] = {}
        # dicts, not lists: once its rows (tuples of ints) are, a dict is untracked by the
        # garbage collector, which would otherwise traverse a million slots per collection
        self._rel: list[dict[int, Row]] = [{} for _ in range(LIFT_READ_BY + 1)]

    def view(self, readable: frozenset[str] | None) -> IndexSteps:
        """The steps a caller who may read ``readable`` (None: every graph) may take."""
        return IndexSteps(self, readable)

    # -- following the store ---------------------------------------------------------------
    def on_applied(self, cs: Changeset) -> None:
        """``Journal.on_applied``: inside the write, so only the lineage statements cost."""
        if not self._built:
            return  # the first read scans the store
        with self._lock:
            try:
                for q in cs.removed:
                    if q.predicate in _HELD:
                        self._apply(q, -1)
                for q in cs.added:
                    if q.predicate in _HELD:
                        self._apply(q, 1)
            except BaseException:
                self._clear()  # half a change applied: the next read scans the store again
                raise

    def build(self) -> None:
        """Scan the store: the first read does, or a benchmark that times it."""
        with self._journal_lock, self._lock:
            if self._built:
                return
            try:
                for p in PREDICATES:
                    for q in self._store.quads(None, p, None, None):
                        self._apply(q, 1)
            except BaseException:
                self._clear()  # the next read starts the scan again
                raise
            # One full collection now untracks the rows (tuples of ints), which the collector
            # would otherwise traverse, a million of them, in the middle of some later walk.
            gc.collect()
            self._built = True

    def _id(self, iri: str) -> int:
        found = self._ids.get(iri)
        if found is None:
            found = self._ids[iri] = len(self._names)
            self._names.append(iri)
        return found

    def _key(self, graphs: set[int]) -> int:
        key = tuple(sorted(graphs))
        found = self._key_ids.get(key)
        if found is None:
            found = self._key_ids[key] = len(self._keys)
            self._keys.append(key)
        return found

    def _apply(self, q: Quad, sign: int) -> None:
        s, p, o = q.subject, q.predicate, q.object
        if not isinstance(s, NamedNode):
            return
        g = getattr(q.graph_name, "value", "")  # the default graph: read by admins only
        gid = self._graph_ids.get(g)
        if gid is None:
            gid = self._graph_ids[g] = len(self._graphs)
            self._graphs.append(g)
        a = self._id(s.value)
        if p == TYPE:
            self._change(TYPES, a, (gid,), sign)
            if o == PIPELINE:
                self._change(PIPELINES, a, (gid,), sign)
            return
        if not isinstance(o, NamedNode):
            return
        b = self._id(o.value)
        if p == DERIVED_FROM:
            self._derived(a, b, gid, sign)
        elif p == DERIVES_INTO:
            self._derived(b, a, gid, sign)
        elif p == CONSUMES:
            self._change(READS, a, (b, gid), sign)
            self._change(READ_BY, b, (a, gid), sign)
            for table, g1 in _pairs(self._rel[PARENT].get(b)):
                self._lift(LIFT_READ_BY, table, a, self._key({gid, g1}), sign)
        elif p == PRODUCES:
            self._change(WRITES, a, (b, gid), sign)
            self._change(WRITTEN_BY, b, (a, gid), sign)
        else:
            self._part_of(a, b, gid, sign)

    def _change(self, rel: int, node: int, entry: Row, sign: int) -> None:
        """Add one entry to a node's row, or remove one."""
        rows = self._rel[rel]
        row = rows.get(node, ())
        width = len(entry)
        if sign > 0:
            row += entry
        else:
            i = next(i for i in range(0, len(row), width) if row[i:i + width] == entry)
            row = row[:i] + row[i + width:]
        if not row:
            del rows[node]
        elif width == 1:  # a node's type graphs: the same few tuples for every node
            rows[node] = self._shared.setdefault(row, row)
        else:
            rows[node] = row

    def _lift(self, rel: int, node: int, other: int, key: int, sign: int) -> None:
        """Count one supporting column edge in or out of a lifted edge, both ways round where
        it is a derivation."""
        rows = self._rel[rel]
        row = rows.get(node, ())
        for i in range(0, len(row), 3):
            if row[i] == other and row[i + 1] == key:
                n = row[i + 2] + sign
                row = row[:i] + ((other, key, n) if n else ()) + row[i + 3:]
                break
        else:
            row = (*row, other, key, 1)  # a removal always finds its entry
        if row:
            rows[node] = row
        else:
            del rows[node]
        if rel == LIFT_UP:
            self._lift(LIFT_DOWN, other, node, key, sign)

    def _derived(self, target: int, source: int, g: int, sign: int) -> None:
        self._change(UP, target, (source, g), sign)
        self._change(DOWN, source, (target, g), sign)
        parents = self._rel[PARENT]
        for pt, g1 in _pairs(parents.get(target)):
            for ps, g2 in _pairs(parents.get(source)):
                self._lift(LIFT_UP, pt, ps, self._key({g, g1, g2}), sign)

    def _part_of(self, child: int, parent: int, g1: int, sign: int) -> None:
        """The column edges of ``child`` lifted to (or dropped from) ``parent``: its edges as
        the derived end counted before the statement is, its edges as the source after, so
        that an edge from the column to itself counts once."""
        rel = self._rel
        for source, g in _pairs(rel[UP].get(child)):
            for ps, g2 in _pairs(rel[PARENT].get(source)):
                self._lift(LIFT_UP, parent, ps, self._key({g, g1, g2}), sign)
        self._change(PARENT, child, (parent, g1), sign)
        for target, g in _pairs(rel[DOWN].get(child)):
            for pt, g2 in _pairs(rel[PARENT].get(target)):
                self._lift(LIFT_UP, pt, parent, self._key({g, g1, g2}), sign)
        for reader, g in _pairs(rel[READ_BY].get(child)):
            self._lift(LIFT_READ_BY, parent, reader, self._key({g, g1}), sign)

    # -- reading -----------------------------------------------------------------------------
    def steps(self, frontier: Sequence[str], direction: Direction, level: Level,
              readable: frozenset[str] | None) -> list[Step]:
        """What ``SparqlSteps.steps`` answers over the caller's dataset, from memory."""
        if not self._built:
            self.build()
        with self._lock:
            return self._steps(frontier, direction, level, readable)

    def _steps(self, frontier: Sequence[str], direction: Direction, level: Level,
               readable: frozenset[str] | None) -> list[Step]:
        """Hot: a deep walk takes ten thousand nodes through here, so the rows are sliced in
        C where the caller reads everything."""
        rel, ids, names, keys = self._rel, self._ids, self._names, self._keys
        types, pipelines = rel[TYPES], rel[PIPELINES]
        ok = None if readable is None else \
            frozenset(i for i, g in enumerate(self._graphs) if g in readable)
        key_ok: dict[int, bool] = {}

        def lifted_ok(key: int) -> bool:
            seen = key_ok.get(key)
            if seen is None:
                seen = key_ok[key] = all(g in ok for g in keys[key])  # type: ignore[operator]
            return seen

        plain = [(rel[r], via) for r, via in _STEPS[direction] if rel[r]]  # a look-up less
        lifted = [(rel[r], via) for r, via in _LIFTED[direction] if rel[r]] \
            if level == "table" else []  # per node for each kind of edge the catalog lacks
        reached: dict[int, bool | None] = {}  # neighbour -> is a pipeline; None: hidden
        upstream = direction == "upstream"
        edge = tuple.__new__
        out: list[Step] = []
        for iri in frontier:
            here = ids.get(iri)
            if here is None:
                continue
            found: set[tuple[int, str]] = set()
            for rows, via in plain:
                row = rows.get(here)
                if row:
                    found.update(zip(row[::2], repeat(via)) if ok is None else
                                 [(t, via) for t, g in zip(row[::2], row[1::2], strict=True) if g in ok])
            for rows, via in lifted:
                row = rows.get(here)
                if row:
                    found.update(zip(row[::3], repeat(via)) if ok is None else
                                 [(t, via) for t, k in zip(row[::3], row[1::3], strict=True) if lifted_ok(k)])
            for there, via in found:
                if there == here:
                    continue
                if there in reached:
                    job = reached[there]
                elif ok is None:
                    job = reached[there] = (there in pipelines) if there in types else None
                else:
                    job = reached[there] = _job(types.get(there), pipelines.get(there), ok)
                if job is not None:
                    name = names[there]
                    out.append((iri, name, edge(Edge, (name, iri, via) if upstream else
                                                (iri, name, via)), job))
        return out


def _job(types: Row | None, pipelines: Row | None, ok: frozenset[int]) -> bool | None:
    """Whether a neighbour is a pipeline, by its readable type statements; None when it has
    none (the caller may not see it)."""
    if not any(g in ok for g in types or ()):
        return None
    return any(g in ok for g in pipelines or ())


class IndexSteps:
    """``Steps`` for one caller, over a ``LineageIndex``."""

    def __init__(self, index: LineageIndex, readable: frozenset[str] | None) -> None:
        self._index = index
        self._readable = readable

    def steps(self, frontier: Sequence[str], direction: Direction, level: Level
              ) -> list[Step]:
        return self._index.steps(frontier, direction, level, self._readable)
