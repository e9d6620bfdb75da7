"""The bodies of ``/api/v1/ingestion`` (see ``sparql_api/schemas.py`` for the conventions)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ingestion.config import RunConfig
from sparql_api.schemas import Closed, timestamp
from sparql_api.schemas_protocols import inline, request_body

RUN_BODY = request_body({"application/json": inline(RunConfig)},
                        "A run config, as `semcat ingest` reads it (docs/ingestion.md); "
                        "secrets by reference only: {\"env\": NAME} or {\"file\": path}")



class ScheduleIn(Closed):
    cron: str = Field(description="When, in UTC: five cron fields (minute hour day month "
                      "weekday), an optional sixth for seconds, or @hourly, @daily, @weekly",
                      examples=["0 2 * * *"])
    run: RunConfig = Field(description="The run config, as POST /api/v1/ingestion takes it")


SCHEDULE_BODY = request_body({"application/json": inline(ScheduleIn)},
                             "A cron expression and the run config to run at those times")

# a custom method (``:cancel``) takes no body; an empty object is accepted and ignored
CANCEL_BODY: dict[str, Any] = {"requestBody": {
    "required": False, "description": "None needed",
    "content": {"application/json": {"schema": {"type": "object", "maxProperties": 0}}}}}


class RunProgress(Closed):
    read: int = Field(description="Records read from the source so far")


class RunCounts(Closed):
    added: int
    updated: int
    unchanged: int
    removed: int
    failed: int


class RunItemError(Closed):
    id: str | None = Field(description="The asset id, where known")
    message: str


class IngestionRun(Closed):
    id: str = Field(description="The run's id (32 hex digits)")
    connector: str
    workspace: str
    source: str = Field(description="{connector}:{source name}, what the run's assets carry "
                                    "as ingestionSource")
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    actor: str = Field(description="Who started it; the run writes as them")
    createdAt: str = timestamp()
    startedAt: str | None = Field(json_schema_extra={"format": "date-time"})
    endedAt: str | None = Field(json_schema_extra={"format": "date-time"})
    progress: RunProgress
    cancelRequested: bool = Field(description="A cancel was asked for")
    counts: RunCounts | None = Field(description="Once the run ended with a report")
    complete: bool | None = Field(description="The whole source was read (null until ended)")
    errors: list[RunItemError] = Field(description="Per-item failures (at most 1,000)")
    warnings: list[str]
    seconds: float | None = Field(description="How long the run took, once ended")
    error: str | None = Field(description="Why the run failed, if it did")
    checkpoint: int = Field(description="Records read whose writes are durable; a resumed "
                            "run skips that many")
    resumedFrom: str | None = Field(description="The run this one resumes")
    resumedAfter: int | None = Field(description="Records this run skipped as written by the "
                                     "run it resumes (once ended)")
    keptEdits: int | None = Field(description="Values people or other sources set that this "
                                  "run kept instead of what the source says (once ended)")
    log: list[str] = Field(description="What happened to the run, one timestamped line each "
                           "(queued, started, each stage, the end with its counts)")
    config: dict[str, Any] = Field(description="The run config as given: secrets appear as "
                                               "references, never their values")


class IngestionRuns(Closed):
    items: list[IngestionRun] = Field(description="Newest first")
    next: str | None = Field(description="Cursor of the next page; null on the last")


class ConnectorOut(Closed):
    name: str = Field(description="The name a run config's connector gives")
    target: str = Field(description="The entry point: module:attribute")
    description: str
    enabled: bool
    error: str | None = Field(description="Why it failed to load, when disabled")


class Connectors(Closed):
    items: list[ConnectorOut]


class IngestionSchedule(Closed):
    id: str = Field(description="The schedule's id (32 hex digits)")
    cron: str
    workspace: str
    source: str = Field(description="{connector}:{source name} of its runs")
    actor: str = Field(description="Who made it; its runs write as them, with their "
                       "permissions checked again at every firing")
    createdAt: str = timestamp()
    nextAt: str = Field(description="When it fires next (UTC)",
                        json_schema_extra={"format": "date-time"})
    lastFiredAt: str | None = Field(json_schema_extra={"format": "date-time"})
    lastRun: str | None = Field(description="The id of the last run it started")
    lastError: str | None = Field(description="Why its last firing started no run, if so")
    run: dict[str, Any] = Field(description="The run config: secrets as references only")


class IngestionSchedules(Closed):
    items: list[IngestionSchedule] = Field(description="Oldest first")
