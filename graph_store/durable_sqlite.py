"""One way to open the catalog's small SQLite files (API keys, audit log): durable before ack."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(path: Path | None, schema: str) -> sqlite3.Connection:
    """Autocommit connection (callers open their own transactions), WAL on disk, every commit
    fsynced (``synchronous=FULL``), shared across threads behind the caller's lock; in memory
    when ``path`` is None."""
    db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False,
                         isolation_level=None, timeout=30)
    if path:
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db
