"""The files connector's two halves below its records: finding the datasets in a folder tree
(one per file, one per hive-partitioned folder) and describing each with DuckDB (schema,
nullability, row count). Nothing here writes to the catalog.
"""

from __future__ import annotations

import fnmatch
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import duckdb

__all__ = ["EXTENSIONS", "Dataset", "Described", "Field", "describe", "find_datasets"]

# format -> the file name endings it reads (DuckDB decompresses .gz by itself)
EXTENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "csv": (".csv", ".tsv", ".csv.gz", ".tsv.gz"),
    "json": (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz"),
    "parquet": (".parquet", ".pq"),
}
HIVE_NULL: Final = "__HIVE_DEFAULT_PARTITION__"


@dataclass
class Dataset:
    """One table's files: a single file, or every file under a hive-partitioned folder."""

    rel: str  # the path relative to the root, posix: "sales/orders.csv", "events"
    name: str  # "orders", "events"
    format: str
    files: list[Path]
    partitions: dict[str, list[str]] = field(default_factory=dict)  # key -> sorted values
    partition_count: int = 0  # distinct partition folders holding files

    @property
    def size(self) -> int:
        return sum(f.stat().st_size for f in self.files)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nullable: bool
    partition: bool = False


@dataclass(frozen=True)
class Described:
    fields: list[Field]
    rows: int | None


def file_format(name: str, formats: Iterable[str]) -> tuple[str, str] | None:
    """(format, name without its ending) for a file of one of ``formats``, else None."""
    lower = name.lower()
    for fmt in formats:
        for end in sorted(EXTENSIONS[fmt], key=len, reverse=True):
            if lower.endswith(end) and len(name) > len(end):
                return fmt, name[: -len(end)]
    return None


def _hidden(name: str) -> bool:
    """Spark, Hadoop and editor leftovers: _SUCCESS, _delta_log, .crc files, .git."""
    return name.startswith((".", "_"))


def _partition(name: str) -> tuple[str, str] | None:
    key, eq, value = name.partition("=")
    return (key, value) if eq and key and not _hidden(name) else None


def _chosen(rel: str, include: list[str], exclude: list[str]) -> bool:
    if include and not any(fnmatch.fnmatchcase(rel, p) for p in include):
        return False
    return not any(fnmatch.fnmatchcase(rel, p) for p in exclude)


