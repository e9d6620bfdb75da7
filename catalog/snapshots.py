"""Snapshot bootstrap for the nodes of a shared change log (issue 18; docs/scaling.md).

A node publishes a snapshot of itself (its store and its index of the log, consistent as of
one changeset, taken as `semcat backup` takes them) to a JetStream object store beside the log's
stream: every ``log_snapshot_every`` changesets, and on request. A node that starts on an empty
data directory installs the newest snapshot and replays only the log after it, so joining
costs the snapshot's size, not the log's length. What is a node's own (API keys, audit trail,
jobs, webhook subscriptions) is not in a snapshot; its search indexes catch up from theirs.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog import backup
from catalog.data_dir import CHANGELOG, FORMAT_FILE, STORE, holds_catalog
from catalog.settings import Settings
from graph_store.errors import BackendError, InputError
from graph_store.journal import Journal
from graph_store.nats_snapshots import SnapshotBucket
from graph_store.oxigraph_store import OxigraphStore
from graph_store.protocol import GraphStore

log = logging.getLogger(__name__)
CHECK_S = 10.0  # how often a node asks whether it is time for a snapshot
STAGING = ".bootstrap"  # a snapshot being installed, inside the data directory
SEARCH = "search"  # the search indexes' directory
ATTEMPTS = 3  # to install the newest snapshot, before a node replays the whole log instead
TEMP = ".snapshot-"  # a snapshot being published, inside the data directory
_publishing = threading.Lock()  # one at a time (on request and on schedule)
# copies the search indexes into a directory, each with the changeset it reflects
CopyIndexes = Callable[[Path], None]


@dataclass(frozen=True)
class SnapshotInfo:
    seq: int  # the last changeset in the snapshot
    created: str
    version: str  # of semcat that took it
    base: str  # the catalog's base IRI
    bytes: int


def bucket(settings: Settings) -> SnapshotBucket | None:
    """The object store of the shared log's snapshots; None without a shared log."""
    if not settings.log_url:
        return None
    servers = [s.strip() if "://" in s else "nats://" + s.strip()
               for s in settings.log_url.split(",")]
    return SnapshotBucket(servers, f"{settings.log_stream}_SNAPSHOTS",
                          replicas=settings.log_replicas)


def bootstrap(settings: Settings, data: Path) -> SnapshotInfo | None:
    """Install the newest snapshot into ``data`` when it holds no catalog yet; None when there
    is nothing to install (no shared log, a catalog already there, no snapshot published) or
    it could not be installed (the node then replays the whole log, as without snapshots)."""
    if not settings.log_url or not settings.log_bootstrap or settings.store_url or \
            holds_catalog(data):  # a remote store is shared: it is where the others are
        return None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _install(settings, data)
        except BaseMismatch:
            raise
        except Exception as e:  # e.g. replaced by a newer snapshot while it was read
            _clear(data)
            log.warning("could not install the newest snapshot (attempt %d of %d): %s",
                        attempt, ATTEMPTS, e)
    log.warning("starting without a snapshot: this node replays the whole change log")
    return None


class BaseMismatch(BackendError):
    """A snapshot of another catalog: the node's settings are wrong, and it must not start."""


def _clear(data: Path) -> None:
    """What an install cut short left (its files are not in use: the directory holds no
    catalog until the change log is in place, and a catalog's store has a log beside it)."""
    for leftover in (STAGING, STORE, SEARCH):
        shutil.rmtree(data / leftover, ignore_errors=True)


def _install(settings: Settings, data: Path) -> SnapshotInfo | None:
    _clear(data)
    staging = data / STAGING
    staging.mkdir(parents=True)
    snapshots = bucket(settings)
    assert snapshots is not None
    try:
        archive = staging / "snapshot.tar.gz"
        about = snapshots.get(archive)
        if about is None:
            return None
        info = SnapshotInfo(**{k: about[k] for k in SnapshotInfo.__dataclass_fields__})
        if info.base != settings.base:
            raise BaseMismatch(f"the newest snapshot of stream {settings.log_stream} is of a "
                               f"catalog with base IRI {info.base}, not {settings.base}: give "
                               "every node of one catalog the same SEMCAT_BASE_IRI")
        with tarfile.open(archive) as tar:
            tar.extractall(staging / "snapshot", filter="data")
        archive.unlink()
        # the change log last: until it is in place, the directory holds no catalog, and a
        # node killed meanwhile starts the install again
        for name in (STORE, SEARCH, FORMAT_FILE, CHANGELOG):
            if (staging / "snapshot" / name).exists():
                os.replace(staging / "snapshot" / name, data / name)
        log.info("installed the snapshot of changeset %d (%s, %d bytes); the log after it "
                 "follows", info.seq, info.created, info.bytes)
        return info
    finally:
        snapshots.close()
        shutil.rmtree(staging, ignore_errors=True)


