"""Recurring ingestion runs: ``IngestionService.schedules`` (a ``Schedules``).

A schedule is a run config plus a cron expression (croniter's syntax: five fields, an optional
sixth for seconds, or ``@daily`` and the like; times in UTC). It is kept in the run registry's
file, so it outlives the process (and, with several nodes, shared with every node: see
``firing``); each time it comes due, one thread queues a run through
``BackgroundRuns.start`` as the principal who made the schedule, so the permissions are
checked again at every firing (a principal who lost ``run-ingestion``, or whose API key was
revoked, gets an error on the schedule instead of a run). A firing is skipped while the
schedule's previous run is still queued or running: a slow source never piles up runs.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from croniter import CroniterError, croniter

from graph_store.durable_sqlite import connect
from graph_store.errors import InputError, NotFound, SemcatError
from ingestion.jobs import BackgroundRuns, may_run
from ingestion.runs import now

__all__ = ["Principals", "Schedule", "Schedules"]
log = logging.getLogger(__name__)

MAX_SLEEP_S: Final = 60.0  # the loop looks again at least this often (clock changes)
SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    cron TEXT NOT NULL,
    workspace TEXT NOT NULL,
    source TEXT NOT NULL,
    run TEXT NOT NULL,
    actor TEXT NOT NULL,
    principal TEXT NOT NULL,
    created TEXT NOT NULL,
    last_fired TEXT,
    last_run TEXT,
    last_error TEXT
);
"""
COLUMNS: Final = ("id, cron, workspace, source, run, actor, principal, created, last_fired, "
                  "last_run, last_error")


class Principal(Protocol):
    """access.identity.Principal, as far as a schedule keeps it."""

    def to_json(self) -> dict[str, Any]: ...


class Access(Protocol):
    def require(self, action: str, workspace: str = ...) -> Any: ...

    def principal(self) -> Any: ...

    def acting_as(self, principal: Any) -> Any: ...


@dataclass(frozen=True)
class Principals:
    """How the catalog's identities are stored and checked again (access/identity.py)."""

    from_json: Callable[[dict[str, Any]], Principal]
    # why a principal may no longer act (its API key was revoked or expired), or None
    revoked: Callable[[Any], str | None] = lambda principal: None


@dataclass(frozen=True)
class Schedule:
    id: str
    cron: str
    workspace: str
    source: str
    run: dict[str, Any]  # the run config as given: secrets as references only
    actor: str
    principal: Principal
    created: str
    last_fired: str | None = None
    last_run: str | None = None
    last_error: str | None = None

    def next_time(self, after: datetime | None = None) -> datetime:
        return croniter(self.cron, after or datetime.now(UTC)).get_next(datetime)  # type: ignore[no-any-return]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "cron": self.cron, "workspace": self.workspace,
                "source": self.source, "actor": self.actor, "createdAt": self.created,
                "nextAt": _iso(self.next_time()), "lastFiredAt": self.last_fired,
                "lastRun": self.last_run, "lastError": self.last_error, "run": self.run}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _schedule(row: tuple[Any, ...], principals: Principals) -> Schedule:
    id_, cron, workspace, source, run, actor, principal, created, fired, last, error = row
    return Schedule(id_, cron, workspace, source, json.loads(run), actor,
                    principals.from_json(json.loads(principal)), created, fired, last, error)


def checked_cron(cron: Any) -> str:
    if not isinstance(cron, str) or not cron.strip():
        raise InputError("'cron' is required: a cron expression such as '0 2 * * *' (02:00 "
                         "UTC daily)")
    cron = " ".join(cron.split())
    try:
        croniter(cron, datetime.now(UTC)).get_next(datetime)
    except (CroniterError, ValueError) as e:
        raise InputError(f"cron: {cron!r} is not a cron expression ({e}); five fields "
                         "(minute hour day month weekday), a sixth for seconds, or @hourly, "
                         "@daily, @weekly") from None
    return cron


