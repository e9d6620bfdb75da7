"""What one subscriber gets of an event: what its filters ask for, and only about assets it may
read when the event is delivered. An event naming several assets is trimmed to the readable
ones, or dropped; its RDF delta, and the properties it names as changed, keep only statements
in graphs the subscriber may read (a lineage statement naming a hidden asset lives in a link
graph it may not read)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pyoxigraph import Quad

from events.derive import changed_properties
from events.model import AssetChange, Event

# The graph an asset lives in now (None once deleted)
Home = Callable[[str], str | None]


@dataclass(frozen=True)
class EventFilter:
    """Empty means "any". ``types`` match exactly or as a family (``asset`` matches
    ``asset.created``); ``asset_types`` by IRI or local name (``Table``); ``classifications``
    by id, narrower ones included (``classification/pii`` matches
    ``classification/pii/email``)."""

    types: tuple[str, ...] = ()
    workspaces: tuple[str, ...] = ()
    asset_types: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()

    def wants(self, event: Event) -> bool:
        if self.types and not any(event.type == t or event.type.startswith(t.rstrip(".*") + ".")
                                  for t in self.types):
            return False
        return not self.workspaces or event.workspace in self.workspaces

    def wants_asset(self, asset: AssetChange) -> bool:
        if self.asset_types and not any(_is_type(t, want) for t in asset.types
                                        for want in self.asset_types):
            return False
        return not self.classifications or any(
            c == want or c.startswith(want.rstrip("/") + "/")
            for c in asset.classifications for want in self.classifications)

    @property
    def about_assets(self) -> bool:
        return bool(self.asset_types or self.classifications)


def _is_type(iri: str, want: str) -> bool:
    local = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return want in (iri, local) or want.partition(":")[2] == local


def visible(events: Sequence[Event], wanted: EventFilter, *, readable: frozenset[str] | None,
            home: Home, delta: bool = False) -> list[dict[str, Any]]:
    """The JSON of the events a subscriber reading ``readable`` graphs (None: all) gets."""
    out: list[dict[str, Any]] = []
    for event in events:
        if not wanted.wants(event):
            continue
        if event.assets:
            assets = [a for a in event.assets if wanted.wants_asset(a)
                      and _may_read(a, readable, home)]
            if not assets:
                continue
            if readable is not None:
                assets = [_trimmed(a, readable) for a in assets]
            event = replace(event, assets=tuple(assets))
        else:
            if wanted.about_assets:
                continue
            if readable is not None:
                graphs = tuple(g for g in event.graphs if g in readable)
                if not graphs:
                    continue
                event = replace(event, graphs=graphs, removed=_in(event.removed, readable),
                                added=_in(event.added, readable))
        out.append(event.to_json(delta=delta))
    return out


def _may_read(asset: AssetChange, readable: frozenset[str] | None, home: Home) -> bool:
    """Readable where it lives now, or where it lived when the event was made if it is gone."""
    if readable is None:
        return True
    graph = home(asset.iri) or asset.graph
    return graph is not None and graph in readable


def _trimmed(asset: AssetChange, readable: frozenset[str]) -> AssetChange:
    """Its delta in the graphs the subscriber may read, and the properties that delta changes:
    a lineage statement naming a hidden asset is neither shown nor named as changed."""
    removed, added = _in(asset.removed, readable), _in(asset.added, readable)
    return replace(asset, removed=removed, added=added,
                   properties=changed_properties(removed, added))


def _in(quads: Iterable[Quad], readable: frozenset[str]) -> tuple[Quad, ...]:
    return tuple(q for q in quads if getattr(q.graph_name, "value", None) in readable)
