"""Batch loaders: whatever a page of assets asks about its neighbours (owners, tags, parents,
lineage) is collected over one pass of the resolvers and fetched in one catalog call per kind,
so a page of 50 assets with owners and lineage costs a handful of calls, not 50 per field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

from strawberry.dataloader import DataLoader

from catalog import Catalog
from catalog.jsonld import compact
from graph_store.errors import InputError
from ontology.namespaces import RDF_TYPE

Run = Callable[..., Awaitable[Any]]



class LineageKey(NamedTuple):
    asset: str
    direction: str
    depth: int
    level: str
    limit: int


class _Statement(NamedTuple):
    """What ``compact`` reads of a quad: the predicate and the object."""
    predicate: Any
    object: Any


class Loaders:
    """One set per request: a loader caches what it fetched for the request's lifetime only,
    so a caller never sees another caller's answers."""

    def __init__(self, catalog: Catalog, run: Run) -> None:
        self._catalog = catalog
        self._run = run
        self.documents: DataLoader[str, dict[str, Any] | None] = DataLoader(self._documents)
        self.lineage: DataLoader[LineageKey, dict[str, Any] | None] = DataLoader(self._lineage)

    async def _documents(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        found = await self._run(self.documents_now, list(keys))
        return [found.get(k) for k in keys]

    def documents_now(self, keys: list[str]) -> dict[str, dict[str, Any] | None]:
        """The current asserted documents of ``keys`` as REST's GET shows them, read with one
        SPARQL query over the caller's dataset: hidden and absent assets are both missing."""
        cat = self._catalog
        iris: dict[str, str] = {}
        for key in keys:
            try:
                iris[cat.layout.iri(key)] = key
            except (InputError, ValueError):
                continue
        if not iris:
            return {}
        values = " ".join(f"<{iri}>" for iri in iris)
        rows = cat.sparql.query(f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} "
                                "?s ?p ?o }", infer=False).rows()
        statements: dict[str, list[_Statement]] = {}
        for row in rows:
            statements.setdefault(row["s"].value, []).append(_Statement(row["p"], row["o"]))
        out: dict[str, dict[str, Any] | None] = {}
        for iri, found in statements.items():
            if any(s.predicate.value == RDF_TYPE for s in found):  # readable as an asset
                found.sort(key=lambda s: (s.predicate.value, str(s.object)))
                out[iris[iri]] = compact(iri, found, cat.layout.id_base, cat.vocabulary)
        return out

    async def _lineage(self, keys: Sequence[LineageKey]) -> list[dict[str, Any] | None]:
        groups: dict[tuple[str, int, str, int], list[str]] = {}
        for k in keys:
            groups.setdefault((k.direction, k.depth, k.level, k.limit), []).append(k.asset)
        found: dict[LineageKey, dict[str, Any] | None] = {}
        for (direction, depth, level, limit), assets in groups.items():
            pages = await self._run(self._catalog.lineage.lineage_of_many, assets,
                                    direction=direction, depth=depth, level=level, limit=limit)
            for asset in assets:
                found[LineageKey(asset, direction, depth, level, limit)] = pages.get(asset)
        return [found.get(k) for k in keys]
