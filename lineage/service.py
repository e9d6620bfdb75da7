"""The lineage service behind ``/api/v1/lineage``: graphs around an asset, impact, paths, and
hand-made edges (issue 13).

Reads go through the caller's view of the store (``readable``: the graphs it may read, None
for everything), so hidden assets are neither returned nor named, and bounds and pages are
counted over what the caller sees. Walks of the current lineage step through the in-memory
``LineageIndex``; walks as of a past time by SPARQL over the lineage folded from the log.
Edges are ``semcat:derivedFrom`` statements written through the journal, so they are
validated, authorised, versioned and audited like every write.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

from pyoxigraph import Literal, NamedNode, Quad

from graph_store.changeset import Changeset
from graph_store.errors import InputError, NotFound
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.overlay import Restricted, scratch
from graph_store.protocol import Dataset, GraphStore, QuadSource
from lineage.edge_kinds import edge_properties
from lineage.index import DERIVES_INTO, LineageIndex
from lineage.traversal import DERIVED_FROM, PART_OF, TYPE, Direction, Edge, Level, LineageGraph, Walk
from ontology.namespaces import SEMCAT

__all__ = ["LineageService"]

NAME: Final = NamedNode(SEMCAT + "name")
OWNER: Final = NamedNode(SEMCAT + "owner")
MAX_DEPTH: Final = 50
MAX_PAGE: Final = 2_000
PIPELINE: Final = NamedNode(SEMCAT + "Pipeline")
RUN_OF, STATUS, STARTED, ENDED, CONSUMES, PRODUCES, USED, GENERATED, FACETS = (
    NamedNode(SEMCAT + p) for p in ("runOf", "status", "startedAt", "endedAt", "consumes",
                                     "produces", "used", "generated", "facets"))
MAX_HISTORY: Final = 5_000_000  # changed statements an as-of walk may fold from the log
LINEAGE_TERMS: Final = frozenset({TYPE, NAME, OWNER, DERIVED_FROM, DERIVES_INTO, PART_OF,
                                  CONSUMES, PRODUCES})
TRANSFORMATION: Final = NamedNode(SEMCAT + "transformation")
# What a hand-made edge may state between two assets: a derivation, its kind, or an influence
EDGE_TERMS: Final = tuple(NamedNode(SEMCAT + p) for p in (
    "derivedFrom", "copiedFrom", "transformedFrom", "aggregatedFrom", "influencedBy"))
EDGE_KINDS: Final = ("identity", "transformation", "aggregation", "indirect")
DIRECTIONS: Final[dict[str, tuple[Direction, ...]]] = {
    "upstream": ("upstream",), "downstream": ("downstream",),
    "both": ("upstream", "downstream")}


class LineageService:
    def __init__(self, store: GraphStore, layout: GraphLayout, journal: Journal,
                 readable: Callable[[], frozenset[str] | None], index: LineageIndex) -> None:
        """``readable``: the graphs the caller may read (None: all); ``index`` follows the
        store's lineage."""
        self._store = store
        self._index = index
        self._layout = layout
        self._journal = journal
        self._readable = readable

    # -- the caller's view ---------------------------------------------------------------------
    def _view(self, as_of: str | None = None) -> tuple[QuadSource, LineageGraph]:
        if as_of is not None:
            return self._past(as_of)
        readable = self._readable()
        source: QuadSource = self._store if readable is None else Restricted(self._store,
                                                                              readable)
        return source, LineageGraph(source, self._index.view(readable))

    def _past(self, as_of: str) -> tuple[QuadSource, LineageGraph]:
        """The lineage as the change log had it at ``as_of``: the statements lineage reads,
        folded from the log into a scratch store, in the graphs the caller may read now."""
        when = _instant(as_of)
        readable = self._readable()
        held: set[Quad] = set()
        scanned = 0
        for cs in self._journal.changelog.since(0):
            if _instant(cs.time) > when:
                break
            scanned += cs.size
            if scanned > MAX_HISTORY:
                raise InputError(f"the change log up to {as_of} holds more than {MAX_HISTORY:,} "
                                 "changed statements; ask about a later time, or query the "
                                 "asset's versions")
            held.difference_update(cs.removed)
            held.update(q for q in cs.added if q.predicate in LINEAGE_TERMS)
        store = scratch(_as_derived_from(q) for q in held if readable is None or
                        getattr(q.graph_name, "value", None) in readable)

        def select(text: str) -> Iterable[Any]:
            return store.query(text, dataset=Dataset())  # type: ignore[return-value]

        return store, LineageGraph(store, select)

    def _node(self, source: QuadSource, key: str) -> NamedNode:
        if not isinstance(key, str) or not key.strip():
            raise InputError("name an asset by its id, e.g. acme/table/postgres/shop.public.orders")
        node = NamedNode(self._layout.iri(key))
        if next(iter(source.quads(node, TYPE, None)), None) is None:
            raise NotFound(f"no asset with id {self._layout.key(node.value)!r}")
        return node

    def _describe(self, source: QuadSource, iri: str) -> dict[str, Any]:
        node = NamedNode(iri)
        types = sorted(q.object.value.removeprefix(SEMCAT) for q in source.quads(node, TYPE, None)
                       if isinstance(q.object, NamedNode) and q.object.value.startswith(SEMCAT))
        name = next((q.object.value for q in source.quads(node, NAME, None)
                     if isinstance(q.object, Literal)), None)
        doc: dict[str, Any] = {"id": self._layout.key(iri), "type": types[0] if types else None}
        if name is not None:
            doc["name"] = name
        return doc

    # -- reads ---------------------------------------------------------------------------------
    def lineage(self, asset: str, *, direction: str = "both", depth: int = 3,
                level: str = "table", limit: int = 500, cursor: str | None = None,
                as_of: str | None = None) -> dict[str, Any]:
        """The lineage graph around ``asset``: nodes in breadth-first order (a page of them)
        and the edges among the nodes returned so far; ``partial`` when the walk stopped at
        its bounds. At column level a table stands for its columns. ``as_of``: as it was
        then (from the change log)."""
        directions = _choice(direction, DIRECTIONS, "direction")
        lvl = _level(level)
        _bounds(depth, limit)
        source, graph = self._view(as_of)
        node = self._node(source, asset)
        start = [node]
        if lvl == "column":
            start = graph.columns(node) or [node]
        walk = graph.walk(start, directions, depth, lvl)
        return {"asset": self._layout.key(node.value), "direction": direction, "depth": depth,
                "level": lvl, **({"asOf": as_of} if as_of else {}),
                **self._page(source, walk, limit, cursor)}

    def lineage_of_many(self, assets: Iterable[str], *, direction: str = "both", depth: int = 1,
                        level: str = "table", limit: int = 100) -> dict[str, dict[str, Any] | None]:
        """``lineage`` of each asset (the first page), in one call over one view of the store:
        GraphQL's batch loader asks for a page of assets at once. None for an asset that does
        not exist or that the caller may not read (the same answer for both)."""
        directions = _choice(direction, DIRECTIONS, "direction")
        lvl = _level(level)
        _bounds(depth, limit)
        source, graph = self._view()
        out: dict[str, dict[str, Any] | None] = {}
        described: dict[str, dict[str, Any]] = {}  # neighbours the assets share, described once

        def describe(source: QuadSource, iri: str) -> dict[str, Any]:
            found = described.get(iri)
            if found is None:
                found = described[iri] = self._describe(source, iri)
            return found

        for asset in assets:
            try:
                node = self._node(source, asset)
            except NotFound:
                out[asset] = None
                continue
            start = (graph.columns(node) or [node]) if lvl == "column" else [node]
            walk = graph.walk(start, directions, depth, lvl)
            out[asset] = {"asset": self._layout.key(node.value), "direction": direction,
                          "depth": depth, "level": lvl,
                          **self._page(source, walk, limit, None, describe=describe)}
        return out

    def impact(self, asset: str, *, depth: int = 10, limit: int = 500,
               cursor: str | None = None, as_of: str | None = None) -> dict[str, Any]:
        """Everything downstream of ``asset`` (tables, dashboards, models, pipelines), nearest
        first, with their owners, and the owners to notify (each with what they own)."""
        _bounds(depth, limit)
        source, graph = self._view(as_of)
        node = self._node(source, asset)
        walk = graph.walk([node], ("downstream",), depth, "table")
        page = self._page(source, walk, limit, cursor, skip_start=True)
        notify: dict[str, dict[str, Any]] = {}
        for item in page["nodes"]:
            owners = sorted(self._layout.key(q.object.value)
                            for q in source.quads(NamedNode(self._layout.iri(item["id"])),
                                                  OWNER, None)
                            if isinstance(q.object, NamedNode)
                            and next(iter(source.quads(q.object, TYPE, None)), None) is not None)
            item["owners"] = owners
            for o in owners:
                entry = notify.setdefault(o, {"owner": o, "distance": item["distance"],
                                              "assets": []})
                entry["assets"].append(item["id"])
        return {"asset": self._layout.key(node.value), "depth": depth,
                **({"asOf": as_of} if as_of else {}), **page,
                "notify": sorted(notify.values(), key=lambda e: (e["distance"], e["owner"]))}

    def paths(self, source_key: str, target_key: str, *, depth: int = 10,
              level: str = "table", limit: int = 10) -> dict[str, Any]:
        """The shortest paths along which data flows from one asset to another."""
        lvl = _level(level)
        _bounds(depth, limit)
        source, graph = self._view()
        a, b = self._node(source, source_key), self._node(source, target_key)
        found, partial = graph.paths(a, b, depth, lvl, limit)
        key = self._layout.key
        return {"from": key(a.value), "to": key(b.value), "level": lvl, "partial": partial,
                "length": len(found[0]) - 1 if found else None,
                "paths": [[key(n) for n in path] for path in found]}

    def runs(self, job: str, *, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        """A job's runs, latest first: status, start, end and duration; with the datasets the
        job reads and writes (what its runs used and generated)."""
        _bounds(1, limit)
        source, _ = self._view()
        node = self._node(source, job)
        if next(iter(source.quads(node, TYPE, PIPELINE)), None) is None:
            raise InputError(f"{self._layout.key(node.value)!r} is not a pipeline")
        key = self._layout.key

        def value(s: NamedNode, p: NamedNode) -> str | None:
            return next((q.object.value for q in source.quads(s, p, None)
                         if isinstance(q.object, Literal)), None)

        def datasets(s: NamedNode, p: NamedNode) -> list[str]:
            return sorted(key(q.object.value) for q in source.quads(s, p, None)
                          if isinstance(q.object, NamedNode) and
                          next(iter(source.quads(q.object, TYPE, None)), None) is not None)

        runs = []
        for q in source.quads(None, RUN_OF, node):
            run = q.subject
            if not isinstance(run, NamedNode):
                continue
            started, ended = value(run, STARTED), value(run, ENDED)
            doc: dict[str, Any] = {"id": key(run.value), "status": value(run, STATUS),
                                   "startedAt": started, "endedAt": ended, "durationS": None}
            if started and ended:
                doc["durationS"] = (_instant(ended) - _instant(started)).total_seconds()
            runs.append(doc)
        runs.sort(key=lambda r: (r["startedAt"] is not None, r["startedAt"] or "", r["id"]),
                  reverse=True)
        offset = _offset(cursor)
        page = runs[offset:offset + limit]
        for doc in page:  # what each run read and wrote, and the versions of what it wrote
            run = NamedNode(self._layout.iri(doc["id"]))
            doc["used"], doc["generated"] = datasets(run, USED), datasets(run, GENERATED)
            doc["datasetVersions"] = {k: v for k, v in _facets(value(run, FACETS)).get(
                "datasetVersions", {}).items() if k in doc["generated"]}
        out: dict[str, Any] = {"job": key(node.value), "inputs": datasets(node, CONSUMES),
                               "outputs": datasets(node, PRODUCES), "total": len(runs),
                               "runs": page}
        if offset + limit < len(runs):
            out["next"] = _cursor(offset + limit)
        return out

    def _page(self, source: QuadSource, walk: Walk, limit: int, cursor: str | None, *,
              skip_start: bool = False,
              describe: Callable[[QuadSource, str], dict[str, Any]] | None = None
              ) -> dict[str, Any]:
        describe = describe or self._describe
        order = sorted(walk.nodes.items(), key=lambda kv: (kv[1][0], kv[0]))
        if skip_start:
            order = [kv for kv in order if kv[1][1] != "self"]
        offset = _offset(cursor)
        chunk = order[offset:offset + limit]
        rank = {iri: i for i, (iri, _) in enumerate(order)}
        end = offset + len(chunk)
        nodes = []
        for iri, (distance, side) in chunk:
            nodes.append({**describe(source, iri), "distance": distance,
                          "direction": side})
        # each edge once, on the page of its later end (an end outside the order: the start)
        edges = sorted(e for e in walk.edges
                       if offset <= max(rank.get(e.source, -1), rank.get(e.target, -1)) < end)
        out: dict[str, Any] = {"nodes": nodes, "edges": [self._edge(e) for e in edges],
                               "partial": walk.partial, "total": len(order)}
        if end < len(order):
            out["next"] = _cursor(end)
        return out

    def _edge(self, e: Edge) -> dict[str, str]:
        key = self._layout.key
        return {"source": key(e.source), "target": key(e.target), "via": e.via}

    # -- writes --------------------------------------------------------------------------------
    def add_edge(self, source: str, target: str, *, actor: str, kind: str | None = None,
                 transformation: str | None = None) -> Changeset | None:
        """``target`` derived from ``source``, placed beside the target (routing moves it to a
        link graph where the two lie in different partitions). ``kind`` (OpenLineage's column
        lineage subtypes) makes the edge exactly that: ``identity``, ``transformation`` or
        ``aggregation`` add the sub-property of ``derivedFrom``; ``indirect`` (a filter or
        join key) is an ``influencedBy`` instead, along which nothing propagates.
        ``transformation`` (SQL or prose) becomes the target's, replacing the one it had."""
        if kind is not None and kind not in EDGE_KINDS:
            raise InputError(f"kind must be one of {', '.join(EDGE_KINDS)}, not {kind!r}")
        if transformation is not None and not (isinstance(transformation, str)
                                               and transformation.strip()):
            raise InputError("transformation is the SQL or a description of how the target "
                             "is computed: a non-empty string")
        view, _ = self._view()
        a, b = self._node(view, source), self._node(view, target)
        if a == b:
            raise InputError("an asset cannot be derived from itself")
        home = next(q.graph_name for q in view.quads(b, TYPE, None))
        wanted = [NamedNode(SEMCAT + p) for p in edge_properties(
            [("INDIRECT" if kind == "indirect" else "DIRECT", (kind or "").upper())])]
        held = [q for p in EDGE_TERMS for q in view.quads(b, p, a)]
        # without a kind, the kind an edge has stays; with one, it replaces what was stated
        removed = [q for q in held if q.predicate not in wanted] if kind is not None else []
        added = [Quad(b, p, a, home) for p in wanted]
        if transformation is not None:
            removed += [q for q in view.quads(b, TRANSFORMATION, None)
                        if q.object != Literal(transformation)]
            added.append(Quad(b, TRANSFORMATION, Literal(transformation), home))
        # the message names the edited asset only: whoever may read it sees the message, and
        # the upstream end may be hidden from them (the diff shows it to those who may see it)
        return self._journal.commit(removed, added, actor=actor,
                                    message=f"lineage: an upstream edge of "
                                            f"{self._layout.key(b.value)}")

    def remove_edge(self, source: str, target: str, *, actor: str) -> Changeset:
        """The edge and its kind (or the influence) from ``source`` to ``target``."""
        view, _ = self._view()
        a, b = self._node(view, source), self._node(view, target)
        found = [q for p in EDGE_TERMS for q in view.quads(b, p, a)]
        if not found:
            raise NotFound(f"no lineage edge from {self._layout.key(a.value)!r} to "
                           f"{self._layout.key(b.value)!r}")
        cs = self._journal.commit(found, [], actor=actor, exact=True,
                                  message=f"lineage: an upstream edge of "
                                          f"{self._layout.key(b.value)} removed")
        assert cs is not None  # the edge existed
        return cs


def _as_derived_from(q: Quad) -> Quad:
    """``derivesInto`` read as the ``derivedFrom`` it states, as the index reads it."""
    if q.predicate == DERIVES_INTO and isinstance(q.object, NamedNode):
        return Quad(q.object, DERIVED_FROM, q.subject, q.graph_name)
    return q


def _facets(text: str | None) -> dict[str, Any]:
    """A run's kept facets (lineage/openlineage.py writes them as a JSON object)."""
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _instant(value: str) -> datetime:
    """An ISO 8601 time (UTC when it names no offset)."""
    try:
        found = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError) as e:
        raise InputError(f"asOf must be an ISO 8601 time such as 2026-03-01T12:00:00Z, not "
                         f"{value!r}") from e
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _choice(value: str, options: dict[str, tuple[Direction, ...]], name: str
            ) -> tuple[Direction, ...]:
    if value not in options:
        raise InputError(f"{name} must be one of {', '.join(options)}, not {value!r}")
    return options[value]


def _level(value: str) -> Level:
    if value not in ("table", "column"):
        raise InputError(f"level must be table or column, not {value!r}")
    return "table" if value == "table" else "column"


def _bounds(depth: int, limit: int) -> None:
    if not 1 <= depth <= MAX_DEPTH:
        raise InputError(f"depth must be between 1 and {MAX_DEPTH}, not {depth}")
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"lineage:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "lineage" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise InputError("cursor is not one this API returned; start again without it") from e
