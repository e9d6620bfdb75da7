"""What a run did: counts, per-item errors and warnings (capped), as a value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_LISTED", "IngestReport", "ItemError"]

MAX_LISTED = 1000  # errors and warnings listed in full; the counts count them all


@dataclass(frozen=True)
class ItemError:
    id: str | None
    message: str


@dataclass
class IngestReport:
    connector: str
    source: str
    workspace: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    errors: list[ItemError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    complete: bool = True  # the whole source was read (removals only then)
    error: str | None = None  # why the source could not be read to its end
    stopped: bool = False  # asked to stop before the end (cancelled, or the server stopping)
    resumed_after: int = 0  # records an interrupted run had written, skipped by this one
    kept_edits: int = 0  # values people or other sources set, kept against this source's
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.complete and not self.failed

    def fail(self, key: str | None, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(ItemError(key, message))

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append(message)

    def counts(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "failed": self.failed}

    def to_json(self) -> dict[str, Any]:
        return {"connector": self.connector, "source": self.source, "workspace": self.workspace,
                **self.counts(), "complete": self.complete, "error": self.error,
                "resumedAfter": self.resumed_after, "keptEdits": self.kept_edits,
                "seconds": round(self.seconds, 3),
                "errors": [{"id": e.id, "message": e.message} for e in self.errors],
                "warnings": list(self.warnings)}
