"""The job registry: every asynchronous job, kept in ``jobs.sqlite`` in the data directory (in
memory for an in-memory catalog), so that a job outlives the process that accepted it.

Statuses: ``queued`` → ``running`` → ``succeeded`` | ``failed`` | ``cancelled``; a queued job
may go straight to ``cancelled``. Unlike ingestion runs, a job a previous process left
``running`` is queued again when the registry opens: the worker resumes it (a bulk upsert after
its last durable chunk, an export from the start).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from graph_store.durable_sqlite import connect, newest_first
from graph_store.errors import InputError, NotFound

__all__ = ["FINISHED", "JOBS_FILE", "KINDS", "STATUSES", "JobRecord", "JobRegistry"]

JOBS_FILE: Final = "jobs.sqlite"
KINDS: Final = ("bulk-upsert", "export")
STATUSES: Final = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED: Final = frozenset({"succeeded", "failed", "cancelled"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    principal TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    started TEXT,
    ended TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    restarts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, seq);
"""
COLUMNS: Final = ("seq, id, kind, owner, principal, params, status, created, started, ended, "
                  "done, total, cancel_requested, result, error, restarts")


def now(ago_s: float = 0.0) -> str:
    """The current time (or ``ago_s`` before it), ISO 8601 UTC to the millisecond."""
    at = datetime.now(UTC) - timedelta(seconds=ago_s)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class JobRecord:
    seq: int
    id: str
    kind: str
    owner: str  # the submitting principal's subject: who may see the job besides admins
    principal: dict[str, Any]  # the whole principal, to act as it again after a restart
    params: dict[str, Any]  # what was asked: media type, item count, ...
    status: str
    created: str
    started: str | None = None
    ended: str | None = None
    done: int = 0  # items durably written (bulk), 1 once an export's file is complete
    total: int | None = None
    cancel_requested: bool = False
    result: dict[str, Any] | None = None  # the outcome so far: counts, warnings, errors
    error: str | None = None
    restarts: int = 0  # times a server stop interrupted it and the next start resumed it

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_json(self) -> dict[str, Any]:
        """What the API shows: everything but the principal, and the result summarised
        (``GET /api/v1/jobs/{id}/result`` has it whole)."""
        summary = None
        if self.result is not None:
            summary = {k: v for k, v in self.result.items() if k not in ("errors", "warnings")}
            if "warnings" in self.result:
                summary["warnings"] = self.result["warnings"]["total"]
        href = f"/api/v1/jobs/{self.id}"
        return {"id": self.id, "kind": self.kind, "status": self.status, "owner": self.owner,
                "createdAt": self.created, "startedAt": self.started, "endedAt": self.ended,
                "progress": {"done": self.done, "total": self.total},
                "cancelRequested": self.cancel_requested, "restarts": self.restarts,
                "params": self.params, "result": summary, "error": self.error,
                "links": {"self": href, "result": f"{href}/result", "cancel": f"{href}:cancel"}}


def _record(row: tuple[Any, ...]) -> JobRecord:
    (seq, id_, kind, owner, principal, params, status, created, started, ended, done, total,
     cancel, result, error, restarts) = row
    return JobRecord(seq, id_, kind, owner, json.loads(principal), json.loads(params), status,
                     created, started, ended, done, total, bool(cancel),
                     json.loads(result) if result else None, error, restarts)


class JobRegistry:
    """The jobs table; every method is one short transaction behind one lock."""

    def __init__(self, path: Path | None) -> None:
        self._db = connect(path, SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, *, kind: str, owner: str, principal: dict[str, Any],
               params: dict[str, Any], total: int | None, job_id: str | None = None
               ) -> JobRecord:
        job_id = job_id or uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, kind, owner, principal, params, status, created, total) "
                "VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                (job_id, kind, owner, json.dumps(principal), json.dumps(params), now(), total))
        return self.get(job_id)

    def get(self, job_id: str) -> JobRecord:
        with self._lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?",
                                   (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no job {job_id!r}; GET /api/v1/jobs lists yours")
        return _record(row)

    def next_queued(self) -> JobRecord | None:
        """The oldest queued job: the worker's queue is this table, so it survives restarts."""
        with self._lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM jobs WHERE status = 'queued' "
                                   "ORDER BY seq LIMIT 1").fetchone()
        return _record(row) if row else None

    def page(self, *, owner: str | None, status: str | None = None, limit: int = 50,
             cursor: str | None = None) -> tuple[list[JobRecord], str | None]:
        """Jobs newest first, ``limit`` of them after ``cursor``, only ``owner``'s unless it
        is None; and the next page's cursor."""
        if status is not None and status not in STATUSES:
            raise InputError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        where: list[str] = []
        args: list[Any] = []
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        with self._lock:
            rows, more = newest_first(self._db, "jobs", COLUMNS, where, args, limit, cursor)
        records = [_record(r) for r in rows]
        return records, str(records[-1].seq) if more else None

    def start(self, job_id: str) -> bool:
        """Mark a queued job running; False when it is no longer queued (cancelled)."""
        with self._lock:
            cur = self._db.execute("UPDATE jobs SET status = 'running', started = "
                                   "COALESCE(started, ?) WHERE id = ? AND status = 'queued'",
                                   (now(), job_id))
        return cur.rowcount == 1

    def progress(self, job_id: str, done: int, result: dict[str, Any] | None) -> None:
        """A durable step: ``done`` items are written and ``result`` is the outcome so far."""
        with self._lock:
            self._db.execute("UPDATE jobs SET done = ?, result = ? WHERE id = ?",
                             (done, json.dumps(result) if result is not None else None, job_id))

    def finish(self, job_id: str, status: str, *, result: dict[str, Any] | None = None,
               error: str | None = None, done: int | None = None) -> None:
        assert status in FINISHED
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status = ?, ended = ?, result = COALESCE(?, result), "
                "error = ?, done = COALESCE(?, done) WHERE id = ?",
                (status, now(), json.dumps(result) if result is not None else None, error,
                 done, job_id))

    def purge(self, ended_before: str) -> list[str]:
        """Forget the finished jobs that ended before ``ended_before`` (ISO time, as ``now``
        writes it); their ids."""
        with self._lock:
            ids = [r[0] for r in self._db.execute(
                "SELECT id FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND "
                "ended < ?", (ended_before,))]
            self._db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in ids])
        return ids

    def cancel(self, job_id: str) -> JobRecord:
        """A queued job is cancelled at once; a running one is asked to stop (its worker ends
        it ``cancelled``); a finished one is left as it is."""
        with self._lock:
            self._db.execute("UPDATE jobs SET status = 'cancelled', ended = ?, "
                             "cancel_requested = 1 WHERE id = ? AND status = 'queued'",
                             (now(), job_id))
            self._db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND "
                             "status = 'running'", (job_id,))
        return self.get(job_id)

    def requeue(self, job_id: str | None = None) -> int:
        """Queue again a running job (or, without ``job_id``, every one: on open, what a
        stopped or killed process was running); each counts one restart."""
        where, args = ("id = ? AND ", (job_id,)) if job_id else ("", ())
        with self._lock:
            cur = self._db.execute(f"UPDATE jobs SET status = 'queued', restarts = restarts + 1 "
                                   f"WHERE {where}status = 'running'", args)
        return cur.rowcount
