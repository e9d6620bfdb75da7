"""OpenMetadata sample-data entities, one function per family (see
ingestion/openmetadata_assets.py for what maps where)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graph_store.errors import InputError
from graph_store.keys import decode_segment
from ingestion.connector import Record
from ingestion.datahub_mapping import directory_key, fraction, unique
from ingestion.openmetadata_assets import (
    COLUMN_FIELDS,
    SKOS,
    STATUS,
    TABLE_FIELDS,
    OmMapper,
    column_type,
    millis,
    split_fqn,
)

__all__ = ["mapped_records"]

DIRECTORY_ORDER = ("Team", "User", "Tag", "Glossary", "GlossaryTerm")


def mapped_records(m: OmMapper) -> Iterator[Record]:
    """Every record, read and mapped before the first is yielded (so that a file of an
    unexpected shape stops the run before anything is written): the directory first, then
    databases, pipelines, models and dashboards, each carrying the lineage that names it."""
    try:
        directory(m)
        data = [*databases(m)]  # tables first: lineage, models and pipelines name them
        pipes = [*pipelines(m)]
        lineage(m)
        data += [*pipes, *models(m), *dashboards(m)]  # a dashboard may consume a model
    except (AttributeError, TypeError, KeyError, ValueError) as e:
        raise InputError(f"the sample data holds a value of an unexpected shape "
                         f"({type(e).__name__}: {e}); nothing was ingested") from None
    for record in data:
        key = m.key_of(record)
        for prop, values in m.extra.get(key, {}).items():
            record[prop] = unique([*record.get(prop, []), *values])
        if key in m.sql and len(m.sql[key]) == 1:
            record["transformation"] = next(iter(m.sql[key]))
    yield from sorted(m.directory.values(), key=lambda r: (DIRECTORY_ORDER.index(r["type"]),
                                                           r["id"]))
    yield from data
    for what, n in m.data.not_read.items():
        m.tally.skip(what, n)
    for what in m.data.other:
        m.tally.skip(what)
    m.tally.report(m.context)


def _list(m: OmMapper, rel: str) -> list[dict[str, Any]]:
    value = m.data.files.get(rel)
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


def _service(m: OmMapper, rel: str) -> dict[str, Any]:
    value = m.data.files.get(rel)
    return value if isinstance(value, dict) else {}


# -- users, teams, glossaries ------------------------------------------------------------------
def directory(m: OmMapper) -> None:
    for t in _list(m, "teams/teams.json"):
        key = m.agent({"type": "team", **t})
        if key:
            kept: dict[str, Any] = {}
            for f in ("teamType", "parent", "children"):
                m.tally.keep(kept, "team", f, t.get(f))
            m.directory[key].update({k: v for k, v in (
                ("description", t.get("description")), ("facets", m.tally.facets(kept))) if v})
            m.tally.map("team")
    for u in _list(m, "users/users.json"):
        key = m.agent({"type": "user", **u})
        if key:
            m.tally.map("user")
            kept = {}
            # teams, roles and isAdmin only here: as memberOf or roles they would grant access
            for f in ("email", "timezone", "teams", "roles", "isAdmin"):
                m.tally.keep(kept, "user", f, u.get(f) if f != "isAdmin" else u.get(f) or None)
            facets = m.tally.facets(kept)
            if facets:
                m.directory[key]["facets"] = facets
    for stem, concepts in m.data.thesauruses:
        gkey = directory_key("glossary", stem)
        m.directory[gkey] = {"id": gkey, "type": "Glossary", "name": stem}
        for c in concepts:
            if f"{SKOS}Concept" not in (c.get("@type") or []) or not c.get("@id"):
                m.tally.skip("thesaurus entry that is no skos:Concept")
                continue
            local = str(c["@id"]).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            key = directory_key("glossary", stem, local)
            m.directory[key] = {"id": key, "type": "GlossaryTerm", "partOf": gkey,
                                "name": _label(c, "prefLabel") or local}
            definition = _label(c, "definition")
            if definition:
                m.directory[key]["description"] = definition
            m.tally.map("thesaurus concept")
            kept = {}
            for rel in ("broader", "narrower", "related", "altLabel"):
                values = [v.get("@id") or v.get("@value") for v in c.get(f"{SKOS}{rel}") or []]
                m.tally.keep(kept, "skos", rel, values)
            if kept:
                m.directory[key]["facets"] = m.tally.facets(kept)


def _label(concept: dict[str, Any], prop: str) -> str | None:
    values = concept.get(f"{SKOS}{prop}") or []
    english = [v.get("@value") for v in values if v.get("@language") in ("en", None)]
    found = english or [v.get("@value") for v in values]
    return str(found[0]) if found and found[0] else None


# -- databases, schemas, tables, columns -------------------------------------------------------
def databases(m: OmMapper) -> Iterator[Record]:
    profiles = {tuple(split_fqn(str(p.get("fqn")))): (p.get("profile") or [{}])[0]
                for p in _list(m, "profiler/tableProfile.json")}
    for folder in m.data.databases:
        service = folder["service"]
        svc = str(service.get("serviceName") or folder["folder"])
        platform = m.platform(service, folder["folder"])
        db = str(folder["database"].get("name") or "default")
        schema = str(folder["schema"].get("name") or "default")
        dbq = schema if platform == "mysql" and db == "default" else db
        sqn = f"{dbq}.{schema}"
        yield m.asset("Database", platform, dbq, dbq,
                      description=folder["database"].get("description"))
        yield m.asset("Schema", platform, sqn, schema, partOf=m.key("database", platform, dbq),
                      description=folder["schema"].get("description"))
        m.tally.map("database", 1)
        m.tally.map("databaseSchema", 1)
        for t in folder["tables"]:
            name = str(t.get("name") or "")
            if not name:
                m.tally.skip("table without a name")
                continue
            key = m.key("table", platform, f"{sqn}.{name}")
            m.tables[(svc, db, schema, name)] = key
            m.columns[key] = set()
        for t in folder["tables"]:
            if t.get("name"):
                profile = profiles.get((svc, db, schema, str(t["name"]))) or \
                    t.get("tableProfile") or {}
                yield from _table(m, t, platform, sqn, profile)


def _table(m: OmMapper, t: dict[str, Any], platform: str, sqn: str,
           profile: dict[str, Any]) -> Iterator[Record]:
    name = str(t["name"])
    tqn = f"{sqn}.{name}"
    key = m.key("table", platform, tqn)
    m.tally.map("table")
    kept: dict[str, Any] = {}
    for f in TABLE_FIELDS:
        m.tally.keep(kept, "table", f, t.get(f))
    m.tally.keep(kept, "table", "tableType", t.get("tableType") if t.get("tableType") != "Regular"
                 else None)
    m.tally.field("table.sampleData (data values, not metadata)", t.get("sampleData"))
    keys: set[str] = set()
    refs: dict[str, list[str]] = {}
    for c in t.get("tableConstraints") or []:
        kind = str(c.get("constraintType") or "")
        if kind == "PRIMARY_KEY":
            keys.update(str(x) for x in c.get("columns") or [])
        elif kind == "FOREIGN_KEY":
            for mine, theirs in zip(c.get("columns") or [], c.get("referredColumns") or [],
                                    strict=False):
                parts = split_fqn(str(theirs))
                target = m.tables.get(tuple(parts[:4]))
                if target is None or len(parts) < 5:
                    m.tally.missing("references", str(theirs))
                    continue
                refs.setdefault(str(mine), []).append(
                    m.key("column", target.split("/")[2], f"{_qn(target)}.{'.'.join(parts[4:])}"))
        else:
            kept.setdefault("tableConstraints", []).append(c)
            m.tally.kept[f"tableConstraints.{kind}"] += 1
            continue
        m.tally.map("tableConstraint")
    rows = profile.get("rowCount")
    yield m.asset("Table", platform, tqn, name, partOf=m.key("schema", platform, sqn),
                  description=t.get("description"),
                  rowCount=int(rows) if isinstance(rows, int | float) else None, kept=kept,
                  **m.owned(t))
    stats = {str(c.get("name")): c for c in profile.get("columnProfile") or []}
    yield from _columns(m, t.get("columns") or [], key, platform, tqn, "", keys, refs, stats)


def _qn(key: str) -> str:
    return decode_segment(key.split("/", 3)[3])


def _columns(m: OmMapper, columns: list[dict[str, Any]], table: str, platform: str, tqn: str,
             prefix: str, keys: set[str], refs: dict[str, list[str]],
             stats: dict[str, Any]) -> Iterator[Record]:
    for i, c in enumerate(columns, start=1):
        name = f"{prefix}{c.get('name')}"
        m.columns[table].add(name)
        constraint = str(c.get("constraint") or "")
        primary = constraint == "PRIMARY_KEY" or name in keys
        nullable = False if primary or constraint == "NOT_NULL" else \
            True if constraint == "NULL" else None
        kept: dict[str, Any] = {}
        m.tally.keep(kept, "column", "constraint", constraint if constraint == "UNIQUE" else None)
        for f in COLUMN_FIELDS:
            m.tally.keep(kept, "column", f, c.get(f))
        s = stats.get(name) or {}
        distinct = s.get("distinctCount")
        m.tally.map("column")
        yield m.asset("Column", platform, f"{tqn}.{name}", name, partOf=table,
                      dataType=column_type(c),
                      position=c.get("ordinalPosition") or (i if not prefix else None),
                      nullable=nullable, primaryKey=True if primary else None,
                      description=c.get("description"), references=unique(refs.get(name, [])),
                      nullFraction=fraction(s.get("nullProportion")),
                      distinctCount=int(distinct) if isinstance(distinct, int | float) else None,
                      kept=kept, **m.owned(c))
        if c.get("children"):
            yield from _columns(m, c["children"], table, platform, tqn, f"{name}.", keys, refs,
                                stats)


# -- lineage -----------------------------------------------------------------------------------
def lineage(m: OmMapper) -> None:
    for edge in _list(m, "lineage/lineage.json"):
        src, dst = edge.get("from") or {}, edge.get("to") or {}
        if src.get("type") != "table" or dst.get("type") != "table":
            m.tally.skip(f"lineage edge {src.get('type')} -> {dst.get('type')}")
            continue
        up = m.table_key(str(src.get("fqn")), "lineage from")
        down = m.table_key(str(dst.get("fqn")), "lineage to")
        if up is None or down is None:
            continue
        m.tally.map("lineage edge")
        m.add(down, "derivedFrom", up)
        if edge.get("sql_query"):
            m.sql.setdefault(down, set()).add(str(edge["sql_query"]))
        meta = edge.get("edge_meta") or {}
        if meta.get("type") == "pipeline":
            pipe = m.pipelines.get(str(meta.get("fqn")))
            if pipe is None:
                m.tally.missing("lineage pipeline", str(meta.get("fqn")))
                continue
            m.add(pipe, "consumes", up)
            m.add(pipe, "produces", down)


# -- pipelines ---------------------------------------------------------------------------------
def pipelines(m: OmMapper) -> Iterator[Record]:
    service = _service(m, "pipelines/service.json")
    svc = str(service.get("serviceName") or "pipelines")
    platform = m.platform(service, "airflow")
    for p in _list(m, "pipelines/pipelines.json"):
        name = str(p.get("name") or "")
        if not name:
            m.tally.skip("pipeline without a name")
            continue
        key = m.key("pipeline", platform, name)
        m.pipelines[f"{svc}.{name}"] = key
        m.tally.map("pipeline")
        kept: dict[str, Any] = {}
        for f in ("pipelineUrl", "concurrency", "startDate"):
            m.tally.keep(kept, "pipeline", f, p.get(f))
        yield m.asset("Pipeline", platform, name, p.get("displayName"), kept=kept,
                      description=p.get("description"), **m.owned(p))
        for task in p.get("tasks") or []:
            m.tally.map("task")
            kept = {}
            for f in ("downstreamTasks", "taskType", "taskUrl"):
                m.tally.keep(kept, "task", f, task.get(f))
            yield m.asset("Pipeline", platform, f"{name}.{task.get('name')}",
                          task.get("displayName"), partOf=key, kept=kept,
                          description=task.get("description"), **m.owned(task))
    loose = _list(m, "pipelines/tasks.json")
    if loose:
        m.tally.skip("tasks.json tasks of no pipeline", len(loose))
    for status in _list(m, "pipelines/pipelineStatus.json"):
        pipe = m.pipelines.get(str(status.get("pipeline")))
        runs = status.get("pipelineStatus") or []
        if pipe is None:
            m.tally.missing("runOf", str(status.get("pipeline")))
            continue
        pname = _qn(pipe)
        for run in runs:
            started = millis(run.get("timestamp"))
            m.tally.map("pipelineStatus")
            kept = {}
            m.tally.keep(kept, "pipelineStatus", "taskStatus", run.get("taskStatus"))
            yield m.asset("PipelineRun", platform, f"{pname}.{run.get('timestamp')}",
                          f"{pname} at {started}", runOf=pipe, startedAt=started, kept=kept,
                          status=STATUS.get(str(run.get("executionStatus")).lower()))


# -- dashboards, charts, models ----------------------------------------------------------------
def _dashboard_platform(m: OmMapper) -> tuple[str, str]:
    service = _service(m, "dashboards/service.json")
    return str(service.get("serviceName") or "dashboards"), m.platform(service, "superset")


def dashboards(m: OmMapper) -> Iterator[Record]:
    _, platform = _dashboard_platform(m)
    charts = _list(m, "dashboards/charts.json")
    by_ref = {**{str(c.get("chartId")): str(c.get("name")) for c in charts if c.get("chartId")},
              **{str(c.get("name")): str(c.get("name")) for c in charts}}
    parent: dict[str, str] = {}
    for d in _list(m, "dashboards/dashboards.json"):
        name = str(d.get("name"))
        key = m.key("dashboard", platform, name)
        for ref in d.get("charts") or []:
            chart = by_ref.get(str(ref))
            if chart is None:
                m.tally.missing("dashboard chart", f"{name}: {ref}")
            else:
                parent.setdefault(chart, key)
        m.tally.map("dashboard")
        kept: dict[str, Any] = {}
        m.tally.keep(kept, "dashboard", "dashboardUrl", d.get("dashboardUrl"))
        yield m.asset("Dashboard", platform, name, d.get("displayName"), kept=kept,
                      description=d.get("description"), **m.owned(d))
    for c in charts:
        name = str(c.get("name"))
        m.tally.map("chart")
        kept = {}
        for f in ("chartType", "chartUrl"):
            m.tally.keep(kept, "chart", f, c.get(f))
        yield m.asset("Chart", platform, name, c.get("displayName"), partOf=parent.get(name),
                      kept=kept,
                      description=c.get("description"), **m.owned(c))


def models(m: OmMapper) -> Iterator[Record]:
    platform = m.platform(_service(m, "models/service.json"), "mlflow")
    dsvc, dplatform = _dashboard_platform(m)
    known = {str(d.get("name")) for d in _list(m, "dashboards/dashboards.json")}
    for model in _list(m, "models/models.json"):
        name = str(model.get("name"))
        key = m.key("model", platform, name)
        m.tally.map("mlModel")
        kept: dict[str, Any] = {}
        for f in ("algorithm", "mlHyperParameters", "target", "mlStore", "server"):
            m.tally.keep(kept, "mlModel", f, model.get(f))
        board = split_fqn(str(model.get("dashboard") or ""))
        if len(board) == 2 and board[0] == dsvc and board[1] in known:
            m.add(m.key("dashboard", dplatform, board[1]), "consumes", key)
        features, tables = [], []
        for feature in model.get("mlFeatures") or []:
            sources = []
            for s in feature.get("featureSources") or []:
                table = m.table_key(str(s.get("dataSource")), "feature source")
                if table is None:
                    continue
                tables.append(table)
                column = str(s.get("name"))
                sources.append(m.key("column", table.split("/")[2], f"{_qn(table)}.{column}")
                               if column in m.columns.get(table, ()) else table)
            m.tally.map("mlFeature")
            fkept: dict[str, Any] = {}
            for f in ("dataType", "featureAlgorithm"):
                m.tally.keep(fkept, "mlFeature", f, feature.get(f))
            features.append(m.asset("Feature", platform, f"{name}.{feature.get('name')}",
                                    feature.get("name"), partOf=key, kept=fkept,
                                    description=feature.get("description"),
                                    derivedFrom=unique(sources)))
        yield m.asset("MLModel", platform, name, model.get("displayName"), kept=kept,
                      description=model.get("description"), consumes=unique(tables),
                      **m.owned(model))
        yield from features
