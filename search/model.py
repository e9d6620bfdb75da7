"""Search requests and results as values: what the REST layer, the CLI and tests exchange."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from graph_store.errors import InputError
from search.dates import resolve as resolve_dates
from search.facet_kinds import is_attribute, is_date

MODES = ("keyword", "semantic", "hybrid")
FACETS = ("type", "platform", "tag", "owner", "workspace", "classification", "term", "domain")
SORTS = ("relevance", "name", "-name", "updatedAt", "-updatedAt")
MAX_LIMIT = 200
MAX_OFFSET = 10_000  # deeper pages: narrow the query with filters instead
MAX_QUERY_CHARS = 1_000


@dataclass(frozen=True)
class SearchRequest:
    """``filters`` maps a facet to the values it may take: values of one facet are OR-ed,
    facets are AND-ed. Values are asset keys (``tag/tier-1``), types are class names."""

    q: str = ""
    mode: str = "hybrid"
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "relevance"
    limit: int = 20
    cursor: str | None = None
    facets: tuple[str, ...] = FACETS
    highlight: bool = True
    wait: bool = False  # read-your-writes: wait until both indexes reflect the latest change
    # graph-aware filters (search/graph_filters.py): lineage from an asset key or IRI, up to
    # ``depth`` hops, and a SPARQL group graph pattern binding ?asset
    downstream_of: str | None = None
    upstream_of: str | None = None
    depth: int | None = None
    where: str | None = None
    # natural-language parsing of q into filters (search/nl.py); explicit filters win
    nl: bool = False
    # date ranges (search/dates.py): ISO date, datetime or duration ago (P7D); after is
    # inclusive, before exclusive
    updated_after: str | None = None
    updated_before: str | None = None
    created_after: str | None = None
    created_before: str | None = None

    def validated(self) -> SearchRequest:
        """The same request, normalised; ``InputError`` saying what to fix otherwise."""
        if self.mode not in MODES:
            raise InputError(f"unknown search mode {self.mode!r}; use one of {', '.join(MODES)}")
        if self.sort not in SORTS:
            raise InputError(f"unknown sort {self.sort!r}; use one of {', '.join(SORTS)}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InputError(f"limit must be between 1 and {MAX_LIMIT}, not {self.limit}")
        if len(self.q) > MAX_QUERY_CHARS:
            raise InputError(f"the query is {len(self.q)} characters; the limit is "
                             f"{MAX_QUERY_CHARS}")
        unknown = sorted(f for f in set(self.filters) - set(FACETS) if not is_attribute(f))
        if unknown:
            raise InputError(f"cannot filter by {', '.join(unknown)}; filters are "
                             f"{', '.join(FACETS)}")
        bad = sorted(f for f in set(self.facets) - set(FACETS)
                     if not is_attribute(f) and not is_date(f))
        if bad:
            raise InputError(f"no facet {', '.join(bad)}; facets are {', '.join(FACETS)}, "
                             "updated, created, updated_month, created_month and attr.<key> "
                             "for a custom attribute")
        resolve_dates(self.date_bounds())
        filters = {k: tuple(dict.fromkeys(v for v in (vs if not isinstance(vs, str) else (vs,))
                                          if v))
                   for k, vs in self.filters.items()}
        check_graph_filters(self)
        return replace(self, q=self.q.strip(), filters={k: v for k, v in filters.items() if v},
                       facets=tuple(self.facets))

    def date_bounds(self) -> dict[str, str]:
        """The date filters given: ``updated_after`` ... ``created_before`` → value."""
        return {k: v for k, v in (("updated_after", self.updated_after),
                                  ("updated_before", self.updated_before),
                                  ("created_after", self.created_after),
                                  ("created_before", self.created_before)) if v}

    def fingerprint(self) -> str:
        """What a cursor is bound to: the same query, mode, filters and order."""
        key = json.dumps([self.q, self.mode, sorted((k, sorted(v)) for k, v in
                                                     self.filters.items()), self.sort,
                          self.downstream_of, self.upstream_of, self.depth, self.where,
                          self.nl, sorted(self.date_bounds().items())])
        return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()

    def offset(self) -> int:
        if not self.cursor:
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(self.cursor.encode()))
            offset, fingerprint = int(data["o"]), str(data["f"])
        except (ValueError, TypeError, KeyError) as e:
            raise InputError("the cursor is not one this server returned") from e
        if fingerprint != self.fingerprint():
            raise InputError("the cursor belongs to a different search; send the same q, mode, "
                             "filters and sort as the page it came from")
        if not 0 <= offset <= MAX_OFFSET:
            raise InputError(f"pages end at {MAX_OFFSET} results; add filters to narrow")
        return offset

    def cursor_at(self, offset: int) -> str | None:
        if offset > MAX_OFFSET:
            return None
        return base64.urlsafe_b64encode(json.dumps(
            {"o": offset, "f": self.fingerprint()}).encode()).decode()


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    label: str


@dataclass(frozen=True)
class Hit:
    id: str
    types: tuple[str, ...]
    name: str
    qualified_name: str
    description: str
    platform: str | None
    workspace: str | None
    score: float
    why: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.types[0] if len(self.types) == 1 else list(self.types),
                "name": self.name, "qualifiedName": self.qualified_name or None,
                "description": self.description or None, "platform": self.platform,
                "workspace": self.workspace, "score": round(self.score, 6), "why": self.why}


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int  # every match, though relevance-ranked semantic and hybrid pages end earlier
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None
    mode: str
    took_ms: float
    interpretation: dict[str, Any]  # words, expansions, relaxation: what the engine understood
    freshness: dict[str, Any]  # change-log seq of each index and what is still pending

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "total": self.total,
                "hits": [h.to_json() for h in self.hits],
                "facets": {k: [asdict(v) for v in vs] for k, vs in self.facets.items()},
                "next": self.next_cursor, "interpretation": self.interpretation,
                "freshness": self.freshness, "tookMs": round(self.took_ms, 2)}


# graph-aware filters (search/graph_filters.py evaluates them)
MAX_DEPTH = 50  # also the bound of an unbounded lineage walk (cycles end earlier anyway)
MAX_WHERE_CHARS = 4_000
_ASSET_VAR = re.compile(r"[?$]asset\b")
_KEY = re.compile(r"^[^\s<>\"{}|\\^`]+\Z")


def check_graph_filters(req: SearchRequest) -> None:
    """``InputError`` saying what to fix in a request's graph-aware filters."""
    for name, value in (("downstream_of", req.downstream_of), ("upstream_of", req.upstream_of)):
        if value is not None and not _KEY.match(value):
            raise InputError(f"{name} must be an asset id or IRI, not {value!r}")
    if req.depth is not None:
        if req.downstream_of is None and req.upstream_of is None:
            raise InputError("depth bounds a lineage filter: give downstream_of or upstream_of")
        if not 1 <= req.depth <= MAX_DEPTH:
            raise InputError(f"depth must be between 1 and {MAX_DEPTH}, not {req.depth}")
    if req.where is not None:
        where = req.where.strip()
        if len(where) > MAX_WHERE_CHARS:
            raise InputError(f"the where pattern is {len(where)} characters; the limit is "
                             f"{MAX_WHERE_CHARS}")
        if not (where.startswith("{") and where.endswith("}")):
            raise InputError("where must be a SPARQL group graph pattern in braces, e.g. "
                             '{ ?asset semcat:tag ?t . ?t semcat:name "tier 1" }')
        if not _ASSET_VAR.search(where):
            raise InputError("the where pattern must bind ?asset, the assets it allows")
