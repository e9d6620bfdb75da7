"""REST /api/v1/jobs: long bulk upserts and exports as asynchronous jobs (``jobs/``). Submitting
answers 202 at once with the job and its Location; the client polls it, may cancel it, and
downloads the result once it has finished. A job is its submitter's (admins see every one);
anyone else is told 404, never that it exists."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import Field

from catalog import Catalog
from graph_store.errors import InputError, PayloadTooLarge
from sparql_api.deps import call, catalog_of, media_type, read_json
from sparql_api.routes.dataset import EXPORT_TYPES
from sparql_api.schemas import Closed, Open, timestamp
from sparql_api.schemas_protocols import BULK_BODY, inline, rdf

router = APIRouter(prefix="/api/v1/jobs", tags=["Jobs"])
JobId = Annotated[str, Path(description="The job's id, as POST /api/v1/jobs/... gave it")]
SPOOL_BYTES = 1 << 20  # a bulk body is written to its file in pieces this large
SUFFIXES = {"application/n-quads": "nq", "application/trig": "trig", "text/turtle": "ttl",
            "application/n-triples": "nt", "application/ld+json": "jsonld",
            "application/rdf+xml": "rdf"}
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


# -- bodies --------------------------------------------------------------------------------------
class ExportJobIn(Closed):
    format: Literal[EXPORT_TYPES] = Field(  # type: ignore[valid-type]
        default="application/n-quads", description="The export's media type: quad formats "
        "keep the graphs, triple formats merge them")
    inferred: bool = Field(default=False, description="Add the inferred graphs")


class JobProgress(Closed):
    done: int = Field(description="Items durably written (an export: 1 once its file is "
                      "complete)")
    total: int | None = Field(description="Items in the job (an export: 1)")


class JobLinks(Closed):
    self: str
    result: str = Field(description="GET: the result, once the job has finished")
    cancel: str = Field(description="POST: cancel the job")


class Job(Closed):
    id: str = Field(description="The job's id (32 hex digits)")
    kind: Literal["bulk-upsert", "export"]
    status: Status
    owner: str = Field(description="Who submitted it; it runs as them")
    createdAt: str = timestamp()
    startedAt: str | None = Field(json_schema_extra={"format": "date-time"})
    endedAt: str | None = Field(json_schema_extra={"format": "date-time"})
    progress: JobProgress
    cancelRequested: bool
    restarts: int = Field(description="Times a server stop interrupted it and the next start "
                          "resumed it")
    params: dict[str, Any] = Field(description="What was asked: item count and chunk size, or "
                                   "media type and whether inferred graphs are included")
    result: dict[str, Any] | None = Field(description="The outcome so far, summarised: counts "
                                          "and the number of warnings (bulk), bytes (export)")
    error: str | None = Field(description="Why the job failed, if it did")
    links: JobLinks


class Jobs(Closed):
    items: list[Job]
    next: str | None = Field(description="Cursor of the next page, if there is one")


class WarningKind(Open):
    severity: str
    constraint: str
    path: str
    count: int
    examples: list[dict[str, Any]]


class BulkWarnings(Closed):
    total: int
    kinds: list[WarningKind]


class ItemError(Open):
    index: int = Field(description="The item's position in the body, from 0")
    status: int = Field(description="The HTTP status the item alone would have met")
    code: str
    detail: str


class BulkResult(Closed):
    created: int
    updated: int
    unchanged: int
    failed: int
    errorsKept: int = Field(description="Item errors listed (at most 1,000; failed counts all)")
    warnings: BulkWarnings
    errors: list[ItemError]


EXPORT_BODY = {"requestBody": {
    "required": False, "description": "The format (default N-Quads) and whether inferred "
    "graphs are included; no body takes the defaults",
    "content": {"application/json": {"schema": inline(ExportJobIn)}}}}
CANCEL_BODY: dict[str, Any] = {"requestBody": {
    "required": False, "description": "None needed",
    "content": {"application/json": {"schema": {"type": "object", "maxProperties": 0}}}}}
BULK_JOB_BODY = {"requestBody": {
    **BULK_BODY["requestBody"], "description": "Assets as POST /api/v1/assets:bulk takes them "
    "(a JSON array, a JSON-LD @graph, or NDJSON), up to SEMCAT_JOBS_MAX_BODY_BYTES"}}


def _accepted(record: Any) -> JSONResponse:
    return JSONResponse(record.to_json(), status_code=202,
                        headers={"Location": f"/api/v1/jobs/{record.id}"})


# -- submitting ------------------------------------------------------------------------------------
async def _spool(request: Request, cat: Catalog) -> FilePath:
    """The body, streamed to a file in the data directory (never held whole in memory)."""
    limit = cat.settings.jobs_max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit for a job is {limit} "
                              "(SEMCAT_JOBS_MAX_BODY_BYTES)")
    path = cat.jobs.spool()
    try:
        with path.open("wb") as f:
            size, pending = 0, bytearray()
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the body is larger than the {limit} byte limit for "
                                          "a job (SEMCAT_JOBS_MAX_BODY_BYTES)")
                pending += chunk
                if len(pending) >= SPOOL_BYTES:
                    await call(f.write, bytes(pending))
                    pending.clear()
            await call(f.write, bytes(pending))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@router.post("/bulk-upsert", summary="Upsert many assets in the background", status_code=202,
             response_model=Job, openapi_extra=BULK_JOB_BODY)
async def submit_bulk_upsert(request: Request) -> JSONResponse:
    """The body is stored and checked to be JSON (400 otherwise: no job is made) before this
    answers; the items are then written in chunks as the caller. An item that is not a valid
    asset fails alone and is listed in the result; the others are written."""
    cat = catalog_of(request)
    path = await _spool(request, cat)
    record = await call(cat.jobs.submit_bulk, path, media_type(request),
                        whole_limit=cat.settings.max_body_bytes)
    return _accepted(record)


@router.post("/export", summary="Export what you may read, in the background", status_code=202,
             response_model=Job, openapi_extra=EXPORT_BODY)
async def submit_export(request: Request) -> JSONResponse:
    """The catalog's data, ontology and shapes graphs as ``GET /api/v1/export`` gives them,
    narrowed to what the caller may read; download the file from the job's result."""
    body: Any = {}
    if (await request.body()).strip():
        body = await read_json(request)
    if not isinstance(body, dict):
        raise InputError("an export job's body is a JSON object, e.g. {\"format\": "
                         "\"text/turtle\"}")
    unknown = sorted(set(body) - {"format", "inferred"})
    fmt, inferred = body.get("format", EXPORT_TYPES[0]), body.get("inferred", False)
    if unknown or fmt not in EXPORT_TYPES or not isinstance(inferred, bool):
        raise InputError(f"an export job takes format (one of {', '.join(EXPORT_TYPES)}) and "
                         f"inferred (true or false)" + (f"; not {', '.join(unknown)}"
                                                        if unknown else ""))
    record = await call(catalog_of(request).jobs.submit_export, fmt, inferred=inferred)
    return _accepted(record)


