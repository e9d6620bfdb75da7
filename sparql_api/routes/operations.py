"""What an operator watches and does: readiness, Prometheus metrics, backups, snapshots."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from graph_store.errors import Forbidden, InputError
from sparql_api.deps import call, catalog_of, read_json

router = APIRouter(tags=["Operations"])
# a projection further behind than this (in changesets) makes the node not ready
READY_MAX_LAG = 100


class Readiness(BaseModel):
    ready: bool
    appliedSeq: int
    lag: dict[str, int]


class Backup(BaseModel):
    path: str
    seq: int
    created: str
    version: str


class Snapshot(BaseModel):
    seq: int
    created: str
    version: str
    base: str
    bytes: int


@router.get("/readyz", summary="Ready to serve: the store is open and every projection of the "
            "change log is within 100 changesets of it", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "Not ready yet"}})
async def ready(request: Request) -> JSONResponse:
    cat = catalog_of(request)
    lag = await call(cat.projection_lag)
    ready = all(behind <= READY_MAX_LAG for behind in lag.values())
    return JSONResponse({"ready": ready, "appliedSeq": cat.journal.applied_seq, "lag": lag},
                        status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition; instance admins only (it reveals sizes and activity)."""
    if not catalog_of(request).access.caller().admin:
        raise Forbidden("metrics are for instance admins")
    body = await call(generate_latest, request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.post("/api/v1/backups", status_code=201, response_model=Backup,
             summary="Back up the catalog into a new directory on the server (instance admins)",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"type": "object", "required": ["target"], "properties": {
                     "target": {"type": "string", "description": "An absolute path on the "
                                "server: a new or empty directory"}}}}}}})
async def create_backup(request: Request) -> JSONResponse:
    cat = catalog_of(request)
    if not cat.access.caller().admin:
        raise Forbidden("backups are for instance admins")
    body = await read_json(request)
    target = body.get("target") if isinstance(body, dict) else None
    if not isinstance(target, str) or not Path(target).is_absolute():
        raise InputError("give the backup's target as an absolute path: {\"target\": \"/...\"}")
    info = await call(cat.backup, Path(target))
    return JSONResponse(asdict(info), status_code=201)


@router.post("/api/v1/snapshots", status_code=201, response_model=Snapshot,
             summary="Publish a snapshot of this node for new nodes of its shared change log "
             "to start from (instance admins)",
             openapi_extra={"requestBody": {"required": False, "description": "None needed",
                                            "content": {"application/json": {"schema": {
                                                "type": "object", "maxProperties": 0}}}}})
async def publish_snapshot(request: Request) -> JSONResponse:
    cat = catalog_of(request)
    if not cat.access.caller().admin:
        raise Forbidden("snapshots are for instance admins")
    info = await call(cat.publish_snapshot)
    return JSONResponse(asdict(info), status_code=201)
