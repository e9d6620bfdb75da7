"""The OpenMetadata connector: imports an OpenMetadata ``sample_data`` folder (the layout of
OpenMetadata's ``ingestion/examples/sample_data``: ``datasets/``, ``pipelines/``,
``dashboards/``, ``models/``, ``lineage/``, ``users/``, ``teams/``, ...) (issue 14,
"Migration from other catalogs").

    connector: openmetadata
    workspace: acme
    config:
      path: exports/sample_data/     # the folder
      platforms: {sample_data: postgres}   # optional: service name or type -> platform

Ids are the natural keys the SQL connector gives the same assets: the service is the platform
(its type: ``bigquery``, ``postgres``, ``mysql``, ...), the qualified name the fully qualified
name without the service (``ecommerce_db.shopify.dim_address``). What maps and what is kept
out is in ingestion/openmetadata_assets.py; every run ends with a few warning lines counting
both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from graph_store.errors import InputError
from ingestion.connector import Record, RunContext
from ingestion.openmetadata_assets import OmMapper
from ingestion.openmetadata_entities import mapped_records

__all__ = ["OpenMetadataConfig", "OpenMetadataConnector", "SampleData"]

# files read, by the key that holds their list (None: the file is one entity or a list)
READ = {"pipelines/service.json": None, "pipelines/pipelines.json": "pipelines",
        "pipelines/tasks.json": "tasks", "pipelines/pipelineStatus.json": None,
        "dashboards/service.json": None, "dashboards/dashboards.json": "dashboards",
        "dashboards/charts.json": "charts", "models/service.json": None,
        "models/models.json": None, "users/users.json": "users", "teams/teams.json": "teams",
        "lineage/lineage.json": None, "profiler/tableProfile.json": "profiles"}
# files counted and reported, not imported: what the ontology has no class for
QUALITY = "data-quality checks are not mapped yet"
NOT_READ = {"topics/topics.json": ("topics", "topics (no Topic class)"),
            "locations/locations.json": ("locations", "storage locations (no Location class)"),
            "tests/testSuites.json": ("tests", f"test suites ({QUALITY})"),
            "tests/testCaseResults.json": (None, f"test case results ({QUALITY})"),
            "datasets/tableTests.json": (None, f"table tests ({QUALITY})")}


class OpenMetadataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Path = Field(description="An OpenMetadata sample_data folder (datasets/, pipelines/, "
                       "dashboards/, models/, lineage/, users/, teams/, ...).")
    platforms: dict[str, str] = Field(
        default_factory=dict, description="An OpenMetadata service (by name or by type) -> "
        "the catalog platform its assets go to (default: the service type, lower-cased; "
        "mariadb as mysql).")


class OpenMetadataConnector:
    """OpenMetadata sample data: databases, tables, columns, lineage, pipelines, dashboards,
    ML models, users, teams, glossaries."""

    name: ClassVar[str] = "openmetadata"
    config_model: ClassVar[type[BaseModel]] = OpenMetadataConfig
    owns: ClassVar[frozenset[str]] = frozenset({
        "type", "name", "qualifiedName", "workspace", "platform", "partOf", "description",
        "dataType", "position", "nullable", "primaryKey", "references", "rowCount",
        "nullFraction", "distinctCount", "derivedFrom", "transformation", "consumes",
        "produces", "owners", "tags", "terms", "runOf", "status", "startedAt"})

    def source(self, config: OpenMetadataConfig) -> str:
        """The folder's name: the same export read from elsewhere is the same source."""
        return config.path.name or str(config.path)

    def records(self, config: OpenMetadataConfig, context: RunContext) -> Iterator[Record]:
        data = SampleData.read(config.path)  # everything is read before anything is written
        yield from mapped_records(OmMapper(data, config.platforms, context))


class SampleData:
    """The folder's files, parsed and checked for the shape they need."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, Any] = {}
        self.databases: list[dict[str, Any]] = []  # per database folder: service, db, schema, tables
        self.thesauruses: list[tuple[str, list[dict[str, Any]]]] = []
        self.not_read: dict[str, int] = {}
        self.other: list[str] = []

    @classmethod
    def read(cls, root: Path) -> SampleData:
        if not root.is_dir():
            raise InputError(f"config.path: {root} is not a folder; give OpenMetadata's "
                             "sample_data folder (datasets/, pipelines/, dashboards/, ...)")
        data = cls(root)
        for rel, key in READ.items():
            if (root / rel).is_file():
                data.files[rel] = data.load(rel, key)
        for folder in sorted(p for p in root.iterdir() if (p / "tables.json").is_file()):
            data.databases.append(data.database(folder))
        for file in sorted((root / "thesauruses").glob("*.json")):
            doc = data.load(str(file.relative_to(root)), None)
            if not isinstance(doc, list):
                raise InputError(f"{file.name}: a SKOS thesaurus is a JSON-LD list of concepts")
            data.thesauruses.append((file.stem, doc))
        for rel, (key, what) in NOT_READ.items():
            if (root / rel).is_file():
                doc = data.load(rel, key)
                data.not_read[what] = len(doc) if isinstance(doc, list) else 1
        if (root / "dbt").is_dir():
            data.other.append("dbt/ (dbt artifacts: read them with the dbt connector)")
        for log in sorted(root.glob("*/query_log*")):
            data.other.append(f"{log.relative_to(root)} (query logs)")
        if not data.files and not data.databases:
            raise InputError(f"config.path: {root} holds no OpenMetadata sample data (looked "
                             "for datasets/tables.json, pipelines/pipelines.json, "
                             "dashboards/dashboards.json, ...); nothing was ingested")
        return data

    def load(self, rel: str, key: str | None) -> Any:
        path = self.root / rel
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise InputError(f"cannot read {rel}: {e.strerror}") from None
        except ValueError as e:
            raise InputError(f"{rel} is not valid JSON ({e}); nothing was ingested",
                             line=getattr(e, "lineno", None)) from None
        if key is not None:
            if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
                raise InputError(f"{rel}: expected an object with a list '{key}' (OpenMetadata "
                                 "sample data); nothing was ingested")
            doc = doc[key]
        bad = next((i for i, x in enumerate(doc if isinstance(doc, list) else [doc])
                    if not isinstance(x, dict)), None)
        if bad is not None:
            raise InputError(f"{rel}: entry {bad + 1} is not a JSON object; nothing was "
                             "ingested")
        return doc

    def database(self, folder: Path) -> dict[str, Any]:
        rel = folder.name
        service_file = next((f for f in ("service.json", "database_service.json")
                             if (folder / f).is_file()), None)
        service = self.load(f"{rel}/{service_file}", None) if service_file else {}
        db = self.load(f"{rel}/database.json", None) if (folder / "database.json").is_file() \
            else {}
        schema = self.load(f"{rel}/database_schema.json", None) \
            if (folder / "database_schema.json").is_file() else {}
        for what, doc in (("service", service), ("database", db), ("database_schema", schema)):
            if not isinstance(doc, dict):
                raise InputError(f"{rel}: the {what} file holds one object")
        return {"folder": rel, "service": service, "database": db, "schema": schema,
                "tables": self.load(f"{rel}/tables.json", "tables")}
