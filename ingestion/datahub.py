"""The DataHub connector: imports DataHub's metadata files, MetadataChangeEvents and
MetadataChangeProposals as JSON (what ``datahub`` file sinks and the examples write), and
business glossary YAML (issue 14, "Migration from other catalogs").

    connector: datahub
    workspace: acme
    config:
      path: exports/datahub/             # a .json or .yml file, or a folder of them
      platform_instance: {prod_pg: postgres}  # optional: instance -> platform in the catalog
      platforms: {postgresql: postgres}  # optional: DataHub platform -> platform in the catalog
      env: PROD                          # optional: only entities of this environment

Ids are the natural keys the SQL connector gives the same assets
(``{workspace}/{kind}/{platform}/{qualifiedName}``, the qualified name being the dataset's name
in its URN), so that an import and a later ``sql`` run over the same warehouse describe the
same tables. What maps, and what is kept out, is in ingestion/datahub_assets.py; every run
ends with a few warning lines counting both per aspect.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field

from graph_store.errors import InputError
from ingestion.connector import Record, RunContext
from ingestion.datahub_assets import Export, Mapper
from ingestion.datahub_entities import mapped_records
from ingestion.datahub_mapping import plain

__all__ = ["DataHubConfig", "DataHubConnector", "read_export"]

SUFFIXES = (".json", ".yml", ".yaml")


class DataHubConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Path = Field(description="A DataHub metadata file (MCE/MCP JSON, business glossary "
                       "YAML) or a folder of them (*.json, *.yml, *.yaml; other files are "
                       "ignored).")
    platform_instance: dict[str, str] = Field(
        default_factory=dict, description="A DataHub platform instance -> the catalog platform "
        "its assets go to; the instance's prefix is dropped from their qualified names.")
    platforms: dict[str, str] = Field(
        default_factory=dict, description="A DataHub platform -> the catalog's name for it "
        "(postgresql -> postgres and mariadb -> mysql are built in, as the sql connector "
        "names them).")
    env: str | None = Field(None, description="Only entities of this environment (PROD, DEV); "
                            "default: all.")


class DataHubConnector:
    """DataHub metadata files: datasets, schemas, lineage, owners, tags, glossary, pipelines,
    dashboards, ML models."""

    name: ClassVar[str] = "datahub"
    config_model: ClassVar[type[BaseModel]] = DataHubConfig
    owns: ClassVar[frozenset[str]] = frozenset({
        "type", "name", "qualifiedName", "workspace", "platform", "partOf", "description",
        "dataType", "position", "nullable", "primaryKey", "references", "rowCount",
        "nullFraction", "distinctCount", "derivedFrom", "copiedFrom", "transformedFrom",
        "aggregatedFrom", "influencedBy", "consumes", "produces", "owners", "tags", "terms"})

    def source(self, config: DataHubConfig) -> str:
        """The file's or folder's name: the same export read from elsewhere is the same source."""
        return config.path.name or str(config.path)

    def records(self, config: DataHubConfig, context: RunContext) -> Iterator[Record]:
        export = read_export(config.path, context)  # everything is read before anything is written
        yield from mapped_records(Mapper(export, config, context))


def read_export(path: Path, context: RunContext) -> Export:
    """Every file of ``path``, parsed; InputError naming the file (and record) that is not
    DataHub metadata."""
    export = Export()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in SUFFIXES)
        if not files:
            raise InputError(f"config.path: {path} holds no .json, .yml or .yaml file")
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"config.path: {path} is neither a file nor a folder")
    for file in files:
        _read_file(file, export, context, explicit=not path.is_dir())
    return export


def _read_file(file: Path, export: Export, context: RunContext, *, explicit: bool) -> None:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read {file}: {getattr(e, 'strerror', None) or e}") from None
    if file.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as e:
            line = getattr(e, "lineno", None)
            raise InputError(f"{file.name} is not valid JSON ({e}); nothing was ingested",
                             line=line) from None
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            _read_record(item, export, f"{file.name}, record {i + 1}")
        return
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(f"{file.name} is not valid YAML"
                         f"{f' (line {mark.line + 1})' if mark else ''}; nothing was ingested",
                         line=mark.line + 1 if mark else None) from None
    if isinstance(doc, dict) and isinstance(doc.get("nodes") or doc.get("terms"), list):
        export.glossaries.append((file.name, doc))
    elif explicit:
        raise InputError(f"{file.name} is no DataHub business glossary (a mapping with nodes "
                         "or terms); give MCE/MCP JSON or a business glossary")
    else:
        context.warn(f"{file.name}: not a business glossary (lineage and other YAML files "
                     "are not read); skipped")


def _read_record(item: Any, export: Export, where: str) -> None:
    if not isinstance(item, dict):
        raise InputError(f"{where}: a DataHub record is a JSON object, got "
                         f"{type(item).__name__}; nothing was ingested")
    snapshot = item.get("proposedSnapshot")
    if isinstance(snapshot, dict) and len(snapshot) == 1:
        (_, body), = snapshot.items()
        urn, aspects = (body or {}).get("urn"), (body or {}).get("aspects")
        if not isinstance(urn, str) or not isinstance(aspects, list):
            raise InputError(f"{where}: a MetadataChangeEvent snapshot needs urn and aspects")
        for aspect in aspects:
            if not isinstance(aspect, dict) or len(aspect) != 1:
                raise InputError(f"{where}: each aspect is an object with one key, its class")
            (cls, value), = aspect.items()
            export.aspect(urn, aspect_name(cls), plain(value))
        return
    urn, name = item.get("entityUrn"), item.get("aspectName")
    if isinstance(urn, str) and isinstance(name, str) and "entityType" in item:
        if str(item.get("changeType", "UPSERT")).upper() not in ("UPSERT", "CREATE", "UPDATE"):
            return  # DELETE, PATCH: nothing to import
        aspect = item.get("aspect") or {}
        value = aspect.get("json") if "json" in aspect else aspect.get("value")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise InputError(f"{where}: the aspect value of {name} is not JSON") from None
        export.aspect(urn, name, value)
        return
    raise InputError(f"{where}: neither a MetadataChangeEvent (proposedSnapshot) nor a "
                     "MetadataChangeProposal (entityType, entityUrn, aspectName); is this a "
                     "DataHub metadata file? Nothing was ingested")


def aspect_name(cls: str) -> str:
    """An MCE aspect class as the MCP aspect name: ``...common.Ownership`` -> ``ownership``,
    ``MLModelProperties`` -> ``mlModelProperties``."""
    short = cls.rsplit(".", 1)[-1]
    upper = len(short) - len(short.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    cut = upper - 1 if upper > 1 else 1
    return short[:cut].lower() + short[cut:]
