"""The root ``Query`` and ``Mutation``: each field is one call of the Catalog facade, so SHACL,
versions, the audit log and access control apply exactly as they do on REST."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_store.errors import InputError
from graphql_api.asset_types import Asset, AssetPage
from graphql_api.context import Context
from graphql_api.search_types import SearchResult
from search.model import FACETS, SearchRequest

MAX_SEARCH_PAGE = 100


def _page_size(info: Info[Context, None], limit: int) -> int:
    most = info.context.catalog.settings.max_page_size
    if not 1 <= limit <= most:
        raise InputError(f"limit must be between 1 and {most} (SEMCAT_MAX_PAGE_SIZE), not {limit}")
    return limit


async def _page(info: Info[Context, None], limit: int, **filters: Any) -> AssetPage:
    page = await info.context.run(info.context.catalog.assets.page,
                                  limit=_page_size(info, limit), **filters)
    return AssetPage(items=[Asset.of(d) for d in page.items], next=page.next_cursor)


@strawberry.type
class Query:
    @strawberry.field(description="One asset by id (with version: as it was then); a "
                                  "not-found error when there is none that you may read")
    async def asset(self, info: Info[Context, None], id: strawberry.ID,
                    version: int | None = None) -> Asset | None:
        doc = await info.context.run(info.context.catalog.assets.get, str(id), version)
        doc.pop("@context", None)
        return Asset.of(doc)

    @strawberry.field(description="A page of assets, as GET /api/v1/assets lists them; "
                                  "attributes filters by custom attribute values")
    async def assets(self, info: Info[Context, None], type: str | None = None,
                     workspace: str | None = None, platform: str | None = None,
                     tag: str | None = None, owner: str | None = None,
                     part_of: str | None = None, classification: str | None = None,
                     term: str | None = None, q: str | None = None, sort: str = "name",
                     limit: int = 50, cursor: str | None = None,
                     attributes: JSON | None = None) -> AssetPage:
        if attributes is not None and not isinstance(attributes, dict):
            raise InputError('attributes is an object of custom attribute values, e.g. '
                             '{"costCenter": "CC-12"}')
        return await _page(info, limit, type=type, workspace=workspace, platform=platform,
                           tag=tag, owner=owner, partOf=part_of, classification=classification,
                           term=term, q=q, sort=sort, cursor=cursor,
                           attributes={k: str(v) for k, v in (attributes or {}).items()})

    @strawberry.field(description="Glossary terms (their broader terms under partOf)")
    async def glossary_terms(self, info: Info[Context, None], q: str | None = None,
                             limit: int = 50, cursor: str | None = None) -> AssetPage:
        return await _page(info, limit, type="GlossaryTerm", q=q, cursor=cursor)

    @strawberry.field(description="Classifications (their schemes under partOf)")
    async def classifications(self, info: Info[Context, None], q: str | None = None,
                              limit: int = 50, cursor: str | None = None) -> AssetPage:
        return await _page(info, limit, type="Classification", q=q, cursor=cursor)

    @strawberry.field(description="Search: keyword, semantic or hybrid; filters map a facet to "
                                  "the values it may take; nl reads q as a question; wait "
                                  "reads your own writes")
    async def search(self, info: Info[Context, None], q: str = "", mode: str = "hybrid",
                     nl: bool = False, filters: JSON | None = None, limit: int = 20,
                     cursor: str | None = None, facets: list[str] | None = None,
                     downstream_of: str | None = None, upstream_of: str | None = None,
                     depth: int | None = None, wait: bool = False) -> SearchResult:
        if not 1 <= limit <= MAX_SEARCH_PAGE:
            raise InputError(f"limit must be between 1 and {MAX_SEARCH_PAGE}, not {limit}")
        if filters is not None and not (isinstance(filters, dict) and all(
                isinstance(v, str | list) for v in filters.values())):
            raise InputError('filters map a facet to its values, e.g. {"type": ["Table"]}')
        request = SearchRequest(
            q=q, mode=mode, nl=nl, limit=limit, cursor=cursor,
            filters={k: tuple(v) if isinstance(v, list) else (v,)
                     for k, v in (filters or {}).items()},
            facets=tuple(facets) if facets is not None else FACETS,
            downstream_of=downstream_of, upstream_of=upstream_of, depth=depth, wait=wait)
        return SearchResult.of(await info.context.run(info.context.catalog.search.run, request))


@strawberry.type(description="What a write did: the asset's id, its new version, and created, "
                             "updated, unchanged or deleted")
class WriteResult:
    id: strawberry.ID
    version: int
    status: str
    warnings: JSON = strawberry.field(description="SHACL warnings about the asset")

    @strawberry.field(description="The asset as it is now (null once deleted)")
    async def asset(self, info: Info[Context, None]) -> Asset | None:
        if self.status == "deleted":
            return None
        doc = await info.context.loaders.documents.load(str(self.id))
        return Asset.of(doc) if doc is not None else None


@strawberry.type
class LineageEdgeResult:
    source: strawberry.ID
    target: strawberry.ID
    changed: bool = strawberry.field(description="False when the edge was there already")


def _written(result: Any) -> WriteResult:
    return WriteResult(id=strawberry.ID(result.id), version=result.version,
                       status=result.status, warnings=cast(JSON, list(result.warnings)))


def _document(document: Any, attributes: Any) -> dict[str, Any]:
    """The asset's properties by REST key: ``document`` (any of them) and ``attributes`` (the
    custom ones, typed in the schema: CustomAttributesInput)."""
    for name, value in (("document", document), ("attributes", attributes)):
        if value is not None and not isinstance(value, dict):
            raise InputError(f"{name} is an object of properties by their REST keys")
    return {**(document or {}), **(attributes or {})}


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create or replace an asset by its natural key (as POST "
                                     "/api/v1/assets): document holds its properties")
    async def upsert_asset(self, info: Info[Context, None], document: JSON,
                           attributes: JSON | None = None) -> WriteResult:
        ctx = info.context
        return _written(await ctx.run(ctx.catalog.assets.upsert, _document(document, attributes),
                                      actor=ctx.actor))

    @strawberry.mutation(description="Change some properties (JSON Merge Patch: null removes "
                                     "one); ifMatch refuses if the asset moved on")
    async def update_asset(self, info: Info[Context, None], id: strawberry.ID,
                           patch: JSON | None = None, attributes: JSON | None = None,
                           if_match: int | None = None) -> WriteResult:
        ctx = info.context
        return _written(await ctx.run(ctx.catalog.assets.patch, str(id),
                                      _document(patch, attributes), actor=ctx.actor,
                                      if_match=if_match))

    @strawberry.mutation(description="Delete an asset (its history stays readable)")
    async def delete_asset(self, info: Info[Context, None], id: strawberry.ID,
                           if_match: int | None = None) -> WriteResult:
        ctx = info.context
        return _written(await ctx.run(ctx.catalog.assets.delete, str(id), actor=ctx.actor,
                                      if_match=if_match))

    @strawberry.mutation(description="Add a hand-made lineage edge: target derived from source")
    async def add_lineage_edge(self, info: Info[Context, None], source: strawberry.ID,
                               target: strawberry.ID, kind: str | None = None,
                               transformation: str | None = None) -> LineageEdgeResult:
        ctx = info.context
        cs = await ctx.run(ctx.catalog.lineage.add_edge, str(source), str(target),
                           actor=ctx.actor, kind=kind, transformation=transformation)
        return LineageEdgeResult(source=source, target=target, changed=cs is not None)

    @strawberry.mutation(description="Remove a hand-made lineage edge")
    async def remove_lineage_edge(self, info: Info[Context, None], source: strawberry.ID,
                                  target: strawberry.ID) -> LineageEdgeResult:
        ctx = info.context
        await ctx.run(ctx.catalog.lineage.remove_edge, str(source), str(target), actor=ctx.actor)
        return LineageEdgeResult(source=source, target=target, changed=True)
