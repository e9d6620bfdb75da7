"""REST /api/v1/ingestion: start connector runs in the background, follow and cancel them
(``ingestion/jobs.py``). Starting one needs ``run-ingestion`` and ``write`` in its workspace;
runs are visible to those who may run ingestion in theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from sparql_api.deps import actor_of, call, catalog_of, read_json
from sparql_api.schemas_ingestion import (
    CANCEL_BODY,
    RUN_BODY,
    SCHEDULE_BODY,
    Connectors,
    IngestionRun,
    IngestionRuns,
    IngestionSchedule,
    IngestionSchedules,
)

router = APIRouter(prefix="/api/v1/ingestion", tags=["Ingestion"])

RunId = Annotated[str, Path(description="The run's id, as POST /api/v1/ingestion gave it")]
ScheduleId = Annotated[str, Path(description="The schedule's id, as POST "
                                 "/api/v1/ingestion/schedules gave it")]


def _location(run_id: str) -> dict[str, str]:
    return {"Location": f"/api/v1/ingestion/{run_id}"}


@router.post("", summary="Start an ingestion run in the background", status_code=202,
             response_model=IngestionRun, openapi_extra=RUN_BODY)
async def start_ingestion(request: Request) -> JSONResponse:
    """The config is checked and the caller's permissions too before anything is recorded
    (400 naming the bad field, 403); the run is then queued and this answers at once: follow
    it at its Location."""
    body = await read_json(request)
    record = await call(catalog_of(request).ingestion.runs.start, body, actor=actor_of(request))
    return JSONResponse(record.to_json(), status_code=202, headers=_location(record.id))


@router.get("", summary="Ingestion runs, newest first", response_model=IngestionRuns)
async def list_ingestion_runs(
        request: Request,
        status: Annotated[str | None, Query(
            pattern="^(queued|running|succeeded|failed|cancelled)$",
            description="Only runs with this status")] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="Runs per page")] = 50,
        cursor: Annotated[str | None, Query(description="The previous page's next")] = None
        ) -> JSONResponse:
    records, nxt = await call(catalog_of(request).ingestion.runs.page, status=status,
                              limit=limit, cursor=cursor)
    return JSONResponse({"items": [r.to_json() for r in records], "next": nxt})


@router.get("/connectors", summary="The installed connectors (disabled ones with why)",
            response_model=Connectors)
async def list_connectors(request: Request) -> JSONResponse:
    infos = await call(catalog_of(request).ingestion.connectors)
    return JSONResponse({"items": [{"name": c.name, "target": c.target,
                                    "description": c.description, "enabled": c.enabled,
                                    "error": c.error} for c in infos]})


@router.post("/schedules", summary="Run ingestion on a schedule (cron, UTC)", status_code=201,
             response_model=IngestionSchedule, openapi_extra=SCHEDULE_BODY)
async def add_ingestion_schedule(request: Request) -> JSONResponse:
    """Checked like a run (400 naming the field, 403) before it is kept; each firing queues a
    run as the caller, whose permissions are checked again then, and is skipped while the
    schedule's previous run is still queued or running."""
    body = await read_json(request)
    schedule = await call(catalog_of(request).ingestion.schedules.add, body,
                          actor=actor_of(request))
    return JSONResponse(schedule.to_json(), status_code=201,
                        headers={"Location": f"/api/v1/ingestion/schedules/{schedule.id}"})


@router.get("/schedules", summary="Ingestion schedules, oldest first",
            response_model=IngestionSchedules)
async def list_ingestion_schedules(request: Request) -> JSONResponse:
    schedules = await call(catalog_of(request).ingestion.schedules.visible)
    return JSONResponse({"items": [s.to_json() for s in schedules]})


@router.get("/schedules/{schedule_id}", summary="One ingestion schedule: next firing, last "
            "run", response_model=IngestionSchedule)
async def get_ingestion_schedule(request: Request, schedule_id: ScheduleId) -> JSONResponse:
    schedule = await call(catalog_of(request).ingestion.schedules.get, schedule_id)
    return JSONResponse(schedule.to_json())


@router.delete("/schedules/{schedule_id}", summary="Stop a schedule (its runs stay)",
               status_code=204)
async def delete_ingestion_schedule(request: Request, schedule_id: ScheduleId) -> Response:
    await call(catalog_of(request).ingestion.schedules.delete, schedule_id)
    return Response(status_code=204)


@router.get("/{run_id}", summary="One ingestion run: status, progress, counts, errors",
            response_model=IngestionRun)
async def get_ingestion_run(request: Request, run_id: RunId) -> JSONResponse:
    record = await call(catalog_of(request).ingestion.runs.get, run_id)
    return JSONResponse(record.to_json())


@router.post("/{run_id}:cancel", summary="Cancel a run: a queued one at once (200), a running "
             "one before its next record (202)", response_model=IngestionRun,
             openapi_extra=CANCEL_BODY,
             responses={202: {"model": IngestionRun,
                              "description": "Asked to stop; it ends cancelled, keeping what "
                                             "it wrote"}})
async def cancel_ingestion_run(request: Request, run_id: RunId) -> JSONResponse:
    """A run that already ended is returned as it is (200)."""
    record = await call(catalog_of(request).ingestion.runs.cancel, run_id)
    return JSONResponse(record.to_json(), status_code=202 if record.status == "running" else 200,
                        headers=_location(record.id))


@router.post("/{run_id}:resume", summary="Resume a failed or cancelled run from its checkpoint",
             status_code=202, response_model=IngestionRun, openapi_extra=CANCEL_BODY,
             responses={409: {"description": "The run is queued, running or succeeded"}})
async def resume_ingestion_run(request: Request, run_id: RunId) -> JSONResponse:
    """A new run of the same config, as the caller, that reads the source again and writes
    only what follows the records the earlier run had written (its checkpoint): no duplicates,
    and removals stay right. Follow it at its Location."""
    record = await call(catalog_of(request).ingestion.runs.resume, run_id,
                        actor=actor_of(request))
    return JSONResponse(record.to_json(), status_code=202, headers=_location(record.id))
