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
from sparql_api.schemas import JSONLDResponse, SearchResults, SimilarAssets, Suggestions

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
        f"across facets); facets: {', '.join(FACETS)} and `attr.<key>` for a custom "
        "attribute. Values are asset ids, types are class names, attribute values as written",
        examples=[{"type": ["Table", "View"], "tag": ["tag/tier-1"], "attr.costCenter": ["CC-12"]}])
    sort: Sort = "relevance"
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, description="The `next` of the previous page")
    facets: list[str] | None = Field(default=None, description="Facets to count (default the "
                                     "built-in ones); also `updated`, `created` (past day/"
                                     "week/month/year), `updated_month`, `created_month` and "
                                     "`attr.<key>`")
    highlight: bool = True
    wait: bool = Field(default=False, description="Wait until the indexes reflect every "
                       "acknowledged write (read-your-writes)")
    downstreamOf: str | None = Field(default=None, description="Only assets downstream of "
                                     "this asset (id or IRI) along derivedFrom lineage")
    upstreamOf: str | None = Field(default=None, description="Only assets upstream of this "
                                   "asset (id or IRI)")
    depth: int | None = Field(default=None, ge=1, le=50, description="Lineage hops at most")
    where: str | None = Field(default=None, max_length=4000, description="A SPARQL group "
                              "graph pattern binding ?asset (semcat: prefixes declared)",
                              examples=['{ ?asset semcat:partOf/semcat:partOf ?s . '
                                        '?s semcat:name "marts" }'])
    nl: bool = Field(default=False, description="Read q as natural language: class words, "
                     "owners, tags, classifications, platforms, workspaces, domains, glossary "
                     "terms and time phrases become filters (shown under interpretation.nl); "
                     "explicit filters win")
    updatedAfter: str | None = Field(default=None, description="Only assets updated at or "
                                     "after: ISO date, datetime, or duration ago (P7D)",
                                     examples=["2026-01-01", "P7D"])
    updatedBefore: str | None = Field(default=None, description="Only assets updated before "
                                      "(exclusive)")
    createdAfter: str | None = Field(default=None, description="Only assets created at or after")
    createdBefore: str | None = Field(default=None, description="Only assets created before "
                                      "(exclusive)")

    def request(self) -> SearchRequest:
        return SearchRequest(q=self.q, mode=self.mode,
                             filters={k: tuple(v) for k, v in self.filters.items()},
                             sort=self.sort, limit=self.limit, cursor=self.cursor,
                             facets=tuple(self.facets) if self.facets is not None else FACETS,
                             highlight=self.highlight, wait=self.wait,
                             downstream_of=self.downstreamOf, upstream_of=self.upstreamOf,
                             depth=self.depth, where=self.where, nl=self.nl,
                             updated_after=self.updatedAfter, updated_before=self.updatedBefore,
                             created_after=self.createdAfter, created_before=self.createdBefore)


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
