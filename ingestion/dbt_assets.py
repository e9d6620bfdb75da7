"""What the dbt connector yields, built from the artifacts (ingestion/dbt_artifacts.py).

Relations (models, seeds, snapshots, sources; not ephemeral models, which the warehouse never
holds) become Tables and Views keyed ``db.schema.name`` exactly as the SQL connector keys what
it inspects, so both describe the same assets. A source and a seed (or model) that name the same
relation are one asset. Lineage between relations follows ``depends_on`` through ephemeral
models; column lineage comes from compiled SQL (ingestion/dbt_lineage.py).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from graph_store.keys import encode_segment
from ingestion.connector import Record, RunContext
from ingestion.dbt_artifacts import Artifacts, Column, Node
from ingestion.dbt_lineage import DIALECTS, column_lineage
from lineage.sql_names import Naming

__all__ = ["Builder"]

UNKNOWN_TYPE: Final = "UNKNOWN"  # as the SQL connector writes a type it cannot tell
# the order in which merged nodes speak for their relation (description, SQL)
PRECEDENCE: Final = {"model": 0, "snapshot": 1, "seed": 2, "source": 3}
RESULTS: Final = {"pass": "pass", "success": "pass", "fail": "fail", "warn": "warn",
                  "error": "error", "runtime error": "error", "skipped": "skipped"}
_ID = re.compile(r"^(user|team)/[A-Za-z0-9._~@+-]+$")
_HANDLE = re.compile(r"^@?([A-Za-z0-9][A-Za-z0-9._-]*)$")


def _same(name: str) -> str:
    return name


@dataclass
class Relation:
    qn: str  # db.schema.name
    database: str
    schema: str
    name: str
    nodes: list[Node] = field(default_factory=list)
    kind: str = "Table"
    columns: list[tuple[str, str, int | None, Column | None]] = field(default_factory=list)

    @property
    def first(self) -> Node:
        return self.nodes[0]


class Builder:
    def __init__(self, artifacts: Artifacts, *, context: RunContext, platform: str,
                 lineage: bool, tests: bool, owners: dict[str, str]) -> None:
        self.a = artifacts
        self.dialect = artifacts.adapter or platform
        self.context = context
        self.ws = context.workspace
        self.platform = platform
        self.lineage = lineage
        self.tests = tests
        self.owner_map = owners
        self.warned: set[str] = set()
        self.relations: dict[str, Relation] = {}
        self.relation_of: dict[str, str] = {}  # node id -> relation qn
        # names as the lineage parser and SQLAlchemy write them (Snowflake: lower case); for a
        # dialect sqlglot does not know, as dbt gives them
        self.name: Callable[[str], str] = _same
        with contextlib.suppress(ValueError):
            self.name = Naming(DIALECTS.get(self.dialect, self.dialect)).out

    # -- ids and records -----------------------------------------------------------------------
    def key(self, kind: str, qn: str, platform: str | None = None) -> str:
        return f"{self.ws}/{kind}/{platform or self.platform}/{encode_segment(qn)}"

    def rel_key(self, qn: str) -> str:
        return self.key("view" if self.relations[qn].kind == "View" else "table", qn)

    def asset(self, kind: str, qn: str, name: str, platform: str | None = None,
              **extra: Any) -> Record:
        return {"type": kind, "name": name, "qualifiedName": qn, "workspace": self.ws,
                "platform": f"platform/{platform or self.platform}",
                **{k: v for k, v in extra.items() if v is not None and v != [] and v != {}}}

    def warn(self, message: str) -> None:
        self.context.warn(message)

    # -- the walk ----------------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        self.collect()
        databases = sorted({r.database for r in self.relations.values()})
        schemas = sorted({(r.database, r.schema) for r in self.relations.values()})
        for db in databases:
            yield self.asset("Database", db, db)
        for db, schema in schemas:
            yield self.asset("Schema", f"{db}.{schema}", schema, partOf=self.key("database", db))
        known = {qn: [c[0] for c in r.columns] for qn, r in self.relations.items()}
        for qn in self.ordered():
            yield from self.relation(self.relations[qn], known)
        yield from self.exposures()
        if self.tests:
            yield from self.assertions(known)

    def collect(self) -> None:
        """Relations from the nodes, merged by name, with their kind and columns."""
        for node in sorted(self.a.nodes.values(),
                           key=lambda n: (PRECEDENCE.get(n.resource_type, 9), n.unique_id)):
            if node.resource_type == "test" or node.ephemeral:
                continue
            database = node.database or node.schema  # MySQL-like: databases are schemas
            if not database or not node.schema:
                self.warn(f"{node.unique_id}: the manifest names no schema for it; left out")
                continue
            database, schema, name = (self.name(x) for x in (database, node.schema, node.identifier))
            qn = f"{database}.{schema}.{name}"
            rel = self.relations.setdefault(qn, Relation(qn, database, schema, name))
            rel.nodes.append(node)
            self.relation_of[node.unique_id] = qn
        for rel in self.relations.values():
            table = next((self.a.catalog[n.unique_id] for n in rel.nodes
                          if self.a.catalog and n.unique_id in self.a.catalog), None)
            kind = (table.type if table else "").lower()
            views = ("view", "materialized_view", "materialized view")
            rel.kind = "View" if "view" in kind or (not kind and any(
                n.materialized in views for n in rel.nodes)) else "Table"
            docs: dict[str, Column] = {}
            for node in rel.nodes:
                for c in node.columns:
                    docs.setdefault(c.name.casefold(), c)
                    if c.description and not docs[c.name.casefold()].description:
                        docs[c.name.casefold()] = c
            if table is not None:
                rel.columns = [(self.name(name), type_, index, docs.pop(name.casefold(), None))
                               for name, type_, index in table.columns]
                if docs:
                    names = ", ".join(sorted(c.name for c in docs.values()))
                    self.warn(f"{rel.first.unique_id}: documented columns not in catalog.json "
                              f"(not in the warehouse when docs were generated): {names}; left out")
            else:
                rel.columns = [(self.name(c.name), c.data_type or UNKNOWN_TYPE, None, c)
                               for c in docs.values()]

    def upstream(self, deps: tuple[str, ...], seen: set[str] | None = None) -> set[str]:
        """The relations ``deps`` name, looking through ephemeral models to what they read."""
        seen = set() if seen is None else seen
        found: set[str] = set()
        for dep in deps:
            if dep in seen:
                continue
            seen.add(dep)
            if dep in self.relation_of:
                found.add(self.relation_of[dep])
            elif (node := self.a.nodes.get(dep)) is not None and node.ephemeral:
                found |= self.upstream(node.depends_on, seen)
        return found

    def parents(self, rel: Relation) -> set[str]:
        return {p for n in rel.nodes for p in self.upstream(n.depends_on)} - {rel.qn}

    def ordered(self) -> list[str]:
        """Relation names, each after those it is derived from (where there is no cycle)."""
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(qn: str) -> None:
            if state.get(qn):
                return
            state[qn] = 1
            for parent in sorted(self.parents(self.relations[qn])):
                visit(parent)
            order.append(qn)

        for qn in sorted(self.relations):
            visit(qn)
        return order

    # -- assets ------------------------------------------------------------------------------
    def relation(self, rel: Relation, known: dict[str, list[str]]) -> Iterator[Record]:
        nodes = rel.nodes
        model = next((n for n in nodes if n.resource_type in ("model", "snapshot")), None)
        sql = (model.compiled_sql or model.raw_sql) if model else None
        key = self.rel_key(rel.qn)
        yield self.asset(
            rel.kind, rel.qn, rel.name, partOf=self.key("schema", f"{rel.database}.{rel.schema}"),
            description=next((n.description for n in nodes if n.description), None),
            transformation=sql, derivedFrom=sorted(self.rel_key(p) for p in self.parents(rel)),
            owners=self.owners([n.meta for n in nodes], rel.first.unique_id),
            tags=self.tag_ids(t for n in nodes for t in n.tags))
        lineage: dict[str, dict[str, Any]] = {}
        if self.lineage and model is not None and model.compiled_sql:
            lineage = column_lineage(model.compiled_sql, adapter=self.dialect, target=rel.qn,
                                     columns=known, key=lambda qn: self.key("column", qn),
                                     warn=self.warn, label=model.unique_id)
        for name, type_, index, doc in rel.columns:
            yield self.asset("Column", f"{rel.qn}.{name}", name, partOf=key, dataType=type_,
                             position=index, description=doc.description if doc else None,
                             tags=self.tag_ids(doc.tags if doc else ()),
                             **lineage.get(name, {}))

    def exposures(self) -> Iterator[Record]:
        for e in self.a.exposures:
            kind = "MLModel" if e.type == "ml" else "Dashboard"
            qn = f"{e.package}.{e.name}" if e.package else e.name
            yield self.asset(kind, qn, e.label or e.name, platform="dbt",
                             description=e.description,
                             derivedFrom=sorted(self.rel_key(p) for p in self.upstream(e.depends_on)),
                             owners=self.owner_ids([e.owners] if e.owners else [], e.unique_id),
                             tags=self.tag_ids(e.tags))

    def assertions(self, known: dict[str, list[str]]) -> Iterator[Record]:
        for node in self.a.nodes.values():
            if node.resource_type != "test":
                continue
            targets = sorted(self.upstream((node.attached_node,) if node.attached_node
                                           else node.depends_on))
            if not targets:
                self.warn(f"{node.unique_id}: it tests nothing that is catalogued (an ephemeral "
                          "model, or a disabled one); left out")
                continue
            checks = [self.rel_key(t) for t in targets]
            if node.column_name and len(targets) == 1:
                columns = {c.casefold(): c for c in known[targets[0]]}
                if (column := columns.get(node.column_name.strip('"`[]').casefold())) is not None:
                    checks = [self.key("column", f"{targets[0]}.{column}")]
            qn = f"{self.relations[targets[0]].database}.{node.unique_id.removeprefix('test.')}"
            result = self.a.results.get(node.unique_id)
            yield {"id": self.key("assertion", qn), "type": "QualityAssertion", "name": node.name,
                   "qualifiedName": qn, "workspace": self.ws, "assertsOn": checks,
                   "assertionType": node.test_name or "singular",
                   **({"description": node.description} if node.description else {}),
                   **(self.result(result) if result else {})}

    @staticmethod
    def result(result: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if (status := RESULTS.get(result.status)) is not None:
            out["lastResult"] = status
        if result.completed_at:
            out["lastEvaluatedAt"] = result.completed_at
        if result.failures is not None and result.failures >= 0:
            out["failureCount"] = result.failures
        return out

    # -- owners and tags ---------------------------------------------------------------------
    def owners(self, metas: list[dict[str, Any]], where: str) -> list[str]:
        """``meta.owner`` / ``meta.owners`` (a name or a list of names) as user or team ids."""
        given: list[tuple[str, ...]] = []
        for meta in metas:
            for k in ("owner", "owners"):
                value = meta.get(k)
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, str) and v.strip():
                        given.append((v.strip(),))
                    elif isinstance(v, dict):  # {name, email}, as exposures give it
                        given.append(tuple(str(x) for x in (v.get("email"), v.get("name")) if x))
        return self.owner_ids(given, where)

    def owner_ids(self, given: list[tuple[str, ...]], where: str) -> list[str]:
        """Each owner (given as alternative spellings: e-mail, name) as an id: the config's
        ``owners`` map first, then ``user/x`` or ``team/x`` as is, then ``@x`` or ``x`` as
        ``user/x``; an owner none of these reads is a warning (once per run), not a failure."""
        ids: list[str] = []
        for spellings in given:
            found = next((self.owner_map[s] for s in spellings if s in self.owner_map), None)
            found = found or next((s for s in spellings if _ID.match(s)), None)
            found = found or next((f"user/{m.group(1)}" for s in spellings
                                   if (m := _HANDLE.match(s))), None)
            if found:
                ids.append(found)
            elif spellings and spellings[0] not in self.warned:
                self.warned.add(spellings[0])
                self.warn(f"{where}: owner {' / '.join(map(repr, spellings))} names no user or "
                          f"team; map it in config.owners (e.g. {spellings[0]!r}: \"user/ana\"); "
                          "left out")
        return sorted(set(ids))

    @staticmethod
    def tag_ids(tags: Any) -> list[str]:
        return sorted({f"tag/{encode_segment(t)}" for t in tags})
