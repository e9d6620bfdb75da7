"""Runs a connector into the catalog: ``IngestionService.run(config) -> IngestReport``.

Every write goes through the injected asset service's ``upsert_many`` (SHACL, access routing,
versions and the audit log apply as to any write), one changeset per batch. A run is idempotent:
ids are natural keys (``{workspace}/{kind}/{platform}/{qualifiedName}``) and an asset the source
describes as before is ``unchanged``, so a re-run of an unchanged source writes nothing.

Which assets a source produced is recorded in what it asserted (ingestion/assertions.py) and
on each asset as ``ingestionSource`` (``{connector}:{source}``, e.g. ``sql:postgres/shop``; the
``name`` of the run config overrides the connector's default source name): of the sources that
describe an asset, the one that ranks highest (run config ``precedence``), the first on a tie.
When a run has read its whole source, the assets it describes and no longer yielded are removed
through ``AssetService.delete`` (their history stays, and the next run that finds them again
creates them anew), unless another source still describes them: then the run withdraws from
them and they stay, named after the highest remaining source.

References to assets that come later in the same run (a foreign key to a table read afterwards)
are written once their target exists: the asset is first written without them and completed at
the end of the run. A batch that is refused is retried item by item, so that only the bad items
fail, each with its error in the report. The source's secrets never reach a message: connector
configs take them by reference (ingestion/connector.py) and errors name fields, not values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from pydantic import BaseModel, ValidationError
from pyoxigraph import Literal, NamedNode

from graph_store.errors import InputError, NotFound, SemcatError
from graph_store.keys import canonical_key, encode_segment
from graph_store.layout import DATA_KINDS, GraphLayout
from graph_store.protocol import GraphStore
from graph_store.provenance import INGEST_MESSAGE
from ingestion.assertions import Assertions, Claim, merge
from ingestion.config import RunConfig, config_error
from ingestion.connector import (
    Connector,
    ConnectorInfo,
    Record,
    RunContext,
    available,
    load_connector,
)
from ingestion.jobs import BackgroundRuns
from ingestion.report import IngestReport
from ingestion.runs import RunRegistry
from ingestion.schedules import Principals, Schedules
from ontology.namespaces import RDF_TYPE, SEMCAT

__all__ = ["IngestionService", "Progress"]
log = logging.getLogger(__name__)

SOURCE: Final = NamedNode(SEMCAT + "ingestionSource")
TYPE: Final = NamedNode(RDF_TYPE)
# keys whose values name other assets, which must exist when a write names them
REFERENCES: Final = ("partOf", "derivedFrom", "copiedFrom", "transformedFrom", "aggregatedFrom",
                     "influencedBy", "references", "consumes", "produces")
STATUS: Final = {"created": "added", "updated": "updated", "unchanged": "unchanged"}
# keys of a stored document that are not the asset's content
SYSTEM: Final = frozenset({"@context", "id", "version", "createdAt", "createdBy", "updatedAt",
                           "updatedBy", "inferred", "ingestionSource"})
# who people are: an import may create them, never take over existing ones (whose names,
# e-mails and attributes decide access)
DIRECTORY: Final = frozenset({"User", "Team"})
# removal order: children before parents
DEPTH: Final = {"column": 0, "view": 1, "table": 2, "schema": 3, "database": 4}

Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)


class Access(Protocol):
    def require(self, action: str, workspace: str = ...) -> Any: ...

    def principal(self) -> Any: ...

    def acting_as(self, principal: Any) -> Any: ...


class Assets(Protocol):
    """What a run needs of ``catalog.assets.AssetService``."""

    @property
    def access(self) -> Access: ...

    def upsert_many(self, items: list[Any], *, actor: str, message: str = ...,
                    expected: dict[str, int] | None = None) -> Sequence[Any]: ...

    def delete(self, key: str, *, actor: str, if_match: int | None = None) -> Any: ...

    def canonical(self, items: list[Any]) -> list[dict[str, Any]]: ...

    def get(self, key: str, version: int | None = None, *, infer: bool = False
            ) -> dict[str, Any]: ...


class IngestionService:
    def __init__(self, assets: Assets, store: GraphStore, layout: GraphLayout, *,
                 principals: Principals, data: Path | None = None) -> None:
        self.assets = assets
        self._store = store
        self._layout = layout
        # runs in the background, recorded in the data directory (ingestion/jobs.py)
        registry = RunRegistry.at(data)
        self.runs = BackgroundRuns(registry, prepare=self.prepare, run=self.run,
                                   access=assets.access)
        # recurring runs, kept beside them (ingestion/schedules.py)
        self.schedules = Schedules(registry.path, self.runs, assets.access, principals)
        # what each source last said of each asset: edits since are kept (ingestion/assertions.py)
        self.assertions = Assertions(registry.path)

    def close(self) -> None:
        """Stop firing schedules, then the background run in progress (it is marked failed,
        interrupted)."""
        self.schedules.close()
        self.runs.close()
        self.assertions.close()

    def connectors(self) -> list[ConnectorInfo]:
        """The installed connectors (entry points), disabled ones with their reason."""
        return available()

    def prepare(self, config: RunConfig | dict[str, Any]) -> tuple[RunConfig, str]:
        """The validated config and the run's source (``{connector}:{name}``), once the caller
        is known to hold ``run-ingestion`` and ``write`` in its workspace. Reads nothing of the
        source and resolves no secret. Raises InputError naming the bad field, Forbidden."""
        config, connector, settings = self._validated(config)
        return config, f"{config.connector}:{config.name or connector.source(settings)}"

    def _validated(self, config: RunConfig | dict[str, Any]
                   ) -> tuple[RunConfig, Connector, BaseModel]:
        if not isinstance(config, RunConfig):
            try:
                config = RunConfig.model_validate(config)
            except ValidationError as e:
                raise config_error(e) from None
        connector = load_connector(config.connector)
        try:
            settings: BaseModel = connector.config_model.model_validate(config.config)
        except ValidationError as e:
            raise config_error(e, "config") from None
        # a run writes as its caller: who starts it needs both (checked before the source is read)
        self.assets.access.require("run-ingestion", config.workspace)
        self.assets.access.require("write", config.workspace)
        return config, connector, settings

    def run(self, config: RunConfig | dict[str, Any], *, actor: str = "ingestion",
            on_progress: Progress | None = None,
            stop: Callable[[int], bool] | None = None, resume_after: int = 0,
            on_checkpoint: Callable[[int], None] | None = None) -> IngestReport:
        """Read the source the config names and write it into the catalog; the report says
        what changed. Raises InputError for a bad config or a source that cannot be read at
        all (nothing written then), Forbidden without ``run-ingestion`` in the workspace.

        ``stop`` is asked after each record with the number read so far; when it answers
        True the run stops reading there, writes what it read and removes nothing (the report
        is then not ``complete``; its ``error`` says it was stopped).

        ``resume_after`` continues a run that was interrupted: the source is read again from its
        start, and its first ``resume_after`` records (written by that run) are not written
        again, only remembered, so that removals stay right. ``on_checkpoint`` hears how many
        records have been read and durably written (a resume may skip that many) after each
        batch."""
        started = time.perf_counter()
        config, connector, settings = self._validated(config)
        source = f"{config.connector}:{config.name or connector.source(settings)}"
        run = _Run(self, config, source, actor, on_progress or (lambda *_: None),
                   getattr(connector, "owns", None), resume_after,
                   on_checkpoint or (lambda read: None))
        context = RunContext(config.workspace, source)
        records = connector.records(settings, context)
        try:
            for read, record in enumerate(records, start=1):
                run.read = read
                run.add(record)
                if stop is not None and stop(read):
                    run.report.complete, run.report.stopped = False, True
                    run.report.error = (f"stopped after {read} records: what was read is "
                                        "written, nothing was removed")
                    break
        except SemcatError as e:
            if not run.wrote and not run.seen:
                raise  # nothing read: the source could not be read (or the config is bad)
            run.report.complete = False
            run.report.error = e.detail
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()  # a generator left mid-way releases its connection now
        run.flush()
        run.finish()
        for w in context.warnings:
            run.report.warn(w)
        if run.report.complete and config.remove_missing:
            run.remove(self.produced(source))
        run.report.seconds = time.perf_counter() - started
        r = run.report
        log.info("ingest %s: %d added, %d updated, %d unchanged, %d removed, %d failed in %.1f s",
                 source, r.added, r.updated, r.unchanged, r.removed, r.failed, r.seconds)
        return r

    def produced(self, source: str) -> set[str]:
        """The ids of the assets ``source`` describes: that it asserted and did not withdraw
        from (ingestion/assertions.py), or that carry it (written before assertions were kept)."""
        return self.assertions.described(source) | {
            self._layout.key(q.subject.value)
            for q in self._store.quads(None, SOURCE, Literal(source), None)
            if isinstance(q.subject, NamedNode) and not self._layout.is_inferred(q.graph_name)}

    def claimed(self, key: str, source: str) -> bool:
        """``key`` exists and is not ``source``'s (made by people or another source)."""
        try:
            node = NamedNode(self._layout.iri(key))
        except (ValueError, InputError):
            return False
        if next(iter(self._store.quads(node, TYPE, None, None)), None) is None:
            return False
        return not any(q.object == Literal(source)
                       for q in self._store.quads(node, SOURCE, None, None))

    def exists(self, key: str) -> bool:
        try:
            node = NamedNode(self._layout.iri(key))
        except (ValueError, InputError):
            return False
        return next(iter(self._store.quads(node, TYPE, None, None)), None) is not None


