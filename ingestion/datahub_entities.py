"""DataHub entities, one function per family, as records (see ingestion/datahub_assets.py for
the table of what maps where). ``mapped_records`` reads every entity first (keys, directory,
column lineage), then yields the directory (teams, users, tags, glossaries, terms) and the data
assets, parents before children."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graph_store.errors import InputError
from graph_store.keys import decode_segment
from ingestion.connector import Record
from ingestion.datahub_assets import (
    DEFAULT,
    DEFAULT_GLOSSARY,
    Entity,
    Mapper,
    field_name,
    schema_of,
    short_name,
    split_urn,
)
from ingestion.datahub_mapping import directory_key, fraction, unique
from lineage.edge_kinds import edge_properties

__all__ = ["mapped_records"]

DIRECTORY_ORDER = ("Team", "User", "Tag", "Glossary", "GlossaryTerm")
DATABASE_TYPES = {"database", "project", "catalog"}
SCHEMA_TYPES = {"schema", "dataset"}


def mapped_records(m: Mapper) -> Iterator[Record]:
    for e in m.entities.values():
        m.count_aspects(e)
    try:  # everything is mapped before the first record is yielded
        _directory(m)
        containers = _register(m)
        _collect_lineage(m)
        data = [*containers, *_datasets(m), *_pipelines(m), *_dashboards(m), *_models(m)]
    except (AttributeError, TypeError, KeyError, ValueError) as e:
        raise InputError(f"the export holds an aspect of an unexpected shape "
                         f"({type(e).__name__}: {e}); nothing was ingested") from None
    yield from sorted(m.directory.values(), key=lambda r: (DIRECTORY_ORDER.index(r["type"]),
                                                           r["id"]))
    yield from data
    m.tally.report(m.context)


# -- directory: users, teams, tags, glossaries ---------------------------------------------------
def _directory(m: Mapper) -> None:
    for e in m.of("corpGroup"):
        info = e.get("corpGroupInfo")
        key = m.agent(e.urn)
        kept = m.kept(e)
        for f in ("members", "admins", "groups", "email", "slack"):
            m.tally.keep(kept, "corpGroupInfo", f, info.get(f))
        m.directory[key].update(_some(name=info.get("displayName"),
                                      description=info.get("description"),
                                      facets=m.tally.facets(kept)))
    for e in m.of("corpuser"):
        info = e.get("corpUserInfo")
        key = m.agent(e.urn)
        kept = m.kept(e)
        for f in ("email", "title", "managerUrn", "departmentName", "countryCode"):
            m.tally.keep(kept, "corpUserInfo", f, info.get(f))
        m.directory[key].update(_some(name=info.get("displayName") or info.get("fullName"),
                                      facets=m.tally.facets(kept)))
    for e in m.of("tag"):
        props = e.get("tagProperties")
        key = m.tag(e.urn)
        m.directory[key].update(_some(name=props.get("name"),
                                      description=props.get("description"),
                                      facets=m.tally.facets(m.kept(e)), **_owners(m, e)))
    for e in m.of("glossaryNode"):
        info = e.get("glossaryNodeInfo")
        kept = m.kept(e)
        m.tally.keep(kept, "glossaryNodeInfo", "parentNode", info.get("parentNode"))
        m.glossary(split_urn(e.urn)[0], name=info.get("name"),
                   description=info.get("definition"), facets=m.tally.facets(kept),
                   **_owners(m, e))
    for e in m.of("glossaryTerm"):
        info = e.get("glossaryTermInfo")
        parent = info.get("parentNode")
        name = split_urn(e.urn)[0]
        if isinstance(parent, str):
            glossary = split_urn(parent)[0]
            key = m.keys[e.urn] = directory_key("glossary", glossary, name)
            m.directory[key] = {"id": key, "type": "GlossaryTerm", "name": name,
                                "partOf": m.glossary(glossary)}
        key = m.term(e.urn)
        kept = m.kept(e)
        for f in ("sourceRef", "sourceUrl", "termSource", "customProperties"):
            m.tally.keep(kept, "glossaryTermInfo", f, info.get(f))
        m.directory[key].update({"partOf": key.rsplit("/", 1)[0], **_some(
            name=info.get("name") or name.rsplit(".", 1)[-1],
            description=info.get("definition"), facets=m.tally.facets(kept),
            **_owners(m, e))})
    for file, doc in m.export.glossaries:
        _yaml_glossary(m, file, doc)


def _yaml_glossary(m: Mapper, file: str, doc: dict[str, Any]) -> None:
    """A business glossary file: each top node a Glossary, its terms (nested nodes' terms too,
    their path in the id) GlossaryTerms; owners as given, else the file's."""
    default_owners = doc.get("owners")
    for f in ("url", "source"):
        m.tally.field(f"glossary YAML file's {f}", doc.get(f))
    m.tally.map("glossary YAML file")
    for term in doc.get("terms") or []:
        _yaml_term(m, DEFAULT_GLOSSARY, "", term, default_owners)
    for node in doc.get("nodes") or []:
        if not isinstance(node, dict) or not node.get("name"):
            m.tally.skip(f"glossary YAML node without a name ({file})")
            continue
        name = str(node["name"])
        owners = node.get("owners") or default_owners
        kept: dict[str, Any] = {}
        for f in ("knowledge_links", "custom_properties", "domain"):
            m.tally.keep(kept, "glossary YAML node", f, node.get(f))
        m.glossary(name, description=node.get("description"),
                   owners=_yaml_owners(m, owners), facets=m.tally.facets(kept))
        _yaml_node(m, name, "", node, owners)


