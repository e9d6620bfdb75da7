"""OpenLineage events onto the catalog (``POST /api/v1/lineage``, Marquez's path; issue 13).

An event is an all-or-nothing write through the asset service (so SHACL, access routing,
versions and audit apply as to every write); events that arrive while one is written are written
together, and an event that repeats what an earlier one said of its job and datasets, while
those are unchanged, writes only its run (producers send the same job and datasets every run):

- a dataset (namespace + name, per the OpenLineage naming spec) is the catalog's Table with the
  same platform (the namespace's scheme: ``postgres://h:5432`` is ``platform/postgres``) and
  ``qualifiedName`` (compared ignoring case where the platform folds case), or the table one
  of its ``symlinks`` names (a Hive table behind an S3 path); else a Table is
  created with the Database and Schema it needs. Facets: ``schema`` gives Columns (with their
  dataType), ``documentation`` the description, ``ownership`` owners that name a known user or
  team (others are reported), ``columnLineage`` column ``derivedFrom`` column;
- a job is a Pipeline (``{workspace}/pipeline/openlineage/{namespace}/{name}``), which
  ``consumes`` its inputs and ``produces`` its outputs; its ``sql`` facet's query is kept in
  its description; each output table ``derivedFrom`` each input table;
- a run is a PipelineRun (``{workspace}/run/openlineage/{runId}``), ``runOf`` its pipeline,
  whose status and times follow the latest event by event time (a terminal state wins over
  ``running`` at the same time, so a COMPLETE arriving before its START stays ``success``).

What an asset already holds is kept: lists grow, so the same event twice writes nothing new.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Final, Protocol

from openlineage.client.generated.base import Dataset, DatasetEvent, EventType, JobEvent, RunEvent
from openlineage.client.generated.column_lineage_dataset import ColumnLineageDatasetFacet
from openlineage.client.generated.documentation_dataset import DocumentationDatasetFacet
from openlineage.client.generated.documentation_job import DocumentationJobFacet
from openlineage.client.generated.ownership_dataset import OwnershipDatasetFacet
from openlineage.client.generated.ownership_job import OwnershipJobFacet
from openlineage.client.generated.schema_dataset import SchemaDatasetFacet
from openlineage.client.generated.sql_job import SQLJobFacet
from openlineage.client.generated.symlinks_dataset import SymlinksDatasetFacet
from pyoxigraph import Literal, NamedNode

from graph_store.errors import InputError
from graph_store.journal import VERSION, Journal
from graph_store.keys import encode_segment
from graph_store.layout import GraphLayout
from graph_store.protocol import Dataset as QueryDataset
from graph_store.protocol import GraphStore
from lineage.edge_kinds import edge_properties
from lineage.openlineage_docs import Docs, Ticket
from lineage.openlineage_events import DATASET_FACETS, JOB_FACETS, Event, parse_event
from lineage.openlineage_terms import (
    DIALECTS,
    KNOWN_EVENTS,
    PER_RUN,
    UNKNOWN_TYPE,
    Known,
    authority,
    dataset_version,
    instant,
    per_dataset,
    platform_of,
    stamp,
    static_digest,
)
from lineage.sql import lineage_from_sql
from lineage.traversal import TYPE
from ontology.namespaces import SEMCAT

__all__ = ["OpenLineageIngest"]
log = logging.getLogger(__name__)

# platforms whose unquoted names are case-insensitive: their names are compared ignoring case
FOLDS_CASE: Final = frozenset({"postgres", "snowflake", "redshift", "mysql", "mssql", "oracle",
                               "db2", "teradata", "trino", "presto", "athena", "duckdb", "hive",
                               "spark", "databricks", "sqlite", "clickhouse"})
STATUS: Final = {EventType.START: "running", EventType.RUNNING: "running",
                 EventType.COMPLETE: "success", EventType.FAIL: "failed",
                 EventType.ABORT: "aborted"}
TERMINAL: Final = frozenset({"success", "failed", "aborted"})
QUALIFIED_NAME, PART_OF, PLATFORM = (NamedNode(SEMCAT + p) for p in (
    "qualifiedName", "partOf", "platform"))
class Assets(Protocol):
    """What the ingest needs of ``catalog.assets.AssetService``."""

    def get(self, key: str, version: int | None = None, *, infer: bool = False
            ) -> dict[str, Any]: ...

    def upsert_many(self, items: list[Any], *, actor: str, message: str = ...,
                    expected: dict[str, int] | None = None) -> Sequence[Any]: ...


class OpenLineageIngest:
    def __init__(self, assets: Assets, store: GraphStore, layout: GraphLayout, journal: Journal,
                 *, workspace: str) -> None:
        self.assets = assets
        self._store = store
        self._layout = layout
        self._journal = journal
        self._workspace = workspace
        self._known: OrderedDict[str, Known] = OrderedDict()
        self._pending: list[Ticket] = []
        self._pending_lock = threading.Lock()

    def ingest(self, body: Any, *, actor: str) -> dict[str, Any]:
        """Validate one event and write what it says; the answer names the assets written.

        Events posted meanwhile by the same caller are written with it, as one change (group
        commit): producers post an event per request, and one change per event would spend
        its time on validation, routing and fsyncs rather than on the events."""
        ticket = Ticket(parse_event(body), static_digest(body, actor), actor)
        with self._pending_lock:
            self._pending.append(ticket)
        with self._journal.lock:  # read, amend and write as one, like a patch
            if ticket.out is None and ticket.error is None:
                with self._pending_lock:
                    batch = [t for t in self._pending if t.actor == actor]
                    self._pending = [t for t in self._pending if t.actor != actor]
                self._write(batch)
        if ticket.error is not None:
            raise ticket.error
        assert ticket.out is not None
        return ticket.out

    def _write(self, batch: list[Ticket]) -> None:
        """The batch as one change; if that is refused, each event on its own, so that only
        the bad one fails."""
        try:
            self._write_together(batch)
        except Exception as e:
            if len(batch) == 1:
                batch[0].error = e
                return
            for ticket in batch:
                try:
                    self._write_together([ticket])
                except Exception as own:
                    ticket.error = own

    def _write_together(self, batch: list[Ticket]) -> None:
        w = Docs(self.assets.get)
        touched: list[set[str]] = []
        for ticket in batch:
            known = self._known.get(ticket.static)
            if known is not None and (not known.versions.keys().isdisjoint(w.docs) or
                                      not self._unchanged(known.versions)):
                known = None  # an earlier event of the batch, or someone else, changed them
            ticket.known = known
            w.touched, seen = set(), len(w.warnings)
            ticket.out = self._map(w, ticket.event, known)
            ticket.warnings = w.warnings[seen:]
            touched.append(w.touched)
        events = [t.out["event"] for t in batch if t.out is not None]
        message = f"OpenLineage {events[0]}" if len(events) == 1 else \
            f"OpenLineage: {len(events)} events ({', '.join(dict.fromkeys(events))})"
        try:
            results = self.assets.upsert_many(list(w.docs.values()), actor=batch[0].actor,
                                              message=message)
        except Exception:
            for ticket in batch:
                ticket.out = None
            raise
        status = {r.id: r for r in results}
        for i, (ticket, keys) in enumerate(zip(batch, touched, strict=True)):
            out = ticket.out
            assert out is not None
            others = set().union(*touched[:i], *touched[i + 1:])
            if ticket.known is None and not ticket.warnings and keys.isdisjoint(others - {
                    out.get("run")}):
                self._remember(ticket.static, out, [status[k] for k in keys if k in status])
            del out["inputs"], out["outputs"]
            for kind in ("created", "updated", "unchanged"):
                out[kind] = sorted(k for k in keys if k in status and status[k].status == kind)
            if ticket.known is not None:
                out["unchanged"] = sorted({*out["unchanged"], *ticket.known.versions})
            out["warnings"] = ticket.warnings
            log.info("OpenLineage %s: %d created, %d updated", out["event"],
                     len(out["created"]), len(out["updated"]))

    # -- events seen before ------------------------------------------------------------------
    def _remember(self, static: str, out: dict[str, Any], results: Sequence[Any]) -> None:
        run = out.get("run")
        self._known[static] = Known(out.get("pipeline"), tuple(out["inputs"]),
                                     tuple(out["outputs"]),
                                     {r.id: r.version for r in results if r.id != run})
        while len(self._known) > KNOWN_EVENTS:
            self._known.popitem(last=False)

    def _unchanged(self, versions: dict[str, int]) -> bool:
        for key, version in versions.items():
            found = next(iter(self._store.quads(NamedNode(self._layout.iri(key)), VERSION,
                                                None)), None)
            if found is None or getattr(found.object, "value", None) != str(version):
                return False
        return True

    # -- the event ---------------------------------------------------------------------------
    def _map(self, w: Docs, event: Event, known: Known | None = None) -> dict[str, Any]:
        """What the event says, written into ``w``; with ``known``, its job and datasets are as
        an earlier event left them, so only its run is written."""
        if isinstance(event, DatasetEvent):
            table = known.outputs[0] if known else self._dataset(w, event.dataset)
            return {"event": "DatasetEvent", "datasets": [table], "inputs": [],
                    "outputs": [table]}
        if known is not None:
            assert known.pipeline is not None
            pipeline, inputs, outputs = known.pipeline, list(known.inputs), list(known.outputs)
        else:
            inputs = [self._dataset(w, d) for d in event.inputs or []]
            outputs = [self._dataset(w, d) for d in event.outputs or []]
            for d, table in zip(event.outputs or [], outputs, strict=True):
                w.add(table, "derivedFrom", *inputs)
                self._column_lineage(w, d, table)
            self._sql_lineage(w, event, inputs, outputs)
            pipeline = self._pipeline(w, event)
            w.add(pipeline, "consumes", *inputs)
            w.add(pipeline, "produces", *outputs)
        out: dict[str, Any] = {"pipeline": pipeline, "datasets": list(dict.fromkeys(
            inputs + outputs)), "inputs": inputs, "outputs": outputs}
        if isinstance(event, JobEvent):
            return {"event": "JobEvent", **out}
        assert isinstance(event, RunEvent)
        out["run"] = run = self._run(w, event, pipeline)
        w.add(run, "used", *inputs)
        w.add(run, "generated", *outputs)
        versions = {key: v for d, key in zip(event.outputs or [], outputs, strict=True)
                    if (v := dataset_version(d)) is not None}
        w.keep(run, {**(event.run.facets or {}), **per_dataset(
            ("inputFacets", event.inputs or [], inputs), ("outputFacets", event.outputs or [],
                                                           outputs)),
            **({"datasetVersions": versions} if versions else {})})
        return {"event": f"RunEvent {event.eventType.value if event.eventType else 'OTHER'}",
                **out}

    def _pipeline(self, w: Docs, event: RunEvent | JobEvent) -> str:
        job = event.job
        qn = f"{job.namespace}/{job.name}"
        key = f"{self._workspace}/pipeline/openlineage/{encode_segment(qn)}"
        w.doc(key, {"type": "Pipeline", "name": job.name, "qualifiedName": qn,
                    "workspace": self._workspace, "platform": "platform/openlineage"})
        facets = job.facets or {}
        doc = facets.get("documentation")
        sql = facets.get("sql")
        text = doc.description if isinstance(doc, DocumentationJobFacet) else ""
        if isinstance(sql, SQLJobFacet):
            text = (text + "\n\n" if text else "") + f"```sql\n{sql.query.strip()}\n```"
        w.set(key, "description", text)
        owners = facets.get("ownership")
        if isinstance(owners, OwnershipJobFacet):
            self._owners(w, key, [o.name for o in owners.owners or []])
        w.keep(key, {k: v for k, v in facets.items() if k not in JOB_FACETS})
        return key

    def _run(self, w: Docs, event: RunEvent, pipeline: str) -> str:
        run_id = event.run.runId.lower()
        key = f"{self._workspace}/run/openlineage/{run_id}"
        doc = w.doc(key, {"type": "PipelineRun", "name": f"{event.job.name} {run_id[:8]}",
                          "qualifiedName": run_id, "workspace": self._workspace,
                          "platform": "platform/openlineage"})
        doc["runOf"] = pipeline
        status = STATUS.get(event.eventType) if event.eventType else None
        if status is None:  # OTHER: metadata only
            return key
        when = instant(event.eventTime)
        if status == "running":
            started = doc.get("startedAt")
            if started is None or instant(started) > when:
                doc["startedAt"] = stamp(when)
        current = doc.get("status")
        since = doc.get("endedAt") if current in TERMINAL else doc.get("startedAt")
        mine = (when, status in TERMINAL)
        theirs = (instant(since), current in TERMINAL) if since and current else None
        if theirs is None or mine >= theirs:
            doc["status"] = status
            if status in TERMINAL:
                doc["endedAt"] = stamp(when)
            else:
                doc.pop("endedAt", None)
        return key

    # -- datasets ----------------------------------------------------------------------------
    def _find(self, platform: str, qn: str, kinds: Sequence[str], *,
              parent: str | None = None) -> str | None:
        """The id of the catalog's asset of one of ``kinds`` with this platform (or this
        ``parent``) and name. Index look-ups only: the name as given and, where the platform
        folds case, in lower and upper case (the spellings such platforms report), so that an
        event costs the same in a catalog of any size."""
        spellings = dict.fromkeys((qn, qn.lower(), qn.upper()) if platform in FOLDS_CASE
                                  else (qn,))
        types = {NamedNode(SEMCAT + k) for k in kinds}
        anchor, via = (NamedNode(self._layout.iri(parent)), PART_OF) if parent else \
            (NamedNode(self._layout.iri("platform/" + platform)), PLATFORM)
        found = sorted(
            q.subject.value for name in spellings
            for q in self._store.quads(None, QUALIFIED_NAME, Literal(name))
            if isinstance(q.subject, NamedNode)
            and q.subject.value.startswith(self._layout.id_base)
            and any(t in types for t in self._objects(q.subject, TYPE))
            and anchor in self._objects(q.subject, via))
        return self._layout.key(found[0]) if found else None

    def _objects(self, s: NamedNode, p: NamedNode) -> set[object]:
        return {q.object for q in self._store.quads(s, p, None)}

    def _parent(self, w: Docs, kind: str, platform: str, qn: str, name: str,
                extra: dict[str, Any]) -> str:
        key = self._find(platform, qn, [kind]) or \
            f"{self._workspace}/{kind.lower()}/{platform}/{encode_segment(qn)}"
        w.doc(key, {"type": kind, "name": name, "qualifiedName": qn,
                    "workspace": self._workspace, "platform": f"platform/{platform}", **extra})
        return key

    def _table(self, w: Docs, namespace: str, name: str,
               aliases: Sequence[tuple[str, str]] = ()) -> str:
        """The table a dataset names, or one of its ``symlinks`` names, else a new one."""
        platform = platform_of(namespace)
        key = next((k for ns, n in [(namespace, name), *aliases]
                    if (k := self._find(platform_of(ns), n, ["Table", "View"]))), None)
        if key is None:
            parts = name.split(".")
            if len(parts) >= 3 and all(parts):
                db_qn, schema_qn = parts[0], ".".join(parts[:-1])
            elif len(parts) == 2 and all(parts):
                db_qn = schema_qn = parts[0]
            else:  # a path, or no dotted name: the host or bucket stands for both
                db_qn = schema_qn = authority(namespace) or platform
            db = self._parent(w, "Database", platform, db_qn, db_qn, {})
            schema = self._parent(w, "Schema", platform, schema_qn,
                                  schema_qn.rsplit(".", 1)[-1] or schema_qn, {"partOf": db})
            ws = w.docs[schema].get("workspace", self._workspace)
            key = f"{ws}/table/{platform}/{encode_segment(name)}"
            w.doc(key, {"type": "Table", "name": parts[-1] or name, "qualifiedName": name,
                        "workspace": ws, "platform": f"platform/{platform}",
                        "partOf": schema})
        else:
            w.doc(key, {})
        return key

    def _column(self, w: Docs, table: str, column: str) -> str:
        doc = w.docs[table]
        platform = str(doc.get("platform", "platform/openlineage")).rsplit("/", 1)[-1]
        qn = f"{doc.get('qualifiedName', '')}.{column}"
        key = self._find(platform, qn, ["Column"], parent=table) or \
            f"{doc.get('workspace', self._workspace)}/column/{platform}/{encode_segment(qn)}"
        w.doc(key, {"type": "Column", "name": column, "qualifiedName": qn,
                    "workspace": doc.get("workspace", self._workspace),
                    "platform": f"platform/{platform}", "partOf": table,
                    "dataType": UNKNOWN_TYPE})
        return key

    def _dataset(self, w: Docs, d: Dataset) -> str:
        facets = d.facets or {}
        links = facets.get("symlinks")
        aliases = [(i.namespace, i.name) for i in links.identifiers or []] \
            if isinstance(links, SymlinksDatasetFacet) else []
        table = self._table(w, d.namespace, d.name, aliases)
        doc = facets.get("documentation")
        if isinstance(doc, DocumentationDatasetFacet):
            w.set(table, "description", doc.description)
        schema = facets.get("schema")
        if isinstance(schema, SchemaDatasetFacet):
            for position, f in enumerate(schema.fields or [], start=1):
                column = self._column(w, table, f.name)
                w.set(column, "dataType", f.type)
                w.set(column, "description", f.description)
                w.set(column, "position", f.ordinal_position or position)
        owners = facets.get("ownership")
        if isinstance(owners, OwnershipDatasetFacet):
            self._owners(w, table, [o.name for o in owners.owners or []])
        w.keep(table, {k: v for k, v in facets.items()
                       if k not in DATASET_FACETS and k not in PER_RUN})
        return table

    def _column_lineage(self, w: Docs, d: Dataset, table: str) -> None:
        facet = (d.facets or {}).get("columnLineage")
        if not isinstance(facet, ColumnLineageDatasetFacet):
            return
        for name, fields in facet.fields.items():
            target = self._column(w, table, name)
            texts = [fields.transformationDescription or ""]
            for f in fields.inputFields:
                source = self._column(w, self._table(w, f.namespace, f.name), f.field)
                steps = [(t.type, t.subtype) for t in f.transformations or []] or \
                    [("DIRECT", fields.transformationType)]
                texts += [t.description or "" for t in f.transformations or []]
                for prop in edge_properties(steps):
                    w.add(target, prop, source)
            w.set(target, "transformation", "; ".join(dict.fromkeys(x for x in texts if x)))
        for f in facet.dataset or []:  # dependencies of the whole dataset: filters, joins
            w.add(table, "influencedBy",
                  self._column(w, self._table(w, f.namespace, f.name), f.field))

    def _sql_lineage(self, w: Docs, event: RunEvent | JobEvent, inputs: list[str],
                     outputs: list[str]) -> None:
        """Column lineage from the ``sql`` facet's query (lineage/sql.py), when no output
        carries a ``columnLineage`` facet: edges between the event's datasets."""
        sql = (event.job.facets or {}).get("sql")
        if not isinstance(sql, SQLJobFacet) or not outputs or any(
                isinstance((d.facets or {}).get("columnLineage"), ColumnLineageDatasetFacet)
                for d in event.outputs or []):
            return
        tables = list(dict.fromkeys(inputs + outputs))
        names = {str(w.docs[t].get("qualifiedName", "")).casefold(): t for t in tables}
        platform = str(w.docs[outputs[0]].get("platform", "")).rsplit("/", 1)[-1]
        try:
            found = lineage_from_sql(
                sql.query, dialect=sql.dialect or DIALECTS.get(platform, platform),
                schema={w.docs[t]["qualifiedName"]: self._columns(w, t) for t in tables},
                target=w.docs[outputs[0]]["qualifiedName"] if len(outputs) == 1 else None)
        except (InputError, ValueError) as e:
            w.warnings.append(f"no column lineage from the sql facet's query: {e}")
            return
        for edge in found.columns:
            source = names.get(edge.source[0].casefold())
            target = names.get(edge.target[0].casefold())
            if source and target in outputs:
                column = self._column(w, target, edge.target[1])
                for prop in edge_properties([(edge.type, edge.subtype)]):
                    w.add(column, prop, self._column(w, source, edge.source[1]))
                if edge.expression and edge.subtype != "IDENTITY":
                    w.set(column, "transformation", edge.expression)

    def _columns(self, w: Docs, table: str) -> list[str]:
        """The names of a table's columns: the catalog's and this event's."""
        sparql = (f"SELECT ?n WHERE {{ ?c <{SEMCAT}partOf> <{self._layout.iri(table)}> ; "
                  f"a <{SEMCAT}Column> ; <{SEMCAT}name> ?n }}")
        rows = self._store.query(sparql, dataset=QueryDataset())
        known = [row["n"].value for row in rows]  # type: ignore[attr-defined]
        known += [d["name"] for d in w.docs.values()
                  if d.get("type") == "Column" and d.get("partOf") == table]
        return list(dict.fromkeys(known))

    def _owners(self, w: Docs, key: str, names: list[str]) -> None:
        for name in names:
            kind, _, ident = name.rpartition(":")
            kinds = [kind] if kind in ("user", "team") else ["user", "team"]
            found = next((f"{k}/{ident}" for k in kinds if ident and "/" not in ident
                          and self._exists(f"{k}/{ident}")), None)
            if found is None:
                w.warnings.append(f"owner {name!r} of {key} names no user or team in the "
                                  "catalog (e.g. user:alice or team:data); it was not linked")
            else:
                w.add(key, "owners", found)

    def _exists(self, key: str) -> bool:
        try:
            node = NamedNode(self._layout.iri(key))
        except (ValueError, TypeError, InputError):
            return False
        return next(iter(self._store.quads(node, TYPE, None, None)), None) is not None
