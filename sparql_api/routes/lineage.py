"""REST /api/v1/lineage: the lineage graph around an asset, impact analysis, paths between two
assets, and hand-made edges (``lineage/service.py``). Every answer holds only what the caller
may read; walks are bounded (``partial``) and paged (``next``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from graph_store.errors import InputError
from lineage.graph_jsonld import lineage_jsonld
from sparql_api.deps import actor_of, call, catalog_of, read_json
from sparql_api.negotiation import choose
from sparql_api.schemas import JSONLD
from sparql_api.schemas_lineage import (
    EDGE_BODY,
    OPENLINEAGE_BODY,
    Impact,
    LineageEdgeIn,
    LineageGraph,
    LineagePaths,
    OpenLineageResult,
    Runs,
)

router = APIRouter(prefix="/api/v1/lineage", tags=["Lineage"])

Asset = Annotated[str, Query(description="Asset id, e.g. acme/table/postgres/shop.public.orders")]
Depth = Annotated[int, Query(ge=1, le=50, description="Edges away at most")]
Level = Annotated[str, Query(pattern="^(table|column)$",
                             description="table (column edges lifted to tables) or column")]
Limit = Annotated[int, Query(ge=1, le=2000, description="Nodes per page")]
Cursor = Annotated[str | None, Query(description="The previous page's next")]
AsOf = Annotated[str | None, Query(alias="asOf", description="The lineage as it was at this "
                                   "ISO 8601 time, from the change log")]


@router.get("", summary="The lineage graph around an asset", response_model=LineageGraph)
async def lineage(request: Request, asset: Asset,
                  direction: Annotated[str, Query(pattern="^(upstream|downstream|both)$")] = "both",
                  depth: Depth = 3, level: Level = "table", limit: Limit = 500,
                  cursor: Cursor = None, as_of: AsOf = None) -> JSONResponse:
    kind = choose(request.headers.get("accept"), ("application/json", JSONLD))
    cat = catalog_of(request)
    page = await call(cat.lineage.lineage, asset, direction=direction, depth=depth,
                      level=level, limit=limit, cursor=cursor, as_of=as_of)
    if kind == JSONLD:
        return JSONResponse(lineage_jsonld(page, cat.assets.context()), media_type=JSONLD)
    return JSONResponse(page)


@router.post("", summary="Ingest an OpenLineage event (Marquez's endpoint)", status_code=201,
             response_model=OpenLineageResult, openapi_extra=OPENLINEAGE_BODY)
async def openlineage(request: Request) -> JSONResponse:
    """A RunEvent, JobEvent or DatasetEvent as the openlineage-python client sends it; jobs,
    runs, datasets, columns and their lineage are written in one change (lineage/openlineage.py).
    """
    body = await read_json(request)
    result = await call(catalog_of(request).openlineage.ingest, body, actor=actor_of(request))
    return JSONResponse(result, status_code=201)


@router.get("/impact", summary="Everything downstream of an asset and the owners to notify",
            response_model=Impact)
async def impact(request: Request, asset: Asset, depth: Depth = 10, limit: Limit = 500,
                 cursor: Cursor = None, as_of: AsOf = None) -> JSONResponse:
    return JSONResponse(await call(catalog_of(request).lineage.impact, asset, depth=depth,
                                   limit=limit, cursor=cursor, as_of=as_of))


@router.get("/runs", summary="A job's runs, latest first, with what the job reads and writes",
            response_model=Runs)
async def runs(request: Request,
               job: Annotated[str, Query(description="Pipeline id, e.g. acme/pipeline/airflow/"
                                                     "postgres_shop_to_snowflake")],
               limit: Annotated[int, Query(ge=1, le=2000)] = 50, cursor: Cursor = None
               ) -> JSONResponse:
    return JSONResponse(await call(catalog_of(request).lineage.runs, job, limit=limit,
                                   cursor=cursor))


@router.get("/paths", summary="Shortest paths along which data flows from one asset to another",
            response_model=LineagePaths)
async def paths(request: Request,
                source: Annotated[str, Query(alias="from", description="Where data starts")],
                target: Annotated[str, Query(alias="to", description="Where it arrives")],
                depth: Depth = 10, level: Level = "table",
                limit: Annotated[int, Query(ge=1, le=100)] = 10) -> JSONResponse:
    return JSONResponse(await call(catalog_of(request).lineage.paths, source, target,
                                   depth=depth, level=level, limit=limit))


def _edge(body: Any) -> LineageEdgeIn:
    if not isinstance(body, dict) or not isinstance(body.get("source"), str) or \
            not isinstance(body.get("target"), str) or \
            set(body) - {"source", "target", "kind", "transformation"} or \
            not isinstance(body.get("kind", ""), str) or \
            not isinstance(body.get("transformation", ""), str):
        raise InputError('a lineage edge is {"source": asset id, "target": asset id}, with '
                         'optional "kind" (identity, transformation, aggregation or indirect) '
                         'and "transformation" (SQL or a description)')
    if body.get("kind") not in (None, "identity", "transformation", "aggregation", "indirect"):
        raise InputError(f"kind must be identity, transformation, aggregation or indirect, not "
                         f"{body['kind']!r}")
    return LineageEdgeIn(**body)


@router.post("/edges", summary="Add a hand-made edge: target derived from source",
             status_code=201, response_model=LineageEdgeIn, openapi_extra=EDGE_BODY,
             responses={200: {"model": LineageEdgeIn,
                              "description": "The edge was there already"}})
async def add_edge(request: Request) -> JSONResponse:
    edge = _edge(await read_json(request))
    cs = await call(catalog_of(request).lineage.add_edge, edge.source, edge.target,
                    actor=actor_of(request), kind=edge.kind, transformation=edge.transformation)
    cat = catalog_of(request)
    key = cat.layout.key
    stated = {"source": key(cat.layout.iri(edge.source)),
              "target": key(cat.layout.iri(edge.target))}
    stated.update((k, v) for k, v in (("kind", edge.kind),
                                      ("transformation", edge.transformation)) if v is not None)
    return JSONResponse(stated, status_code=201 if cs is not None else 200)


@router.delete("/edges", status_code=204, summary="Remove a hand-made edge")
async def remove_edge(request: Request,
                      source: Annotated[str, Query(description="The asset the data comes from")],
                      target: Annotated[str, Query(description="The asset derived from it")]
                      ) -> Response:
    await call(catalog_of(request).lineage.remove_edge, source, target, actor=actor_of(request))
    return Response(status_code=204)
