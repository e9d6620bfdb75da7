"""The asset documents OpenLineage events write, and the events waiting to be written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from graph_store.errors import NotFound
from lineage.openlineage_events import Event
from lineage.openlineage_terms import Known, as_list

SYSTEM: Final = frozenset({"@context", "version", "createdAt", "createdBy", "updatedAt",
                           "updatedBy", "inferred"})


class Docs:
    """The documents a batch of events writes, each read once from the catalog and then
    amended by each event in turn."""

    def __init__(self, get: Callable[[str], dict[str, Any]]) -> None:
        self._get = get
        self.docs: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []
        self.touched: set[str] = set()  # what the event being mapped reads or writes

    def doc(self, key: str, skeleton: dict[str, Any]) -> dict[str, Any]:
        self.touched.add(key)
        if key not in self.docs:
            try:
                current = self._get(key)
                self.docs[key] = {k: v for k, v in current.items() if k not in SYSTEM}
            except NotFound:
                self.docs[key] = {"id": key, **skeleton}
        return self.docs[key]

    def add(self, key: str, prop: str, *values: str) -> None:
        doc = self.docs[key]
        have = as_list(doc.get(prop))
        new = [v for v in values if v not in have and v != key]
        if new:
            doc[prop] = have + new

    def set(self, key: str, prop: str, value: Any) -> None:
        if value not in (None, ""):
            self.docs[key][prop] = value

    def keep(self, key: str, facets: dict[str, Any]) -> None:
        """Facets the catalog maps onto no term, merged by name into the asset's ``facets``
        (the latest report of each wins); sorted, so a repeated event changes nothing."""
        if not facets:
            return
        doc = self.docs[key]
        try:
            have = json.loads(doc.get("facets") or "{}")
        except ValueError:
            have = {}
        merged = {**(have if isinstance(have, dict) else {}), **facets}
        doc["facets"] = json.dumps(merged, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False)


@dataclass
class Ticket:
    """One posted event, waiting for the change that writes it."""
    event: Event
    static: str
    actor: str
    known: Known | None = None
    out: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    error: Exception | None = None
