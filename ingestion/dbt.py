"""The dbt connector: a dbt project's models, seeds, snapshots, sources, exposures and tests,
read from the artifacts dbt writes (manifest.json; catalog.json and run_results.json when
present), for every manifest schema from v1 (dbt 0.19) to v12. dbt itself is not needed.

    connector: dbt
    workspace: acme
    config:
      target_dir: /srv/shop/target        # manifest.json, catalog.json, run_results.json
      owners: {ana@example.com: user/ana}  # optional: dbt owners -> catalog users/teams

What it yields, on ``platform/{platform}`` (default: the manifest's adapter, e.g. postgres):
the Databases and Schemas the nodes name, a Table or View per relation (``db.schema.name``,
keyed as the SQL connector keys what it inspects, so a dbt run and a SQL run over the same
warehouse describe the same assets: description, the model's SQL as ``transformation``,
``derivedFrom`` the relations it depends on, ``meta`` owners, tags), their Columns (docs from
the manifest, types and positions from catalog.json, column lineage parsed from compiled SQL),
exposures as Dashboards (or ML models) on ``platform/dbt`` derived from what they depend on, and
tests as QualityAssertions with their last result from run_results.json.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph_store.errors import InputError
from ingestion.connector import Record, RunContext
from ingestion.dbt_artifacts import load
from ingestion.dbt_assets import Builder

__all__ = ["DbtConfig", "DbtConnector"]

# dbt adapter -> the platform slug the SQL connector gives the same database
PLATFORMS: Final = {"sqlserver": "mssql", "mariadb": "mysql"}


class DbtConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_dir: Path | None = Field(None, description="dbt's target folder: manifest.json, and "
                                    "catalog.json and run_results.json when they are there.")
    manifest: Path | None = Field(None, description="The manifest, if not target_dir's.")
    catalog: Path | None = Field(None, description="The catalog (column types), if not "
                                 "target_dir's; required to exist when given.")
    run_results: Path | None = Field(None, description="The run results (test outcomes), if not "
                                     "target_dir's; required to exist when given.")
    platform: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                                 description="Platform slug (default: the manifest's adapter).")
    column_lineage: bool = Field(True, description="Parse compiled SQL for column lineage.")
    tests: bool = Field(True, description="Ingest tests as quality assertions.")
    owners: dict[str, str] = Field(default_factory=dict, description="dbt owner names or e-mails "
                                   "-> catalog ids (user/ana, team/finance).")

    @model_validator(mode="after")
    def _where(self) -> DbtConfig:
        if self.target_dir is None and self.manifest is None:
            raise ValueError("give target_dir (dbt's target folder) or manifest (its path)")
        return self

    def manifest_path(self) -> Path:
        if self.manifest is not None:
            return self.manifest
        assert self.target_dir is not None
        return self.target_dir / "manifest.json"

    def paths(self) -> tuple[Path, Path | None, Path | None]:
        """The manifest, and the catalog and run results to read (None: not there)."""
        target = self.target_dir

        def optional(given: Path | None, name: str) -> Path | None:
            if given is not None or target is None:
                return given
            return target / name if (target / name).is_file() else None

        return self.manifest_path(), optional(self.catalog, "catalog.json"), \
            optional(self.run_results, "run_results.json")


class DbtConnector:
    """dbt artifacts: models, seeds, snapshots, sources, columns, lineage, exposures, tests."""

    name: ClassVar[str] = "dbt"
    config_model: ClassVar[type[BaseModel]] = DbtConfig
    # what dbt says; owners and tags it declares replace those of the asset, and where it
    # declares none the asset keeps those people gave it (they are not owned)
    owns: ClassVar[frozenset[str]] = frozenset({
        "type", "name", "qualifiedName", "workspace", "platform", "partOf", "description",
        "dataType", "position", "transformation", "derivedFrom", "copiedFrom", "transformedFrom",
        "aggregatedFrom", "influencedBy", "assertsOn", "assertionType", "lastResult",
        "lastEvaluatedAt", "failureCount"})

    def source(self, config: DbtConfig) -> str:
        """The manifest's absolute path (a run config's ``name`` gives a steadier one)."""
        return os.path.abspath(config.manifest_path())

    def records(self, config: DbtConfig, context: RunContext) -> Iterator[Record]:
        # everything is read and checked before the first record: a bad file writes nothing
        manifest = config.manifest_path()
        artifacts = load(*config.paths())
        adapter = artifacts.adapter
        platform = config.platform or PLATFORMS.get(adapter or "", adapter or "")
        if not platform:
            raise InputError(f"{manifest.name} names no adapter (metadata.adapter_type); set "
                             "config.platform to the warehouse's platform, e.g. postgres")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", platform):
            raise InputError(f"{manifest.name}: the adapter {adapter!r} is no platform slug; set "
                             "config.platform, e.g. postgres")
        yield from Builder(artifacts, context=context, platform=platform,
                           lineage=config.column_lineage, tests=config.tests,
                           owners=config.owners).records()
