"""What each MCP tool does, as plain synchronous calls on the ``Catalog`` facade.

They run as the caller (mcp_server/server.py sets the principal around each call), so every
read here is scoped by the catalog's access control exactly as the REST API's are: an asset
the caller may not read is "not found", with the same message. Answers are JSON values in the
REST API's shapes, bounded in size by mcp_server/bounded.py.
"""

from __future__ import annotations

from typing import Any

from catalog import Catalog
from graph_store.errors import NotFound
from search.model import SearchRequest

COLUMN_TYPES = ("Table", "View")  # assets whose parts are columns


class CatalogTools:
    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog

    @property
    def rows(self) -> int:
        return self.cat.settings.mcp_max_rows

    def search(self, q: str, *, mode: str, types: list[str], filters: dict[str, list[str]],
               nl: bool, limit: int) -> dict[str, Any]:
        wanted = {k: tuple(v) for k, v in filters.items()}
        if types:
            wanted["type"] = tuple(types)
        result = self.cat.search.run(SearchRequest(
            q=q, mode=mode, filters=wanted, nl=nl, limit=max(1, min(limit, self.rows)),
            highlight=False)).to_json()
        result.pop("freshness", None)  # index positions: noise to an agent
        return result

    def describe(self, asset: str) -> dict[str, Any]:
        doc = self.cat.assets.get(asset, infer=True)
        inferred = doc.pop("inferred", {})
        key = doc["id"]
        types = _list(doc.get("type"))
        return {
            "asset": doc,
            "inferredTypes": [t for t in _list(inferred.get("type")) if t not in types],
            "owners": [self._named(o) for o in _list(doc.get("owners"))],
            "classifications": [
                {"id": c, "inferred": False} for c in _list(doc.get("classifications"))] + [
                {"id": c, "inferred": True} for c in _list(inferred.get("classifications"))
                if c not in _list(doc.get("classifications"))],
            "columns": self._columns(key) if set(types) & set(COLUMN_TYPES) else [],
        }

    def _named(self, key: str) -> dict[str, Any]:
        """An owner (user or team) with its name, when the caller may read it."""
        try:
            doc = self.cat.assets.get(key)
        except NotFound:
            return {"id": key}
        return {"id": key, "type": doc.get("type"), "name": doc.get("name")}

    def _columns(self, key: str) -> list[dict[str, Any]]:
        page = self.cat.assets.page(partOf=key, limit=self.rows)
        return [{k: c[k] for k in ("id", "name", "dataType", "description", "classifications")
                 if k in c} for c in page.items]

    def lineage(self, asset: str, *, direction: str, depth: int, level: str,
                cursor: str | None) -> dict[str, Any]:
        return self.cat.lineage.lineage(asset, direction=direction, depth=depth, level=level,
                                        limit=self.rows, cursor=cursor)

    def impact(self, asset: str, *, depth: int, cursor: str | None) -> dict[str, Any]:
        return self.cat.lineage.impact(asset, depth=depth, limit=self.rows, cursor=cursor)

    def glossary_terms(self, prefix: str, cursor: str | None) -> dict[str, Any]:
        page = self.cat.assets.page(type="GlossaryTerm", q=prefix or None, limit=self.rows,
                                    cursor=cursor)
        return {"items": page.items, "next": page.next_cursor}

    def classifications(self, asset: str | None) -> dict[str, Any]:
        """Without an asset: every scheme with its values. With one: its classifications,
        each inferred one with why it holds."""
        if asset is None:
            values = self.cat.assets.page(type="Classification",
                                          limit=self.cat.settings.max_page_size).items
            schemes = self.cat.assets.page(type="ClassificationScheme", limit=self.rows).items
            return {"schemes": [
                {**s, "values": [v for v in values if v.get("partOf") == s["id"]]}
                for s in schemes]}
        found = self.describe(asset)
        out = []
        for c in found["classifications"]:
            if c["inferred"]:
                try:
                    why = self.cat.explain(asset, "semcat:classification", c["id"])
                    c = {**c, "explanations": [e.to_json() for e in why]}
                except NotFound:  # its premises lie where the caller may not read
                    pass
            out.append(c)
        return {"asset": found["asset"]["id"], "classifications": out}

    def explain(self, asset: str, predicate: str | None, object: str | None) -> dict[str, Any]:
        found = self.cat.explain(asset, predicate, object)
        return {"id": asset, "explanations": [e.to_json() for e in found[:self.rows]],
                **({"more": len(found) - self.rows} if len(found) > self.rows else {})}


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
