"""The Acme Outfitters demo catalog, generated deterministically by code.

`demo_assets()` returns the whole company as plain JSON-able dicts in the REST API's compact
JSON-LD form: every dict has an `id` and a `type`, and every reference is a key (an IRI path
relative to `{base}/id/`). Data assets are keyed `<workspace>/<kind>/<platform>/<qualifiedName>`.
Parents come before children and every reference points to an asset earlier in the list.

The data lives in three vocabulary modules: `demo.vocabulary` (databases, schemas, tables),
`demo.columns` (the column lexicon) and `demo.content` (people, tags, classifications, glossary,
pipelines, dashboards, models). This module only assembles them; the few varying details
(table stewards, pipeline runs) come from a seeded `random.Random`, so every call returns the
same list.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from demo import content, products
from demo.analytics_columns import COLUMNS
from demo.vocabulary import (
    DATABASES,
    RAW_TABLES,
    REPLICA_EXTRA_COLUMNS,
    REPLICA_SCHEMA,
    REPLICATED,
    SCHEMAS,
    SOURCE_TABLES,
    DatabaseDef,
    TableDef,
)
from demo.warehouse import (
    FINANCE_PEOPLE_TABLES,
    MARKETING_TABLES,
    MART_TABLES,
    RESEARCH_TABLES,
    STAGING_TABLES,
)

__all__ = ["DATA_KINDS", "SEED", "demo_assets", "key", "sql_type"]

Asset = dict[str, Any]

SEED = 20261001
"""Seed of the generator; changing it changes stewards and pipeline runs."""

DATA_KINDS: dict[str, str] = {
    "database": "Database", "schema": "Schema", "table": "Table", "view": "View",
    "column": "Column", "dashboard": "Dashboard", "chart": "Chart", "pipeline": "Pipeline",
    "run": "PipelineRun", "model": "MLModel", "feature": "Feature",
}
"""Kind segment of a data asset key -> its type."""

_WORKSPACES = (
    ("acme", "Acme Outfitters",
     "Production metadata of Acme Outfitters, an online and in-store retailer of outdoor "
     "apparel and gear: storefront, warehouse, marketing, finance and HR data."),
    ("research", "Research Lab",
     "Sandbox workspace of the research group for experiments and NLP prototypes; assets "
     "here are uncertified."),
)

_SCHEDULES = {  # schedule -> (interval, start of the latest run, typical minutes)
    "hourly": (timedelta(hours=1), datetime(2026, 10, 1, 5, 0, tzinfo=UTC), (2, 12)),
    "daily": (timedelta(days=1), datetime(2026, 10, 1, 2, 0, tzinfo=UTC), (8, 45)),
    "weekly": (timedelta(days=7), datetime(2026, 9, 28, 4, 0, tzinfo=UTC), (20, 60)),
}


def key(workspace: str, kind: str, platform: str, qualified_name: str) -> str:
    """The key of a data asset, e.g. ``acme/table/postgres/shop.public.orders``."""
    return f"{workspace}/{kind}/{platform}/{qualified_name}"


def demo_assets() -> list[Asset]:
    """The demo catalog, parents first; equal on every call."""
    rng = random.Random(SEED)
    tables = _resolve_tables(_all_table_defs())
    assets: list[Asset] = [
        *_workspaces(), *_platforms(), *_directory(), *_tags(), *_classifications(),
        *_policies(),
        *_glossary(), *_databases(), *_schemas(),
    ]
    assets += [_table_asset(t, tables, rng) for t in tables.values()]
    assets += [c for t in tables.values() for c in _column_assets(t, tables)]
    assets += _pipelines(tables, rng)
    assets += _dashboards(tables)
    assets += _models(tables)
    return [_compact(a) for a in assets]


def _compact(asset: Asset) -> Asset:
    """Drop keys without a value, so that no asset carries empty lists or None."""
    return {k: v for k, v in asset.items() if v is not None and v != []}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- directory, tags, classifications, glossary -------------------------------------------


def _workspaces() -> list[Asset]:
    return [{"id": ws, "type": "Workspace", "name": name, "description": description}
            for ws, name, description in _WORKSPACES]


def _platforms() -> list[Asset]:
    return [{"id": f"platform/{slug}", "type": "DataPlatform", "name": name,
             "description": description} for slug, name, description in content.PLATFORMS]


def _directory() -> Iterator[Asset]:
    for slug, name, description in content.PERMISSIONS:
        yield {"id": f"permission/{slug}", "type": "Permission", "name": name,
               "description": description}
    for slug, name, description, grants in content.ROLES:
        yield {"id": f"role/{slug}", "type": "Role", "name": name, "description": description,
               "grants": [f"permission/{p}" for p in grants]}
    for slug, name, description, roles in content.TEAMS:
        yield {"id": f"team/{slug}", "type": "Team", "name": name, "description": description,
               "hasRole": [f"role/{r}" for r in roles]}
    for login, name, teams in content.USERS:
        yield {"id": f"user/{login}", "type": "User", "name": name,
               "email": f"{login}@{content.EMAIL_DOMAIN}",
               "memberOf": [f"team/{t}" for t in teams]}


def _policies() -> list[Asset]:
    """Attribute-based access: Restricted data is for its owning team only (access/service.py
    keeps such assets in per-owner partition graphs)."""
    return [{"id": "policy/restricted-owners-only", "type": "AccessPolicy",
             "name": "Restricted data: owning team only",
             "description": "Assets classified Sensitivity.Restricted (payment, payroll and "
                            "identity data) may be read only by their owners and members of "
                            "their owning teams, whatever roles others hold.",
             "effect": "deny", "action": "read",
             "targetClassification": "classification/sensitivity/restricted",
             "exceptOwners": True}]


def _team_members() -> dict[str, list[str]]:
    members: dict[str, list[str]] = {f"team/{slug}": [] for slug, *_ in content.TEAMS}
    for login, _, teams in content.USERS:
        for team in teams:
            members[f"team/{team}"].append(f"user/{login}")
    return members


def _tags() -> list[Asset]:
    return [{"id": f"tag/{slug}", "type": "Tag", "name": name, "description": description}
            for slug, name, description in content.TAGS]


def _classifications() -> Iterator[Asset]:
    schemes = (
        ("pii", "PII", "Kinds of personally identifiable information a column may hold.",
         content.PII_VALUES),
        ("sensitivity", "Sensitivity", "How strictly access to a data set must be controlled.",
         content.SENSITIVITY_VALUES),
    )
    for scheme, name, description, values in schemes:
        scheme_key = f"classification/{scheme}"
        yield {"id": scheme_key, "type": "ClassificationScheme", "name": name,
               "description": description}
        for slug, value_name, value_description in values:
            yield {"id": f"{scheme_key}/{slug}", "type": "Classification", "name": value_name,
                   "description": value_description, "partOf": scheme_key}
    yield {"id": "classification/contains-pii", "type": "Classification", "name": "Contains PII",
           "description": "Derived, never asserted: a table, schema or database that holds a PII "
                          "column, and a dashboard or model built on one (so \"PII tables\" "
                          "finds them). It does not propagate along lineage.",
           "partOf": "classification/pii"}


def _glossary() -> Iterator[Asset]:
    yield {"id": "glossary/business", "type": "Glossary", "name": "Business Glossary",
           "description": "Agreed definitions of the business terms used in Acme Outfitters "
                          "reporting, maintained by data governance with the domain teams."}
    for slug, name, definition in content.GLOSSARY:
        yield {"id": f"glossary/business/{slug}", "type": "GlossaryTerm", "name": name,
               "description": definition, "partOf": "glossary/business"}


# --- databases, schemas, tables, columns --------------------------------------------------


def _database(qualified_name: str) -> DatabaseDef:
    name = qualified_name.split(".", 1)[0]
    return next(d for d in DATABASES if d.name == name)


def _databases() -> list[Asset]:
    return [{"id": key(d.workspace, "database", d.platform, d.name), "type": "Database",
             "name": d.name, "qualifiedName": d.name, "description": d.description,
             "workspace": d.workspace, "platform": f"platform/{d.platform}",
             "owners": [d.owner]} for d in DATABASES]


def _schemas() -> list[Asset]:
    out = []
    for s in SCHEMAS:
        db = _database(s.qualified_name)
        out.append({
            "id": key(db.workspace, "schema", db.platform, s.qualified_name), "type": "Schema",
            "name": s.qualified_name.split(".", 1)[1], "qualifiedName": s.qualified_name,
            "description": s.description, "workspace": db.workspace,
            "platform": f"platform/{db.platform}",
            "partOf": key(db.workspace, "database", db.platform, db.name),
            "owners": [s.owner], "tags": [f"tag/{t}" for t in s.tags],
        })
    return out


def _replicas() -> list[TableDef]:
    """Raw warehouse copies of the replicated Postgres tables, plus load metadata columns."""
    prefixes = dict(REPLICATED)
    out = []
    for src in SOURCE_TABLES:
        schema, name = src.qualified_name.rsplit(".", 1)
        if src.view or schema not in prefixes:
            continue
        out.append(src._replace(
            qualified_name=f"{REPLICA_SCHEMA}.{prefixes[schema]}{name}",
            description=f"Raw hourly replica of the Postgres table {src.qualified_name} in "
                        f"Snowflake, one row per loaded change. {src.description}",
            columns=f"{src.columns} {REPLICA_EXTRA_COLUMNS}",
            upstream=(src.qualified_name,),
            tags=tuple(t for t in src.tags if t not in ("tier-1", "certified")),
        ))
    return out


def _all_table_defs() -> list[TableDef]:
    return [*SOURCE_TABLES, *_replicas(), *RAW_TABLES, *STAGING_TABLES, *MART_TABLES,
            *FINANCE_PEOPLE_TABLES, *MARKETING_TABLES, *RESEARCH_TABLES]


class _Column(NamedTuple):
    name: str
    key: str
    sources: tuple[str, ...]  # keys of the upstream columns


class _Table(NamedTuple):
    spec: TableDef
    key: str
    workspace: str
    platform: str
    columns: dict[str, _Column]


def _resolve_tables(specs: list[TableDef]) -> dict[str, _Table]:
    """Tables by qualified name, with keys and resolved column-level lineage."""
    tables: dict[str, _Table] = {}
    for spec in specs:
        db = _database(spec.qualified_name)
        table_key = key(db.workspace, "view" if spec.view else "table", db.platform,
                        spec.qualified_name)
        upstream = [tables[qn] for qn in spec.upstream]  # KeyError: upstream defined later
        columns: dict[str, _Column] = {}
        for token in spec.columns.split():
            name, _, sources = token.partition("=")
            if name in columns:
                raise ValueError(f"{spec.qualified_name}: duplicate column {name}")
            columns[name] = _Column(
                name, f"{db.workspace}/column/{db.platform}/{spec.qualified_name}.{name}",
                _column_sources(spec.qualified_name, name, sources, upstream))
        if spec.qualified_name in tables:
            raise ValueError(f"duplicate table {spec.qualified_name}")
        tables[spec.qualified_name] = _Table(spec, table_key, db.workspace, db.platform,
                                             columns)
    return tables


def _column_sources(table: str, name: str, sources: str,
                    upstream: list[_Table]) -> tuple[str, ...]:
    if not sources:  # same-named column of the first upstream table having one, if any
        found = [t.columns[name].key for t in upstream if name in t.columns]
        return tuple(found[:1])
    out = []
    for source in sources.split("+"):
        short, _, column = source.rpartition(".")
        candidates = [t for t in upstream
                      if (not short or t.spec.qualified_name.endswith("." + short))
                      and column in t.columns]
        if not candidates:
            raise ValueError(f"{table}.{name}: lineage source {source} not found upstream")
        out.append(candidates[0].columns[column].key)
    return tuple(out)


def _is_pii(table: _Table, value: str | None = None) -> bool:
    return any(COLUMNS[c].pii and (value is None or COLUMNS[c].pii == value)
               for c in table.columns)


def _table_asset(t: _Table, tables: dict[str, _Table], rng: random.Random) -> Asset:
    spec = t.spec
    schema_qn, name = spec.qualified_name.rsplit(".", 1)
    schema = next(s for s in SCHEMAS if s.qualified_name == schema_qn)
    sensitivity = spec.sensitivity or ("confidential" if _is_pii(t) else "internal")
    tags = [*schema.tags, *spec.tags]
    if _is_pii(t):
        tags.append("gdpr")
    if _is_pii(t, "payment-card"):
        tags.append("pci")
    steward = rng.choice(_team_members()[schema.owner])
    return {
        "id": t.key, "type": "View" if spec.view else "Table", "name": name,
        "qualifiedName": spec.qualified_name, "description": spec.description,
        "workspace": t.workspace, "platform": f"platform/{t.platform}",
        "partOf": key(t.workspace, "schema", t.platform, schema_qn),
        "owners": [schema.owner, steward],
        "tags": [f"tag/{tag}" for tag in _unique(tags)],
        "terms": [f"glossary/business/{term}" for term in spec.terms],
        "classifications": [f"classification/sensitivity/{sensitivity}"],
        "derivedFrom": [tables[qn].key for qn in spec.upstream],
    }


def _column_assets(t: _Table, tables: dict[str, _Table]) -> Iterator[Asset]:
    for position, column in enumerate(t.columns.values(), start=1):
        definition = COLUMNS[column.name]
        yield {
            "id": column.key, "type": "Column", "name": column.name,
            "qualifiedName": f"{t.spec.qualified_name}.{column.name}",
            "description": definition.description.format(entity=t.spec.entity),
            "workspace": t.workspace, "platform": f"platform/{t.platform}",
            "partOf": t.key, "dataType": sql_type(definition.sql_type, t.platform),
            "position": position,
            "classifications": [f"classification/pii/{definition.pii}"] if definition.pii
            else [],
            "terms": [f"glossary/business/{definition.term}"] if definition.term else [],
            "derivedFrom": list(column.sources),
        }


_SNOWFLAKE_TYPES = {
    "BIGINT": "NUMBER(38,0)", "INTEGER": "NUMBER(38,0)", "SMALLINT": "NUMBER(38,0)",
    "TEXT": "VARCHAR", "TIMESTAMP": "TIMESTAMP_NTZ", "JSONB": "VARIANT", "INET": "VARCHAR(45)",
    "DOUBLE PRECISION": "FLOAT", "BOOLEAN": "BOOLEAN", "DATE": "DATE",
}
_BIGQUERY_TYPES = {
    "BIGINT": "INT64", "INTEGER": "INT64", "SMALLINT": "INT64", "NUMERIC": "NUMERIC",
    "VARCHAR": "STRING", "CHAR": "STRING", "TEXT": "STRING", "INET": "STRING",
    "TIMESTAMP": "TIMESTAMP", "JSONB": "JSON", "DOUBLE PRECISION": "FLOAT64", "BOOLEAN": "BOOL",
    "DATE": "DATE",
}


def sql_type(postgres_type: str, platform: str) -> str:
    """Translate a PostgreSQL column type to the dialect of `platform`."""
    base, paren, args = postgres_type.partition("(")
    if platform == "postgres":
        return postgres_type
    if platform == "snowflake":
        if base == "NUMERIC":
            return f"NUMBER({args}"
        if base in ("VARCHAR", "CHAR"):
            return f"VARCHAR{paren}{args}"
        return _SNOWFLAKE_TYPES[base]
    if platform == "bigquery":
        return _BIGQUERY_TYPES[base]
    raise ValueError(f"no SQL dialect for platform {platform}")


# --- pipelines and runs -------------------------------------------------------------------


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _pipelines(tables: dict[str, _Table], rng: random.Random) -> Iterator[Asset]:
    for p in products.PIPELINES:
        produced: list[str] = []
        for pattern in p.produces:
            matches = [qn for qn in tables if fnmatchcase(qn, pattern)]
            if not matches:
                raise ValueError(f"pipeline {p.qualified_name}: nothing matches {pattern}")
            produced += matches
        produced = _unique(produced)
        consumed = _unique(up for qn in produced for up in tables[qn].spec.upstream
                           if up not in produced)
        pipeline_key = key(p.workspace, "pipeline", p.platform, p.qualified_name)
        yield {
            "id": pipeline_key, "type": "Pipeline", "name": p.qualified_name,
            "qualifiedName": p.qualified_name, "description": p.description,
            "workspace": p.workspace, "platform": f"platform/{p.platform}",
            "owners": list(p.owners),
            "tags": [f"tag/{t}" for t in _unique((p.schedule, *p.tags))],
            "consumes": [tables[qn].key for qn in consumed],
            "produces": [tables[qn].key for qn in produced],
        }
        yield from _runs(p, pipeline_key, len(produced), rng)


def _runs(p: products.PipelineDef, pipeline_key: str, outputs: int,
          rng: random.Random) -> Iterator[Asset]:
    interval, latest, (low, high) = _SCHEDULES[p.schedule]
    count = rng.randint(3, 6)
    for i in range(count):
        scheduled = latest - (count - 1 - i) * interval
        started = scheduled + timedelta(seconds=rng.randint(5, 90))
        minutes = rng.randint(low, high)
        roll = rng.random()
        if i == count - 1 and roll < 0.2:
            status, ended = "running", None
            outcome = f"started at {started:%H:%M} UTC and is still running"
        elif roll > 0.8:
            status, minutes = "failed", max(1, minutes // 3)
            ended = started + timedelta(minutes=minutes, seconds=rng.randint(0, 59))
            outcome = f"failed after {minutes} min: {rng.choice(products.FAILURES[p.platform])}"
        else:
            status = "success"
            ended = started + timedelta(minutes=minutes, seconds=rng.randint(0, 59))
            if p.platform == "dbt":
                detail = f"built {outputs} models and passed {outputs * rng.randint(3, 7)} tests"
            else:
                detail = f"loaded {rng.randint(1_000, 2_500_000):,} rows into {outputs} tables"
            outcome = f"succeeded in {minutes} min; {detail}"
        qualified_name = f"{p.qualified_name}.{scheduled:%Y%m%dT%H%M}"
        yield {
            "id": key(p.workspace, "run", p.platform, qualified_name), "type": "PipelineRun",
            "name": f"{p.qualified_name} run {scheduled:%Y-%m-%d %H:%M} UTC",
            "qualifiedName": qualified_name,
            "description": f"Scheduled {p.schedule} run of {p.qualified_name} for "
                           f"{scheduled:%Y-%m-%d %H:%M} UTC; {outcome}.",
            "workspace": p.workspace, "platform": f"platform/{p.platform}",
            "runOf": pipeline_key, "status": status, "startedAt": _timestamp(started),
            "endedAt": _timestamp(ended) if ended else None,
        }


# --- dashboards, charts, models, features -------------------------------------------------


def _dashboards(tables: dict[str, _Table]) -> Iterator[Asset]:
    for d in products.DASHBOARDS:
        dashboard_key = key(d.workspace, "dashboard", d.platform, d.qualified_name)
        platform = f"platform/{d.platform}"
        yield {
            "id": dashboard_key, "type": "Dashboard", "name": d.name,
            "qualifiedName": d.qualified_name, "description": d.description,
            "workspace": d.workspace, "platform": platform, "owners": list(d.owners),
            "tags": [f"tag/{t}" for t in d.tags],
            "consumes": _unique(tables[qn].key for c in d.charts for qn in c.consumes),
        }
        for c in d.charts:
            qualified_name = f"{d.qualified_name}.{c.slug}"
            yield {
                "id": key(d.workspace, "chart", d.platform, qualified_name), "type": "Chart",
                "name": c.name, "qualifiedName": qualified_name, "description": c.description,
                "workspace": d.workspace, "platform": platform, "partOf": dashboard_key,
                "consumes": [tables[qn].key for qn in c.consumes],
            }


def _models(tables: dict[str, _Table]) -> Iterator[Asset]:
    for m in products.MODELS:
        model_key = key(m.workspace, "model", "mlflow", m.qualified_name)
        yield {
            "id": model_key, "type": "MLModel", "name": m.name,
            "qualifiedName": m.qualified_name, "description": m.description,
            "workspace": m.workspace, "platform": "platform/mlflow", "owners": list(m.owners),
            "tags": [f"tag/{t}" for t in m.tags],
            "derivedFrom": [tables[qn].key for qn in m.training],
            "consumes": [tables[qn].key for qn in m.consumes],
        }
        for name, source, description in m.features:
            table_qn, _, column = source.rpartition(".")
            qualified_name = f"{m.qualified_name}.{name}"
            yield {
                "id": key(m.workspace, "feature", "mlflow", qualified_name), "type": "Feature",
                "name": name, "qualifiedName": qualified_name,
                "description": f"Feature of the {m.name.lower()} model. {description}",
                "workspace": m.workspace, "platform": "platform/mlflow", "partOf": model_key,
                "derivedFrom": [tables[table_qn].columns[column].key],
            }
