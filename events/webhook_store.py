"""Webhook subscriptions, their positions, secrets, attempts and dead letters, in one small SQLite
file (``{data}/webhooks.sqlite``, readable by the server's user only): what a restart must not
lose. Every attempt is recorded as it ends, so a restart goes on counting where it stopped and
an event that keeps failing is dead-lettered after N attempts however often the server restarts.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from events.model import Position
from events.visibility import EventFilter
from graph_store.durable_sqlite import connect

FILE = "webhooks.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    filter TEXT NOT NULL,
    format TEXT NOT NULL,
    delta INTEGER NOT NULL,
    description TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    paused_reason TEXT,
    owner TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    secret TEXT NOT NULL,
    position_seq INTEGER NOT NULL,
    position_index INTEGER NOT NULL,
    previous_secret TEXT,
    previous_until REAL
);
CREATE TABLE IF NOT EXISTS deliveries (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription TEXT NOT NULL,
    event TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms REAL,
    last_error TEXT,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS deliveries_of ON deliveries (subscription, status, n);
"""
Status = Literal["retrying", "delivered", "dead-lettered", "replay-pending"]
SUB_COLUMNS = ("id, url, filter, format, delta, description, paused, paused_reason, owner, "
               "created, updated, position_seq, position_index")
SHARED = SUB_COLUMNS + ", secret, previous_secret, previous_until"  # what a cluster shares
DELIVERY_COLUMNS = ("n, subscription, event, type, status, attempts, status_code, latency_ms, "
                    "last_error, first_at, last_at, replays")


@dataclass(frozen=True)
class Subscription:
    """What a subscription is, without its secret (which only the signer reads)."""

    id: str
    url: str
    filter: EventFilter
    format: str  # "json" | "slack"
    delta: bool
    description: str
    paused: bool
    paused_reason: str | None
    owner: dict[str, Any] = field(repr=False)  # the principal deliveries act as (its JSON)
    created: str
    updated: str
    position: Position

    @property
    def owner_subject(self) -> str:
        return str(self.owner.get("subject", ""))

    def to_json(self) -> dict[str, Any]:
        f = self.filter
        return {"id": self.id, "url": self.url, "types": list(f.types),
                "workspaces": list(f.workspaces), "assetTypes": list(f.asset_types),
                "classifications": list(f.classifications), "format": self.format,
                "delta": self.delta, "description": self.description, "paused": self.paused,
                "pausedReason": self.paused_reason, "owner": self.owner_subject,
                "createdAt": self.created, "updatedAt": self.updated,
                "position": str(self.position)}


@dataclass(frozen=True)
class Delivery:
    """One event's delivery to one subscription: its attempts so far and how the last ended."""

    n: int
    subscription: str
    event: str
    type: str
    status: str
    attempts: int
    status_code: int | None
    latency_ms: float | None
    last_error: str | None
    first_at: str
    last_at: str
    replays: int

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "event": self.event, "type": self.type, "status": self.status,
                "attempts": self.attempts, "statusCode": self.status_code,
                "latencyMs": None if self.latency_ms is None else round(self.latency_ms, 1),
                "lastError": self.last_error, "firstAttemptAt": self.first_at,
                "lastAttemptAt": self.last_at, "replays": self.replays}


def _filter_json(f: EventFilter) -> str:
    return json.dumps({"types": f.types, "workspaces": f.workspaces,
                       "assetTypes": f.asset_types, "classifications": f.classifications})


def _subscription(row: tuple[Any, ...]) -> Subscription:
    (id_, url, filt, fmt, delta, description, paused, reason, owner, created, updated, seq,
     index) = row
    f = json.loads(filt)
    return Subscription(id_, url, EventFilter(tuple(f["types"]), tuple(f["workspaces"]),
                                              tuple(f["assetTypes"]),
                                              tuple(f["classifications"])),
                        fmt, bool(delta), description, bool(paused), reason, json.loads(owner),
                        created, updated, Position(seq, index))