def _yaml_node(m: Mapper, glossary: str, path: str, node: dict[str, Any], owners: Any) -> None:
    for term in node.get("terms") or []:
        _yaml_term(m, glossary, path, term, node.get("owners") or owners)
    for child in node.get("nodes") or []:
        if isinstance(child, dict) and child.get("name"):
            m.tally.map("glossary YAML nested node (flattened: its terms are the top node's)")
            _yaml_node(m, glossary, f"{path}{child['name']}.", child,
                       child.get("owners") or node.get("owners") or owners)


def _yaml_term(m: Mapper, glossary: str, path: str, term: Any, owners: Any) -> None:
    if not isinstance(term, dict) or not term.get("name"):
        m.tally.skip("glossary YAML term without a name")
        return
    name = str(term["name"])
    key = directory_key("glossary", glossary, f"{path}{name}")
    m.glossary(glossary)
    urn_id = f"{glossary}.{path}{name}" if glossary != DEFAULT_GLOSSARY else f"{path}{name}"
    if m.keys.get(f"urn:li:glossaryTerm:{urn_id}") == key:
        m.tally.skip("glossary YAML term repeated in its node (the last is kept)")
    m.keys[f"urn:li:glossaryTerm:{urn_id}"] = key
    if isinstance(term.get("id"), str):
        m.keys[f"urn:li:glossaryTerm:{term['id'].removeprefix('urn:li:glossaryTerm:')}"] = key
    kept: dict[str, Any] = {}
    for f in ("inherits", "contains", "related_terms", "values", "custom_properties", "domain",
              "term_source", "source_ref", "source_url", "knowledge_links"):
        m.tally.keep(kept, "glossary YAML term", f, term.get(f))
    m.directory[key] = {"id": key, "type": "GlossaryTerm", "name": name,
                        "partOf": directory_key("glossary", glossary),
                        **_some(description=term.get("description"),
                                owners=_yaml_owners(m, term.get("owners") or owners),
                                facets=m.tally.facets(kept))}


def _yaml_owners(m: Mapper, owners: Any) -> list[str]:
    if not isinstance(owners, dict):
        return []
    users = [m.agent(f"urn:li:corpuser:{u}") for u in owners.get("users") or []]
    groups = [m.agent(f"urn:li:corpGroup:{g}") for g in owners.get("groups") or []]
    return unique([*users, *groups])


