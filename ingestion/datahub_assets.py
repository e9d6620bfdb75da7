"""DataHub entities as catalog assets: what maps where, and what is counted as kept out.

- container (subType Database/Project/Catalog; Schema/Dataset): Database, Schema.
- dataset: Table (View for subType View), partOf its container schema, or else a Database and
  Schema made from its name (``db.schema.table``; ``db.t``: ``db.db``; else ``default``).
- schemaMetadata fields: Column ``{table}.{fieldPath}`` (v2 path tokens dropped): dataType
  (the native type), position, nullable, primaryKey, description (the editable one first),
  tags, terms; foreign keys: references.
- upstreamLineage, fineGrainedLineages (datasets' and jobs'): derivedFrom (copiedFrom for COPY;
  column kinds by lineage/edge_kinds.py); dataJobInputOutput: consumes, produces.
- datasetProfile (the last given): rowCount, column nullFraction and distinctCount.
- ownership, globalTags, glossaryTerms: owners (user/..., team/...), tags (tag/...), terms.
- dataFlow, dataJob: Pipeline (a job ``{flow}.{job}`` partOf its flow).
- dashboard, chart: Dashboard, Chart (partOf the first dashboard listing it; consumes inputs).
- mlModel: MLModel (consumes training data); mlFeature, mlPrimaryKey: Feature (partOf the
  model listing it, derivedFrom its sources).
- corpuser, corpGroup, tag, glossaryNode, glossaryTerm, business glossary YAML: User, Team,
  Tag, Glossary, GlossaryTerm (nested nodes flattened into their top node's glossary).

Everything else (assertions, queries, posts, domains, forms, usage statistics, operations,
institutional memory, custom properties, feature tables, ...) is counted per aspect and field
and reported, not imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Protocol

from graph_store.keys import decode_segment, encode_segment
from ingestion.connector import Record, RunContext
from ingestion.datahub_mapping import Tally, directory_key, unique

__all__ = ["Entity", "Export", "Mapper", "Options", "field_name", "schema_of", "short_name",
           "split_urn"]

DEFAULT_PLATFORMS = {"postgresql": "postgres", "mariadb": "mysql"}
DEFAULT = "default"
DEFAULT_GLOSSARY = "datahub"
_TOKEN = re.compile(r"\[[^\]]*\]\.?")
# aspects read by the mapping (others are counted as not mapped); fields read per aspect
ASPECTS = {
    "dataset": {"schemaMetadata", "datasetProperties", "editableDatasetProperties",
                "editableSchemaMetadata", "upstreamLineage", "ownership", "globalTags",
                "glossaryTerms", "datasetProfile", "container", "subTypes", "status",
                "dataPlatformInstance"},
    "container": {"containerProperties", "subTypes", "container", "dataPlatformInstance",
                  "ownership", "globalTags", "glossaryTerms", "status"},
    "dataFlow": {"dataFlowInfo", "ownership", "globalTags", "glossaryTerms", "status"},
    "dataJob": {"dataJobInfo", "dataJobInputOutput", "ownership", "globalTags",
                "glossaryTerms", "status"},
    "chart": {"chartInfo", "ownership", "globalTags", "glossaryTerms", "status"},
    "dashboard": {"dashboardInfo", "ownership", "globalTags", "glossaryTerms", "status"},
    "mlModel": {"mlModelProperties", "trainingData", "ownership", "globalTags",
                "glossaryTerms", "status"},
    "mlFeature": {"mlFeatureProperties", "ownership", "globalTags", "glossaryTerms", "status"},
    "mlPrimaryKey": {"mlPrimaryKeyProperties", "ownership", "globalTags", "status"},
    "corpuser": {"corpUserInfo", "status"},
    "corpGroup": {"corpGroupInfo", "status"},
    "tag": {"tagProperties", "ownership", "status"},
    "glossaryNode": {"glossaryNodeInfo", "ownership", "status"},
    "glossaryTerm": {"glossaryTermInfo", "ownership", "status"},
}


# aspects of imported entities that are left out rather than kept in facets
DROPPED = {"datasetUsageStatistics": "usage statistics (time series)",
           "operation": "operations (time series)",
           "corpUserStatus": "account status", "browsePaths": "browse paths (from the ids)",
           "browsePathsV2": "browse paths (from the ids)"}
# why entities of some types are not imported
ENTITY_REASONS = {"dataPlatform": "the catalog makes platforms as assets name them",
                  "mlFeatureTable": "no feature-table class; its features are imported",
                  "assertion": "data-quality checks are not mapped yet", "query": "no query class",
                  "post": "announcements", "domain": "no domain class",
                  "structuredProperty": "define them as custom attributes",
                  "form": "no form class", "dataType": "DataHub's own model",
                  "entityType": "DataHub's own model"}


@dataclass
class Entity:
    urn: str
    aspects: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.urn.split(":", 3)[2] if self.urn.count(":") >= 3 else ""

    def get(self, name: str) -> dict[str, Any]:
        value = self.aspects.get(name)
        return value if isinstance(value, dict) else {}


class Export:
    """A DataHub export as entities (URN -> aspect name -> value) plus glossary YAML documents."""

    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}
        self.glossaries: list[tuple[str, dict[str, Any]]] = []  # (file name, document)

    def aspect(self, urn: str, name: str, value: Any) -> None:
        """The aspect's value, replacing an earlier one; of a time series (profiles), the
        latest by ``timestampMillis`` is kept."""
        entity = self.entities.setdefault(urn, Entity(urn))
        old = entity.aspects.get(name)
        if isinstance(old, dict) and isinstance(value, dict) and \
                int(old.get("timestampMillis") or 0) > int(value.get("timestampMillis") or 0):
            return
        entity.aspects[name] = value


class Options(Protocol):
    """What the mapping reads of the connector's config (ingestion/datahub.py)."""

    platform_instance: dict[str, str]
    platforms: dict[str, str]
    env: str | None


