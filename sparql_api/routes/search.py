"""REST /api/v1/search: keyword, semantic and hybrid search with facets, and more-like-this.

`GET` takes the common request as query parameters (repeat a filter for OR: `type=Table&type=View`);
`POST` takes the full request as JSON. Both answer with hits that say why they matched,
facet counts, the next page's cursor and the change-log seq each index reflects.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from search.model import MAX_LIMIT, SearchResult
from sparql_api.deps import call, catalog_of
from sparql_api.schemas import JSONLDResponse, SearchResults, SimilarAssets, Suggestions
from sparql_api.search_body import Mode, SearchBody, Sort

router = APIRouter(prefix="/api/v1/search", tags=["Search"])
JSONLD = "application/ld+json"


def _body(request: Request, result: SearchResult) -> JSONResponse:
    cat = catalog_of(request)
    return JSONResponse({"@context": cat.assets.context(hits="@graph"), **result.to_json()},
                        media_type=JSONLD)


Values = Annotated[list[str] | None, Query()]


@router.get("", summary="Search assets (keyword, semantic or hybrid) with facets",
            response_model=SearchResults, response_class=JSONLDResponse)
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
    downstreamOf: Annotated[str | None, Query(description="Asset id or IRI")] = None,
    upstreamOf: Annotated[str | None, Query(description="Asset id or IRI")] = None,
    depth: Annotated[int | None, Query(ge=1, le=50, description="Lineage hops at most")] = None,
    where: Annotated[str | None, Query(max_length=4000, description="SPARQL group graph "
                                       "pattern binding ?asset")] = None,
    nl: Annotated[bool, Query(description="Read q as natural language (filters from words)")
                  ] = False,
    updatedAfter: Annotated[str | None, Query(description="ISO date/datetime or P7D")] = None,
    updatedBefore: Annotated[str | None, Query(description="ISO date/datetime or P7D")] = None,
    createdAfter: Annotated[str | None, Query(description="ISO date/datetime or P7D")] = None,
    createdBefore: Annotated[str | None, Query(description="ISO date/datetime or P7D")] = None,
) -> JSONResponse:
    given: dict[str, Any] = {"type": type, "platform": platform, "tag": tag, "owner": owner,
                             "workspace": workspace, "classification": classification,
                             "term": term, "domain": domain}
    given.update(_attribute_filters(request))  # attr.<key>=value: custom attributes
    body = SearchBody(q=q, mode=mode, filters={k: v for k, v in given.items() if v}, sort=sort,
                      limit=limit, cursor=cursor, wait=wait, downstreamOf=downstreamOf,
                      upstreamOf=upstreamOf, depth=depth, where=where, nl=nl,
                      updatedAfter=updatedAfter, updatedBefore=updatedBefore,
                      createdAfter=createdAfter, createdBefore=createdBefore,
                      facets=[f for f in facets.split(",") if f] if facets is not None else None)
    result = await call(catalog_of(request).search.run, body.request())
    return _body(request, result)


@router.post("", summary="Search with the full request as JSON",
             response_model=SearchResults, response_class=JSONLDResponse)
async def search_post(request: Request, body: SearchBody) -> JSONResponse:
    result = await call(catalog_of(request).search.run, body.request())
    return _body(request, result)


@router.get("/similar/{key:path}", summary="More like this: assets similar to one asset",
            response_model=SimilarAssets, response_class=JSONLDResponse)
async def similar_assets(
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


def _attribute_filters(request: Request) -> dict[str, list[str]]:
    """``attr.costCenter=CC-12`` query parameters (repeat for OR), as on /api/v1/assets."""
    out: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("attr."):
            out.setdefault(name, []).append(value)
    return out


@router.get("/suggest", summary="Autocomplete: prefix completions of names and facet values",
            response_model=Suggestions)
async def suggest_completions(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200, description="What was typed so far")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> JSONResponse:
    """Assets whose name, a word inside their name, or their qualified name starts with `q`:
    whole-name prefixes first, then by kind and connectedness. Tags, terms, owners,
    classifications and platforms come with the `filter` they stand for."""
    result = await call(catalog_of(request).search.suggest, q, limit=limit)
    return JSONResponse(result)
