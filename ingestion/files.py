"""The files connector: CSV, JSON Lines and Parquet datasets in a folder tree (a local path or a
``file://`` URL; an object store mounted as a folder reads the same), schemas inferred by DuckDB.

    connector: files
    workspace: acme
    config:
      path: /data/lake                 # or file:///data/lake
      include: ["sales/*"]             # globs on paths relative to path (default: all)
      exclude: ["*/tmp/*"]
      formats: [csv, json, parquet]    # the default
      sample_rows: 20480               # rows DuckDB reads to infer CSV/JSON types

What it yields, all on ``platform/{platform}`` (default ``file``): a Database (``database``,
default: the folder's name), one Schema ``{database}.default`` (a folder tree has no schemas;
its sub-folders stay in the table's qualified name, so ids are the files' relative paths), and a
Table per dataset, ``{database}.default.{relative path}`` (``sales/orders.csv``; a hive
partitioned folder ``events/`` with ``year=2024/month=01/...`` below it is one Table
``events``), named after the file (``orders``) or the folder. A Table has ``rowCount``, its
size in bytes as ``dcat:byteSize`` and its format (``csv``, ``json``, ``parquet``) as
``dcterms:format``; a partitioned one has a ``partitions`` facet (keys, count of partitions,
values, files) in ``facets``. Its Columns (``{table}.{column}``) have ``dataType`` (DuckDB's
type), ``position``, ``nullable`` (Parquet's REQUIRED is not nullable; CSV and JSON declare
nothing, so nullable) and, for partition columns, ``facets`` ``{"partitionKey": true}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlparse

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from graph_store.errors import InputError
from graph_store.keys import encode_segment
from ingestion.connector import Record, RunContext
from ingestion.files_scan import EXTENSIONS, Dataset, describe, find_datasets
from ontology.namespaces import DCAT, DCTERMS

__all__ = ["BYTE_SIZE", "FORMAT", "FilesConfig", "FilesConnector"]

# DCAT's and DCTERMS' terms, written as full IRIs: the REST shape reads them back so, and a
# run replaces the keys the connector owns by their spelling
BYTE_SIZE = DCAT + "byteSize"
FORMAT = DCTERMS + "format"
SCHEMA = "default"
VALUES_SHOWN = 20  # partition values listed per key in the partitions facet

FormatName = Literal["csv", "json", "parquet"]
ALL_FORMATS: tuple[FormatName, ...] = ("csv", "json", "parquet")


class FilesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, description="The folder: a local path or a file:// URL.")
    database: str | None = Field(None, min_length=1, description="The Database asset's name "
                                 "(default: the folder's name).")
    platform: str = Field("file", pattern=r"^[a-z0-9][a-z0-9_-]*$",
                          description="Platform slug in ids.")
    include: list[str] = Field(default_factory=list, description="Only files whose path "
                               "relative to the folder matches one of these globs.")
    exclude: list[str] = Field(default_factory=list, description="Not files matching these.")
    formats: list[FormatName] = Field(default_factory=lambda: list(ALL_FORMATS),
                                      min_length=1, description="The formats read.")
    sample_rows: int = Field(20480, ge=1, le=10_000_000, description="Rows DuckDB samples to "
                             "infer CSV and JSON column types.")
    row_counts: bool = Field(True, description="Count rows (Parquet: from its metadata; CSV "
                             "and JSON: reads every file).")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if "://" in value and not value.startswith("file://"):
            raise ValueError("only a local path or a file:// URL; mount an object store as a "
                             "folder (s3fs, gcsfuse, blobfuse) and give its path")
        if value.startswith("file://"):
            url = urlparse(value)
            if url.netloc not in ("", "localhost"):
                raise ValueError("a file:// URL names this machine: file:///path or "
                                 "file://localhost/path")
        return value

    def root(self) -> Path:
        if self.path.startswith("file://"):
            return Path(unquote(urlparse(self.path).path))
        return Path(self.path).expanduser()

    def database_name(self) -> str:
        name = self.database or self.root().resolve().name
        if not name:
            raise InputError("config.database: the folder has no name (it is the root); set "
                             "database")
        return name


class FilesConnector:
    """CSV, JSON Lines and Parquet files in a folder: DuckDB schemas, sizes, rows, partitions."""

    name: ClassVar[str] = "files"
    config_model: ClassVar[type[BaseModel]] = FilesConfig
    # what the files say; descriptions, owners, tags and terms people add are kept
    owns: ClassVar[frozenset[str]] = frozenset({
        "type", "name", "qualifiedName", "workspace", "platform", "partOf", "dataType",
        "position", "nullable", "rowCount", "facets", BYTE_SIZE, FORMAT})

    def source(self, config: FilesConfig) -> str:
        """``platform/database``: the part of the id space its assets live in."""
        return f"{config.platform}/{config.database_name()}"

    def records(self, config: FilesConfig, context: RunContext) -> Iterator[Record]:
        root = config.root()
        if not root.exists():
            raise InputError(f"config.path: there is no {root}; give an existing folder")
        if not root.is_dir():
            raise InputError(f"config.path: {root} is a file, not a folder; give the folder "
                             "that holds it (and include: [its name])")
        try:
            datasets = find_datasets(root, formats=list(config.formats), include=config.include,
                                     exclude=config.exclude, warn=context.warn)
        except OSError as e:
            raise InputError(f"config.path: cannot read {root}: {e.strerror}") from None
        if not datasets:
            context.warn(f"{root}: no {', '.join(config.formats)} files found "
                         f"({', '.join(e for f in config.formats for e in EXTENSIONS[f])})")
        with duckdb.connect(":memory:") as conn:
            yield from _Writer(config, context, conn).read(datasets)


class _Writer:
    def __init__(self, config: FilesConfig, context: RunContext,
                 conn: duckdb.DuckDBPyConnection) -> None:
        self.config = config
        self.context = context
        self.conn = conn
        self.ws = context.workspace
        self.platform = config.platform
        self.database = config.database_name()

    def key(self, kind: str, qn: str) -> str:
        return f"{self.ws}/{kind}/{self.platform}/{encode_segment(qn)}"

    def asset(self, kind: str, qn: str, name: str, **extra: Any) -> Record:
        return {"type": kind, "name": name, "qualifiedName": qn, "workspace": self.ws,
                "platform": f"platform/{self.platform}",
                **{k: v for k, v in extra.items() if v is not None}}

    def read(self, datasets: list[Dataset]) -> Iterator[Record]:
        db = self.database
        sqn = f"{db}.{SCHEMA}"
        yield self.asset("Database", db, db)
        yield self.asset("Schema", sqn, SCHEMA, partOf=self.key("database", db))
        for dataset in datasets:
            yield from self.table(sqn, dataset)

    def table(self, sqn: str, dataset: Dataset) -> Iterator[Record]:
        tqn = f"{sqn}.{dataset.rel}"
        try:
            size: int | None = dataset.size
        except OSError as e:
            self.context.warn(f"{dataset.rel}: its size could not be read ({e.strerror})")
            size = None
        try:
            described = describe(self.conn, dataset, sample_rows=self.config.sample_rows,
                                 count_rows=self.config.row_counts)
            fields, rows = described.fields, described.rows
        except duckdb.Error as e:
            self.context.warn(f"{dataset.rel}: DuckDB cannot read it as {dataset.format} "
                              f"({_first_line(e)}); it is ingested without columns")
            fields, rows = [], None
        facets = None
        if dataset.partitions:
            facets = json.dumps({"partitions": {
                "keys": list(dataset.partitions), "count": dataset.partition_count,
                "files": len(dataset.files),
                "values": {k: v[:VALUES_SHOWN] for k, v in dataset.partitions.items()},
                "distinctValues": {k: len(v) for k, v in dataset.partitions.items()}}},
                sort_keys=True)
        yield self.asset("Table", tqn, dataset.name, partOf=self.key("schema", sqn),
                         rowCount=rows, facets=facets,
                         **{BYTE_SIZE: size, FORMAT: dataset.format})
        table_key = self.key("table", tqn)
        for position, f in enumerate(fields, start=1):
            yield self.asset("Column", f"{tqn}.{f.name}", f.name, partOf=table_key,
                             dataType=f.type, position=position, nullable=f.nullable,
                             facets='{"partitionKey": true}' if f.partition else None)


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