def split_urn(urn: str) -> list[str]:
    """The parts of a URN's key: ``urn:li:dataJob:(urn:li:dataFlow:(a,b,PROD),t)`` ->
    ``["urn:li:dataFlow:(a,b,PROD)", "t"]``; ``urn:li:tag:x`` -> ``["x"]``."""
    body = urn.split(":", 3)[3] if urn.count(":") >= 3 else urn
    if not (body.startswith("(") and body.endswith(")")):
        return [body]
    parts, depth, current = [], 0, ""
    for c in body[1:-1]:
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += (c == "(") - (c == ")")
        current += c
    return [*parts, current]


def field_name(path: str) -> str:
    """A schema field's name without v2 tokens: ``[version=2.0].[type=int].id`` -> ``id``."""
    return _TOKEN.sub("", path).strip(".") or path


def schema_of(qn: str) -> tuple[str, str]:
    """The database and schema a dataset name implies: ``db.schema.t`` -> (db, db.schema);
    ``db.t`` -> (db, db.db), databases being schemas there (MySQL, Hive); otherwise the
    ``default`` ones."""
    parts = qn.split(".") if "/" not in qn else [qn]
    if len(parts) >= 3:
        return parts[0], f"{parts[0]}.{parts[1]}"
    if len(parts) == 2:
        return parts[0], f"{parts[0]}.{parts[0]}"
    return DEFAULT, f"{DEFAULT}.{DEFAULT}"


def short_name(qn: str) -> str:
    """A dataset's name: a path's last part (``events/orders.csv``), else the last dotted one."""
    return PurePath(qn).name if "/" in qn else qn.rsplit(".", 1)[-1]


def _urn_tail(urn: str) -> str:
    return urn.split(":", 3)[3] if urn.count(":") >= 3 else urn


