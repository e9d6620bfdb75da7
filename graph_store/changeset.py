"""The unit of every write: one atomic changeset of removed and added quads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import Quad


@dataclass(frozen=True)
class Changeset:
    """Who changed what, when and why. ``versions`` maps each touched asset IRI to its new
    version; ``seq`` is assigned by the change log."""

    actor: str
    message: str
    time: str
    removed: tuple[Quad, ...]
    added: tuple[Quad, ...]
    versions: dict[str, int] = field(default_factory=dict)
    workspace: str = ""
    seq: int = 0

    @property
    def size(self) -> int:
        return len(self.removed) + len(self.added)


def group_by_subject(quads: Iterable[Quad], versioned: set[str]) -> dict[str, list[Quad]]:
    """Split quads by asset; statements about anything else go under the key ``""``."""
    groups: dict[str, list[Quad]] = {}
    for q in quads:
        s = q.subject.value
        groups.setdefault(s if s in versioned else "", []).append(q)
    return groups
