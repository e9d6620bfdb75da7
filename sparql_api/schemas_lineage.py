"""The bodies of ``/api/v1/lineage`` (see ``sparql_api/schemas.py`` for the conventions)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sparql_api.schemas import Closed
from sparql_api.schemas_protocols import inline, request_body


class LineageNode(Closed):
    id: str = Field(description="Asset id")
    type: str | None = Field(description="Its semcat class, e.g. Table")
    name: str | None = None
    distance: int = Field(description="Edges from the asset asked about (0: the asset)")
    direction: Literal["upstream", "downstream", "self"]


class ImpactNode(LineageNode):
    owners: list[str] = Field(description="Owner ids (users and teams)")


class LineageEdge(Closed):
    source: str = Field(description="Where the data comes from")
    target: str = Field(description="Where it flows (derived from, consumes or is produced "
                                    "from the source)")
    via: Literal["derivedFrom", "consumes", "produces"]


class LineageGraph(Closed):
    asset: str
    direction: Literal["upstream", "downstream", "both"]
    depth: int
    level: Literal["table", "column"]
    asOf: str | None = Field(default=None, description="The time asked about, if any")
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    partial: bool = Field(description="The walk stopped at its node or edge bound")
    total: int = Field(description="Nodes in the whole walk (all pages)")
    next: str | None = Field(default=None, description="Cursor of the next page")


class Notify(Closed):
    owner: str
    distance: int = Field(description="Distance of the nearest asset it owns")
    assets: list[str]


class Impact(Closed):
    asset: str
    depth: int
    asOf: str | None = None
    nodes: list[ImpactNode]
    edges: list[LineageEdge]
    partial: bool
    total: int
    next: str | None = None
    notify: list[Notify] = Field(description="Owners to tell, nearest first")


class Run(Closed):
    id: str
    status: str | None
    startedAt: str | None
    endedAt: str | None
    durationS: float | None = Field(description="Seconds from start to end, when both are known")
    used: list[str] = Field(description="Datasets the run read (prov:used)")
    generated: list[str] = Field(description="Datasets the run wrote (prov:generated)")
    datasetVersions: dict[str, str] = Field(
        description="The version of each dataset it wrote, as its producer named it")


class Runs(Closed):
    job: str
    inputs: list[str] = Field(description="Datasets the job reads")
    outputs: list[str] = Field(description="Datasets the job writes")
    total: int
    runs: list[Run]
    next: str | None = None


class LineagePaths(Closed):
    from_: str = Field(alias="from")
    to: str
    level: Literal["table", "column"]
    partial: bool
    length: int | None = Field(description="Edges on the shortest path; null when none")
    paths: list[list[str]]


class LineageEdgeIn(Closed):
    source: str = Field(description="The asset the data comes from")
    target: str = Field(description="The asset derived from it")
    kind: Literal["identity", "transformation", "aggregation", "indirect"] | None = Field(
        default=None, description="As OpenLineage's column lineage: copied (identity), "
        "computed (transformation), aggregated, or only influenced (indirect: a filter or "
        "join key, along which classifications do not propagate); the edge is then exactly "
        "this kind")
    transformation: str | None = Field(default=None, description="How the target is "
                                       "computed: SQL or a description")


EDGE_BODY = request_body({"application/json": inline(LineageEdgeIn)},
                         "A lineage edge: target derived from source")


class OpenLineageEventIn(BaseModel):
    """An OpenLineage RunEvent, JobEvent or DatasetEvent (https://openlineage.io/spec); facets
    and keys beyond these are accepted as the spec allows."""

    model_config = ConfigDict(extra="allow")
    eventTime: str = Field(description="When it happened, ISO 8601 with a time and zone")
    eventType: Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"] | None = Field(
        default=None, description="A RunEvent's transition")
    producer: str | None = None
    schemaURL: str | None = None
    run: dict[str, Any] | None = Field(default=None, description='RunEvent: {"runId": UUID}')
    job: dict[str, Any] | None = Field(default=None, description='{"namespace", "name", '
                                                                 '"facets"}')
    dataset: dict[str, Any] | None = Field(default=None, description="DatasetEvent's dataset")
    inputs: list[dict[str, Any]] | None = None
    outputs: list[dict[str, Any]] | None = None


class OpenLineageResult(Closed):
    event: str = Field(description="What was read, e.g. RunEvent COMPLETE")
    pipeline: str | None = Field(default=None, description="The job's Pipeline asset")
    run: str | None = Field(default=None, description="The run's PipelineRun asset")
    datasets: list[str] = Field(description="The tables its datasets map onto")
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    warnings: list[str] = Field(description="What was not mapped (e.g. unknown owners)")


OPENLINEAGE_BODY = request_body({"application/json": inline(OpenLineageEventIn)},
                                "An OpenLineage event, as the openlineage-python client's "
                                "HTTP transport sends it")