def publish(store: GraphStore, journal: Journal, data: Path | None, settings: Settings,
            indexes: CopyIndexes | None = None) -> SnapshotInfo:
    """Take a snapshot of this node and make it the newest for new nodes: the store and the
    log's index, and the search indexes (``indexes`` copies them, as of changesets no later
    than the store's; the new node indexes what followed)."""
    snapshots = bucket(settings)
    if snapshots is None or data is None or not isinstance(store, OxigraphStore):
        raise InputError("snapshots are for nodes of a shared change log (SEMCAT_LOG_URL) with "
                         "an embedded store; `semcat backup` backs up a single node")
    try:
        with _publishing, tempfile.TemporaryDirectory(dir=data, prefix=TEMP) as tmp:
            for stale in data.glob(TEMP + "*"):  # a publication a crash cut short
                if stale != Path(tmp):
                    shutil.rmtree(stale, ignore_errors=True)
            if indexes is not None:  # first: they may lag the store, never lead it
                indexes(Path(tmp) / SEARCH)
            taken = backup.take(store, journal, data, Path(tmp) / "snapshot",
                                files=(CHANGELOG,))
            archive = Path(tmp) / "snapshot.tar.gz"
            # the fastest gzip: a store's files (and its write-ahead log) shrink about 4 times
            with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
                for path in (*(Path(tmp) / "snapshot" / name for name in (
                        STORE, FORMAT_FILE, CHANGELOG, backup.MANIFEST)), Path(tmp) / SEARCH):
                    if path.exists():
                        tar.add(path, arcname=path.name)
            info = SnapshotInfo(seq=taken.seq, version=importlib.metadata.version("semcat"),
                                created=datetime.now(UTC).isoformat(timespec="seconds"),
                                base=settings.base, bytes=archive.stat().st_size)
            snapshots.put(archive, asdict(info))
    finally:
        snapshots.close()
    log.info("published a snapshot of changeset %d (%d bytes)", info.seq, info.bytes)
    return info


def newest(settings: Settings) -> dict[str, Any] | None:
    """What the newest published snapshot holds, if any."""
    snapshots = bucket(settings)
    if snapshots is None:
        return None
    try:
        return snapshots.describe()
    finally:
        snapshots.close()


class Publisher:
    """Publishes a snapshot once the log has moved ``every`` changesets past the newest one,
    whoever published that (two nodes that both believe they lead, for a moment, take turns)."""

    def __init__(self, journal: Journal, settings: Settings,
                 take: Callable[[], SnapshotInfo]) -> None:
        self._journal, self._settings, self._take = journal, settings, take
        self._every = settings.log_snapshot_every
        self._stopping = threading.Event()
        self.published: int | None = None  # the newest snapshot's changeset, once known
        self._thread = threading.Thread(target=self._run, name="semcat-snapshots", daemon=True)
        self._thread.start()

    @staticmethod
    def wanted(store: GraphStore, settings: Settings) -> bool:
        """Whether this node publishes snapshots (while it leads: catalog/leadership.py)."""
        return bool(settings.log_url and settings.log_snapshot_every and settings.data
                    is not None and isinstance(store, OxigraphStore))

    def _run(self) -> None:
        while not self._stopping.wait(CHECK_S):
            try:
                if self.published is None or self._due():
                    about = newest(self._settings)  # another node may have published meanwhile
                    self.published = about["seq"] if about else 0
                if self._due():
                    started = time.monotonic()
                    self.published = self._take().seq
                    log.info("the snapshot took %.1f s", time.monotonic() - started)
            except Exception as e:  # the broker away: the next check tries again
                log.warning("could not publish a snapshot of the catalog: %s", e)

    def _due(self) -> bool:
        return self.published is not None and \
            self._journal.applied_seq - self.published >= self._every

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()
