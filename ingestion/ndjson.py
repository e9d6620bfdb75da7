"""The batch connector: a file of assets in the REST JSON shape, one per line (NDJSON).

It is how a large export (a million assets from another system, a generated schema) comes in
with everything a run gives: batches through the same write path as REST, progress, removal of
what the file no longer has, and ``--resume`` after an interruption. The file is streamed, so
memory does not grow with it; ``.gz`` files are read compressed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from graph_store.errors import InputError
from ingestion.connector import Record, RunContext

__all__ = ["NdjsonConfig", "NdjsonConnector"]

SHOWN = 5  # bad lines named in the error


class NdjsonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Path = Field(description="The file: one JSON object per line, as POST "
                       "/api/v1/assets takes it; .gz is read compressed")


class NdjsonConnector:
    """Assets from a file of JSON objects, one per line (NDJSON, optionally gzipped)."""

    name: ClassVar[str] = "ndjson"
    config_model: ClassVar[type[BaseModel]] = NdjsonConfig

    def source(self, config: NdjsonConfig) -> str:
        return config.path.name.removesuffix(".gz")

    def records(self, config: NdjsonConfig, context: RunContext) -> Iterator[Record]:
        """Each line's object; blank lines are skipped. A line that is not a JSON object ends
        the run as not read to its end once the file is through (the good lines are written,
        nothing is removed: a corrupt line must not remove the asset it held)."""
        bad: list[str] = []
        number = 0
        try:
            with _open(config.path) as f:
                for number, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except ValueError as e:
                        bad.append(f"line {number}: not JSON ({e})")
                        continue
                    if not isinstance(record, dict):
                        bad.append(f"line {number}: a JSON {type(record).__name__}, not an "
                                   "object")
                        continue
                    yield record
        except (OSError, EOFError, UnicodeDecodeError) as e:  # a truncated or binary file
            raise InputError(f"{config.path.name} cannot be read past line {number}: "
                             f"{e}") from None
        if bad:
            more = f", and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
            raise InputError(f"{len(bad)} lines of {config.path.name} are not assets: "
                             f"{'; '.join(bad[:SHOWN])}{more}")


def _open(path: Path) -> IO[str]:
    try:
        if path.suffix == ".gz":
            return gzip.open(path, "rt", encoding="utf-8")
        return path.open(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
