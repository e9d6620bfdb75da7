"""Several API nodes over one change log (issue 18; docs/scaling.md): with ``SEMCAT_LOG_URL``
the log is a NATS JetStream stream that every node appends to, and each node is a replica that
applies the stream, in order, to its own store and projections.

A node's own writes are applied as it logs them (graph_store/journal.py); the ``Replica``
thread here applies everybody else's: it reads the stream into the node's local index, then,
under the journal lock, hands each new changeset to the store and to the projections exactly
as a local write is (``Journal.follow``). It is woken by a word every appender sends after
its append (at most once: it also polls every POLL_S). A node that was down replays the stream
from its last checkpoint on open (``Journal.recover`` reads the shared log); a node with an
empty data directory replays it from the start (the log, not a snapshot: the stream is kept
whole, deny_delete and deny_purge).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from catalog.data_dir import CHANGELOG
from catalog.settings import Settings
from graph_store.changelog import ChangeLog, ChangeLogBackend
from graph_store.errors import BackendError
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.nats_changelog import NatsChangeLog
from graph_store.protocol import GraphStore
from graph_store.remote_store import RemoteStore

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often a node asks the stream for its head without being woken
MAX_BACKOFF_S = 2.0
_MARK = "shared-log"  # in the index's state table: this data directory follows a shared log


def open_changelog(settings: Settings, data: Path | None, store: GraphStore) -> ChangeLogBackend:
    """The embedded SQLite log, or, with ``log_url``, the shared one, indexed in the same
    file (so the readers of the log beside a server, e.g. `semcat keys create`, read it). A
    remote store on a shared log is told so: the nodes apply each changeset to it once."""
    path = data / CHANGELOG if data is not None else None
    if not settings.log_url:
        _refuse_switch(path, shared=False)
        return ChangeLog(path)
    _refuse_switch(path, shared=True)
    servers = [s.strip() if "://" in s else "nats://" + s.strip()
               for s in settings.log_url.split(",")]
    stream = settings.log_stream  # another stream needs subjects of its own
    prefix = "semcat.log" if stream == "SEMCAT_LOG" else f"semcat.log-{stream}"
    changelog = NatsChangeLog(servers, index=path, stream=stream, prefix=prefix,
                              replicas=settings.log_replicas, consumer=settings.log_node)
    if isinstance(store, RemoteStore):
        try:
            store.share_log(stream, changelog.head, GraphLayout(settings.base).log_positions)
        except BaseException:
            changelog.close()
            raise
    if path is not None:
        with closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("INSERT OR IGNORE INTO state(key, value) VALUES (?, 1)", (_MARK,))
    return changelog


def _refuse_switch(path: Path | None, *, shared: bool) -> None:
    """A data directory keeps the kind of log it was made with: the sequence numbers of an
    embedded log mean nothing on a stream, and the reverse."""
    if path is None or not path.exists():
        return
    with closing(sqlite3.connect(path)) as db:
        try:
            marked = db.execute("SELECT 1 FROM state WHERE key = ?", (_MARK,)).fetchone()
            logged = db.execute("SELECT 1 FROM changesets LIMIT 1").fetchone()
        except sqlite3.OperationalError:  # no tables yet
            return
    if shared and logged and not marked:
        raise BackendError(f"{path.parent} holds a catalog with its own embedded change log: a "
                           "node of a shared log (SEMCAT_LOG_URL) starts from an empty data "
                           "directory, and replays the shared log into it")
    if not shared and marked:
        raise BackendError(f"{path.parent} is a node of a shared change log: start it with "
                           "SEMCAT_LOG_URL (semcat serve --log nats://...) as before")


class Replica:
    """The thread that applies other nodes' changesets as the shared log receives them."""

    def __init__(self, journal: Journal, changelog: NatsChangeLog, poll_s: float = POLL_S) -> None:
        self._journal, self._log, self._poll_s = journal, changelog, poll_s
        self._stopping = threading.Event()
        self._woken = threading.Event()  # another node appended (or we are stopping)
        self.applied = 0  # changesets of other nodes applied by this thread
        self._thread = threading.Thread(target=self._run, name="semcat-replica", daemon=True)
        changelog.on_append(self._woken.set)
        self._thread.start()

    @classmethod
    def start(cls, journal: Journal) -> Replica | None:
        """A follower for a journal on a shared log; None for the embedded one."""
        changelog = journal.changelog
        return cls(journal, changelog) if isinstance(changelog, NatsChangeLog) else None

    def _run(self) -> None:
        delay = self._poll_s
        while True:
            self._woken.wait(delay)
            self._woken.clear()
            if self._stopping.is_set():
                return
            try:
                # into the index first, outside the lock: writers of this node go on meanwhile
                head = self._log.catch_up()
                if head > self._journal.applied_seq:
                    self.applied += self._journal.follow(upto=head)
                delay = self._poll_s
            except Exception as e:  # the broker away: try again, less often
                delay = min(max(delay * 2, 0.2), MAX_BACKOFF_S)
                log.warning("could not follow the shared change log (retrying in %.1f s): %s",
                            delay, e)

    def close(self) -> None:
        self._stopping.set()
        self._woken.set()
        self._thread.join()


def stop(replica: Replica | None) -> None:
    if replica is not None:
        replica.close()
