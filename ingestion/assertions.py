"""What each source last asserted about each asset, so that a run never overwrites an edit.

For every asset a source wrote, ``asserted`` keeps a digest of each value it gave (by key, as
in the REST JSON), the values themselves, and the source's precedence (its run config's
``precedence``). When the
source runs again, a key whose current value is still the one the source last gave is the
source's to change; a key whose value another source last gave is taken over when that source's
precedence is lower, and kept when it is higher or equal (so among equals the first keeps it); a
value no source gave (a steward's edit, or removal) is kept as it is; a key the source never gave
is filled only where it is empty. A steward hands a value back by setting it to what the source
says, after which the source decides again. A source that stops giving a value it held hands the
key to the highest of the other sources that still give one (their values are kept for this),
rather than leaving it empty until they run again.

A source that no longer describes an asset others still describe withdraws from it: its row
stays, marked ``withdrawn``, so that the values it gave count as nobody's and the next source to
run takes them over (or drops them, when it says nothing of the key). An asset is deleted only by
the last source to leave it (ingestion/runner.py), and then every row for it is forgotten.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from graph_store.durable_sqlite import add_columns, connect

__all__ = ["IDENTITY", "Assertions", "Claim", "digest", "digests", "merge"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS asserted (
    source TEXT NOT NULL,
    asset TEXT NOT NULL,
    digests TEXT NOT NULL,
    precedence INTEGER NOT NULL DEFAULT 0,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    vals TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, asset)
) WITHOUT ROWID;
"""
# columns added since the first release of the file: (name, definition)
ADDED: Final = (("precedence", "INTEGER NOT NULL DEFAULT 0"),
                ("withdrawn", "INTEGER NOT NULL DEFAULT 0"),
                ("vals", "TEXT NOT NULL DEFAULT '{}'"))
INDEX: Final = "CREATE INDEX IF NOT EXISTS asserted_asset ON asserted (asset)"
# keys that make the asset what it is: always the source's
IDENTITY: Final = frozenset({"id", "type", "workspace", "platform", "qualifiedName", "partOf",
                             "ingestionSource"})
Record = dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """What another source last said of an asset: its digests, its precedence (None: it
    withdrew, it no longer describes the asset) and the values (none from before they were
    kept)."""

    source: str
    digests: dict[str, str]
    precedence: int | None
    values: dict[str, Any] = field(default_factory=dict)


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
          decides: frozenset[str] | None, *, was_ours: bool, precedence: int = 0,
          others: Sequence[Claim] = ()) -> tuple[Record, list[str]]:
    """The record to write, and the keys kept against the source's wish. ``current`` is the
    asset's content (no system keys); ``decides`` the keys the source decides (its ``owns``;
    None: every key), beyond which what the asset holds stays; ``last`` the source's digests
    from its last write of the asset (None: it has none, so what the asset holds counts as the
    source's if ``was_ours``, the asset carrying its name from before these were kept, and as
    others' if not); ``precedence`` the source's, ``others`` what the other sources last said
    of the asset: a value one of them gave is taken over when they all rank lower (or withdrew),
    and kept when one ranks as high or higher."""
    if decides is None:
        keys, out = set(wanted) | set(current), {}
    else:
        keys = set(decides) | set(wanted)
        out = {k: v for k, v in current.items() if k not in keys}
    out.update({k: wanted[k] for k in IDENTITY if k in wanted})
    kept: list[str] = []
    for k in sorted(keys - IDENTITY):
        now = digest(current.get(k))
        by = [c.precedence for c in others if k in current and c.digests.get(k) == now]
        top = max((p for p in by if p is not None), default=None)  # None: no source's, or gone
        mine = was_ours if last is None else (k in last and now == last[k])
        if mine and top is not None and top > precedence:
            mine = False  # a value it shares with a higher source is the higher one's
        if mine or (k not in current and (last is None or k not in last)) or \
                (by and (top is None or top < precedence) and k in wanted):
            if k in wanted:  # its value, one it fills, or takes over from a lower source
                out[k] = wanted[k]
            elif mine and (heir := _heir(k, others)) is not None:
                out[k] = heir.values[k]  # it gives none now: the next source's value shows
            continue
        if by and top is None:  # only sources that withdrew gave it, and this one says none
            continue
        if k in current:  # someone else's value (a steward's edit, another source's) stays
            out[k] = current[k]
        if by and k not in wanted:
            continue  # another source's value, where this one says none: no disagreement
        said = k in wanted or (last is not None and k in last)  # a value, or now none
        if said and digest(out.get(k)) != digest(wanted.get(k)):  # kept against the source
            kept.append(k)
    return out, kept