def find_datasets(root: Path, *, formats: list[str], include: list[str], exclude: list[str],
                  warn: Callable[[str], None]) -> list[Dataset]:
    """The datasets under ``root``, sorted by relative path. A folder with ``key=value``
    sub-folders is one partitioned dataset of the files below them; every other file of a
    chosen format is a dataset of its own. ``include``/``exclude`` are globs on each file's
    relative path."""
    found: list[Dataset] = []
    visited: set[Path] = set()  # real paths: a symbolic link back up the tree is read once

    def walk(folder: Path) -> None:
        real = folder.resolve()
        if real in visited:
            return
        visited.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            warn(f"{folder}: cannot list it ({err.strerror}); skipped")
            return
        parts = [e for e in entries if e.is_dir() and _partition(e.name)]
        if parts:
            partitioned(folder, parts)
        taken = {e.name for e in parts}
        for entry in entries:
            if _hidden(entry.name) or entry.name in taken:
                continue
            if entry.is_dir():
                walk(Path(entry.path))
            elif entry.is_file():
                single(Path(entry.path))

    def relative(path: Path) -> str:
        return path.relative_to(root).as_posix()

    def single(path: Path) -> None:
        kind = file_format(path.name, formats)
        rel = relative(path)
        if kind is not None and _chosen(rel, include, exclude):
            found.append(Dataset(rel, kind[1], kind[0], [path]))

    def partitioned(folder: Path, parts: list[os.DirEntry[str]]) -> None:
        by_format: dict[str, list[Path]] = {}
        leaves: set[tuple[tuple[str, str], ...]] = set()
        values: dict[str, set[str]] = {}
        stack: list[tuple[Path, tuple[tuple[str, str], ...]]] = [
            (Path(p.path), ((_partition(p.name) or ("", "")),)) for p in parts]
        while stack:
            here, keys = stack.pop()
            for entry in sorted(os.scandir(here), key=lambda x: x.name):
                if _hidden(entry.name):
                    continue
                kv = _partition(entry.name)
                if entry.is_dir() and kv:
                    stack.append((Path(entry.path), (*keys, kv)))
                elif entry.is_file():
                    kind = file_format(entry.name, formats)
                    if kind is None or not _chosen(relative(Path(entry.path)), include, exclude):
                        continue
                    by_format.setdefault(kind[0], []).append(Path(entry.path))
                    leaves.add(keys)
                    for k, v in keys:
                        values.setdefault(k, set()).add(v)
        if not by_format:
            return
        rel = relative(folder)
        counts = Counter({f: len(paths) for f, paths in by_format.items()})
        fmt = counts.most_common(1)[0][0]
        if len(by_format) > 1:
            others = ", ".join(f"{n} {f}" for f, n in sorted(counts.items()) if f != fmt)
            warn(f"{rel}: a partitioned dataset of {fmt} files also holds {others} files; "
                 "only its " + fmt + " files were read")
        found.append(Dataset(rel, folder.name, fmt, sorted(by_format[fmt]),
                             {k: sorted(v) for k, v in values.items()}, len(leaves)))

    walk(root)
    return sorted(found, key=lambda d: d.rel)


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _reader(dataset: Dataset, sample_rows: int) -> str:
    files = "[" + ", ".join(_literal(f) for f in dataset.files) + "]"
    hive = f", hive_partitioning = {'true' if dataset.partitions else 'false'}"
    if len(dataset.files) > 1:  # files written at different times may differ in columns
        hive += ", union_by_name = true"
    if dataset.format == "csv":
        return f"read_csv_auto({files}, sample_size = {sample_rows}{hive})"
    if dataset.format == "json":
        return f"read_json_auto({files}, sample_size = {sample_rows}{hive})"
    return f"read_parquet({files}{hive})"


def describe(conn: duckdb.DuckDBPyConnection, dataset: Dataset, *, sample_rows: int,
             count_rows: bool) -> Described:
    """The dataset's columns as DuckDB infers them (``DESCRIBE``), the partition columns
    flagged, and its row count. Parquet columns are nullable unless every file declares them
    REQUIRED; CSV and JSON columns are nullable (the formats declare nothing). Raises
    ``duckdb.Error`` for files DuckDB cannot read."""
    reader = _reader(dataset, sample_rows)
    rows = conn.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    required = _required(conn, dataset) if dataset.format == "parquet" else set()
    fields = [Field(str(name), str(kind), str(name) not in required,
                    partition=str(name) in dataset.partitions)
              for name, kind, *_ in rows]
    count = None
    if count_rows:
        result = conn.execute(f"SELECT count(*) FROM {reader}").fetchone()
        count = int(result[0]) if result else 0
    return Described(fields, count)


def _required(conn: duckdb.DuckDBPyConnection, dataset: Dataset) -> set[str]:
    """The top-level columns every file of a Parquet dataset declares REQUIRED (walking the
    flattened schema tree that ``parquet_schema`` returns, root first, depth first)."""
    files = "[" + ", ".join(_literal(f) for f in dataset.files) + "]"
    rows = conn.execute("SELECT file_name, name, repetition_type, num_children "
                        f"FROM parquet_schema({files})").fetchall()
    per_file: dict[str, set[str]] = {}
    seen: dict[str, set[str]] = {}
    pending: dict[str, list[int]] = {}  # file -> children left at each open level
    for file, name, repetition, children in rows:
        stack = pending.get(file)
        if stack is None:  # the file's root
            pending[file] = [int(children or 0)]
            per_file[file], seen[file] = set(), set()
            continue
        top = len(stack) == 1
        stack[-1] -= 1
        if top:
            seen[file].add(str(name))
            if repetition == "REQUIRED":
                per_file[file].add(str(name))
        if children:
            stack.append(int(children))
        while stack and stack[-1] == 0 and len(stack) > 1:
            stack.pop()
    if not per_file:
        return set()
    everywhere = set.intersection(*per_file.values())
    return {n for n in everywhere if all(n in s for s in seen.values())}
