"""Asynchronous jobs: ``JobService`` accepts long bulk upserts and exports, runs them one at a
time on a worker thread as the principal who submitted them, and keeps each job's status,
progress and result in the registry, so a client polls instead of holding a request open.

The registry is the queue: the worker takes the oldest queued job, so what a stopped or killed
server left queued or running is picked up again once a server starts on the data directory
(``start``), a bulk upsert after its last durable chunk, an export from the start. ``close``
stops the job in progress at its next chunk and leaves it queued. Files (a bulk job's items, an
export's result) live in ``jobs/`` in the data directory; an in-memory catalog uses a temporary
directory that ``close`` removes, so it runs jobs too but keeps nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Final, Protocol

from graph_store.errors import Conflict, NotFound, SemcatError
from jobs.bulk import BulkOutcome, UpsertMany, run_bulk
from jobs.items import normalise
from jobs.registry import JOBS_FILE, JobRecord, JobRegistry, now

__all__ = ["JobService"]
log = logging.getLogger(__name__)

JOIN_TIMEOUT_S: Final = 60.0
ITEMS: Final = "items.ndjson"
RESULT: Final = "result"
PURGE_EVERY_S: Final = 3600.0  # how often the worker forgets jobs past their retention


class Principal(Protocol):
    @property
    def subject(self) -> str: ...
    @property
    def admin(self) -> bool: ...
    def to_json(self) -> dict[str, Any]: ...


class JobSettings(Protocol):
    """The part of catalog.Settings that configures jobs."""

    jobs_chunk_size: int
    jobs_retention_days: float


class Access(Protocol):
    """The slice of ``access.AccessService`` jobs need: who calls, and acting as someone."""

    def principal(self) -> Any: ...
    def acting_as(self, principal: Any) -> AbstractContextManager[Any]: ...


Export = Callable[..., None]  # Catalog.export(output, media_type, inferred=...)


class JobService:
    def __init__(self, data: Path | None, upsert_many: UpsertMany, export: Export,
                 access: Access, principal_from_json: Callable[[dict[str, Any]], Principal],
                 revoked: Callable[[Any], str | None], *, config: JobSettings) -> None:
        """``upsert_many`` and ``export`` are the catalog's; ``revoked`` says why a stored
        principal may no longer act (its API key was revoked), checked before each job runs."""
        self.registry = JobRegistry(data / JOBS_FILE if data is not None else None)
        self._temporary = data is None
        # made on first use: most catalogs, in memory above all, never run a job
        self.files = data / "jobs" if data is not None else \
            Path(tempfile.gettempdir()) / f"semcat-jobs-{uuid.uuid4().hex}"
        self._upsert_many = upsert_many
        self._export = export
        self._access = access
        self._from_json = principal_from_json
        self._revoked = revoked
        self.chunk_size = config.jobs_chunk_size
        self.retention_s = config.jobs_retention_days * 86_400
        self._contexts: dict[str, contextvars.Context] = {}  # requests' origins, for the audit
        self._cancel: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        for stale in self.files.glob("incoming-*"):  # bodies whose upload a stop cut short
            stale.unlink(missing_ok=True)
        resumed = self.registry.requeue()
        if resumed:
            log.warning("%d job(s) a previous process was running are queued again; they "
                        "resume once a server starts", resumed)

    # -- submitting ----------------------------------------------------------------------------
    def spool(self) -> Path:
        """A fresh file for a request body on its way in (``submit_bulk`` takes it over)."""
        self.files.mkdir(parents=True, exist_ok=True)
        return self.files / f"incoming-{uuid.uuid4().hex}"

    def submit_bulk(self, body: Path, media_type: str, *, whole_limit: int) -> JobRecord:
        """Split a spooled body into items (InputError when it is not JSON or NDJSON: no job
        is recorded then) and queue a job writing them as the caller. A JSON object body
        (an ``@graph``), which cannot be split, is read whole up to ``whole_limit`` bytes."""
        job_id = uuid.uuid4().hex
        folder = self.files / job_id
        folder.mkdir(parents=True)
        try:
            total = normalise(body, media_type, folder / ITEMS, whole_limit=whole_limit)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            body.unlink(missing_ok=True)
        return self._queue("bulk-upsert", {"items": total, "chunkSize": self.chunk_size},
                           total, job_id)

    def submit_export(self, media_type: str, *, inferred: bool = False) -> JobRecord:
        """Queue an export of what the caller may read, in ``media_type``."""
        (self.files / (job_id := uuid.uuid4().hex)).mkdir(parents=True)
        return self._queue("export", {"mediaType": media_type, "inferred": inferred}, 1, job_id)

    def _queue(self, kind: str, params: dict[str, Any], total: int, job_id: str) -> JobRecord:
        if self._closing.is_set():
            shutil.rmtree(self.files / job_id, ignore_errors=True)
            raise SemcatError("the catalog is closing; submit the job again once it is back")
        principal = self._access.principal()
        record = self.registry.create(kind=kind, owner=principal.subject, job_id=job_id,
                                      principal=principal.to_json(), params=params, total=total)
        self._contexts[job_id] = contextvars.copy_context()
        log.info("job %s queued: %s by %s", job_id, kind, principal.subject)
        self.start()
        return record

    # -- reading and cancelling ----------------------------------------------------------------
    def get(self, job_id: str) -> JobRecord:
        """One job; NotFound also when it is another caller's (unless the caller is an
        admin), so that a job's existence is never confirmed to others."""
        principal = self._access.principal()
        try:
            record = self.registry.get(job_id)
        except NotFound:
            record = None
        if record is None or not (principal.admin or record.owner == principal.subject):
            raise NotFound(f"no job {job_id!r}; GET /api/v1/jobs lists yours")
        return record

    def page(self, *, status: str | None = None, limit: int = 50,
             cursor: str | None = None) -> tuple[list[JobRecord], str | None]:
        """The caller's jobs newest first (an admin's: everyone's)."""
        principal = self._access.principal()
        return self.registry.page(owner=None if principal.admin else principal.subject,
                                  status=status, limit=limit, cursor=cursor)

    def cancel(self, job_id: str) -> JobRecord:
        """A queued job ends at once; a running bulk job before its next chunk (what it wrote
        stays), a running export once the store has answered (its file is discarded)."""
        record = self.get(job_id)
        if record.finished:
            return record
        with self._lock:
            self._cancel.add(job_id)
        record = self.registry.cancel(job_id)
        if record.status != "running":  # cancelled while queued: it never runs
            with self._lock:
                self._cancel.discard(job_id)
            self._contexts.pop(job_id, None)
            (self.files / job_id / ITEMS).unlink(missing_ok=True)
        log.info("job %s: cancel asked (now %s)", job_id, record.status)
        return record

    def result(self, job_id: str) -> tuple[JobRecord, Path | None, dict[str, Any] | None]:
        """A finished job with its result: an export's file, or a bulk job's outcome (counts,
        warnings, item errors; also of one cancelled or failed part way). Conflict while it
        has not finished, or when an export left no file."""
        record = self.get(job_id)
        if not record.finished:
            raise Conflict(f"job {job_id} is {record.status}; its result is ready once it has "
                           f"finished (GET /api/v1/jobs/{job_id} shows its progress)")
        if record.kind == "bulk-upsert":
            return record, None, record.result or BulkOutcome().to_json()
        path = self.files / job_id / RESULT
        if record.status != "succeeded" or not path.is_file():
            raise Conflict(f"job {job_id} {record.status}"
                           + (f" ({record.error})" if record.error else "")
                           + "; it left no file to download")
        return record, path, None

    # -- the worker ----------------------------------------------------------------------------
    def start(self) -> None:
        """Run queued jobs from now on (a served catalog calls this on startup, so that jobs
        an earlier process left behind resume; submitting calls it too)."""
        with self._lock:
            if self._thread is None and not self._closing.is_set():
                self._thread = threading.Thread(target=self._work, name="semcat-jobs",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop the job in progress at its next chunk and leave it queued for the next start;
        a second call does nothing."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("the job worker did not stop in %.0f s", JOIN_TIMEOUT_S)
                return  # it still uses the registry and the files
        self.registry.close()
        if self._temporary:
            shutil.rmtree(self.files, ignore_errors=True)

    def purge(self) -> int:
        """Forget the jobs that finished longer ago than the retention, with their files (an
        export's download); how many."""
        if self.retention_s <= 0:
            return 0
        gone = self.registry.purge(now(self.retention_s))
        for job_id in gone:
            shutil.rmtree(self.files / job_id, ignore_errors=True)
        if gone:
            log.info("forgot %d job(s) finished over %g days ago", len(gone),
                     self.retention_s / 86_400)
        return len(gone)

    def _work(self) -> None:
        purged: float | None = None
        while not self._closing.is_set():
            self._wake.clear()
            if purged is None or time.monotonic() - purged >= PURGE_EVERY_S:
                purged = time.monotonic()
                with contextlib.suppress(Exception):  # logged by the caller's logger
                    self.purge()
            record = self.registry.next_queued()
            if record is None:
                self._wake.wait(PURGE_EVERY_S)
                continue
            context = self._contexts.pop(record.id, None) or contextvars.Context()
            # a failure is recorded on the job and logged; it never ends the worker
            with contextlib.suppress(Exception):
                context.run(self._execute, record)

    def _stopping(self, job_id: str) -> bool:
        return job_id in self._cancel or self._closing.is_set()

    def _execute(self, record: JobRecord) -> None:
        if not self.registry.start(record.id):
            return  # cancelled while queued
        principal = self._from_json(record.principal)
        job_id = record.id
        try:
            why = self._revoked(principal)
            if record.cancel_requested:
                status, error = "cancelled", None
            elif why is not None:
                status, error = "failed", f"the submitter may no longer act: {why}"
            else:
                with self._access.acting_as(principal):
                    status, error = self._run(record, principal)
        except SemcatError as e:
            status, error = "failed", e.detail
        except Exception as e:
            log.exception("job %s failed", job_id)
            status, error = "failed", (f"internal error ({type(e).__name__}); the server log "
                                       "has the details")
        finally:
            with self._lock:
                cancelled = job_id in self._cancel
                self._cancel.discard(job_id)
        if status == "stopped":  # the server is stopping: the next start resumes it
            self.registry.requeue(job_id)
            log.info("job %s stops with the server; it resumes on the next start", job_id)
            return
        if cancelled and status == "succeeded" and record.kind == "export":
            status = "cancelled"  # it ran to the end, but nobody wants it any more
        if status != "succeeded" and record.kind == "export":
            (self.files / job_id / RESULT).unlink(missing_ok=True)
        if record.kind == "bulk-upsert":  # its outcome is in the registry; the items are done
            (self.files / job_id / ITEMS).unlink(missing_ok=True)
        self.registry.finish(job_id, status, error=error)
        log.info("job %s %s%s", job_id, status, f": {error}" if error else "")

    def _run(self, record: JobRecord, principal: Principal) -> tuple[str, str | None]:
        """The job's work as its principal: ("succeeded" | "cancelled" | "stopped", error)."""
        folder = self.files / record.id
        if record.kind == "export":
            part = folder / f"{RESULT}.part"
            with part.open("wb") as f:
                self._export(f, record.params["mediaType"], inferred=record.params["inferred"])
            part.replace(folder / RESULT)
            self.registry.progress(record.id, 1, {"bytes": (folder / RESULT).stat().st_size,
                                                  "mediaType": record.params["mediaType"]})
            return "succeeded", None
        outcome = BulkOutcome.from_json(record.result)
        complete = run_bulk(folder / ITEMS, upsert_many=self._upsert_many,
                            actor=principal.subject, job_id=record.id,
                            chunk_size=self.chunk_size, done=record.done, outcome=outcome,
                            durable=lambda done, o: self.registry.progress(record.id, done,
                                                                           o.to_json()),
                            stop=lambda: self._stopping(record.id))
        if complete:
            self.registry.progress(record.id, record.total or 0, outcome.to_json())
            return "succeeded", None
        return ("cancelled" if record.id in self._cancel else "stopped"), None