def _owners(m: Mapper, e: Entity) -> dict[str, Any]:
    return {"owners": m.common(e)["owners"]}


def _some(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [])}


# -- keys of data entities ---------------------------------------------------------------------
def _register(m: Mapper) -> list[Record]:
    """The key of every data entity, and the containers' records (made ones included)."""
    records: list[Record] = []
    made: set[str] = set()
    kinds: dict[str, str] = {}
    for e in m.of("container"):
        kinds[e.urn] = _container_kind(m, e)
    databases: dict[str, str] = {}  # container URN -> the database's name
    for e in sorted(m.of("container"), key=lambda c: kinds[c.urn] != "Database"):
        props = e.get("containerProperties")
        name = str(props.get("name") or split_urn(e.urn)[0])
        platform = m.platform(str(e.get("dataPlatformInstance").get("platform") or "unknown"))
        parent = e.get("container").get("container")
        kept = m.kept(e)
        for f in ("customProperties", "externalUrl", "qualifiedName"):
            m.tally.keep(kept, "containerProperties", f, props.get(f))
        extra = {"description": props.get("description"), "kept": kept, **m.common(e)}
        if kinds[e.urn] == "Database":
            databases[e.urn] = name
            records.append(m.asset("Database", platform, name, name, **extra))
            m.keys[e.urn] = m.key("database", platform, name)
            made.add(m.keys[e.urn])  # a dataset's name may imply the same one
        elif kinds[e.urn] == "Schema":
            if parent in databases:
                db = databases[parent]
            else:
                db = DEFAULT
                records += _made_database(m, platform, db, made)
            qn = f"{db}.{name}"
            records.append(m.asset("Schema", platform, qn, name,
                                   partOf=m.key("database", platform, db), **extra))
            m.keys[e.urn] = m.key("schema", platform, qn)
            made.add(m.keys[e.urn])
        else:
            m.tally.skip(f"container of subtype {kinds[e.urn]}")
    envs: set[str] = set()
    for e in m.of("dataset"):
        ids = m.dataset_id(e.urn)
        if ids is None:
            m.tally.skip("dataset with an unreadable URN")
            continue
        platform, qn, env = ids
        if m.config.env and env.upper() != m.config.env.upper():
            envs.add(env)
            continue
        types = {str(t).lower() for t in e.get("subTypes").get("typeNames") or []}
        kind = "view" if "view" in types else "table"
        m.keys[e.urn] = m.key(kind, platform, qn)
        container = m.keys.get(str(e.get("container").get("container")))
        if container is not None and container.split("/")[1] == "schema":
            m.parents[e.urn] = container
            continue
        db, schema = schema_of(qn)
        records += _made_database(m, platform, db, made)
        schema_key = m.key("schema", platform, schema)
        if schema_key not in made:
            made.add(schema_key)
            records.append(m.asset("Schema", platform, schema, schema.split(".", 1)[-1],
                                   partOf=m.key("database", platform, db)))
        m.parents[e.urn] = schema_key
    if envs:
        m.context.warn(f"datasets of environments {sorted(envs)} were left out (config.env is "
                       f"{m.config.env})")
    for kind, seg in (("dataFlow", "pipeline"), ("dashboard", "dashboard"), ("chart", "chart"),
                      ("mlModel", "model")):
        for e in m.of(kind):
            parts = split_urn(e.urn)
            if kind == "mlModel" and m.config.env and parts[-1].upper() != m.config.env.upper():
                continue
            m.keys[e.urn] = m.key(seg, m.platform(parts[0]), parts[1])
    for e in m.of("dataJob"):
        flow, job = split_urn(e.urn)
        fparts = split_urn(flow)
        m.keys[e.urn] = m.key("pipeline", m.platform(fparts[0]), f"{fparts[1]}.{job}")
    _register_features(m)
    return records


