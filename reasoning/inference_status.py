"""What following the log reports, and where the inferred graphs stand against it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IncrementalReport", "InferenceStatus"]


@dataclass(frozen=True, slots=True)
class IncrementalReport:
    """What following the log did. ``mode``: ``incremental``, or ``full`` (rematerialised,
    with ``reason`` why)."""

    seq: int
    mode: str
    added: int = 0
    removed: int = 0
    subjects: int = 0
    seconds: float = 0.0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class InferenceStatus:
    """How the inferred graphs stand against the change log. ``state``: ``current``;
    ``catching-up`` (a write's inference step or a full materialisation is under way and brings
    them up to date); or ``stale`` (nothing is bringing them up: incremental reasoning is off,
    or the last step failed, and the next write or ``semcat reason`` retries). ``behind``
    counts the changesets not reflected yet."""

    state: str
    behind: int
    inferred_up_to: int | None
    applied: int