def _heir(key: str, others: Sequence[Claim]) -> Claim | None:
    """The highest of the sources still describing the asset that give ``key`` a value."""
    giving = [c for c in others if c.precedence is not None and key in c.values]
    return max(giving, key=lambda c: c.precedence or 0) if giving else None


def digests(wanted: Record) -> dict[str, str]:
    """What a source asserted by a record: a digest of each value but the identity's."""
    return {k: digest(v) for k, v in wanted.items() if k not in IDENTITY}


class Assertions:
    """The ``asserted`` table, in the run registry's file."""

    def __init__(self, path: Path | None) -> None:
        self._db = connect(path, SCHEMA)
        add_columns(self._db, "asserted", ADDED)
        self._db.execute(INDEX)
        self._lock = threading.Lock()

    def _rows(self, where: str, assets: list[str], *args: Any) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for i in range(0, len(assets), 500):
                part = assets[i:i + 500]
                rows += self._db.execute(
                    "SELECT asset, source, digests, precedence, withdrawn, vals FROM asserted WHERE "
                    f"{where} AND asset IN ({', '.join('?' * len(part))})", (*args, *part))
        return rows

    def last(self, source: str, assets: list[str]) -> dict[str, dict[str, str]]:
        """What ``source`` last said of each of ``assets`` (that it ever described)."""
        return {a: json.loads(d) for a, _, d, *_ in self._rows("source = ?", assets, source)}

    def others(self, source: str, assets: list[str]) -> dict[str, list[Claim]]:
        """What the sources other than ``source`` last said of each of ``assets``."""
        found: dict[str, list[Claim]] = {}
        for a, s, d, p, w, v in self._rows("source != ?", assets, source):
            found.setdefault(a, []).append(Claim(s, json.loads(d), None if w else p,
                                                 json.loads(v)))
        return found

    def describing(self, asset: str) -> dict[str, int]:
        """The sources that describe ``asset`` (have not withdrawn from it), with their
        precedence."""
        with self._lock:
            return dict(self._db.execute("SELECT source, precedence FROM asserted WHERE "
                                         "asset = ? AND withdrawn = 0", (asset,)))

    def described(self, source: str) -> set[str]:
        """The assets ``source`` describes (has not withdrawn from)."""
        with self._lock:
            return {a for (a,) in self._db.execute(
                "SELECT asset FROM asserted WHERE source = ? AND withdrawn = 0", (source,))}

    def record(self, source: str, written: dict[str, Record], precedence: int = 0) -> None:
        """What ``source`` said of each asset it wrote: the records it gave."""
        rows = [(source, a, json.dumps(digests(r)), precedence,
                 json.dumps({k: v for k, v in r.items() if k not in IDENTITY}, ensure_ascii=False))
                for a, r in written.items()]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO asserted (source, asset, digests, precedence, withdrawn, "
                "vals) VALUES (?, ?, ?, ?, 0, ?)", rows)
            self._db.execute("COMMIT")

    def withdraw(self, source: str, asset: str) -> None:
        """``source`` no longer describes ``asset``, which others still describe."""
        with self._lock:
            self._db.execute("UPDATE asserted SET withdrawn = 1 WHERE source = ? AND asset = ?",
                             (source, asset))

    def forget(self, asset: str) -> None:
        """``asset`` is gone: what every source said of it."""
        with self._lock:
            self._db.execute("DELETE FROM asserted WHERE asset = ?", (asset,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
