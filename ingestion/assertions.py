"""What each source last asserted about each asset, so that a run never overwrites an edit.

For every asset a source wrote, ``asserted`` keeps a digest of each value it gave (by key, as
in the REST JSON). When the source runs again, a key whose current value is still the one the
source last gave is the source's to change; a key whose value differs (a steward edited it,
another source set it, someone removed it) is kept as it is; a key the source never gave is
filled only where it is empty. So the first source or person to set a value keeps it until
they set it back to what the source says, after which the source decides again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Final

from graph_store.durable_sqlite import connect

__all__ = ["IDENTITY", "Assertions", "digest", "digests", "merge"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS asserted (
    source TEXT NOT NULL,
    asset TEXT NOT NULL,
    digests TEXT NOT NULL,
    PRIMARY KEY (source, asset)
) WITHOUT ROWID;
"""
# keys that make the asset what it is: always the source's
IDENTITY: Final = frozenset({"id", "type", "workspace", "platform", "qualifiedName", "partOf",
                             "ingestionSource"})
Record = dict[str, Any]


def digest(value: Any) -> str:
    """The same for equal values, lists compared as sets (properties in RDF are sets: the
    store gives a list back in its own order)."""
    return hashlib.blake2b(_canonical(value).encode(), digest_size=8).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(sorted(_canonical(v) for v in value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_canonical(v)}"
                              for k, v in sorted(value.items())) + "}"
    return json.dumps(value, ensure_ascii=False)


def merge(wanted: Record, current: Record, last: dict[str, str] | None,
          decides: frozenset[str] | None, *, was_ours: bool) -> tuple[Record, list[str]]:
    """The record to write, and the keys kept against the source's wish. ``current`` is the
    asset's content (no system keys); ``decides`` the keys the source decides (its ``owns``;
    None: every key), beyond which what the asset holds stays; ``last`` the source's digests
    from its last write of the asset (None: it has none, so what the asset holds counts as the
    source's if ``was_ours``, the asset carrying its name from before these were kept, and as
    others' if not)."""
    if decides is None:
        keys, out = set(wanted) | set(current), {}
    else:
        keys = set(decides) | set(wanted)
        out = {k: v for k, v in current.items() if k not in keys}
    out.update({k: wanted[k] for k in IDENTITY if k in wanted})
    kept: list[str] = []
    for k in sorted(keys - IDENTITY):
        mine = was_ours if last is None else (k in last and digest(current.get(k)) == last[k])
        if mine or (k not in current and (last is None or k not in last)):
            if k in wanted:  # the source's value, or an empty one it fills
                out[k] = wanted[k]
            continue
        if k in current:  # someone else's value (a steward's edit, another source's) stays
            out[k] = current[k]
        said = k in wanted or (last is not None and k in last)  # a value, or now none
        if said and digest(out.get(k)) != digest(wanted.get(k)):  # kept against the source
            kept.append(k)
    return out, kept


def digests(wanted: Record) -> dict[str, str]:
    """What a source asserted by a record: a digest of each value but the identity's."""
    return {k: digest(v) for k, v in wanted.items() if k not in IDENTITY}


class Assertions:
    """The ``asserted`` table, in the run registry's file."""

    def __init__(self, path: Path | None) -> None:
        self._db = connect(path, SCHEMA)
        self._lock = threading.Lock()

    def last(self, source: str, assets: list[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        with self._lock:
            for i in range(0, len(assets), 500):
                part = assets[i:i + 500]
                found.update((a, json.loads(d)) for a, d in self._db.execute(
                    f"SELECT asset, digests FROM asserted WHERE source = ? AND asset IN "
                    f"({', '.join('?' * len(part))})", (source, *part)))
        return found

    def record(self, source: str, written: dict[str, dict[str, str]]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO asserted (source, asset, digests) "
                                 "VALUES (?, ?, ?)",
                                 [(source, a, json.dumps(d)) for a, d in written.items()])
            self._db.execute("COMMIT")

    def forget(self, source: str, assets: list[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM asserted WHERE source = ? AND asset = ?",
                                 [(source, a) for a in assets])

    def close(self) -> None:
        with self._lock:
            self._db.close()
