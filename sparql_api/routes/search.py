"""REST /api/v1/search: keyword, semantic and hybrid search with facets, and more-like-this.

`GET` takes the common request as query parameters (repeat a filter for OR: `type=Table&type=View`);
`POST` takes the full request as JSON. Both answer with hits that say why they matched,
facet counts, the next page's cursor and the change-log seq each index reflects.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from search.model import FACETS, MAX_LIMIT, SearchRequest, SearchResult
from sparql_api.deps import call, catalog_of

router = APIRouter(prefix="/api/v1/search", tags=["Search"])
JSONLD = "application/ld+json"
Mode = Literal["keyword", "semantic", "hybrid"]
Sort = Literal["relevance", "name", "-name", "updatedAt", "-updatedAt"]


class SearchBody(BaseModel):
    """The full search request (`POST /api/v1/search`)."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field(default="", max_length=1000, description="Words, names, identifiers or a "
                   "question; empty lists everything (sorted by name)")
    mode: Mode = "hybrid"
    filters: dict[str, list[str]] = Field(
        default_factory=dict, description=f"Facet → allowed values (OR within a facet, AND "
        f"across facets); facets: {', '.join(FACETS)}. Values are asset ids, types are class "
        "names", examples=[{"type": ["Table", "View"], "tag": ["tag/tier-1"]}])
    sort: Sort = "relevance"
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, description="The `next` of the previous page")
    facets: list[str] | None = Field(default=None, description="Facets to count (default all)")
    highlight: bool = True
    wait: bool = Field(default=False, description="Wait until the indexes reflect every "
                       "acknowledged write (read-your-writes)")

    def request(self) -> SearchRequest:
        return SearchRequest(q=self.q, mode=self.mode,
                             filters={k: tuple(v) for k, v in self.filters.items()},
                             sort=self.sort, limit=self.limit, cursor=self.cursor,
                             facets=tuple(self.facets) if self.facets is not None else FACETS,
                             highlight=self.highlight, wait=self.wait)


def _body(request: Request, result: SearchResult) -> JSONResponse:
    cat = catalog_of(request)
    return JSONResponse({"@context": cat.assets.context(hits="@graph"), **result.to_json()},
                        media_type=JSONLD)


Values = Annotated[list[str] | None, Query()]


@router.get("", summary="Search assets (keyword, semantic or hybrid) with facets")
async def search_get(
    request: Request,
    q: Annotated[str, Query(max_length=1000, description="What to look for")] = "",
    mode: Mode = "hybrid",
    type: Annotated[list[str] | None, Query(description="Class names, e.g. Table")] = None,
    platform: Annotated[list[str] | None, Query(description="e.g. platform/snowflake")] = None,
    tag: Annotated[list[str] | None, Query(description="e.g. tag/tier-1")] = None,
    owner: Annotated[list[str] | None, Query(description="User or team ids")] = None,
    workspace: Values = None,
    classification: Values = None,
    term: Annotated[list[str] | None, Query(description="Glossary term ids")] = None,
    domain: Values = None,
    sort: Sort = "relevance",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(description="The `next` of the previous page")] = None,
    facets: Annotated[str | None, Query(description="Comma-separated facets to count")] = None,
    wait: Annotated[bool, Query(description="Read-your-writes: wait for the indexes")] = False,
) -> JSONResponse:
    given: dict[str, Any] = {"type": type, "platform": platform, "tag": tag, "owner": owner,
                             "workspace": workspace, "classification": classification,
                             "term": term, "domain": domain}
    body = SearchBody(q=q, mode=mode, filters={k: v for k, v in given.items() if v}, sort=sort,
                      limit=limit, cursor=cursor, wait=wait,
                      facets=[f for f in facets.split(",") if f] if facets is not None else None)
    result = await call(catalog_of(request).search.run, body.request())
    return _body(request, result)


@router.post("", summary="Search with the full request as JSON")
async def search_post(request: Request, body: SearchBody) -> JSONResponse:
    result = await call(catalog_of(request).search.run, body.request())
    return _body(request, result)


@router.get("/similar/{key:path}", summary="More like this: assets similar to one asset")
async def similar(
    request: Request, key: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    type: Annotated[list[str] | None, Query(description="Only these classes")] = None,
    wait: bool = False,
) -> JSONResponse:
    cat = catalog_of(request)
    hits = await call(cat.search.similar, key, limit=limit,
                      filters={"type": tuple(type)} if type else None, wait=wait)
    return JSONResponse({"@context": cat.assets.context(hits="@graph"), "id": key,
                         "hits": [h.to_json() for h in hits]}, media_type=JSONLD)