class Mapper:
    def __init__(self, export: Export, config: Options, context: RunContext) -> None:
        self.export = export
        self.config = config
        self.context = context
        self.ws = context.workspace
        self.tally = Tally("DataHub", "datahub")
        self.platforms = {**DEFAULT_PLATFORMS, **config.platforms}
        self.entities = {urn: e for urn, e in export.entities.items()
                         if not e.get("status").get("removed")}
        removed = len(export.entities) - len(self.entities)
        if removed:
            self.tally.skip("status.removed (soft-deleted entities)", removed)
        self.keys: dict[str, str] = {}  # URN -> asset key, for everything this import yields
        self.directory: dict[str, Record] = {}  # users, teams, tags, glossaries, terms by key
        self.column_lineage: dict[str, dict[str, list[str]]] = {}  # column key -> prop -> keys
        self.parents: dict[str, str] = {}  # dataset URN -> its schema's key
        self.feature_model: dict[str, str] = {}  # feature URN -> the model listing it

    # -- ids -----------------------------------------------------------------------------------
    def key(self, kind: str, platform: str, qn: str) -> str:
        return f"{self.ws}/{kind}/{platform}/{encode_segment(qn)}"

    def platform(self, urn_or_name: str) -> str:
        name = urn_or_name.rsplit(":", 1)[-1]
        return self.platforms.get(name, name).lower()

    def dataset_id(self, urn: str) -> tuple[str, str, str] | None:
        """(platform, qualified name, env) of a dataset URN, platform instances applied."""
        parts = split_urn(urn)
        if len(parts) != 3:
            return None
        platform, name, env = self.platform(parts[0]), parts[1], parts[2]
        instance = self.entities.get(urn, Entity(urn)).get("dataPlatformInstance").get("instance")
        candidates = [split_urn(instance)[-1]] if isinstance(instance, str) else []
        candidates.append(name.split(".", 1)[0])
        for c in candidates:
            if c in self.config.platform_instance:
                platform = self.config.platform_instance[c]
                name = name.removeprefix(f"{c}.")
                break
        if platform == "mysql" and name.count(".") == 1:  # databases are schemas: db.db.t
            db, table = name.split(".")
            name = f"{db}.{db}.{table}"
        return platform, name, env

    def ref(self, urn: str, prop: str) -> str | None:
        """The key of an entity this import yields, or None (counted) for one it lacks."""
        found = self.keys.get(urn)
        if found is None:
            self.tally.missing(prop, urn)
        return found

    def column_ref(self, field_urn: str, prop: str) -> str | None:
        parts = split_urn(field_urn)
        table = self.keys.get(parts[0]) if len(parts) == 2 else None
        if table is None or table.split("/")[1] not in ("table", "view"):
            self.tally.missing(prop, field_urn)
            return None
        platform, qn = table.split("/", 3)[2:]
        return self.key("column", platform, f"{decode_segment(qn)}.{field_name(parts[1])}")

    def agent(self, urn: str) -> str:
        """``user/x`` or ``team/x``; created bare when the import does not describe it."""
        kind = "team" if ":corpGroup:" in urn else "user"
        key = directory_key(kind, _urn_tail(urn))
        self.directory.setdefault(key, {"id": key, "type": kind.capitalize(),
                                        "name": _urn_tail(urn)})
        return key

    def tag(self, urn: str) -> str:
        name = _urn_tail(urn)
        key = directory_key("tag", name)
        self.directory.setdefault(key, {"id": key, "type": "Tag", "name": name})
        return key

    def term(self, urn: str) -> str:
        """A glossary term's key: ``glossary/{root node}/{term}``, ``glossary/datahub/...``
        for terms outside any node."""
        if urn in self.keys:
            return self.keys[urn]
        name = _urn_tail(urn)
        glossary, _, rest = name.partition(".") if "." in name else (DEFAULT_GLOSSARY, "", name)
        self.glossary(glossary)
        key = directory_key("glossary", glossary, rest)
        self.directory.setdefault(key, {"id": key, "type": "GlossaryTerm",
                                        "name": rest.rsplit(".", 1)[-1],
                                        "partOf": directory_key("glossary", glossary)})
        self.keys[urn] = key
        return key

    def glossary(self, gid: str, **extra: Any) -> str:
        key = directory_key("glossary", gid)
        record = self.directory.setdefault(key, {"id": key, "type": "Glossary", "name": gid})
        record.update({k: v for k, v in extra.items() if v})
        return key

    # -- common aspects ------------------------------------------------------------------------
    def common(self, e: Entity) -> dict[str, Any]:
        """owners, tags and terms from ownership, globalTags and glossaryTerms."""
        out: dict[str, Any] = {}
        owners = [o.get("owner") for o in e.get("ownership").get("owners") or []]
        out["owners"] = unique(self.agent(o) for o in owners if isinstance(o, str))
        tags = [t.get("tag") for t in e.get("globalTags").get("tags") or []]
        out["tags"] = unique(self.tag(t) for t in tags if isinstance(t, str))
        terms = [t.get("urn") for t in e.get("glossaryTerms").get("terms") or []]
        out["terms"] = unique(self.term(t) for t in terms if isinstance(t, str))
        return out

    def asset(self, kind: str, platform: str, qn: str, name: str, *,
              kept: dict[str, Any] | None = None, **extra: Any) -> Record:
        record = {"type": kind, "name": name or qn, "qualifiedName": qn, "workspace": self.ws,
                  "platform": f"platform/{platform}",
                  **{k: v for k, v in extra.items() if v is not None and v != [] and v != ""}}
        facets = self.tally.facets(kept or {})
        if facets:
            record["facets"] = facets
        return record

    def count_aspects(self, e: Entity) -> None:
        if e.type not in ASPECTS:
            reason = ENTITY_REASONS.get(e.type)
            self.tally.skip(f"entity {e.type or e.urn}" + (f" ({reason})" if reason else ""))
            return
        for name in e.aspects:
            if name in ASPECTS[e.type]:
                self.tally.map(name)
            elif name in DROPPED:
                self.tally.skip(f"{e.type}.{name}: {DROPPED[name]}")
            else:
                self.tally.kept[f"{e.type}.{name}"] += 1

    def kept(self, e: Entity) -> dict[str, Any]:
        """The entity's aspects that map onto no term, for its facets."""
        return {name: value for name, value in e.aspects.items()
                if name not in ASPECTS.get(e.type, ()) and name not in DROPPED}

    def of(self, kind: str) -> list[Entity]:
        return [e for urn, e in sorted(self.entities.items()) if e.type == kind]