class _Run:
    """One run's state: the batch being filled, what was seen, what waits for its targets."""

    def __init__(self, service: IngestionService, config: RunConfig, source: str, actor: str,
                 progress: Progress, owns: frozenset[str] | None, resume_after: int,
                 on_checkpoint: Callable[[int], None]) -> None:
        self.service = service
        self.resume_after = resume_after
        self.on_checkpoint = on_checkpoint
        self.read = 0  # records read from the source so far
        self.owns = owns
        self.config = config
        self.source = source
        self.actor = actor
        self.progress = progress
        self.report = IngestReport(config.connector, source, config.workspace)
        self.batch: list[Record] = []
        self.seen: set[str] = set()
        self.status: dict[str, str] = {}  # id -> added | updated | unchanged | failed
        self.deferred: dict[str, Record] = {}  # written without forward references
        self.platforms: set[str] = set()
        self.wrote = False
        self.done = 0

    # -- reading -----------------------------------------------------------------------------
    def add(self, record: Record) -> None:
        item = {"workspace": self.config.workspace, **record, "ingestionSource": self.source}
        try:
            key = _key(item)
        except InputError as e:
            self.report.fail(None, f"{item.get('qualifiedName') or item.get('name')!r}: {e.detail}")
            return
        if key in self.seen:
            self.report.warn(f"{key} was yielded twice; the first was kept")
            return
        item["id"] = key
        self.seen.add(key)
        if self.read <= self.resume_after:  # the interrupted run wrote it
            self.report.resumed_after = self.read
            return
        if item.get("type") in DIRECTORY and self.service.claimed(key, self.source):
            self.status[key] = "unchanged"
            self.report.warn(f"{key} exists and was not made by this source; it is left as "
                             "it is (an import never takes over users or teams)")
            return
        self._platform(item.get("platform"))
        partial = self._without_forward_references(item)
        if partial is not item:
            self.deferred[key] = item
        self.batch.append(partial)
        if len(self.batch) >= self.config.batch_size:
            self.flush()

    def _platform(self, platform: Any) -> None:
        """A platform the catalog lacks is created (bare, owned by no source: several sources
        share it), so that assets do not refer to nothing."""
        if not isinstance(platform, str) or platform in self.platforms:
            return
        self.platforms.add(platform)
        if not self.service.exists(platform):
            slug = platform.rsplit("/", 1)[-1]
            self._write([{"id": platform, "type": "DataPlatform", "name": slug}], count=False)

    def _without_forward_references(self, item: Record) -> Record:
        """``item`` as is, or a copy without the references to assets not yet written."""
        out = item
        for k in REFERENCES:
            value = item.get(k)
            values = value if isinstance(value, list) else [value] if value else []
            later = [v for v in values if isinstance(v, str) and v not in self.seen
                     and v not in self.platforms and not self.service.exists(v)]
            if later:
                if out is item:
                    out = dict(item)
                kept = [v for v in values if v not in later]
                if isinstance(value, list) and kept:
                    out[k] = kept
                else:
                    out.pop(k)
        return out

    # -- writing -----------------------------------------------------------------------------
    def flush(self) -> None:
        if self.batch:
            batch, self.batch = self.batch, []
            self._write_merged(batch)
            self.done += len(batch)
            self.progress("write", self.done, None)
        if not self.deferred and self.read > self.resume_after:
            # everything read is written whole (a record waiting for its references is not:
            # a resume must read it again)
            self.on_checkpoint(self.read)

    def _write(self, items: list[Record], *, count: bool = True) -> None:
        """One changeset; if it is refused, each item on its own, so that only bad ones fail."""
        try:
            results = self.service.assets.upsert_many(items, actor=self.actor,
                                                      message=INGEST_MESSAGE + self.source)
        except SemcatError as e:
            if len(items) > 1:
                for item in items:
                    self._write([item], count=count)
                return
            if count:
                key = str(items[0].get("id"))
                self.status[key] = "failed"
                self.report.fail(key, _message(e))
            else:
                self.report.warn(f"{items[0].get('id')}: {_message(e)}")
            return
        self.wrote = True
        if count:
            for r in results:
                self._count(r.id, STATUS.get(r.status, "updated"))

    def _count(self, key: str, status: str) -> None:
        before = self.status.get(key)
        if before == "failed":
            return
        rank = ("unchanged", "updated", "added")
        self.status[key] = status if before is None or rank.index(status) > rank.index(before) \
            else before

    def _write_merged(self, wanted: list[Record]) -> None:
        """Write what the source says, merged with what the assets hold (``_merged``), and
        record what it said of the assets written, in the forms the store keeps (so that
        ``2026-01-01T00:00:00.10Z`` read back as ``...00.1Z`` is no edit)."""
        assertions = self.service.assertions
        try:
            canonical = self._canonical(wanted)
        except SemcatError:  # one refused item: the others one by one (the write says why)
            canonical = [self._canonical([item])[0] if self._valid(item) else item
                         for item in wanted]
        ids = [item["id"] for item in canonical]
        last, others = assertions.last(self.source, ids), assertions.others(self.source, ids)
        self._write([self._merged(item, last.get(item["id"]), others.get(item["id"], []))
                     for item in canonical])
        assertions.record(self.source, {item["id"]: item for item in canonical
                                        if self.status.get(item["id"]) != "failed"},
                          self.config.precedence)

    def _canonical(self, items: list[Record]) -> list[Record]:
        docs = self.service.assets.canonical(items)
        return [{**{k: v for k, v in doc.items() if k not in SYSTEM}, "id": item["id"],
                 "ingestionSource": self.source} for doc, item in zip(docs, items, strict=True)]

    def _valid(self, item: Record) -> bool:
        try:
            self.service.assets.canonical([item])
        except SemcatError:
            return False
        return True

    def _merged(self, item: Record, last: dict[str, str] | None, others: list[Claim]) -> Record:
        """``item`` merged with the stored asset: what people or other sources of as high a
        precedence set since the source last said otherwise stays (ingestion/assertions.py),
        and so does what the stored asset holds beyond the keys the connector owns (owners,
        tags, attributes). The asset keeps naming a source that describes it and ranks as high
        or higher (so that sources taking turns write no new versions)."""
        if not self.service.exists(item["id"]):
            return item
        try:
            current = self.service.assets.get(item["id"])
        except SemcatError:
            return item
        content = {k: v for k, v in current.items() if k not in SYSTEM}
        named, precedence = current.get("ingestionSource"), self.config.precedence
        if any(c.source == named and c.precedence is not None and c.precedence >= precedence
               for c in others):
            item = {**item, "ingestionSource": named}
        if self.config.overwrite_edits:
            return {**{k: v for k, v in content.items() if self.owns is not None
                       and k not in self.owns}, **item}
        merged, kept = merge(item, content, last, self.owns, was_ours=named == self.source,
                             precedence=precedence, others=others)
        if kept:
            self.report.kept_edits += len(kept)
            self.report.warn(f"{item['id']}: kept {', '.join(kept)} as people or another "
                             "source set them, not as this source says (overwrite_edits: true "
                             "in the run config overrides)")
        return merged

    def finish(self) -> None:
        """Complete what waited for its references; drop references still unresolved."""
        items = []
        for key, item in self.deferred.items():
            if self.status.get(key) == "failed":
                continue
            full = self._without_forward_references(item)
            for k in REFERENCES:
                if k in item and full.get(k) != item.get(k):
                    self.report.warn(f"{key}: {k} names assets that are not in the catalog; "
                                     "those references were left out")
            items.append(full)
        for i in range(0, len(items), self.config.batch_size):
            self._write_merged(items[i:i + self.config.batch_size])
        if self.deferred:
            self.on_checkpoint(self.read)
        for status in self.status.values():
            if status != "failed":
                setattr(self.report, status, getattr(self.report, status) + 1)

    def remove(self, produced: set[str]) -> None:
        gone = sorted(produced - self.seen, key=lambda k: (DEPTH.get(k.split("/")[1], -1)
                                                            if k.count("/") >= 3 else -1, k))
        assertions = self.service.assertions
        for i, key in enumerate(gone, start=1):
            staying = {s: p for s, p in assertions.describing(key).items() if s != self.source}
            try:
                if staying:
                    self._leave(key, staying)
                else:
                    try:
                        self.service.assets.delete(key, actor=self.actor)
                        self.report.removed += 1
                    except NotFound:
                        pass  # removed meanwhile
                    assertions.forget(key)
            except SemcatError as e:
                self.report.fail(key, f"could not remove it: {_message(e)}")
            self.progress("remove", i, len(gone))

    def _leave(self, key: str, staying: dict[str, int]) -> None:
        """``key`` is no longer in the source, but other sources describe it: it stays. The
        values this source gave go to the next of them that runs, and the asset's
        ingestionSource, if it names this source, to the highest of them (the first by name on
        a tie)."""
        self.service.assertions.withdraw(self.source, key)
        heir = max(sorted(staying), key=lambda s: staying[s])
        self.report.warn(f"{key} is no longer in this source; it stays, as {heir} "
                         f"{'and others still describe' if len(staying) > 1 else 'still describes'}"
                         " it")
        try:
            current = self.service.assets.get(key)
        except NotFound:
            return
        if current.get("ingestionSource") == self.source:
            self._write([{**{k: v for k, v in current.items() if k not in SYSTEM}, "id": key,
                          "ingestionSource": heir}], count=False)


def _key(item: Record) -> str:
    """The natural key of a data asset (catalog/asset_input.py computes the same), or its id."""
    given = item.get("id")
    if isinstance(given, str):
        return canonical_key(given)
    kind = DATA_KINDS.get(str(item.get("type")))
    ws, platform, qn = item.get("workspace"), item.get("platform"), item.get("qualifiedName")
    if kind is None or not all(isinstance(x, str) and x for x in (ws, platform, qn)):
        raise InputError("a record needs an id, or type, workspace, platform and qualifiedName")
    return (f"{canonical_key(str(ws))}/{kind}/{canonical_key(str(platform)).rsplit('/', 1)[-1]}/"
            f"{encode_segment(str(qn))}")


def _message(e: SemcatError) -> str:
    details = [str(r.get("message", "")) for r in e.extra.get("errors", [])[:3]]
    return "; ".join([e.detail, *(d for d in details if d)])