# -- following -------------------------------------------------------------------------------------
@router.get("", summary="Your jobs, newest first (an admin's: everyone's)", response_model=Jobs)
async def list_jobs(
        request: Request,
        status: Annotated[Status | None, Query(description="Only jobs with this status")] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="Jobs per page")] = 50,
        cursor: Annotated[str | None, Query(description="The previous page's next")] = None,
) -> JSONResponse:
    records, nxt = await call(catalog_of(request).jobs.page, status=status, limit=limit,
                              cursor=cursor)
    return JSONResponse({"items": [r.to_json() for r in records], "next": nxt})


@router.get("/{job_id}", summary="One job: status, progress, timestamps, result summary",
            response_model=Job)
async def get_job(request: Request, job_id: JobId) -> JSONResponse:
    record = await call(catalog_of(request).jobs.get, job_id)
    return JSONResponse(record.to_json())


@router.post("/{job_id}:cancel", summary="Cancel a job: a queued one at once (200), a running "
             "one at its next chunk (202)", response_model=Job, openapi_extra=CANCEL_BODY,
             responses={202: {"model": Job, "description": "Asked to stop; a bulk job ends "
                              "cancelled keeping what it wrote"}})
async def cancel_job(request: Request, job_id: JobId) -> JSONResponse:
    """A job that already ended is returned as it is (200)."""
    record = await call(catalog_of(request).jobs.cancel, job_id)
    return JSONResponse(record.to_json(), status_code=202 if record.status == "running" else 200,
                        headers={"Location": f"/api/v1/jobs/{record.id}"})


@router.get("/{job_id}/result", summary="A finished job's result: the export file, or the bulk "
            "upsert's counts, warnings and item errors", response_model=BulkResult,
            responses={200: {"content": rdf(EXPORT_TYPES), "description": "The export in its "
                             "format, or a bulk job's result as JSON"},
                       409: {"description": "The job has not finished, or an export left no "
                             "file (it failed or was cancelled)"}})
async def job_result(request: Request, job_id: JobId) -> Any:
    record, path, outcome = await call(catalog_of(request).jobs.result, job_id)
    if path is None:
        return JSONResponse(outcome)
    kind = record.params["mediaType"]
    return FileResponse(path, media_type=kind, filename=f"export-{record.id}."
                        f"{SUFFIXES.get(kind, 'rdf')}")

