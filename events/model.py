"""What an event is: one kind of change a changeset made, about assets of one workspace (or one
vocabulary or graph), at a position in the change log.

A changeset becomes one event per (type, workspace) it touches, numbered from 0 in a fixed
order, so the same changeset read from the log again yields the same ids: ``{seq}-{index}``.
A position names how far a reader got: a whole changeset (``42``) or one of its events
(``42-1``); both come back as ``Last-Event-ID`` or ``from=``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Quad

from graph_store.changelog import to_nquads

WHOLE = 2**31  # an index beyond any changeset's last event: "all of changeset seq"


@dataclass(frozen=True, order=True)
class Position:
    """How far a reader got: events after it are the ones it has not seen."""

    seq: int
    index: int = WHOLE

    @classmethod
    def parse(cls, text: str) -> Position:
        """``42`` (all of changeset 42) or ``42-1`` (its events up to index 1); ValueError
        for anything else."""
        seq, dash, index = text.strip().partition("-")
        if not seq.isdigit() or (dash and not index.isdigit()):
            raise ValueError(f"{text!r} is not an event position: give a change log position "
                             "such as 42, or an event id such as 42-0")
        return cls(int(seq), int(index) if dash else WHOLE)

    def __str__(self) -> str:
        return str(self.seq) if self.index == WHOLE else f"{self.seq}-{self.index}"


@dataclass(frozen=True)
class AssetChange:
    """One asset an event is about: its version after the change, its types and
    classifications (as known when the event was made), the properties whose values changed,
    the graph it lived in, and its part of the RDF delta."""

    iri: str
    key: str
    version: int | None
    types: tuple[str, ...]
    classifications: tuple[str, ...]
    properties: tuple[str, ...]
    graph: str | None
    removed: tuple[Quad, ...] = ()
    added: tuple[Quad, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.key, "iri": self.iri, "version": self.version,
                "types": list(self.types), "classifications": list(self.classifications),
                "properties": list(self.properties)}


@dataclass(frozen=True)
class Event:
    seq: int
    index: int
    type: str  # asset.created | asset.updated | asset.deleted | ontology.changed | ...
    time: str
    actor: str
    message: str
    workspace: str | None
    assets: tuple[AssetChange, ...] = ()
    graphs: tuple[str, ...] = ()  # the graphs a change to non-asset statements touched
    removed: tuple[Quad, ...] = field(default=(), repr=False)  # non-asset statements
    added: tuple[Quad, ...] = field(default=(), repr=False)

    @property
    def id(self) -> str:
        return f"{self.seq}-{self.index}"

    @property
    def position(self) -> Position:
        return Position(self.seq, self.index)

    @property
    def size(self) -> int:
        """Quads the event holds: what a buffer of recent events is bounded by."""
        return len(self.removed) + len(self.added) + sum(
            len(a.removed) + len(a.added) + 1 for a in self.assets)

    def to_json(self, *, delta: bool = False) -> dict[str, Any]:
        """The event as subscribers and brokers get it (docs/events.md). ``delta`` adds the
        removed and added statements as N-Quads."""
        out: dict[str, Any] = {
            "id": self.id, "position": self.seq, "type": self.type, "time": self.time,
            "actor": self.actor, "message": self.message, "workspace": self.workspace,
            "assets": [a.to_json() for a in self.assets]}
        if self.graphs:
            out["graphs"] = list(self.graphs)
        if delta:
            removed = [*self.removed, *(q for a in self.assets for q in a.removed)]
            added = [*self.added, *(q for a in self.assets for q in a.added)]
            out["delta"] = {"removed": to_nquads(removed), "added": to_nquads(added)}
        return out
