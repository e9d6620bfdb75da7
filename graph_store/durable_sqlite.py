"""One way to open the catalog's small SQLite files (API keys, audit log): durable before ack."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from graph_store.errors import InputError


def add_columns(db: sqlite3.Connection, table: str,
                columns: tuple[tuple[str, str], ...]) -> None:
    """Columns added to ``table`` since a file's first release, for a file an earlier release
    made: (name, definition) pairs."""
    have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    for name, definition in columns:
        if name not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")


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


def newest_first(db: sqlite3.Connection, table: str, columns: str, where: list[str],
                 args: list[Any], limit: int, cursor: str | None) -> tuple[list[Any], bool]:
    """A page of ``table``'s rows matching ``where``, newest (highest ``seq``) first, after
    ``cursor`` (the ``seq`` of the previous page's last row); and whether more follow. The
    caller holds its lock."""
    if cursor is not None:
        if not cursor.isdigit():
            raise InputError("cursor: not a cursor of this list; pass the previous page's "
                             "next as it was")
        where, args = [*where, "seq < ?"], [*args, cursor]
    rows = db.execute(f"SELECT {columns} FROM {table} WHERE {' AND '.join(where) or '1 = 1'} "
                      "ORDER BY seq DESC LIMIT ?", (*args, limit + 1)).fetchall()
    return rows[:limit], len(rows) > limit
