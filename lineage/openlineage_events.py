"""Reading OpenLineage events into the ``openlineage-python`` package's own generated classes.

The package has no deserialiser (its ``Serde`` only writes), so ``structure`` walks the attrs
classes it generates from the spec: each field's declared type (str, int, bool, enums, lists,
dicts, nested classes, optional) is checked against the JSON, required fields must be there,
and the classes' own validators then run (``eventTime`` is ISO 8601 with a time, ``runId`` a
UUID). Facets the catalog maps are structured into their generated classes; other facets are
kept as plain JSON objects. Keys the spec does not name are ignored, as the spec allows.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from functools import cache
from typing import Any, Final

import attr
from openlineage.client.generated.base import (
    Dataset,
    DatasetEvent,
    Job,
    JobEvent,
    RunEvent,
)
from openlineage.client.generated.column_lineage_dataset import ColumnLineageDatasetFacet
from openlineage.client.generated.documentation_dataset import DocumentationDatasetFacet
from openlineage.client.generated.documentation_job import DocumentationJobFacet
from openlineage.client.generated.ownership_dataset import OwnershipDatasetFacet
from openlineage.client.generated.ownership_job import OwnershipJobFacet
from openlineage.client.generated.schema_dataset import SchemaDatasetFacet
from openlineage.client.generated.sql_job import SQLJobFacet
from openlineage.client.generated.symlinks_dataset import SymlinksDatasetFacet

from graph_store.errors import InputError

__all__ = ["Event", "parse_event"]

Event = RunEvent | JobEvent | DatasetEvent

DATASET_FACETS: Final[dict[str, type]] = {
    "schema": SchemaDatasetFacet, "columnLineage": ColumnLineageDatasetFacet,
    "documentation": DocumentationDatasetFacet, "ownership": OwnershipDatasetFacet,
    "symlinks": SymlinksDatasetFacet}
JOB_FACETS: Final[dict[str, type]] = {
    "sql": SQLJobFacet, "documentation": DocumentationJobFacet, "ownership": OwnershipJobFacet}
FACET_FIELDS: Final = frozenset({"facets", "inputFacets", "outputFacets"})


def parse_event(body: Any) -> Event:
    """A RunEvent (it has ``run``), a DatasetEvent (``dataset``) or a JobEvent (``job``)."""
    if not isinstance(body, dict):
        raise InputError("an OpenLineage event is a JSON object (a RunEvent, JobEvent or "
                         "DatasetEvent); see https://openlineage.io/spec")
    cls: type
    if "run" in body:
        cls = RunEvent
    elif "dataset" in body:
        cls = DatasetEvent
    elif "job" in body:
        cls = JobEvent
    else:
        raise InputError("not an OpenLineage event: a RunEvent has run, job and eventType, a "
                         "JobEvent job, a DatasetEvent dataset")
    if cls is RunEvent and body.get("eventType") is None:
        raise InputError("event.eventType is missing: START, RUNNING, COMPLETE, ABORT, FAIL "
                         "or OTHER")
    event: Event = _structure(cls, body, "event")
    return event


def _fail(where: str, expected: str, value: Any) -> InputError:
    got = "null" if value is None else type(value).__name__
    return InputError(f"{where} must be {expected}, got {got}"
                      + (f" {value!r}" if isinstance(value, str | int | float) else ""))


_SCALARS: Final[dict[type, str]] = {str: "a string", int: "an integer", float: "a number",
                                    bool: "true or false"}


def _structure(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _structure(inner[0], value, where)
    if tp is Any:
        return value
    if origin is list:
        if not isinstance(value, list):
            raise _fail(where, "a list", value)
        (item,) = typing.get_args(tp)
        return [_structure(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(where, "an object", value)
        item = typing.get_args(tp)[1]
        return {k: _structure(item, v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError:
            raise _fail(where, "one of " + ", ".join(str(m.value) for m in tp), value) from None
    if tp in _SCALARS:
        ok = (isinstance(value, tp) and not (tp is int and isinstance(value, bool))) or \
            (tp is float and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            raise _fail(where, _SCALARS[tp], value)
        return value
    if isinstance(tp, type) and attr.has(tp):
        return _attrs(tp, value, where)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _attrs(cls: type, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise _fail(where, "an object", value)
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in attr.fields(cls):
        if not f.init or f.name.startswith("_"):  # _producer, _schemaURL, _deleted
            continue
        if f.name not in value:
            if f.default is attr.NOTHING:
                raise InputError(f"{where}.{f.name} is missing")
            continue
        v = value[f.name]
        kwargs[f.alias or f.name] = _facets(cls, f.name, v, f"{where}.{f.name}") \
            if f.name in FACET_FIELDS else _structure(hints[f.name], v, f"{where}.{f.name}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError, OverflowError) as e:
        for f in attr.fields(cls):  # name the field whose validator refused it
            if f.validator is not None and (f.alias or f.name) in kwargs:
                try:
                    f.validator(None, f, kwargs[f.alias or f.name])
                except (ValueError, TypeError, OverflowError):
                    raise InputError(f"{where}.{f.name}: {e}") from e
        raise InputError(f"{where}: {e}") from e


def _facets(owner: type, field: str, value: Any, where: str) -> dict[str, Any] | None:
    """Known facets as their generated classes, others as the JSON objects they are."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(where, "an object of facets", value)
    known = DATASET_FACETS if field == "facets" and issubclass(owner, Dataset) else \
        JOB_FACETS if field == "facets" and issubclass(owner, Job) else {}
    out: dict[str, Any] = {}
    for name, facet in value.items():
        if not isinstance(facet, dict):
            raise _fail(f"{where}.{name}", "an object", facet)
        out[name] = _attrs(known[name], facet, f"{where}.{name}") if name in known else facet
    return out
