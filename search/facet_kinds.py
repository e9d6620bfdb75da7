"""Which index field and aggregation each kind of facet uses.

Built-in facets (``type``, ``tag``, ...) are raw fast fields counted by a terms aggregation.
Custom attributes are facets named ``attr.<key>`` over the ``attrs`` JSON fast field (one
path per attribute; enum, string, boolean and integer values all count as their lexical
form). Date facets (``updated``, ``created``, ``*_month``) are range aggregations over date
fields (search/dates.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from search import dates

ATTRIBUTE = "attr."
_ATTRIBUTE = re.compile(r"^attr\.[A-Za-z][A-Za-z0-9_]{0,62}\Z")
BUILT_IN_FIELDS = {"type": "f_type", "platform": "f_platform", "tag": "f_tag",
                   "owner": "f_owner", "workspace": "f_workspace",
                   "classification": "f_classification", "term": "f_term", "domain": "f_domain"}


def is_attribute(facet: str) -> bool:
    """``attr.costCenter`` names the custom attribute ``costCenter``."""
    return bool(_ATTRIBUTE.match(facet))


def is_date(facet: str) -> bool:
    return facet in dates.DATE_FACETS


def field_of(facet: str) -> str:
    """The index field a (filterable) facet reads."""
    if is_attribute(facet):
        return "attrs." + facet.removeprefix(ATTRIBUTE)
    return BUILT_IN_FIELDS[facet]


def aggregation(facet: str, size: int, now: datetime) -> dict[str, Any]:
    if is_date(facet):
        return dates.aggregation(facet, now)
    return {"terms": {"field": field_of(facet), "size": size}}


def counts(facet: str, result: dict[str, Any]) -> list[tuple[str, int, str | None]]:
    """(value, count, label) per bucket; a None label is looked up by the engine (asset keys)."""
    if is_date(facet):
        return [(v, n, label) for v, n, label in dates.counts(facet, result)]
    return [(str(b["key"]), int(b["doc_count"]), None) for b in result.get("buckets", [])]


def labelled_by_assets(facet: str) -> bool:
    """Whether the values are asset keys whose names are their labels."""
    return (facet in BUILT_IN_FIELDS and facet != "type") or is_attribute(facet)
