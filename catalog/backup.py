"""Backups of a data directory, taken while it is served, and restoring one.

A backup is the store (a RocksDB checkpoint), the change log, the audit log, the API keys, the
ingestion runs, the jobs and the webhook subscriptions (SQLite online backups), taken under the
journal's lock, so the store and the log agree on the last changeset: every write acknowledged
before the backup began is in it. Search indexes are projections of the store and are rebuilt
when the restored catalog first opens.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from access.audit import AUDIT_FILE
from access.identity import KEYS_FILE
from catalog.data_dir import CHANGELOG, FORMAT_FILE, STORE, holds_catalog, wipe
from events.webhook_store import FILE as WEBHOOKS_FILE
from graph_store.errors import InputError
from graph_store.journal import Journal
from graph_store.oxigraph_store import OxigraphStore
from ingestion.runs import RUNS_FILE
from jobs.registry import JOBS_FILE

MANIFEST = "backup.json"
SQLITE_FILES = (CHANGELOG, AUDIT_FILE, KEYS_FILE, RUNS_FILE, JOBS_FILE, WEBHOOKS_FILE)


@dataclass(frozen=True)
class BackupInfo:
    path: str
    seq: int  # the last changeset in the backup
    created: str
    version: str  # of semcat that took it


def take(store: OxigraphStore, journal: Journal, data: Path, target: Path,
         files: tuple[str, ...] = SQLITE_FILES) -> BackupInfo:
    """A backup of ``data`` into ``target``: the store and ``files`` (the node's own files too,
    by default; a snapshot for another node takes only the change log)."""
    target = target.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"{target} exists and is not an empty directory; back up into a new one")
    target.mkdir(parents=True, exist_ok=True)
    with journal.lock:  # no changeset is logged or applied meanwhile
        seq = journal.applied_seq
        journal.checkpoint()  # the log's mark at ``seq``: the restored catalog replays nothing
        store.backup(target / STORE)
        for name in files:
            if (data / name).exists():
                _copy_sqlite(data / name, target / name)
        if (data / FORMAT_FILE).exists():
            shutil.copy2(data / FORMAT_FILE, target / FORMAT_FILE)
    info = BackupInfo(path=str(target), seq=seq, version=importlib.metadata.version("semcat"),
                      created=datetime.now(UTC).isoformat(timespec="seconds"))
    (target / MANIFEST).write_text(json.dumps(asdict(info), indent=2) + "\n")
    return info


def restore(source: Path, data: Path, *, force: bool = False) -> BackupInfo:
    """Make ``data`` the catalog backed up in ``source``. A non-empty ``data`` is refused
    unless ``force``, which replaces a catalog no process holds (as ``semcat demo --force``)."""
    try:
        info = BackupInfo(**json.loads((source / MANIFEST).read_text()))
    except (OSError, ValueError, TypeError) as e:
        raise InputError(f"{source} is not a semcat backup (no readable {MANIFEST}: {e})") from e
    if not (source / STORE).is_dir() or not (source / CHANGELOG).is_file():
        raise InputError(f"{source} is an incomplete backup: it lacks {STORE}/ or {CHANGELOG}")
    if data.is_dir() and any(data.iterdir()):
        if not force:
            raise InputError(f"{data} is not empty; `semcat restore --force` replaces the "
                             "catalog in it, or choose another --data")
        if holds_catalog(data):
            wipe(data)
        else:
            raise InputError(f"{data} holds something other than a catalog; refusing to "
                             "replace it, even with --force")
    data.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / STORE, data / STORE)
    for name in (*SQLITE_FILES, FORMAT_FILE):
        if (source / name).exists():
            shutil.copy2(source / name, data / name)
    return info


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections write."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
