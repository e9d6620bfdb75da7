"""Ingestion runs in the background: ``IngestionService.runs`` (a ``BackgroundRuns``).

``start`` checks the config and the caller's permissions, records the run ``queued`` and
returns at once; one worker thread, started on first use, runs the queue in order through
``IngestionService.run`` as the caller who started each run (their context: who they are and
where they called from). ``cancel`` stops a queued run at once and a running one before its
next record (what it wrote stays, nothing is removed). ``close`` stops the run in progress the
same way and marks it and the queued ones failed with ``INTERRUPTED``: a restart never loses
a run silently (runs.py marks what a crash left behind on the next open).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from graph_store.errors import Conflict, Forbidden, InputError, NotFound, SemcatError
from ingestion.config import RunConfig
from ingestion.report import IngestReport
from ingestion.runs import INTERRUPTED, RunRecord, RunRegistry

__all__ = ["BackgroundRuns"]
log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5  # how often a running run's count of records read is written
JOIN_TIMEOUT_S = 60.0


class Access(Protocol):
    def require(self, action: str, workspace: str = ...) -> Any: ...


Prepare = Callable[[dict[str, Any]], tuple[RunConfig, str]]


def may_run(access: Access, workspace: str) -> bool:
    """Whether the caller may run ingestion in ``workspace`` (and so see its runs)."""
    try:
        access.require("run-ingestion", workspace)
    except Forbidden:
        return False
    return True
Run = Callable[..., IngestReport]


class BackgroundRuns:
    def __init__(self, registry: RunRegistry, *, prepare: Prepare, run: Run,
                 access: Access) -> None:
        self.registry = registry
        self.prepare = prepare  # the checked config and source, before anything is recorded
        self._run = run
        self._access = access
        self._queue: queue.Queue[tuple[str, RunConfig, contextvars.Context] | None] = \
            queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cancel: set[str] = set()  # running runs asked to stop
        self._closing = threading.Event()
        interrupted = registry.interrupt()
        if interrupted:
            log.warning("%d ingestion run(s) left unfinished by the previous process are "
                        "marked failed (%s)", interrupted, INTERRUPTED)

    # -- the API -------------------------------------------------------------------------------
    def start(self, config: dict[str, Any], *, actor: str, resumes: str | None = None
              ) -> RunRecord:
        """Check the config and the caller's permissions (InputError, Forbidden: nothing is
        recorded then), record the run ``queued`` and hand it to the worker; ``resumes``
        names a failed or cancelled run of the same source to continue from its checkpoint."""
        record, run_config = self.record(config, actor=actor, resumes=resumes)
        self._ensure_worker()
        self._queue.put((record.id, run_config, contextvars.copy_context()))
        return record

    def resume(self, run_id: str, *, actor: str) -> RunRecord:
        """Start again a run that failed or was cancelled, from its checkpoint: what it wrote
        is not written again (its records are read and skipped), the rest is."""
        return self.start(self._resumable(run_id).config, actor=actor, resumes=run_id)

    def record(self, config: dict[str, Any], *, actor: str, resumes: str | None = None
               ) -> tuple[RunRecord, RunConfig]:
        """Check a config and the caller's permissions, and record the run ``queued`` (for
        ``execute``, here or on the worker)."""
        if self._closing.is_set():
            raise SemcatError("the catalog is closing; start the run again once it is back")
        run_config, source = self.prepare(config)
        earlier = self._resumable(resumes) if resumes else None
        if earlier is not None and earlier.source != source:
            raise InputError(f"run {resumes} read {earlier.source}, not {source}")
        record = self.registry.create(
            connector=run_config.connector, workspace=run_config.workspace, source=source,
            config=run_config.model_dump(mode="json"), actor=actor, resumes=earlier)
        line = (f"queued: {source} into {run_config.workspace} by {actor}"
                + (f", resuming {resumes} after {record.checkpoint} records" if resumes else ""))
        log.info("ingestion run %s %s", record.id, line)
        self.registry.note(record.id, line)
        return record, run_config

    def _resumable(self, run_id: str) -> RunRecord:
        earlier = self.get(run_id)
        if earlier.status not in ("failed", "cancelled"):
            raise Conflict(f"run {run_id} is {earlier.status}; only a failed or cancelled run "
                           "can be resumed")
        return earlier

    def get(self, run_id: str) -> RunRecord:
        """One run; NotFound also when the caller may not run ingestion in its workspace."""
        record = self.registry.get(run_id)
        if not self._may(record.workspace):
            raise NotFound(f"no ingestion run {run_id!r}; GET /api/v1/ingestion lists them")
        return record

    def page(self, *, status: str | None = None, limit: int = 50,
             cursor: str | None = None) -> tuple[list[RunRecord], str | None]:
        """Runs newest first, in the workspaces where the caller may run ingestion."""
        workspaces = frozenset(w for w in self.registry.workspaces() if self._may(w))
        return self.registry.page(status=status, limit=limit, cursor=cursor,
                                  workspaces=workspaces)

    def cancel(self, run_id: str) -> RunRecord:
        record = self.get(run_id)
        self._access.require("run-ingestion", record.workspace)
        if record.finished:
            return record
        with self._lock:  # before the registry: the worker may start it meanwhile
            self._cancel.add(run_id)
        record = self.registry.cancel(run_id)
        self.registry.note(run_id, "cancel asked")
        if record.status != "running":
            with self._lock:
                self._cancel.discard(run_id)
        log.info("ingestion run %s: cancel asked (now %s)", run_id, record.status)
        return record

    def close(self) -> None:
        """Stop the run in progress before its next record, end the worker, and mark what
        did not finish failed (``INTERRUPTED``). A second call does nothing."""
        if self._closing.is_set():
            return
        self._closing.set()
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("the ingestion worker did not stop in %.0f s", JOIN_TIMEOUT_S)
        self.registry.interrupt()
        if thread is None or not thread.is_alive():
            self.registry.close()

    # -- the worker ----------------------------------------------------------------------------
    def _may(self, workspace: str) -> bool:
        return may_run(self._access, workspace)

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="semcat-ingestion",
                                                daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None or self._closing.is_set():
                return
            run_id, config, context = job
            # a failure is recorded on the run and logged; it never ends the worker
            with contextlib.suppress(Exception):
                context.run(self.execute, run_id, config)

    def execute(self, run_id: str, config: RunConfig, *,
                on_progress: Callable[[str, int, int | None], None] | None = None
                ) -> IngestReport | None:
        """Run a recorded run here and now, keeping its status, progress and checkpoint; its
        report, or None when it was cancelled while queued. Raises what the run raised (the
        run is recorded failed then)."""
        if not self.registry.start(run_id):
            return None  # cancelled while queued
        record = self.registry.get(run_id)
        read, checkpoint, written = 0, record.checkpoint, time.monotonic()

        def stop(n: int) -> bool:
            nonlocal read, written
            read = n
            if time.monotonic() - written >= PROGRESS_EVERY_S:
                self.registry.progress(run_id, n, checkpoint)
                written = time.monotonic()
            return run_id in self._cancel or self._closing.is_set()

        def reached(n: int) -> None:
            nonlocal checkpoint
            checkpoint = n

        log.info("ingestion run %s started: %s", run_id, record.source)
        self.registry.note(run_id, "started")
        stages: set[str] = set()

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in stages:  # one line per stage: writing, removing
                stages.add(stage)
                self.registry.note(run_id, f"{stage}: {done} so far")
            if on_progress is not None:
                on_progress(stage, done, total)

        try:
            report = self._run(config, actor=record.actor, stop=stop, on_progress=progress,
                               resume_after=record.checkpoint, on_checkpoint=reached)
        except SemcatError as e:  # messages name no secret (connector.py, config.py)
            self.registry.note(run_id, f"failed after {read} records: {e.detail}")
            self.registry.finish(run_id, "failed", error=e.detail, read=read,
                                 checkpoint=checkpoint)
            log.info("ingestion run %s failed: %s", run_id, e.detail)
            raise
        except Exception as e:
            log.exception("ingestion run %s failed", run_id)
            self.registry.finish(run_id, "failed", read=read, checkpoint=checkpoint, error=(
                f"internal error ({type(e).__name__}); the server log has the details"))
            raise
        except BaseException:  # Ctrl-C on `semcat ingest`: resumable from its checkpoint
            self.registry.finish(run_id, "failed", read=read, checkpoint=checkpoint,
                                 error=INTERRUPTED)
            raise
        finally:
            with self._lock:
                cancelled = run_id in self._cancel
                self._cancel.discard(run_id)
        if report.stopped and cancelled:
            status, error = "cancelled", None
        elif report.stopped:
            status, error = "failed", INTERRUPTED
        elif not report.complete:
            status, error = "failed", report.error
        else:
            status, error = "succeeded", None
        counts = ", ".join(f"{n} {k}" for k, n in report.counts().items())
        self.registry.note(run_id, f"{status} after {read} records in {report.seconds:.1f} s: "
                           f"{counts}, {len(report.warnings)} warnings"
                           + (f"; {error}" if error else ""))
        self.registry.finish(run_id, status, report=report.to_json(), error=error, read=read,
                             checkpoint=checkpoint)
        log.info("ingestion run %s %s: %s", run_id, status, report.counts())
        return report