def _register_features(m: Mapper) -> None:
    platforms: dict[str, str] = {}
    for e in m.of("mlFeatureTable"):
        props = e.get("mlFeatureTableProperties")
        for f in [*(props.get("mlFeatures") or []), *(props.get("mlPrimaryKeys") or [])]:
            platforms.setdefault(f, m.platform(split_urn(e.urn)[0]))
    for e in m.of("mlModel"):
        for f in e.get("mlModelProperties").get("mlFeatures") or []:
            if e.urn in m.keys:
                m.feature_model.setdefault(f, m.keys[e.urn])
                platforms.setdefault(f, m.keys[e.urn].split("/")[2])
    for kind in ("mlFeature", "mlPrimaryKey"):
        for e in m.of(kind):
            parts = split_urn(e.urn)
            m.keys[e.urn] = m.key("feature", platforms.get(e.urn, "ml"), ".".join(parts))


def _container_kind(m: Mapper, e: Entity) -> str:
    types = {str(t).lower() for t in e.get("subTypes").get("typeNames") or []}
    if types & DATABASE_TYPES:
        return "Database"
    if types & SCHEMA_TYPES:
        return "Schema"
    if types:
        return "/".join(sorted(types))
    return "Schema" if e.get("container").get("container") else "Database"


def _made_database(m: Mapper, platform: str, db: str, made: set[str]) -> list[Record]:
    key = m.key("database", platform, db)
    if key in made:
        return []
    made.add(key)
    return [m.asset("Database", platform, db, db)]


# -- lineage -----------------------------------------------------------------------------------
def _collect_lineage(m: Mapper) -> None:
    """Column lineage from every fine-grained lineage (datasets' and jobs')."""
    for e in m.entities.values():
        fine = [*(e.get("upstreamLineage").get("fineGrainedLineages") or []),
                *(e.get("dataJobInputOutput").get("fineGrainedLineages") or [])]
        for lin in fine:
            props = edge_properties([("DIRECT", lin.get("transformOperation"))])
            ups = [m.column_ref(u, "column derivedFrom") if "schemaField" in u
                   else m.ref(u, "column derivedFrom") for u in lin.get("upstreams") or []]
            for d in lin.get("downstreams") or []:
                down = m.column_ref(d, "column lineage target")
                if down is None:
                    continue
                for prop in props:
                    m.column_lineage.setdefault(down, {}).setdefault(prop, []).extend(
                        u for u in ups if u)
            m.tally.map("fineGrainedLineage")


# -- datasets and columns ----------------------------------------------------------------------
def _datasets(m: Mapper) -> Iterator[Record]:
    for e in m.of("dataset"):
        key = m.keys.get(e.urn)
        if key is None:
            continue
        platform, kind, qn = _parts(key)
        props, editable = e.get("datasetProperties"), e.get("editableDatasetProperties")
        kept = m.kept(e)
        for f in ("customProperties", "externalUrl", "uri", "qualifiedName", "created",
                  "lastModified"):
            m.tally.keep(kept, "datasetProperties", f, props.get(f))
        upstreams = e.get("upstreamLineage").get("upstreams") or []
        derived = [(m.ref(u.get("dataset", ""), "derivedFrom"), str(u.get("type")).upper())
                   for u in upstreams]
        profile = e.get("datasetProfile")
        yield m.asset(
            "View" if kind == "view" else "Table", platform, qn,
            str(props.get("name") or short_name(qn)),
            partOf=m.parents[e.urn],
            description=editable.get("description") or props.get("description"),
            derivedFrom=unique(k for k, _ in derived if k),
            copiedFrom=unique(k for k, t in derived if k and t == "COPY"),
            rowCount=profile.get("rowCount") if isinstance(profile.get("rowCount"), int) else None,
            kept=kept, **m.common(e))
        yield from _columns(m, e, key, platform, qn)


