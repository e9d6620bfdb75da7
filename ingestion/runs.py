"""The run registry: every ingestion run started through ``IngestionService.runs``, kept in
``ingestion_runs.sqlite`` in the data directory (in memory for an in-memory catalog), so that
a run's status outlives the process that ran it.

A run holds its config as given, with secrets as references (``{"env": ...}``,
``{"file": ...}``; a config with a secret in clear is refused before it gets here), never their
values. Statuses: ``queued`` → ``running`` → ``succeeded`` | ``failed`` | ``cancelled``; a
queued run may go straight to ``cancelled``. Runs a previous process left ``queued`` or
``running`` are marked ``failed`` with ``INTERRUPTED`` when the registry opens.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from graph_store.durable_sqlite import add_columns, connect, newest_first
from graph_store.errors import InputError, NotFound

__all__ = ["FINISHED", "INTERRUPTED", "RUNS_FILE", "STATUSES", "RunRecord", "RunRegistry", "now"]

RUNS_FILE: Final = "ingestion_runs.sqlite"
STATUSES: Final = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED: Final = frozenset({"succeeded", "failed", "cancelled"})
INTERRUPTED: Final = "interrupted: the server stopped during the run; start it again"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    connector TEXT NOT NULL,
    workspace TEXT NOT NULL,
    source TEXT NOT NULL,
    config TEXT NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    started TEXT,
    ended TEXT,
    progress INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    report TEXT,
    error TEXT,
    checkpoint INTEGER NOT NULL DEFAULT 0,
    resumed_from TEXT,
    log TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, seq);
"""
# columns added since the first release of the file: (name, definition)
ADDED: Final = (("checkpoint", "INTEGER NOT NULL DEFAULT 0"), ("resumed_from", "TEXT"),
                ("log", "TEXT NOT NULL DEFAULT '[]'"))
MAX_LOG: Final = 200  # lines kept per run: the first half and the latest
COLUMNS: Final = ("seq, id, connector, workspace, source, config, actor, status, created, "
                  "started, ended, progress, cancel_requested, report, error, checkpoint, "
                  "resumed_from, log")


