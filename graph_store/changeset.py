"""The unit of every write: one atomic changeset of removed and added quads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
    warnings: tuple[dict[str, Any], ...] = ()  # what validation let through; never logged

    @property
    def size(self) -> int:
        return len(self.removed) + len(self.added)


def net_change(changesets: Iterable[Changeset]) -> tuple[list[Quad], list[Quad]]:
    """The quads a run of changesets removed and added overall (each changeset is exact: its
    removed quads existed, its added ones did not)."""
    before: dict[Quad, bool] = {}
    after: dict[Quad, bool] = {}
    for cs in changesets:
        for q in cs.removed:
            before.setdefault(q, True)
            after[q] = False
        for q in cs.added:
            before.setdefault(q, False)
            after[q] = True
    return ([q for q, was in before.items() if was and not after[q]],
            [q for q, was in before.items() if not was and after[q]])


def group_by_subject(quads: Iterable[Quad], versioned: set[str]) -> dict[str, list[Quad]]:
    """Split quads by asset; statements about anything else go under the key ``""``."""
    by_term: dict[object, list[Quad]] = {}
    for q in quads:
        by_term.setdefault(q.subject, []).append(q)
    groups: dict[str, list[Quad]] = {}
    for subject, group in by_term.items():
        key = getattr(subject, "value", "")
        if key in versioned:
            groups[key] = group
        else:
            groups.setdefault("", []).extend(group)
    return groups