def _columns(m: Mapper, e: Entity, table: str, platform: str, tqn: str) -> Iterator[Record]:
    schema = e.get("schemaMetadata")
    editable = {f.get("fieldPath"): f for f in
                e.get("editableSchemaMetadata").get("editableSchemaFieldInfo") or []}
    stats = {field_name(str(p.get("fieldPath"))): p
             for p in e.get("datasetProfile").get("fieldProfiles") or []}
    keys = {field_name(str(k)) for k in schema.get("primaryKeys") or []}
    refs: dict[str, list[str]] = {}
    for fk in schema.get("foreignKeys") or []:
        for src, dst in zip(fk.get("sourceFields") or [], fk.get("foreignFields") or [],
                            strict=False):
            target = m.column_ref(dst, "references")
            if target and len(split_urn(src)) == 2:
                refs.setdefault(field_name(split_urn(src)[1]), []).append(target)
    seen: set[str] = set()
    for position, f in enumerate(schema.get("fields") or [], start=1):
        path = str(f.get("fieldPath"))
        name = field_name(path)
        if name in seen:
            m.tally.skip("schema field repeated (key and value fields of one name)")
            continue
        seen.add(name)
        qn = f"{tqn}.{name}"
        col = m.key("column", platform, qn)
        edit = editable.get(path) or editable.get(name) or {}
        tags = [t.get("tag") for t in [*((f.get("globalTags") or {}).get("tags") or []),
                                       *((edit.get("globalTags") or {}).get("tags") or [])]]
        terms = [t.get("urn") for t in [*((f.get("glossaryTerms") or {}).get("terms") or []),
                                        *((edit.get("glossaryTerms") or {}).get("terms") or [])]]
        s = stats.get(name) or {}
        kept: dict[str, Any] = {}
        for k in ("jsonPath", "label"):
            m.tally.keep(kept, "schemaField", k, f.get(k))
        m.tally.map("schemaField")
        yield m.asset(
            "Column", platform, qn, name, partOf=table,
            dataType=str(f.get("nativeDataType") or _type_name(f.get("type")) or "UNKNOWN"),
            position=position, nullable=bool(f.get("nullable", True)),
            primaryKey=True if f.get("isPartOfKey") or name in keys else None,
            description=edit.get("description") or f.get("description"),
            tags=unique(m.tag(t) for t in tags if isinstance(t, str)),
            terms=unique(m.term(t) for t in terms if isinstance(t, str)),
            references=unique(refs.get(name, [])),
            nullFraction=fraction(s.get("nullProportion")),
            distinctCount=s.get("uniqueCount") if isinstance(s.get("uniqueCount"), int) else None,
            kept=kept,
            **{p: unique(v) for p, v in m.column_lineage.get(col, {}).items()})


def _type_name(t: Any) -> str | None:
    inner = t.get("type") if isinstance(t, dict) else None
    if isinstance(inner, dict) and len(inner) == 1:
        return next(iter(inner)).rsplit(".", 1)[-1].removesuffix("Type").upper()
    return None


# -- pipelines, dashboards, models -------------------------------------------------------------
def _pipelines(m: Mapper) -> Iterator[Record]:
    for e in m.of("dataFlow"):
        info = e.get("dataFlowInfo")
        platform, _, qn = _parts(m.keys[e.urn])
        kept = m.kept(e)
        for f in ("customProperties", "externalUrl", "project"):
            m.tally.keep(kept, "dataFlowInfo", f, info.get(f))
        yield m.asset("Pipeline", platform, qn, str(info.get("name") or qn),
                      description=info.get("description"), kept=kept, **m.common(e))
    for e in m.of("dataJob"):
        info, io = e.get("dataJobInfo"), e.get("dataJobInputOutput")
        platform, _, qn = _parts(m.keys[e.urn])
        flow = m.keys.get(split_urn(e.urn)[0])
        kept = m.kept(e)
        for f in ("customProperties", "externalUrl", "type"):
            m.tally.keep(kept, "dataJobInfo", f, info.get(f))
        m.tally.keep(kept, "dataJobInputOutput", "inputDatajobs", io.get("inputDatajobs"))
        yield m.asset("Pipeline", platform, qn, str(info.get("name") or qn), partOf=flow,
                      kept=kept,
                      description=info.get("description"),
                      consumes=unique(k for u in io.get("inputDatasets") or []
                                      if (k := m.ref(u, "consumes"))),
                      produces=unique(k for u in io.get("outputDatasets") or []
                                      if (k := m.ref(u, "produces"))),
                      **m.common(e))