class WebhookStore:
    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            os.chmod(path, 0o600)  # it holds the signing secrets
        self._db = connect(path, SCHEMA)
        self._lock = threading.Lock()
        # told the id of each subscription changed here (not by ``absorb``): the mirror
        # shares it with the other nodes of a cluster (events/webhook_mirror.py)
        self.on_change: Callable[[str], None] = lambda sub_id: None
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(subscriptions)")}
        for column, kind in (("previous_secret", "TEXT"), ("previous_until", "REAL")):
            if column not in columns:  # a file from before secrets had a grace period
                self._db.execute(f"ALTER TABLE subscriptions ADD COLUMN {column} {kind}")

    @contextmanager
    def _tx(self, *, synced: bool = True) -> Iterator[Any]:
        """One transaction; ``synced=False`` spares its fsync (it reaches the disk with the
        next synced one; a crash of the process alone loses nothing)."""
        with self._lock:
            if not synced:
                self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            finally:
                if not synced:
                    self._db.execute("PRAGMA synchronous=FULL")

    # -- subscriptions -------------------------------------------------------------------------
    def add(self, sub: Subscription, secret: str) -> None:
        with self._tx() as db:
            db.execute(f"INSERT INTO subscriptions ({SUB_COLUMNS}, secret) VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (sub.id, sub.url, _filter_json(sub.filter), sub.format, int(sub.delta),
                        sub.description, int(sub.paused), sub.paused_reason,
                        json.dumps(sub.owner), sub.created, sub.updated, sub.position.seq,
                        sub.position.index, secret))
        self.on_change(sub.id)

    def get(self, sub_id: str) -> Subscription | None:
        with self._lock:
            row = self._db.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = ?",
                                   (sub_id,)).fetchone()
        return _subscription(row) if row else None

    def all(self) -> list[Subscription]:
        with self._lock:
            rows = self._db.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions ORDER BY seq")
            return [_subscription(r) for r in rows.fetchall()]

    def replace(self, sub: Subscription) -> None:
        """Store what may change: target, filters, format, pause (not the position)."""
        with self._tx() as db:
            db.execute("UPDATE subscriptions SET url = ?, filter = ?, format = ?, delta = ?, "
                       "description = ?, paused = ?, paused_reason = ?, updated = ? WHERE id = ?",
                       (sub.url, _filter_json(sub.filter), sub.format, int(sub.delta),
                        sub.description, int(sub.paused), sub.paused_reason, sub.updated,
                        sub.id))
        self.on_change(sub.id)

    def pause(self, sub_id: str, reason: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE subscriptions SET paused = 1, paused_reason = ? WHERE id = ?",
                       (reason, sub_id))
        self.on_change(sub_id)

    def delete(self, sub_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))
            db.execute("DELETE FROM deliveries WHERE subscription = ?", (sub_id,))
        self.on_change(sub_id)

    def secrets(self, sub_id: str, now: float | None = None) -> tuple[str, ...]:
        """The secrets that sign a delivery: the current one, and the one it replaced until
        that one's grace period ends; none for a subscription that is gone."""
        with self._lock:
            row = self._db.execute("SELECT secret, previous_secret, previous_until FROM "
                                   "subscriptions WHERE id = ?", (sub_id,)).fetchone()
        if row is None:
            return ()
        current, previous, until = row
        in_grace = previous is not None and until is not None and \
            (time.time() if now is None else now) < until
        return (current, previous) if in_grace else (current,)

    def set_secret(self, sub_id: str, secret: str, updated: str, grace_s: float) -> None:
        """``secret`` signs from now on; the one it replaces signs too for ``grace_s``."""
        with self._tx() as db:
            db.execute("UPDATE subscriptions SET previous_secret = CASE WHEN ? > 0 THEN secret "
                       "END, previous_until = CASE WHEN ? > 0 THEN ? END, secret = ?, "
                       "updated = ? WHERE id = ?",
                       (grace_s, grace_s, time.time() + grace_s, secret, updated, sub_id))
        self.on_change(sub_id)

    # -- the copy other nodes keep -------------------------------------------------------------
    def export(self, sub_id: str) -> dict[str, Any] | None:
        """A subscription as another node needs it to deliver (its secrets too, not its
        deliveries); None once it is deleted."""
        with self._lock:
            row = self._db.execute(f"SELECT {SHARED} FROM subscriptions WHERE id = ?",
                                   (sub_id,)).fetchone()
        return dict(zip(SHARED.split(", "), row, strict=True)) if row else None

    def absorb(self, sub_id: str, row: dict[str, Any] | None) -> None:
        """Take a subscription as another node exported it (None: deleted there), all but its
        position, which only moves forward."""
        with self._tx(synced=False) as db:
            if row is None:
                db.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))
                return
            names = SHARED.split(", ")
            db.execute(f"INSERT INTO subscriptions ({SHARED}) VALUES "
                       f"({', '.join('?' * len(names))}) ON CONFLICT (id) DO UPDATE SET "
                       + ", ".join(f"{n} = excluded.{n}" for n in names
                                   if n not in ("id", "position_seq", "position_index")),
                       [row[n] for n in names])
        self.save_position(sub_id, Position(row["position_seq"], row["position_index"]))

    def ids(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM subscriptions ORDER BY seq")]

    def positions(self) -> dict[str, Position]:
        with self._lock:
            rows = self._db.execute("SELECT id, position_seq, position_index FROM subscriptions")
            return {r[0]: Position(r[1], r[2]) for r in rows.fetchall()}

    def save_position(self, sub_id: str, position: Position) -> None:
        """Only forwards: a position never goes back. Not fsynced: losing it to a power cut
        only means reading (and filtering) those events again."""
        with self._tx(synced=False) as db:
            db.execute("UPDATE subscriptions SET position_seq = ?, position_index = ? WHERE "
                       "id = ? AND (position_seq < ? OR (position_seq = ? AND "
                       "position_index < ?))",
                       (position.seq, position.index, sub_id, position.seq, position.seq,
                        position.index))

    # -- deliveries ----------------------------------------------------------------------------
    def open_attempts(self, sub_id: str, event_id: str) -> Delivery | None:
        """The delivery of ``event_id`` still being retried (a restart continues its count)."""
        found = self.deliveries(sub_id, status="retrying", event=event_id, limit=1)
        return found[0] if found else None

    def record(self, delivery: Delivery, *, advance: Position | None = None) -> int:
        """Insert or update (``n`` = 0: insert) one delivery, and move the subscription's
        position to ``advance`` in the same transaction; the delivery's number. Nothing is
        recorded for a subscription deleted meanwhile (first attempts that succeeded go
        through ``delivered``)."""
        d = delivery
        values = (d.status, d.attempts, d.status_code, d.latency_ms, d.last_error, d.last_at,
                  d.replays)
        with self._tx() as db:
            if d.n:
                db.execute("UPDATE deliveries SET status = ?, attempts = ?, status_code = ?, "
                           "latency_ms = ?, last_error = ?, last_at = ?, replays = ? "
                           "WHERE n = ?", (*values, d.n))
                n = d.n
            else:
                cursor = db.execute(
                    "INSERT INTO deliveries (subscription, event, type, first_at, status, "
                    "attempts, status_code, latency_ms, last_error, last_at, replays) SELECT "
                    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM subscriptions "
                    "WHERE id = ?)", (d.subscription, d.event, d.type, d.first_at, *values,
                                      d.subscription))
                n = cursor.lastrowid or 0
            if advance is not None:
                db.execute("UPDATE subscriptions SET position_seq = ?, position_index = ? "
                           "WHERE id = ? AND (position_seq < ? OR (position_seq = ? AND "
                           "position_index < ?))",
                           (advance.seq, advance.index, d.subscription, advance.seq,
                            advance.seq, advance.index))
        return n

    def delivered(self, sub_id: str, done: list[Delivery], advance: Position) -> None:
        """Record events delivered at their first attempt, and the position they reach, in
        one transaction without an fsync: losing it to a power cut only means they are
        delivered again, which at least once allows."""
        with self._tx(synced=False) as db:
            db.executemany(
                "INSERT INTO deliveries (subscription, event, type, first_at, status, attempts, "
                "status_code, latency_ms, last_error, last_at, replays) SELECT ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = ?)",
                [(d.subscription, d.event, d.type, d.first_at, d.status, d.attempts,
                  d.status_code, d.latency_ms, d.last_error, d.last_at, d.replays,
                  d.subscription) for d in done])
            db.execute("UPDATE subscriptions SET position_seq = ?, position_index = ? WHERE "
                       "id = ? AND (position_seq < ? OR (position_seq = ? AND "
                       "position_index < ?))",
                       (advance.seq, advance.index, sub_id, advance.seq, advance.seq,
                        advance.index))

    def deliveries(self, sub_id: str, *, status: str | None = None, event: str | None = None,
                   cursor: int | None = None, limit: int = 100) -> list[Delivery]:
        """Newest first; ``cursor``: those before delivery number ``cursor``."""
        where: list[str] = ["subscription = ?"]
        args: list[Any] = [sub_id]
        for column, value in (("status", status), ("event", event)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if cursor is not None:
            where.append("n < ?")
            args.append(cursor)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE {' AND '.join(where)} "
                "ORDER BY n DESC LIMIT ?", (*args, limit)).fetchall()
        return [Delivery(*r) for r in rows]

    def delivery(self, sub_id: str, n: int) -> Delivery | None:
        with self._lock:
            row = self._db.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE n = ? AND "
                                   "subscription = ?", (n, sub_id)).fetchone()
        return Delivery(*row) if row else None

    def queue_replays(self, sub_id: str, n: int | None = None) -> int:
        """Mark one dead letter (or all of them) for delivery again; how many were."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status = 'replay-pending' WHERE subscription = ? AND "
                "status = 'dead-lettered'" + (" AND n = ?" if n is not None else ""),
                (sub_id, n) if n is not None else (sub_id,))
            return int(cursor.rowcount)

    def pending_replays(self, sub_id: str) -> list[Delivery]:
        return list(reversed(self.deliveries(sub_id, status="replay-pending", limit=1000)))

    def prune(self, sub_id: str, keep: int) -> None:
        """Forget all but the newest ``keep`` delivered events of a subscription (dead letters
        and those still being retried are kept)."""
        with self._tx() as db:
            db.execute("DELETE FROM deliveries WHERE subscription = ? AND status = 'delivered' "
                       "AND n <= (SELECT n FROM deliveries WHERE subscription = ? AND status = "
                       "'delivered' ORDER BY n DESC LIMIT 1 OFFSET ?)", (sub_id, sub_id, keep))

    def close(self) -> None:
        with self._lock:
            self._db.close()