class Schedules:
    def __init__(self, path: Path | None, runs: BackgroundRuns, access: Access,
                 principals: Principals) -> None:
        self._db = connect(path, SCHEMA)
        self._lock = threading.Lock()
        self._runs = runs
        self._access = access
        self._principals = principals
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None  # while this node fires (``firing``)
        # told the id of each schedule changed here: several nodes share them
        # (graph_store/nats_records.py), so whichever is elected fires them
        self.on_change: Callable[[str], None] = lambda schedule_id: None

    # -- the API -------------------------------------------------------------------------------
    def add(self, body: Any, *, actor: str) -> Schedule:
        """A new schedule from ``{"cron": ..., "run": <run config>}``, checked like a run
        (InputError naming the field, Forbidden) before anything is stored."""
        if not isinstance(body, dict):
            raise InputError('a schedule is a JSON object: {"cron": "0 2 * * *", "run": '
                             '{<run config as for POST /api/v1/ingestion>}}')
        unknown = sorted(set(body) - {"cron", "run"})
        if unknown:
            raise InputError(f"unknown fields {unknown}; a schedule has cron and run")
        cron = checked_cron(body.get("cron"))
        if not isinstance(body.get("run"), dict):
            raise InputError("'run' is required: the run config, as POST /api/v1/ingestion "
                             "takes it")
        config, source = self._runs.prepare(body["run"])
        schedule = Schedule(uuid.uuid4().hex, cron, config.workspace, source,
                            config.model_dump(mode="json"), actor, self._access.principal(),
                            now())
        with self._lock:
            self._db.execute(
                "INSERT INTO schedules (id, cron, workspace, source, run, actor, principal, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (schedule.id, cron, schedule.workspace, source, json.dumps(schedule.run),
                 actor, json.dumps(schedule.principal.to_json()), schedule.created))
        log.info("ingestion schedule %s added: %s at %r by %s", schedule.id, source, cron, actor)
        self.on_change(schedule.id)
        self._wake.set()
        return schedule

    def get(self, schedule_id: str) -> Schedule:
        """One schedule; NotFound also where the caller may not run ingestion."""
        found = self._get(schedule_id)
        if found is None or not self._may(found.workspace):
            raise NotFound(f"no ingestion schedule {schedule_id!r}; GET "
                           "/api/v1/ingestion/schedules lists them")
        return found

    def visible(self) -> list[Schedule]:
        """The schedules in the workspaces where the caller may run ingestion, oldest first."""
        return [s for s in self._all() if self._may(s.workspace)]

    def delete(self, schedule_id: str) -> None:
        schedule = self.get(schedule_id)
        self._access.require("run-ingestion", schedule.workspace)
        with self._lock:
            self._db.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))
        log.info("ingestion schedule %s deleted", schedule_id)
        self.on_change(schedule_id)
        self._wake.set()

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            self._db.close()

    # -- firing --------------------------------------------------------------------------------
    def fire(self, schedule: Schedule) -> None:
        """Queue the schedule's run now, as its principal; the outcome is kept on it."""
        run_id, error = None, self._principals.revoked(schedule.principal)
        try:
            last = self._runs.registry.get(schedule.last_run) if schedule.last_run else None
        except NotFound:
            last = None
        if error is None and last is not None and not last.finished:
            log.info("ingestion schedule %s: skipped, its run %s is still %s", schedule.id,
                     last.id, last.status)
            return
        if error is None:
            try:
                with self._access.acting_as(schedule.principal):
                    run_id = self._runs.start(schedule.run, actor=schedule.actor).id
            except SemcatError as e:
                error = e.detail
        if error is not None:
            log.warning("ingestion schedule %s could not start its run: %s", schedule.id, error)
        with self._lock:
            self._db.execute("UPDATE schedules SET last_fired = ?, last_run = COALESCE(?, "
                             "last_run), last_error = ? WHERE id = ?",
                             (now(), run_id, error, schedule.id))
        self.on_change(schedule.id)

    def firing(self) -> Callable[[], None]:
        """Fire the schedules as they come due until the returned function is called: on the
        node elected for it (catalog/leadership.py). A firing due while no node fired
        (a fail-over, a restart) is skipped, not made up."""
        stop = threading.Event()
        thread = self._thread = threading.Thread(target=self._loop, args=(stop,), daemon=True,
                                                 name="semcat-ingestion-schedules")
        thread.start()

        def end() -> None:
            stop.set()
            self._wake.set()
            thread.join(10)
        return end

    def wake(self) -> None:
        """Schedules changed elsewhere: look again."""
        self._wake.set()

    # -- the copy other nodes keep (graph_store/nats_records.py) --------------------------------
    def ids(self) -> list[str]:
        return [s.id for s in self._all()]

    def export(self, schedule_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM schedules WHERE id = ?",
                                   (schedule_id,)).fetchone()
        return dict(zip(COLUMNS.split(", "), row, strict=True)) if row else None

    def absorb(self, schedule_id: str, row: dict[str, Any] | None) -> None:
        names = COLUMNS.split(", ")
        with self._lock:
            if row is None:
                self._db.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))
            else:
                self._db.execute(
                    f"INSERT INTO schedules ({COLUMNS}) VALUES ({', '.join('?' * len(names))}) "
                    "ON CONFLICT (id) DO UPDATE SET " + ", ".join(
                        f"{n} = excluded.{n}" for n in names if n != "id"),
                    [row[n] for n in names])
        self._wake.set()

    def _loop(self, stop: threading.Event) -> None:
        due: dict[str, datetime] = {}
        while not self._closing.is_set() and not stop.is_set():
            current = datetime.now(UTC)
            schedules = {s.id: s for s in self._all()}
            due = {i: due.get(i) or s.next_time(current) for i, s in schedules.items()}
            for i, at in due.items():
                if at <= current and not self._closing.is_set() and not stop.is_set():
                    try:
                        self.fire(schedules[i])
                    except Exception:  # one bad schedule never stops the others
                        log.exception("ingestion schedule %s failed to fire", i)
                    due[i] = schedules[i].next_time(current)
            wait = min([(at - datetime.now(UTC)).total_seconds() for at in due.values()],
                       default=MAX_SLEEP_S)
            self._wake.wait(min(max(wait, 0.0), MAX_SLEEP_S))
            self._wake.clear()

    def _may(self, workspace: str) -> bool:
        return may_run(self._access, workspace)

    def _get(self, schedule_id: str) -> Schedule | None:
        with self._lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM schedules WHERE id = ?",
                                   (schedule_id,)).fetchone()
        return _schedule(row, self._principals) if row else None

    def _all(self) -> list[Schedule]:
        with self._lock:
            rows = self._db.execute(f"SELECT {COLUMNS} FROM schedules ORDER BY seq").fetchall()
        return [_schedule(r, self._principals) for r in rows]
