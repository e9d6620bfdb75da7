"""Reading dbt's artifacts (manifest.json, catalog.json, run_results.json) into plain values.

Every manifest schema from v1 (dbt 0.19) to v12 (dbt 1.8 and later) is read, defensively: keys
that moved between versions are looked up where each version keeps them (``compiled_code`` or
``compiled_sql``, ``meta`` on the node or in its ``config``, ``attached_node`` or the test's
``model`` argument), and anything missing is left out rather than guessed. dbt itself is not
needed. A file that is missing, is not JSON, or is not the artifact expected (or of a schema
version not read here) raises ``InputError`` before anything is yielded, so a run writes nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from graph_store.errors import InputError

__all__ = ["Artifacts", "CatalogTable", "Exposure", "Node", "TestResult", "load"]

# the schema versions read here, per artifact (https://schemas.getdbt.com/dbt/{kind}/v{n}.json)
SUPPORTED: Final = {"manifest": range(1, 13), "catalog": range(1, 2), "run-results": range(1, 7)}
RELATIONS: Final = frozenset({"model", "seed", "snapshot", "source"})
_VERSION = re.compile(r"/dbt/([a-z-]+)/v(\d+)\.json$")
_REF = re.compile(r"""\bref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)""")
_SOURCE = re.compile(r"""\bsource\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)""")


@dataclass(frozen=True)
class Column:
    name: str
    description: str | None
    data_type: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Node:
    """A model, seed, snapshot, source or test, as every manifest version describes it."""

    unique_id: str
    resource_type: str
    package: str
    name: str
    database: str | None
    schema: str | None
    identifier: str  # the relation's name: alias (models, seeds, snapshots), identifier (sources)
    materialized: str | None
    description: str | None
    columns: tuple[Column, ...]
    tags: tuple[str, ...]
    meta: dict[str, Any]
    depends_on: tuple[str, ...]
    compiled_sql: str | None
    raw_sql: str | None
    test_name: str | None = None  # generic tests: not_null, unique, dbt_utils.expression_is_true
    column_name: str | None = None  # the column a test checks
    attached_node: str | None = None  # the node a test checks

    @property
    def ephemeral(self) -> bool:
        return self.materialized == "ephemeral"


@dataclass(frozen=True)
class Exposure:
    unique_id: str
    package: str
    name: str
    label: str | None
    type: str
    description: str | None
    owners: tuple[str, ...]  # the owner's e-mail and name, as given
    tags: tuple[str, ...]
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class CatalogTable:
    """A relation as ``dbt docs generate`` found it in the warehouse."""

    type: str  # BASE TABLE, VIEW, table, view, ...
    columns: tuple[tuple[str, str, int], ...]  # (name, type, index), in index order


@dataclass(frozen=True)
class TestResult:
    status: str
    failures: int | None
    completed_at: str | None


@dataclass
class Artifacts:
    adapter: str | None  # postgres, snowflake, ... (None: the manifest does not say)
    project: str | None
    nodes: dict[str, Node]
    exposures: list[Exposure]
    catalog: dict[str, CatalogTable] | None  # None: no catalog.json
    results: dict[str, TestResult] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)


def load(manifest: Path, catalog: Path | None, run_results: Path | None) -> Artifacts:
    """Read and check the three artifacts (catalog and run results are optional)."""
    doc, version = _read(manifest, "manifest")
    metadata = _dict(doc.get("metadata"))
    adapter = _str(metadata.get("adapter_type"))
    nodes: dict[str, Node] = {}
    for section in ("nodes", "sources"):
        for uid, raw in sorted(_dict(doc.get(section)).items()):
            node = _node(uid, _dict(raw))
            if node is not None:
                nodes[uid] = node
    exposures = [_exposure(uid, _dict(raw)) for uid, raw in sorted(_dict(doc.get("exposures")).items())]
    found = Artifacts(adapter, _str(metadata.get("project_name")), nodes, exposures,
                      _catalog(catalog) if catalog else None, versions={"manifest": version})
    if run_results is not None:
        found.results = _results(run_results)
    return found


def _read(path: Path, kind: str) -> tuple[dict[str, Any], int]:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"no dbt {kind.replace('-', ' ')} at {path}; run `dbt compile` "
                         "(manifest), `dbt docs generate` (catalog) or `dbt build` (run "
                         "results), or fix the path") from None
    except OSError as e:
        raise InputError(f"cannot read the dbt {kind} {path}: {e.strerror}") from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        line = getattr(e, "lineno", None)
        raise InputError(f"{path.name} is not valid JSON ({e}); is it a dbt {kind}?",
                         line=line, column=getattr(e, "colno", None)) from None
    schema = _str(_dict(doc.get("metadata") if isinstance(doc, dict) else None)
                  .get("dbt_schema_version"))
    match = _VERSION.search(schema or "")
    if not isinstance(doc, dict) or match is None:
        raise InputError(f"{path.name} is not a dbt {kind}: it has no metadata.dbt_schema_version")
    if match.group(1) != kind:
        raise InputError(f"{path.name} is a dbt {match.group(1)}, not a {kind}; check the path")
    version = int(match.group(2))
    if version not in SUPPORTED[kind]:
        known = SUPPORTED[kind]
        raise InputError(f"{path.name}: dbt {kind} schema v{version} is not supported (v{known[0]}"
                         f" to v{known[-1]} are); regenerate it with a dbt that writes one of those")
    return doc, version


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    return tuple(dict.fromkeys(v.strip() for v in value if isinstance(v, str) and v.strip())) \
        if isinstance(value, list) else ()


def _node(uid: str, raw: dict[str, Any]) -> Node | None:
    kind = raw.get("resource_type")
    if kind not in RELATIONS and kind != "test":
        return None  # analyses, operations, macros, docs
    config = _dict(raw.get("config"))
    if config.get("enabled") is False:
        return None
    name = _str(raw.get("name")) or uid.rsplit(".", 1)[-1]
    identifier = (_str(raw.get("identifier")) if kind == "source" else _str(raw.get("alias"))) \
        or _str(config.get("alias")) or name
    columns = tuple(Column(str(c.get("name") or key), _str(c.get("description")),
                           _str(c.get("data_type")),
                           _strings([*_list(c.get("tags")), *_list(_dict(c.get("config")).get("tags"))]))
                    for key, c in ((k, _dict(v)) for k, v in _dict(raw.get("columns")).items()))
    test = _dict(raw.get("test_metadata"))
    test_name = _str(test.get("name"))
    if test_name and _str(test.get("namespace")):
        test_name = f"{test['namespace'].strip()}.{test_name}"
    return Node(
        unique_id=uid, resource_type=str(kind), package=_str(raw.get("package_name")) or "",
        name=name, database=_str(raw.get("database")), schema=_str(raw.get("schema")),
        identifier=identifier, materialized=_str(config.get("materialized")),
        description=_str(raw.get("description")), columns=columns,
        tags=_strings([*_list(raw.get("tags")), *_list(config.get("tags"))]),
        meta={**_dict(config.get("meta")), **_dict(raw.get("meta"))},
        depends_on=_strings(_dict(raw.get("depends_on")).get("nodes")),
        compiled_sql=_str(raw.get("compiled_code")) or _str(raw.get("compiled_sql")),
        raw_sql=_str(raw.get("raw_code")) or _str(raw.get("raw_sql")),
        test_name=test_name if kind == "test" else None,
        column_name=_str(raw.get("column_name")) or _str(_dict(test.get("kwargs")).get("column_name")),
        attached_node=_str(raw.get("attached_node")) or _tested(test, raw))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if isinstance(value, str) else []


def _tested(test: dict[str, Any], raw: dict[str, Any]) -> str | None:
    """For manifests before v10 (no ``attached_node``): the node a generic test's ``model``
    argument names, ``{{ ref('x') }}`` or ``{{ source('s', 't') }}``, among its dependencies."""
    model = _str(_dict(test.get("kwargs")).get("model"))
    if not model:
        return None
    deps = _strings(_dict(raw.get("depends_on")).get("nodes"))
    if found := _SOURCE.search(model):
        wanted = f".{found.group(1)}.{found.group(2)}"
        return next((d for d in deps if d.startswith("source.") and d.endswith(wanted)), None)
    if found := _REF.search(model):
        name = found.group(2) or found.group(1)
        return next((d for d in deps if d.split(".")[0] in ("model", "seed", "snapshot")
                     and d.split(".")[-1] == name), None)
    return None


def _exposure(uid: str, raw: dict[str, Any]) -> Exposure:
    owner = _dict(raw.get("owner"))
    return Exposure(
        unique_id=uid, package=_str(raw.get("package_name")) or "",
        name=_str(raw.get("name")) or uid.rsplit(".", 1)[-1], label=_str(raw.get("label")),
        type=(_str(raw.get("type")) or "dashboard").lower(), description=_str(raw.get("description")),
        owners=_strings([owner.get("email"), owner.get("name")]),
        tags=_strings([*_list(raw.get("tags")), *_list(_dict(raw.get("config")).get("tags"))]),
        depends_on=_strings(_dict(raw.get("depends_on")).get("nodes")))


def _catalog(path: Path) -> dict[str, CatalogTable]:
    doc, _ = _read(path, "catalog")
    found = {}
    for section in ("nodes", "sources"):
        for uid, raw in _dict(doc.get(section)).items():
            columns: list[tuple[str, str, int]] = []
            for key, c in _dict(_dict(raw).get("columns")).items():
                c = _dict(c)
                index = c.get("index")
                columns.append((str(c.get("name") or key), _str(c.get("type")) or "UNKNOWN",
                                index if isinstance(index, int) else len(columns) + 1))
            columns.sort(key=lambda c: c[2])
            found[uid] = CatalogTable(_str(_dict(_dict(raw).get("metadata")).get("type")) or "",
                                      tuple(columns))
    return found


def _results(path: Path) -> dict[str, TestResult]:
    doc, _ = _read(path, "run-results")
    generated = _str(_dict(doc.get("metadata")).get("generated_at"))
    found = {}
    results = doc.get("results")
    for item in results if isinstance(results, list) else []:
        raw = _dict(item)
        uid = _str(raw.get("unique_id")) or _str(_dict(raw.get("node")).get("unique_id"))
        status = _str(raw.get("status"))
        if not uid or not status:
            continue
        timing = [_dict(t) for t in raw.get("timing") or [] if isinstance(t, dict)]
        executed = [t for t in timing if t.get("name") == "execute"] or timing
        completed = _str(executed[-1].get("completed_at")) if executed else None
        failures = raw.get("failures")
        found[uid] = TestResult(status.lower(), failures if isinstance(failures, int)
                                and not isinstance(failures, bool) else None, completed or generated)
    return found
