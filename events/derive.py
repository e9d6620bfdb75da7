"""From a changeset to its events. Whether an asset was created, updated or deleted is read
from the journal's version stamps in the delta (a new stamp and no old one: created; an old one
and no new one: deleted), so a changeset read back from the log gives the same events it gave
live. Types and classifications come from the delta, else from the store as it is now."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from pyoxigraph import NamedNode, Quad

from events.model import AssetChange, Event
from graph_store.changeset import Changeset
from graph_store.journal import SYSTEM_PREDICATES, VERSION
from graph_store.layout import RESERVED_WORKSPACES, GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import RDF_TYPE, SEMCAT

TYPE = NamedNode(RDF_TYPE)
CLASSIFICATION = NamedNode(SEMCAT + "classification")


def events_of(cs: Changeset, layout: GraphLayout, store: GraphStore) -> list[Event]:
    """The events of one applied changeset, in their fixed order (asset events by type and
    workspace, then vocabulary and other graph changes)."""
    assets = set(cs.versions)
    removed_by: dict[str, list[Quad]] = {}
    added_by: dict[str, list[Quad]] = {}
    other_removed: list[Quad] = []
    other_added: list[Quad] = []
    for quads, by, other in ((cs.removed, removed_by, other_removed),
                             (cs.added, added_by, other_added)):
        for q in quads:
            s = q.subject.value if isinstance(q.subject, NamedNode) else ""
            if s in assets:
                by.setdefault(s, []).append(q)
            else:
                other.append(q)
    groups: dict[tuple[str, str], list[AssetChange]] = {}
    for iri in sorted(assets):
        rem, add = removed_by.get(iri, []), added_by.get(iri, [])
        kind = _kind(rem, add)
        change = _asset_change(iri, cs.versions.get(iri), rem, add, layout, store)
        groups.setdefault((kind, _workspace(layout, iri, change.graph) or ""), []).append(change)
    head = (cs.seq, cs.time, cs.actor, cs.message)
    Parts = tuple[str, str | None, tuple[AssetChange, ...], tuple[str, ...], tuple[Quad, ...],
                  tuple[Quad, ...]]
    events: list[Parts] = [(kind, ws or None, tuple(changes), (), (), ())
                           for (kind, ws), changes in sorted(groups.items())]
    vocabulary = {layout.ontology.value: "ontology.changed",
                  layout.custom_ontology.value: "ontology.changed",
                  layout.shapes.value: "shapes.changed"}
    by_kind: dict[str, tuple[list[Quad], list[Quad]]] = {}
    for others, side in ((other_removed, 0), (other_added, 1)):
        for q in others:
            kind = vocabulary.get(getattr(q.graph_name, "value", ""), "graph.changed")
            by_kind.setdefault(kind, ([], []))[side].append(q)
    for kind in sorted(by_kind):
        gone, new = by_kind[kind]
        graphs = tuple(sorted({getattr(q.graph_name, "value", "") for q in (*gone, *new)}))
        events.append((kind, None, (), graphs, tuple(gone), tuple(new)))
    return [Event(head[0], i, kind, head[1], head[2], head[3], ws, changes, graphs, rem, add)
            for i, (kind, ws, changes, graphs, rem, add) in enumerate(events)]


def _kind(removed: list[Quad], added: list[Quad]) -> str:
    had = any(q.predicate == VERSION for q in removed)
    has = any(q.predicate == VERSION for q in added)
    if has and not had:
        return "asset.created"
    if had and not has:
        return "asset.deleted"
    return "asset.updated"


def _asset_change(iri: str, version: int | None, removed: list[Quad], added: list[Quad],
                  layout: GraphLayout, store: GraphStore) -> AssetChange:
    node = NamedNode(iri)
    now: list[Quad] | None = None

    def current() -> list[Quad]:
        nonlocal now
        if now is None:
            now = [q for q in store.quads(node, None, None, None)  # type: ignore[arg-type]
                   if q.predicate in (TYPE, CLASSIFICATION)]
        return now

    typed = [q for q in added if q.predicate == TYPE] or \
        [q for q in current() if q.predicate == TYPE and not layout.is_inferred(q.graph_name)] \
        or [q for q in removed if q.predicate == TYPE]
    graph = typed[0].graph_name.value if typed and isinstance(typed[0].graph_name,
                                                              NamedNode) else None
    deleted = not any(q.predicate == VERSION for q in added) and any(
        q.predicate == VERSION for q in removed)
    classified = [q for q in (removed if deleted else (*added, *current()))
                  if q.predicate == CLASSIFICATION]
    return AssetChange(iri, layout.key(iri), version,
                       tuple(sorted({q.object.value for q in typed})),  # type: ignore[union-attr]
                       tuple(sorted({layout.key(q.object.value) for q in classified  # type: ignore[union-attr]
                                     if isinstance(q.object, NamedNode)})),
                       changed_properties(removed, added), graph, tuple(removed), tuple(added))


def changed_properties(removed: Iterable[Quad], added: Iterable[Quad]) -> tuple[str, ...]:
    """Predicates whose values differ, wherever the statements live: an asset only moved
    between access partitions changed none."""
    before: dict[str, set[object]] = {}
    after: dict[str, set[object]] = {}
    for quads, values in ((removed, before), (added, after)):
        for q in quads:
            if q.predicate.value not in SYSTEM_PREDICATES:
                values.setdefault(q.predicate.value, set()).add(q.object)
    return tuple(sorted(p for p in before.keys() | after.keys()
                        if before.get(p, set()) != after.get(p, set())))


def _workspace(layout: GraphLayout, iri: str, graph: str | None) -> str | None:
    """The workspace whose id space holds the asset (``{ws}/...``), else the one of the
    partition graph it lives in; None for instance-wide resources (users, tags, ...)."""
    first, slash, _ = layout.key(iri).partition("/")
    if iri.startswith(layout.id_base) and slash and first not in RESERVED_WORKSPACES:
        return unquote(first)
    prefix = f"{layout.base}/graph/"
    if graph and graph.startswith(prefix):
        segments = graph[len(prefix):].split("/")
        if len(segments) == 2 and unquote(segments[0]) not in RESERVED_WORKSPACES:
            return unquote(segments[0])
    return None
