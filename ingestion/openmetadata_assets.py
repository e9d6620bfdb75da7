"""OpenMetadata sample data as catalog assets: what maps where, and what is counted as kept out.

- database service folders (``datasets/``, ``glue/``, any folder with ``tables.json``):
  Database ``{database}``, Schema ``{database}.{schema}``, Table ``{database}.{schema}.{table}``
  (MySQL's ``default`` database: ``{schema}.{schema}``, as the sql connector names it).
- table columns (nested children as ``parent.child``): Column with dataType (the type and its
  length: ``VARCHAR(100)``), position, description, constraint (PRIMARY_KEY: primaryKey;
  NOT_NULL / NULL: nullable); tableConstraints PRIMARY_KEY and FOREIGN_KEY: primaryKey,
  references; tags (``source: Glossary``: terms); owner: owners.
- profiler/tableProfile.json (the first profile of a table) and a table's own tableProfile:
  rowCount, column nullFraction and distinctCount.
- lineage/lineage.json: the target table derivedFrom the source (its ``sql_query`` as
  transformation when it has one query); the edge's pipeline consumes the source and produces
  the target.
- pipelines: Pipeline ``{pipeline}``, its tasks Pipeline ``{pipeline}.{task}`` partOf it;
  pipelineStatus: PipelineRun ``{pipeline}.{timestamp}`` with runOf, status, startedAt.
- dashboards, charts: Dashboard, Chart (partOf the first dashboard listing it, by name or
  chart id); a model's performance dashboard consumes the model.
- models: MLModel; its mlFeatures Feature ``{model}.{feature}`` partOf it, derivedFrom the
  source columns (or tables); the model consumes those tables.
- users, teams: User ``user/{name}``, Team ``team/{name}``; thesauruses (SKOS JSON-LD):
  Glossary ``glossary/{file}`` and GlossaryTerm per concept.

What has no term in the ontology (table joins and usage, URLs, task order and types, model
algorithms and hyper-parameters, users' e-mails and teams, ...) is kept as JSON in the asset's
``facets`` under ``openmetadata``. Team membership, roles and admin flags are kept there only:
in the catalog they grant access, and an import must not hand out permissions. Sample rows
(data values, not metadata) are not imported; topics, storage locations, data-quality tests,
query logs and dbt artifacts are counted and reported, not imported.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graph_store.keys import encode_segment
from graph_store.layout import DATA_KINDS
from ingestion.connector import Record, RunContext
from ingestion.datahub_mapping import Tally, directory_key, unique

__all__ = ["OmMapper", "split_fqn"]

PLATFORMS = {"mariadb": "mysql", "postgresql": "postgres"}
LENGTHS = {"VARCHAR", "CHAR", "BINARY", "VARBINARY", "NVARCHAR", "NCHAR"}
STATUS = {"successful": "success", "failed": "failed", "pending": "queued",
          "skipped": "skipped", "running": "running", "aborted": "aborted"}
SKOS = "http://www.w3.org/2004/02/skos/core#"
TABLE_FIELDS = ("joins", "usageSummary", "followers", "extension", "tableQueries", "dataModel")
COLUMN_FIELDS = ("arrayDataType", "jsonSchema")


def split_fqn(fqn: str) -> list[str]:
    """``svc.db.schema."dim.product"`` -> ``[svc, db, schema, dim.product]``."""
    parts, current, quoted = [], "", False
    for c in fqn:
        if c == '"':
            quoted = not quoted
        elif c == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += c
    return [*parts, current]


class OmMapper:
    def __init__(self, data: Any, platforms: dict[str, str], context: RunContext) -> None:
        self.data = data
        self.platforms = platforms
        self.context = context
        self.ws = context.workspace
        self.tally = Tally("OpenMetadata", "openmetadata")
        self.tables: dict[tuple[str, ...], str] = {}  # (service, db, schema, table) -> key
        self.columns: dict[str, set[str]] = {}  # table key -> its column names
        self.directory: dict[str, Record] = {}
        self.pipelines: dict[str, str] = {}  # service.pipeline -> key
        self.extra: dict[str, dict[str, list[str]]] = {}  # key -> property -> keys to add
        self.sql: dict[str, set[str]] = {}  # table key -> the lineage queries that build it

    def key(self, kind: str, platform: str, qn: str) -> str:
        return f"{self.ws}/{kind}/{platform}/{encode_segment(qn)}"

    def platform(self, service: dict[str, Any], default: str) -> str:
        name, kind = str(service.get("serviceName") or ""), str(service.get("type") or default)
        chosen = self.platforms.get(name) or self.platforms.get(kind) or kind.lower()
        return PLATFORMS.get(chosen, chosen)

    def asset(self, kind: str, platform: str, qn: str, name: Any, *,
              kept: dict[str, Any] | None = None, **extra: Any) -> Record:
        record = {"type": kind, "name": str(name or qn), "qualifiedName": qn,
                  "workspace": self.ws, "platform": f"platform/{platform}",
                  **{k: v for k, v in extra.items() if v not in (None, [], "")}}
        facets = self.tally.facets(kept or {})
        if facets:
            record["facets"] = facets
        return record

    def add(self, key: str, prop: str, value: str | None) -> None:
        if value is not None:
            self.extra.setdefault(key, {}).setdefault(prop, []).append(value)

    def table_key(self, fqn: str, prop: str) -> str | None:
        found = self.tables.get(tuple(split_fqn(fqn)))
        if found is None:
            self.tally.missing(prop, fqn)
        return found

    def agent(self, ref: Any) -> str | None:
        if not isinstance(ref, dict) or not ref.get("name"):
            return None
        kind = "team" if ref.get("type") == "team" else "user"
        key = directory_key(kind, str(ref["name"]))
        self.directory.setdefault(key, {"id": key, "type": kind.capitalize(),
                                        "name": str(ref.get("displayName") or ref["name"])})
        return key

    def labels(self, tags: Any) -> dict[str, list[str]]:
        """Tag labels as tags, glossary labels as terms."""
        out: dict[str, list[str]] = {"tags": [], "terms": []}
        for label in tags or []:
            fqn = str(label.get("tagFQN") or "") if isinstance(label, dict) else ""
            if not fqn:
                continue
            if label.get("source") == "Glossary":
                glossary, _, term = fqn.partition(".")
                gkey = directory_key("glossary", glossary)
                self.directory.setdefault(gkey, {"id": gkey, "type": "Glossary", "name": glossary})
                key = directory_key("glossary", glossary, term or glossary)
                self.directory.setdefault(key, {"id": key, "type": "GlossaryTerm",
                                                "name": (term or glossary).rsplit(".", 1)[-1],
                                                "partOf": gkey})
                out["terms"].append(key)
            else:
                key = directory_key("tag", fqn)
                self.directory.setdefault(key, {"id": key, "type": "Tag", "name": fqn})
                out["tags"].append(key)
        return {k: unique(v) for k, v in out.items()}

    def owned(self, entity: dict[str, Any]) -> dict[str, Any]:
        owners = [self.agent(o) for o in (entity.get("owners") or [entity.get("owner")])]
        return {"owners": unique(o for o in owners if o), **self.labels(entity.get("tags"))}

    def key_of(self, record: Record) -> str:
        return self.key(DATA_KINDS[record["type"]], record["platform"].rsplit("/", 1)[-1],
                        record["qualifiedName"])


def column_type(c: dict[str, Any]) -> str:
    kind = str(c.get("dataType") or "").upper()
    display = str(c.get("dataTypeDisplay") or "")
    if kind in LENGTHS and c.get("dataLength"):
        return f"{kind}({c['dataLength']})"
    if "(" in display or "<" in display:  # VARCHAR(32), array<struct<...>>: the full type
        return display
    return kind or display or "UNKNOWN"


def millis(value: Any) -> str | None:
    """Epoch milliseconds as an xsd:dateTime in its canonical form (``...:18.9Z``), so that a
    re-run compares equal to what the store holds."""
    try:
        ms = int(value)
        moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    fraction = f".{ms % 1000:03d}".rstrip("0").rstrip(".")
    return f"{moment:%Y-%m-%dT%H:%M:%S}{fraction}Z"
