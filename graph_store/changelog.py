"""The durable change log, kept in SQLite (WAL).

SQLite gives us the three things a log needs without hand-written file formats: an fsynced,
atomic append; an index from asset to its versions (history); and cheap reads in order for replay.
Each changeset is stored as one row plus one delta row per touched asset (N-Quads text), so an
asset's version N is the fold of its deltas 1..N.

An append reaches the WAL file (so a killed process loses nothing) and ``sync`` makes it survive
a power cut: one fsync of the WAL for every append before it (SQLite's synchronous=FULL does the
same fsync, but once per transaction and while the writer waits).

The tables and their queries (``LogIndex``) also serve the replicated NATS JetStream log
(graph_store/nats_changelog.py) as its local index of the stream; ``ChangeLogBackend`` is what
either log gives the journal.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pyoxigraph import Quad, RdfFormat, parse, serialize

from graph_store.changeset import Changeset, group_by_subject
from graph_store.errors import BackendError, Conflict
from ontology.namespaces import RDF_TYPE

_SCHEMA = """
CREATE TABLE IF NOT EXISTS changesets (
    seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, workspace TEXT NOT NULL,
    message TEXT NOT NULL, n_removed INTEGER NOT NULL, n_added INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deltas (
    seq INTEGER NOT NULL, asset TEXT NOT NULL, version INTEGER,
    removed TEXT NOT NULL, added TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deltas_by_asset ON deltas(asset, version);
CREATE INDEX IF NOT EXISTS deltas_by_seq ON deltas(seq);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
# Rows of statements about non-assets (file loads) are split so no SQLite value grows huge.
CHUNK = 50_000


@dataclass(frozen=True)
class VersionInfo:
    version: int
    seq: int
    time: str
    actor: str
    message: str


def to_nquads(quads: list[Quad]) -> str:
    return (serialize(quads, format=RdfFormat.N_QUADS) or b"").decode() if quads else ""


def from_nquads(text: str) -> list[Quad]:
    return list(parse(text, format=RdfFormat.N_QUADS)) if text else []


class ChangeLogBackend(Protocol):
    """What the journal and the log's readers need of a change log: the embedded SQLite
    ``ChangeLog`` (the default) or the replicated ``NatsChangeLog`` (graph_store/nats_*.py)."""

    @property
    def last_seq(self) -> int: ...
    @property
    def applied_seq(self) -> int: ...
    def mark_applied(self, seq: int) -> None: ...
    def append(self, cs: Changeset, *, after: int | None = None,
               reads: Collection[str] = ()) -> Changeset: ...
    def sync(self, seq: int) -> None: ...
    def since(self, seq: int) -> Iterator[Changeset]: ...
    def versions(self, asset: str) -> list[VersionInfo]: ...
    def latest_versions(self, assets: list[str]) -> dict[str, int]: ...
    def deltas(self, asset: str, upto: int) -> Iterator[tuple[int, list[Quad], list[Quad]]]: ...
    def state(self, asset: str) -> list[Quad]: ...
    def assets_typed(self, classes: list[str]) -> list[str]: ...
    def changesets(self, message_prefix: str, *, after: int = 0,
                   upto: int | None = None) -> Iterator[Changeset]: ...
    def close(self) -> None: ...


def delta_rows(cs: Changeset) -> list[tuple[str, int | None, str, str]]:
    """(asset, version, removed, added): one row per touched asset, and statements about
    anything else in chunks under the asset ``""``."""
    versioned = set(cs.versions)
    removed = group_by_subject(cs.removed, versioned)
    added = group_by_subject(cs.added, versioned)
    rows: list[tuple[str, int | None, str, str]] = [
        (asset, cs.versions.get(asset), to_nquads(removed.get(asset, [])),
         to_nquads(added.get(asset, [])))
        for asset in sorted(removed.keys() | added.keys() | versioned) if asset
    ]
    other_r, other_a = removed.get("", []), added.get("", [])
    for i in range(0, max(len(other_r), len(other_a)), CHUNK):
        rows.append(("", None, to_nquads(other_r[i:i + CHUNK]), to_nquads(other_a[i:i + CHUNK])))
    return rows


class LogIndex:
    """The log's tables and their queries: the SQLite ``ChangeLog`` is one, and the NATS log
    keeps one as its local index of the stream (rebuildable from it)."""

    def __init__(self, path: Path | None) -> None:
        self._db = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        if path:
            self._db.execute("PRAGMA journal_mode=WAL")
            # Fold the WAL back less often than every 4 MB: bulk changesets are tens of MB.
            self._db.execute("PRAGMA wal_autocheckpoint=16384")
            # durability comes from ``sync``; checkpoints still fsync the WAL and the database
            self._db.execute("PRAGMA synchronous=NORMAL")
        else:
            self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def _insert(self, cs: Changeset, seq: int | None, *, after: int | None = None,
                reads: Collection[str] = ()) -> int:
        """Write ``cs`` at ``seq`` (the next one when None) in one transaction; with ``after``,
        only if none of the assets it touched, nor ``reads``, changed after that position."""
        rows = delta_rows(cs)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                if after is not None:
                    self._refuse_stale(after, {*cs.versions, *reads})
                cur = self._db.execute(
                    "INSERT INTO changesets(seq, time, actor, workspace, message, n_removed,"
                    " n_added) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (seq, cs.time, cs.actor, cs.workspace, cs.message, len(cs.removed),
                     len(cs.added)),
                )
                seq = int(cur.lastrowid or 0)
                self._db.executemany(
                    "INSERT INTO deltas(seq, asset, version, removed, added) VALUES (?, ?, ?, ?, ?)",
                    [(seq, *row) for row in rows],
                )
                self._db.execute("COMMIT")
                self._appended(seq)
            except sqlite3.Error as e:
                self._db.execute("ROLLBACK")
                raise BackendError(f"could not append to the change log: {e}") from e
            except Conflict:
                self._db.execute("ROLLBACK")
                raise
        return seq

    def _appended(self, seq: int) -> None:
        """Called under the lock once ``seq`` is committed."""

    def _refuse_stale(self, after: int, assets: set[str]) -> None:
        changed = self.changed_since(after, assets, locked=True)
        if changed:
            raise Conflict(
                f"{len(changed)} asset(s) changed after log position {after}, which this change "
                f"was validated against, e.g. <{changed[0]}>; nothing was written. Read them "
                "again and retry", assets=changed[:20], position=after)

    def changed_since(self, after: int, assets: Collection[str], *,
                      locked: bool = False) -> list[str]:
        """Which of ``assets`` have a change logged after position ``after``."""
        listed = sorted(a for a in assets if a)
        found: set[str] = set()
        for i in range(0, len(listed), 500):
            chunk = listed[i:i + 500]
            sql = ("SELECT DISTINCT asset FROM deltas WHERE seq > ? AND asset IN "
                   f"({','.join('?' * len(chunk))})")
            if locked:
                found.update(a for (a,) in self._db.execute(sql, (after, *chunk)))
            else:
                with self._lock:
                    found.update(a for (a,) in self._db.execute(sql, (after, *chunk)))
        return sorted(found)

    @property
    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT max(seq) FROM changesets").fetchone()
        return int(row[0] or 0)

    @property
    def applied_seq(self) -> int:
        """A lower bound of what the store holds: replay starts after it."""
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = 'applied'").fetchone()
        return int(row[0]) if row else 0

    def mark_applied(self, seq: int) -> None:
        with self._lock:
            self._db.execute("INSERT INTO state(key, value) VALUES ('applied', ?) ON CONFLICT(key)"
                             " DO UPDATE SET value = excluded.value", (seq,))

    def since(self, seq: int) -> Iterator[Changeset]:
        """Changesets after ``seq``, in order, with their quads: what replay applies."""
        with self._lock:
            heads = self._db.execute(
                "SELECT seq, time, actor, workspace, message FROM changesets WHERE seq > ?"
                " ORDER BY seq", (seq,),
            ).fetchall()
        for s, time, actor, workspace, message in heads:
            with self._lock:
                deltas = self._db.execute(
                    "SELECT asset, version, removed, added FROM deltas WHERE seq = ?", (s,)
                ).fetchall()
            removed: list[Quad] = []
            added: list[Quad] = []
            versions: dict[str, int] = {}
            for asset, version, r, a in deltas:
                removed += from_nquads(r)
                added += from_nquads(a)
                if version is not None:
                    versions[asset] = version
            yield Changeset(actor, message, time, tuple(removed), tuple(added), versions,
                            workspace, s)

    def versions(self, asset: str) -> list[VersionInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT d.version, c.seq, c.time, c.actor, c.message FROM deltas d"
                " JOIN changesets c ON c.seq = d.seq WHERE d.asset = ? AND d.version IS NOT NULL"
                " ORDER BY d.version", (asset,),
            ).fetchall()
        return [VersionInfo(*row) for row in rows]

    def latest_versions(self, assets: list[str]) -> dict[str, int]:
        """The last logged version of each of ``assets`` that has one (deleted ones included)."""
        found: dict[str, int] = {}
        with self._lock:
            for i in range(0, len(assets), 500):
                chunk = assets[i:i + 500]
                found.update(self._db.execute(
                    "SELECT asset, max(version) FROM deltas WHERE asset IN "
                    f"({','.join('?' * len(chunk))}) AND version IS NOT NULL GROUP BY asset",
                    chunk).fetchall())
        return found

    def deltas(self, asset: str, upto: int) -> Iterator[tuple[int, list[Quad], list[Quad]]]:
        """(version, removed, added) of ``asset`` for versions 1..upto, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT version, removed, added FROM deltas WHERE asset = ? AND version <= ?"
                " ORDER BY version", (asset, upto),
            ).fetchall()
        for version, r, a in rows:
            yield version, from_nquads(r), from_nquads(a)

    def state(self, asset: str) -> list[Quad]:
        """The asset's statements as the log leaves them (empty once deleted): what the store
        holds, for readers in another process while a server holds the store."""
        quads: set[Quad] = set()
        for _, removed, added in self.deltas(asset, 2**62):
            quads.difference_update(removed)
            quads.update(added)
        return sorted(quads, key=str)

    def assets_typed(self, classes: list[str]) -> list[str]:
        """Assets that were ever given one of ``classes`` (IRIs) as a type. It scans the whole
        log (no index by type): for rare lookups of small classes, such as the directory's."""
        patterns = [f"%<{RDF_TYPE}> <{c}> %" for c in classes]
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT asset FROM deltas WHERE asset != '' AND ("
                + " OR ".join("added LIKE ?" for _ in patterns) + ")", patterns).fetchall()
        return [asset for (asset,) in rows]

    def changesets(self, message_prefix: str, *, after: int = 0,
                   upto: int | None = None) -> Iterator[Changeset]:
        """Changesets whose message starts with ``message_prefix``, in order, with their quads:
        a kind of change (e.g. ontology edits) listed without replaying the whole log."""
        with self._lock:
            heads = self._db.execute(
                "SELECT seq, time, actor, workspace, message FROM changesets WHERE seq > ?"
                " AND seq <= ? AND substr(message, 1, ?) = ? ORDER BY seq",
                (after, upto if upto is not None else 2**63 - 1,
                 len(message_prefix), message_prefix),
            ).fetchall()
        for s, time, actor, workspace, message in heads:
            with self._lock:
                deltas = self._db.execute(
                    "SELECT removed, added FROM deltas WHERE seq = ?", (s,)).fetchall()
            removed = [q for r, _ in deltas for q in from_nquads(r)]
            added = [q for _, a in deltas for q in from_nquads(a)]
            yield Changeset(actor, message, time, tuple(removed), tuple(added), {}, workspace, s)


class ChangeLog(LogIndex):
    """Append-only, durable log of changesets. One writer at a time (the caller holds the lock)."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(path)
        self._wal = Path(f"{path}-wal") if path else None
        self._sync_lock = threading.Lock()  # one fsync at a time; the others find theirs done
        self.fsyncs = 0
        # sequence numbers: in the WAL file; on disk. What an earlier process left is on disk.
        self.appended = self.synced = self.last_seq

    def _appended(self, seq: int) -> None:
        self.appended = seq

    def close(self) -> None:
        self.sync(self.appended)
        with self._lock:
            self._db.close()

    def sync(self, seq: int) -> None:
        """Return once every changeset up to ``seq`` is on disk. Writers that call this together
        share one fsync: whoever gets the disk first syncs all that was appended by then."""
        if self._wal is None or self.synced >= seq:
            return
        with self._sync_lock:
            if self.synced >= seq:
                return
            upto = self.appended
            try:
                # the WAL file is the same inode for the connection's life (SQLite rewinds it,
                # never replaces it), and fsync is per file, not per descriptor
                fd = os.open(self._wal, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except FileNotFoundError:
                pass  # a checkpoint folded the WAL into the database, and synced it
            except OSError as e:
                raise BackendError(f"could not make the change log durable: {e}") from e
            self.fsyncs += 1
            self.synced = max(self.synced, upto)

    def append(self, cs: Changeset, *, after: int | None = None,
               reads: Collection[str] = ()) -> Changeset:
        """Durably append ``cs``; returns it with its sequence number. Nothing is written on
        error. With ``after``, the log position it was validated against, it is refused with
        ``Conflict`` if an asset it touched, or one of ``reads``, changed since."""
        seq = self._insert(cs, None, after=after, reads=reads)
        return Changeset(
            cs.actor, cs.message, cs.time, cs.removed, cs.added, cs.versions, cs.workspace, seq
        )