def now() -> str:
    """The current time, ISO 8601 UTC to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class RunRecord:
    seq: int
    id: str
    connector: str
    workspace: str
    source: str
    config: dict[str, Any]  # the run config as given: secrets as references only
    actor: str
    status: str
    created: str
    started: str | None = None
    ended: str | None = None
    progress: int = 0  # records read so far
    cancel_requested: bool = False
    report: dict[str, Any] | None = None  # IngestReport.to_json() once the run ended
    error: str | None = None
    checkpoint: int = 0  # records read whose writes are durable: a resumed run skips them
    resumed_from: str | None = None  # the run this one continues
    log: tuple[str, ...] = ()  # what happened to it, one timestamped line each

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_json(self) -> dict[str, Any]:
        report = self.report or {}
        return {"id": self.id, "connector": self.connector, "workspace": self.workspace,
                "source": self.source, "status": self.status, "actor": self.actor,
                "createdAt": self.created, "startedAt": self.started, "endedAt": self.ended,
                "progress": {"read": self.progress},
                "cancelRequested": self.cancel_requested,
                "counts": {k: report[k] for k in ("added", "updated", "unchanged", "removed",
                                                  "failed")} if report else None,
                "complete": report.get("complete") if report else None,
                "errors": report.get("errors", []), "warnings": report.get("warnings", []),
                "seconds": report.get("seconds") if report else None,
                "error": self.error, "checkpoint": self.checkpoint,
                "resumedFrom": self.resumed_from,
                "resumedAfter": report.get("resumedAfter") if report else None,
                "keptEdits": report.get("keptEdits") if report else None,
                "log": list(self.log), "config": self.config}


def _record(row: tuple[Any, ...]) -> RunRecord:
    (seq, id_, connector, workspace, source, config, actor, status, created, started, ended,
     progress, cancel_requested, report, error, checkpoint, resumed_from, log) = row
    return RunRecord(seq, id_, connector, workspace, source, json.loads(config), actor, status,
                     created, started, ended, progress, bool(cancel_requested),
                     json.loads(report) if report else None, error, checkpoint, resumed_from,
                     tuple(json.loads(log)))


class RunRegistry:
    """The runs table; every method is one short transaction behind one lock."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db = connect(path, SCHEMA)
        add_columns(self._db, "runs", ADDED)
        self._lock = threading.Lock()

    @classmethod
    def at(cls, data: Path | None) -> RunRegistry:
        return cls(data / RUNS_FILE if data is not None else None)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, *, connector: str, workspace: str, source: str, config: dict[str, Any],
               actor: str, resumes: RunRecord | None = None) -> RunRecord:
        """A queued run; one that ``resumes`` another starts at that one's checkpoint."""
        checkpoint = resumes.checkpoint if resumes else 0
        record = RunRecord(0, uuid.uuid4().hex, connector, workspace, source, config, actor,
                           "queued", now(), checkpoint=checkpoint,
                           resumed_from=resumes.id if resumes else None)
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO runs (id, connector, workspace, source, config, actor, status, "
                "created, checkpoint, resumed_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, connector, workspace, source, json.dumps(config), actor,
                 record.status, record.created, checkpoint, record.resumed_from))
        return replace(record, seq=cur.lastrowid or 0)

    def get(self, run_id: str) -> RunRecord:
        with self._lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM runs WHERE id = ?",
                                   (run_id,)).fetchone()
        if row is None:
            raise NotFound(f"no ingestion run {run_id!r}; GET /api/v1/ingestion lists them")
        return _record(row)

    def page(self, *, status: str | None = None, limit: int = 50, cursor: str | None = None,
             workspaces: frozenset[str] | None = None) -> tuple[list[RunRecord], str | None]:
        """Runs newest first, ``limit`` of them after ``cursor`` (the previous page's next),
        only in ``workspaces`` unless it is None; and the next page's cursor."""
        if status is not None and status not in STATUSES:
            raise InputError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        where: list[str] = []
        args: list[Any] = []
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if workspaces is not None:
            where.append(f"workspace IN ({', '.join('?' * len(workspaces))})")
            args += sorted(workspaces)
        with self._lock:
            rows, more = newest_first(self._db, "runs", COLUMNS, where, args, limit, cursor)
        records = [_record(r) for r in rows]
        return records, str(records[-1].seq) if more else None

    def workspaces(self) -> set[str]:
        with self._lock:
            return {w for (w,) in self._db.execute("SELECT DISTINCT workspace FROM runs")}

    def note(self, run_id: str, message: str) -> None:
        """Add a line to the run's log (at most ``MAX_LOG`` are kept: the first half of them,
        then the latest)."""
        with self._lock:
            row = self._db.execute("SELECT log FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return
            lines = [*json.loads(row[0]), f"{now()} {message}"]
            if len(lines) > MAX_LOG:
                lines = lines[:MAX_LOG // 2] + lines[-(MAX_LOG // 2):]
            self._db.execute("UPDATE runs SET log = ? WHERE id = ?", (json.dumps(lines), run_id))

    def start(self, run_id: str) -> bool:
        """Mark a queued run running; False when it is no longer queued (cancelled)."""
        with self._lock:
            cur = self._db.execute("UPDATE runs SET status = 'running', started = ? "
                                   "WHERE id = ? AND status = 'queued'", (now(), run_id))
        return cur.rowcount == 1

    def progress(self, run_id: str, read: int, checkpoint: int | None = None) -> None:
        with self._lock:
            self._db.execute("UPDATE runs SET progress = ?, checkpoint = COALESCE(?, checkpoint)"
                             " WHERE id = ?", (read, checkpoint, run_id))

    def finish(self, run_id: str, status: str, *, report: dict[str, Any] | None = None,
               error: str | None = None, read: int | None = None,
               checkpoint: int | None = None) -> None:
        assert status in FINISHED
        with self._lock:
            self._db.execute(
                "UPDATE runs SET status = ?, ended = ?, report = ?, error = ?, "
                "progress = COALESCE(?, progress), checkpoint = COALESCE(?, checkpoint) "
                "WHERE id = ?",
                (status, now(), json.dumps(report) if report is not None else None, error, read,
                 checkpoint, run_id))

    def cancel(self, run_id: str) -> RunRecord:
        """A queued run is cancelled at once; a running one is asked to stop (its worker
        ends it ``cancelled``); a finished one is left as it is."""
        with self._lock:
            self._db.execute("UPDATE runs SET status = 'cancelled', ended = ?, "
                             "cancel_requested = 1 WHERE id = ? AND status = 'queued'",
                             (now(), run_id))
            self._db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ? AND "
                             "status = 'running'", (run_id,))
        return self.get(run_id)

    def interrupt(self) -> int:
        """Mark every run still queued or running failed with ``INTERRUPTED`` (on open: a
        previous process stopped without ending them; on close: they will not run here)."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE runs SET status = 'failed', ended = ?, error = ? "
                "WHERE status IN ('queued', 'running')", (now(), INTERRUPTED))
        return cur.rowcount