def _dashboards(m: Mapper) -> Iterator[Record]:
    chart_parent: dict[str, str] = {}
    for e in m.of("dashboard"):
        info = e.get("dashboardInfo")
        platform, _, qn = _parts(m.keys[e.urn])
        for c in info.get("charts") or []:
            chart_parent.setdefault(c, m.keys[e.urn])
        kept = m.kept(e)
        for f in ("customProperties", "dashboardUrl", "externalUrl", "access"):
            m.tally.keep(kept, "dashboardInfo", f, info.get(f))
        yield m.asset("Dashboard", platform, qn, str(info.get("title") or qn),
                      description=info.get("description"), kept=kept,
                      consumes=unique(k for u in info.get("datasets") or []
                                      if (k := m.ref(u, "consumes"))), **m.common(e))
    for e in m.of("chart"):
        info = e.get("chartInfo")
        platform, _, qn = _parts(m.keys[e.urn])
        inputs = [*(info.get("inputs") or []),
                  *(i.get("destinationUrn") for i in info.get("inputEdges") or [])]
        kept = m.kept(e)
        for f in ("customProperties", "chartUrl", "externalUrl", "type", "access"):
            m.tally.keep(kept, "chartInfo", f, info.get(f))
        yield m.asset("Chart", platform, qn, str(info.get("title") or qn), kept=kept,
                      partOf=chart_parent.get(e.urn), description=info.get("description"),
                      consumes=unique(k for u in inputs if isinstance(u, str)
                                      and (k := m.ref(u, "consumes"))), **m.common(e))


def _models(m: Mapper) -> Iterator[Record]:
    for e in m.of("mlModel"):
        if e.urn not in m.keys:
            continue
        props = e.get("mlModelProperties")
        platform, _, qn = _parts(m.keys[e.urn])
        kept = m.kept(e)
        for f in ("type", "hyperParams", "trainingMetrics", "customProperties", "version",
                  "date", "externalUrl"):
            m.tally.keep(kept, "mlModelProperties", f, props.get(f))
        common = m.common(e)
        common["tags"] = unique([*common["tags"], *(m.tag(f"urn:li:tag:{t}")
                                                    for t in props.get("tags") or [])])
        training = [t.get("dataset") for t in e.get("trainingData").get("trainingData") or []]
        yield m.asset("MLModel", platform, qn, qn, description=props.get("description"),
                      kept=kept,
                      consumes=unique(k for u in training if isinstance(u, str)
                                      and (k := m.ref(u, "consumes"))), **common)
    for kind in ("mlFeature", "mlPrimaryKey"):
        for e in m.of(kind):
            props = e.get(f"{kind}Properties")
            platform, _, qn = _parts(m.keys[e.urn])
            kept = m.kept(e)
            m.tally.keep(kept, f"{kind}Properties", "dataType", props.get("dataType"))
            yield m.asset("Feature", platform, qn, split_urn(e.urn)[-1], kept=kept,
                          partOf=m.feature_model.get(e.urn),
                          description=props.get("description"),
                          derivedFrom=unique(k for u in props.get("sources") or []
                                             if (k := m.ref(u, "feature derivedFrom"))),
                          **m.common(e))


def _parts(key: str) -> tuple[str, str, str]:
    _, kind, platform, qn = key.split("/", 3)
    return platform, kind, decode_segment(qn)
