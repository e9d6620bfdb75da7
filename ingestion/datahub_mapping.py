"""What the catalog-migration connectors share (DataHub, and OpenMetadata beside it): the
tally of what mapped and what was kept out, reported as a few summary lines, and the ids of
the directory resources (users, teams, tags, glossaries) that assets refer to."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from graph_store.keys import encode_segment
from ingestion.connector import RunContext

__all__ = ["Tally", "directory_key", "fraction", "plain", "unique"]

SHOWN = 60  # names listed per summary line; the rest are counted


def directory_key(kind: str, *names: str) -> str:
    """``user/jdoe``, ``team/data``, ``tag/pii``, ``glossary/Sales/Revenue``: one encoded
    segment per name."""
    return "/".join([kind, *(encode_segment(n) for n in names)])


def fraction(value: Any) -> str | None:
    """A share from 0 to 1 as an xsd:decimal lexical form (``0.001``, never ``1e-3``), as the
    sql connector writes ``nullFraction``; None for what is no number in that range."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        return None
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def plain(value: Any) -> Any:
    """A value without Avro's union wrappers (``{"string": "x"}`` -> ``"x"``)."""
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k in ("string", "int", "long", "boolean", "float", "double", "bytes", "array",
                     "map"):
                return plain(v)
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Tally:
    """Counts per source kind (an aspect, an entity type, a field): mapped onto terms, kept as
    JSON in the asset's ``facets`` (the ontology's place for what it has no term for), not
    imported, and references left out because the import does not hold their target."""

    def __init__(self, what: str, key: str) -> None:
        self.what = what
        self.key = key  # facets are {key: {...}}: {"datahub": {"customProperties": ...}}
        self.mapped: Counter[str] = Counter()
        self.kept: Counter[str] = Counter()
        self.unmapped: Counter[str] = Counter()
        self.dangling: Counter[str] = Counter()
        self.example: dict[str, str] = {}

    def map(self, kind: str, n: int = 1) -> None:
        self.mapped[kind] += n

    def skip(self, kind: str, n: int = 1) -> None:
        """Something not imported at all (the reason in ``kind``)."""
        self.unmapped[kind] += n

    def field(self, name: str, value: Any) -> None:
        """A field not imported, counted when it holds something."""
        if value not in (None, "", [], {}):
            self.unmapped[name] += 1

    def keep(self, into: dict[str, Any], kind: str, name: str, value: Any) -> None:
        """A value with no term in the ontology, kept in ``into`` (the asset's facets) under
        ``name`` and counted as ``kind.name``, when it holds something."""
        if value not in (None, "", [], {}):
            into[name] = value
            self.kept[f"{kind}.{name}"] += 1

    def facets(self, kept: dict[str, Any]) -> str | None:
        """The ``facets`` value of an asset: ``{"datahub": {...}}`` as canonical JSON."""
        if not kept:
            return None
        return json.dumps({self.key: kept}, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, default=str)

    def missing(self, prop: str, target: str) -> None:
        self.dangling[prop] += 1
        self.example.setdefault(prop, target)

    def report(self, context: RunContext) -> None:
        """A handful of warning lines: what mapped, what was kept in facets, what was not
        imported, which references were left out."""
        if self.mapped:
            context.warn(f"{self.what} mapped: {_listed(self.mapped)}")
        if self.kept:
            context.warn(f"{self.what} kept as JSON in facets.{self.key} (no term in the "
                         f"ontology): {_listed(self.kept)}")
        if self.unmapped:
            context.warn(f"{self.what} not imported: {_listed(self.unmapped)}")
        if self.dangling:
            context.warn(f"{self.what} references to assets not in the import, left out: "
                         + ", ".join(f"{k} {n} (e.g. {self.example[k]})"
                                     for k, n in sorted(self.dangling.items())))


def _listed(counts: Counter[str]) -> str:
    items = sorted(counts.items())
    shown = ", ".join(f"{k} {n}" for k, n in items[:SHOWN])
    rest = len(items) - SHOWN
    return shown + (f" and {rest} more kinds ({sum(n for _, n in items[SHOWN:])})"
                    if rest > 0 else "")


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
