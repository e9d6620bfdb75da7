"""Dates in search: ``createdAt``/``updatedAt`` range filters and date facets.

Both stamps are tantivy date fields (indexed and fast), so a range filter is a range query on
the index and a date facet is a range aggregation: no per-hit date parsing. A bound is an ISO
date (midnight UTC), an ISO datetime (UTC when it names no zone) or an ISO 8601 duration
(``P7D``, ``PT12H``: that long before now). ``*_after`` bounds are inclusive, ``*_before``
bounds exclusive, so ``updated_after=2026-01-01&updated_before=2026-02-01`` is January.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from graph_store.errors import InputError

if TYPE_CHECKING:
    import tantivy
    from tantivy import Occur, Query

# request attribute -> (index field, lower bound?)
DATE_FILTERS: dict[str, tuple[str, bool]] = {
    "updated_after": ("updated_at", True), "updated_before": ("updated_at", False),
    "created_after": ("created_at", True), "created_before": ("created_at", False)}
# date facet -> index field; "<name>_month" facets count by calendar month
DATE_FACETS: dict[str, str] = {"updated": "updated_at", "created": "created_at",
                               "updated_month": "updated_at", "created_month": "created_at"}
# relative buckets of the "updated"/"created" facets: each counts everything at least that
# recent, so a bucket's count is the total the matching ``*_after`` filter gives
RECENT: tuple[tuple[str, str, timedelta], ...] = (
    ("P1D", "past day", timedelta(days=1)), ("P7D", "past week", timedelta(days=7)),
    ("P30D", "past month", timedelta(days=30)), ("P365D", "past year", timedelta(days=365)))
MONTHS = 12  # calendar months counted by a "_month" facet, newest first
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                       r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration (years as 365 days, months as 30); None if ``text`` is not one."""
    m = _DURATION.match(text.strip().upper())
    if not m or text.strip().upper() in ("P", "PT"):
        return None
    y, mo, w, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi, seconds=s)


def parse_bound(text: str, *, now: datetime | None = None, name: str = "date") -> datetime:
    """An aware UTC datetime for an ISO date, datetime or duration ago; InputError otherwise."""
    value = text.strip()
    try:
        ago = parse_duration(value)
        if ago is not None:
            return (now or now_utc()) - ago
    except OverflowError as e:  # a duration beyond datetime's years 1-9999
        raise InputError(f"{name}={text!r} reaches back beyond the year 1; use a shorter "
                         "duration") from e
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise InputError(f"{name}={text!r} is not a date: use an ISO date (2026-01-31), a "
                         "datetime (2026-01-31T09:00:00Z) or a duration ago (P7D)") from e
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_stamp(iso: str) -> datetime | None:
    """A stored ``xsd:dateTime`` lexical form as an aware datetime; None when unreadable."""
    try:
        parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def period(text: str) -> tuple[datetime | None, datetime | None]:
    """A date, month or year as [start, end)."""
    try:
        if len(text) == 4:
            y = int(text)
            return datetime(y, 1, 1, tzinfo=UTC), datetime(y + 1, 1, 1, tzinfo=UTC)
        if len(text) == 7:
            y, mo = int(text[:4]), int(text[5:])
            start = datetime(y, mo, 1, tzinfo=UTC)
            return start, (datetime(y + 1, 1, 1, tzinfo=UTC) if mo == 12 else
                           datetime(y, mo + 1, 1, tzinfo=UTC))
        start = parse_bound(text.upper().replace(" ", "T"))
    except (ValueError, InputError):
        return None, None
    return start, start + timedelta(days=1) if len(text) == 10 else start


@dataclass(frozen=True)
class DateRange:
    """Resolved bounds of one date field: ``start`` inclusive, ``end`` exclusive."""

    field: str
    start: datetime | None = None
    end: datetime | None = None

    def to_json(self) -> dict[str, str]:
        out = {}
        if self.start is not None:
            out["from"] = iso(self.start)
        if self.end is not None:
            out["to"] = iso(self.end)
        return out


def resolve(bounds: Mapping[str, str | None], now: datetime | None = None) -> list[DateRange]:
    """The ranges the request's ``*_after``/``*_before`` values ask for, per field."""
    now = now or now_utc()
    ranges: dict[str, DateRange] = {}
    for name, value in bounds.items():
        if not value:
            continue
        if name not in DATE_FILTERS:
            raise InputError(f"unknown date filter {name!r}; use {', '.join(DATE_FILTERS)}")
        field, lower = DATE_FILTERS[name]
        moment = parse_bound(value, now=now, name=name)
        old = ranges.get(field, DateRange(field))
        ranges[field] = DateRange(field, moment if lower else old.start,
                                  old.end if lower else moment)
    for r in ranges.values():
        if r.start is not None and r.end is not None and r.start >= r.end:
            raise InputError(f"the {r.field.replace('_at', '')} range is empty: "
                             f"{iso(r.start)} is not before {iso(r.end)}")
    return list(ranges.values())


def range_clauses(schema: tantivy.Schema, ranges: list[DateRange]) -> list[tuple[Occur, Query]]:
    """Non-scoring MUST clauses, one per constrained field."""
    from tantivy import FieldType, Occur, Query

    return [(Occur.Must, Query.const_score_query(Query.range_query(
        schema, r.field, FieldType.Date, r.start, r.end, include_lower=True,
        include_upper=r.end is None), 0.0)) for r in ranges]


def _nanos(moment: datetime) -> float:
    return moment.timestamp() * 1e9  # tantivy's range aggregation reads date fields in ns


def _month_starts(now: datetime) -> list[datetime]:
    """The first instants of the current and the previous ``MONTHS - 1`` months, oldest first."""
    year, month = now.year, now.month
    starts = []
    for _ in range(MONTHS):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def aggregation(facet: str, now: datetime) -> dict[str, Any]:
    """The tantivy aggregation that counts a date facet (non-overlapping ranges)."""
    field = DATE_FACETS[facet]
    if facet.endswith("_month"):
        starts = _month_starts(now)
        ranges = [{"key": f"{s:%Y-%m}", "from": _nanos(s), **(
            {"to": _nanos(starts[i + 1])} if i + 1 < len(starts) else {})}
            for i, s in enumerate(starts)]
    else:
        edges = [now - span for _, _, span in RECENT]  # newest first
        ranges = [{"key": RECENT[0][0], "from": _nanos(edges[0])}]
        ranges += [{"key": RECENT[i][0], "from": _nanos(edges[i]), "to": _nanos(edges[i - 1])}
                   for i in range(1, len(edges))]
    return {"range": {"field": field, "ranges": ranges}}


def counts(facet: str, result: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(value, count, label) of a date facet from its aggregation result. Recent buckets are
    cumulative (past week includes past day); month buckets list months with assets, newest
    first."""
    buckets = {str(b.get("key")): int(b.get("doc_count", 0)) for b in result.get("buckets", [])}
    if facet.endswith("_month"):
        return [(k, n, datetime.strptime(k, "%Y-%m").strftime("%B %Y"))
                for k, n in sorted(buckets.items(), reverse=True) if n and len(k) == 7]
    out, running = [], 0
    for key, label, _ in RECENT:
        running += buckets.get(key, 0)
        out.append((key, running, label))
    return out
