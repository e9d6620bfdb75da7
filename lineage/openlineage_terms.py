"""How the parts of an OpenLineage event map onto catalog terms: platforms from namespaces,
times, column-edge kinds, per-run facets, and the digest that recognises a repeated event."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from dateutil.parser import isoparse
from openlineage.client.generated.base import Dataset

PLATFORM_ALIASES: Final = {"postgresql": "postgres", "awsathena": "athena", "sqlserver": "mssql",
                           "gs": "gcs", "s3a": "s3", "s3n": "s3", "abfss": "azure",
                           "wasbs": "azure"}
UNKNOWN_TYPE: Final = "UNKNOWN"  # a column's type until a schema facet says it (shapes want one)
KNOWN_EVENTS: Final = 4096  # events' static parts remembered (least recently written dropped)
RUN_FIELDS: Final = frozenset({"run", "eventTime", "eventType", "producer", "schemaURL"})
PER_RUN: Final = frozenset({"version"})  # dataset facets that describe one run's output
DIALECTS: Final = {"mssql": "tsql"}  # sqlglot's name, where it is not the platform's


def platform_of(namespace: str) -> str:
    """``postgres://host:5432`` → ``postgres``; ``bigquery`` → ``bigquery``."""
    scheme = namespace.split("://", 1)[0] if "://" in namespace else namespace.split(":", 1)[0]
    slug = "".join(c for c in scheme.lower() if c.isalnum() or c in "-_") or "openlineage"
    return PLATFORM_ALIASES.get(slug, slug)


def authority(namespace: str) -> str:
    rest = namespace.split("://", 1)[1] if "://" in namespace else namespace
    return rest.split("/", 1)[0] or namespace


def instant(text: str) -> datetime:
    moment = isoparse(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stamp(moment: datetime) -> str:
    frac = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def per_dataset(*groups: tuple[str, Sequence[Any], Sequence[str]]) -> dict[str, Any]:
    """A run's input and output facets (statistics, quality metrics), by dataset id."""
    out: dict[str, Any] = {}
    for field, datasets, keys in groups:
        found = {key: facets for d, key in zip(datasets, keys, strict=True)
                 if (facets := getattr(d, field, None))}
        if found:
            out[field] = found
    return out


def dataset_version(d: Dataset) -> str | None:
    """The dataset version a run wrote (the ``version`` facet), which links data to runs."""
    facet: Any = (d.facets or {}).get("version")
    found = facet.get("datasetVersion") if isinstance(facet, dict) else None
    return found if isinstance(found, str) else None


def as_list(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Known:
    """What an event's job and datasets wrote, and the versions they were left at."""
    pipeline: str | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    versions: dict[str, int]


def static_digest(body: dict[str, Any], actor: str) -> str:
    """A digest of what an event says beyond its run (job, datasets, their facets): producers
    repeat it on every run, and a repeat while its assets are unchanged writes only the run.
    The caller is part of it: what it may read decides what an event maps onto."""
    static = {k: v for k, v in body.items() if k not in RUN_FIELDS}
    for side in ("inputs", "outputs"):
        if isinstance(body.get(side), list):
            static[side] = [{k: (_drop(v, PER_RUN) if k == "facets" else v)
                             for k, v in d.items() if k not in ("inputFacets", "outputFacets")}
                            if isinstance(d, dict) else d for d in body[side]]
    text = json.dumps([actor, static], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _drop(value: Any, keys: frozenset[str]) -> Any:
    return {k: v for k, v in value.items() if k not in keys} if isinstance(value, dict) \
        else value


