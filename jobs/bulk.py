"""A bulk-upsert job's work: the normalised items, written in chunks through the catalog's
``upsert_many`` (SHACL, access routing, versions, audit: the same write path as REST).

A chunk is one changeset. A chunk that is refused is written again item by item, so that the
good items land and each bad one is reported with why (as ingestion does). After every chunk
the registry records how many items are durably written and the outcome so far, so a job
interrupted by a stop or a crash resumes after its last recorded chunk; redoing a chunk whose
record was lost is harmless, since an upsert of an unchanged asset changes nothing (those
items then count as ``unchanged``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from graph_store.errors import SemcatError
from jobs.items import read_items

__all__ = ["BulkOutcome", "UpsertMany", "run_bulk"]

MAX_ERRORS: Final = 1000  # item errors kept in a result; the count goes on
WARNING_EXAMPLES: Final = 3  # per kind of SHACL warning
REPORT_LINES: Final = 5  # lines of a refused item's SHACL report kept


class Written(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def warnings(self) -> tuple[dict[str, Any], ...]: ...


UpsertMany = Callable[..., list[Any]]  # Catalog.assets.upsert_many


@dataclass
class BulkOutcome:
    """Counts, SHACL warnings per kind (with a few examples, as ``warning_summary``) and the
    items refused: what ``GET /api/v1/jobs/{id}/result`` returns for a bulk job."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    warning_total: int = 0
    warning_kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> BulkOutcome:
        if not data:
            return cls()
        kinds = {_kind_key(k): k for k in data["warnings"]["kinds"]}
        return cls(data["created"], data["updated"], data["unchanged"], data["failed"],
                   data["warnings"]["total"], kinds, list(data["errors"]))

    def to_json(self) -> dict[str, Any]:
        kinds = sorted(self.warning_kinds.values(), key=lambda k: -k["count"])
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "failed": self.failed, "errorsKept": len(self.errors),
                "warnings": {"total": self.warning_total, "kinds": kinds},
                "errors": self.errors}

    def wrote(self, result: Written) -> None:
        setattr(self, result.status, getattr(self, result.status) + 1)
        for w in result.warnings:
            self.warning_total += 1
            key = "|".join(str(w.get(k, "")) for k in ("severity", "constraint", "path"))
            kind = self.warning_kinds.setdefault(key, {
                "severity": str(w.get("severity", "")), "constraint":
                str(w.get("constraint", "")), "path": str(w.get("path", "")), "count": 0,
                "examples": []})
            kind["count"] += 1
            if len(kind["examples"]) < WARNING_EXAMPLES:
                kind["examples"].append(w)

    def refused(self, index: int, item: Any, error: SemcatError) -> None:
        self.failed += 1
        if len(self.errors) >= MAX_ERRORS:
            return
        entry: dict[str, Any] = {"index": index, "status": error.status, "code": error.code,
                                 "detail": error.detail}
        report = [line for line in error.extra.get("errors") or () if isinstance(line, dict)]
        given = item.get("id", item.get("@id")) if isinstance(item, dict) else None
        key = given or next((line["id"] for line in report if line.get("id")), None)
        if isinstance(key, str):  # as given, or as the natural key made it
            entry["id"] = key
        if report:  # its "item" is the position in a write of one
            entry["report"] = [{k: v for k, v in line.items() if k != "item"}
                               for line in report[:REPORT_LINES]]
        self.errors.append(entry)


def _kind_key(kind: dict[str, Any]) -> str:
    return "|".join(str(kind[k]) for k in ("severity", "constraint", "path"))


def _chunks(items: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def run_bulk(path: Path, *, upsert_many: UpsertMany, actor: str, job_id: str,
             chunk_size: int, done: int, outcome: BulkOutcome,
             durable: Callable[[int, BulkOutcome], None], stop: Callable[[], bool]) -> bool:
    """Write the items after the first ``done``, chunk by chunk, calling ``durable`` after
    each; True when every item was written, False when ``stop`` asked it to end early."""
    message = f"bulk upsert job {job_id}"
    for chunk in _chunks(read_items(path, skip=done), chunk_size):
        if stop():
            return False
        items = [item for _, item in chunk]
        try:
            results = upsert_many(items, actor=actor, message=message)
        except SemcatError:
            results = None
        if results is not None:
            for r in results:
                outcome.wrote(r)
        else:  # refused as a whole: each on its own, so that only bad items fail
            for index, item in chunk:
                try:
                    outcome.wrote(upsert_many([item], actor=actor, message=message)[0])
                except SemcatError as e:
                    outcome.refused(index, item, e)
        done = chunk[-1][0] + 1
        durable(done, outcome)
    return True
