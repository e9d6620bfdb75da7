"""The one facade: the web layer, the CLI and the tests all go through ``Catalog``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat

from access.audit import AuditLog
from access.identity import KeyStore, Principal
from access.service import AccessService
from catalog import backup, rdf_files, replica, snapshots
from catalog.assets import AssetService, WriteResult
from catalog.attributes import AttributeService
from catalog.backup import BackupInfo
from catalog.change_checks import ChangeChecks
from catalog.data_dir import check_format, upgrade
from catalog.jsonld import Vocabulary
from catalog.leadership import Leadership
from catalog.ontology_editor import OntologyEditor
from catalog.rules import RuleService
from catalog.search import SearchService
from catalog.settings import Settings
from catalog.sparql import SparqlService
from catalog.sparql_search import SparqlSearch, graph_select
from events import EventService, Owners
from graph_store.changeset import Changeset
from graph_store.errors import InputError, NotFound
from graph_store.formats import parse_rdf, rdf_format, serialize_quads
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.oxigraph_store import OxigraphStore
from graph_store.projector import Projector
from graph_store.provenance import Provenance
from graph_store.query_pool import QueryPool, Snapshots
from graph_store.remote_store import open_store
from ingestion import IngestionService
from ingestion.schedules import Principals
from jobs import JobService
from lineage.index import LineageIndex
from lineage.service import LineageService
from ontology import ontology_turtle
from ontology.namespaces import RDF_TYPE, SEMCAT, SH
from reasoning import (
    Explainer,
    Explanation,
    Finding,
    IncrementalReasoner,
    InferenceStatus,
    Materialiser,
    ReasoningReport,
    find_inconsistencies,
)
from reasoning.classifier import Classifier
from shapes import (
    StoreView,
    ValidationReport,
    ValidationResult,
    Validator,
    core_shapes_turtle,
)

if TYPE_CHECKING:
    from lineage.openlineage import OpenLineageIngest

log = logging.getLogger(__name__)
_DIGEST = NamedNode(SEMCAT + "sourceDigest")


class Catalog:
    def __init__(self, settings: Settings, *, elect: bool = True) -> None:
        """The whole wiring, in the order data flows: the log and the store it is applied to,
        who may do what, the vocabulary, the services over the store, the projections that
        follow every applied changeset; then the projections catch up with the log.
        ``elect``: whether this process may run the once-per-cluster work (CLI commands may not)."""
        self.settings = settings
        self.layout = layout = GraphLayout(settings.base)
        data = settings.data
        self.bootstrapped: snapshots.SnapshotInfo | None = None
        if data is not None:
            data.mkdir(parents=True, exist_ok=True)
            # a new node of a shared log starts from the newest snapshot (catalog/snapshots.py)
            self.bootstrapped = snapshots.bootstrap(settings, data)
            check_format(data)
        # Problems that keep parts of the catalog from working as stored (a vocabulary that
        # does not compile): reported by /healthz, repaired by an admin's next edit.
        self.problems: dict[str, str] = {}

        self.store = open_store(settings.store_endpoints(), data, derived=layout.inferred_root.value)
        if data is not None:
            upgrade(data)  # the store's lock is ours: nobody else has the directory open
        # SQLite, or shared (catalog/replica.py)
        self.changelog = replica.open_changelog(settings, data, self.store)
        self.access = AccessService(self.store, layout)
        # the checks compile the stored vocabulary, so they are made once it is synced (below,
        # by unchecked commits)
        self.journal = Journal(self.store, self.changelog, layout, prepare=self.access.route,
                               check=lambda removed, added: self.checks.check(removed, added),
                               permit=self.access.permit)
        self.replayed = self.journal.recover()
        self.audit = AuditLog.at(data, base=settings.base)
        self.keys = KeyStore.at(data, audit=self.audit)
        self._sync_graph(ontology_turtle(), layout.ontology, "ontology from semcat.ttl")
        self._sync_graph(core_shapes_turtle(), layout.shapes, "core shapes from core.ttl")
        self.attributes = AttributeService(self.journal, self.store, layout)
        self.checks = ChangeChecks(self.store, layout, self.journal, self.access,
                                   self.attributes, settings, self.problems)
        self.context_url = f"{settings.base}/api/v1/context.jsonld"
        self.assets = AssetService(self.journal, self.store, layout, self.access,
                                   vocabulary=lambda: self.vocabulary,
                                   context_url=self.context_url,
                                   max_page_size=settings.max_page_size,
                                   browse=lambda *page: self.search.browse(*page))
        self.ontology = OntologyEditor(self.journal, self.store, layout, self.assets,
                                       data_graphs=self.access.data_graphs,
                                       validator=lambda: self.validator)
        # worker processes over store snapshots, where a query can be stopped at its deadline
        self.queries = QueryPool(Snapshots(self.store, data / "snapshots", self.journal.lock,
                                           lambda: self.journal.applied_seq),
                                 workers=settings.query_workers) \
            if data is not None and settings.query_workers and isinstance(self.store, OxigraphStore) else None
        # SPARQL runs searches (SERVICE semcat:search) and searches run SPARQL (graph filters):
        # the one cycle, closed by binding the search late
        self.sparql = SparqlService(
            self.journal, self.store, layout, self.access, self.ontology,
            rewrite=lambda text, dataset: SparqlSearch(self.search, layout).rewrite(text, dataset),
            default_workspace=settings.default_workspace, limits=settings.sparql_limits(),
            allow_outbound=settings.allow_outbound, pool=self.queries,
            update_timeout_s=settings.query_timeout_s)
        self.search = SearchService(self.journal, self.store, layout, self.access, data=data,
                                    vocabulary=lambda: self.vocabulary,
                                    graph_select=graph_select(
                                        self.sparql, layout, timeout_s=settings.query_timeout_s,
                                        max_bytes=settings.max_result_bytes),
                                    embedder=settings.embedder(),
                                    table_embedder=settings.table_embedder())
        self.reasoner = Materialiser(self.store, layout, self.journal,
                                     place=self.access.place_inferred)
        # a served catalog rematerialises beside its writers; an in-memory one (tests,
        # scripts) inline, so that every write returns with its inferences in place
        self.inference = IncrementalReasoner(self.store, layout, self.journal, self.reasoner,
                                             enabled=settings.incremental_reasoning,
                                             beside=data is not None)
        self.classifier = Classifier(self.store, layout, self.journal,
                                     enabled=settings.classification_rules)
        self.rules = RuleService(self.journal, self.store, layout, self.classifier,
                                 pool=self.queries, timeout_s=settings.query_timeout_s,
                                 max_bytes=settings.max_result_bytes)
        self.lineage_index = LineageIndex(self.store, self.journal.lock)
        self.lineage = LineageService(self.store, layout, self.journal,
                                      readable=lambda: self.access.readable(),
                                      index=self.lineage_index)
        self.provenance = Provenance(self.store, layout, self.journal,
                                     enabled=settings.provenance)
        self.ingestion = IngestionService(self.assets, self.store, layout, data=data,
                                          principals=Principals(Principal.from_json,
                                                                self.keys.revoked))
        self.jobs = JobService(data, self.assets.upsert_many, self.export, self.access, Principal.from_json,
                               self.keys.revoked, config=settings)  # jobs/service.py
        # inside the write: who may read what, the audit trail, the vocabulary validating
        # the next write, the rules as stored, the lineage walks step through
        self.journal.on_applied += [self.access.on_applied, self.audit.on_applied,
                                    self.checks.on_applied,
                                    self.classifier.on_applied, self.lineage_index.on_applied]
        # after the ack, on a thread of their own in a served catalog (graph_store/projector.py)
        self.projector = Projector(self.journal,
                                   [("inference", self.inference.follow),
                                    ("classification", self.classifier.follow)],
                                   [("provenance", self.provenance.follow),
                                    ("text index", self.search.follow)],
                                   background=data is not None and settings.background_projections)
        # entailed types and classifications follow the reasoners into the text index
        self.inference.on_inferred.append(self.search.refresh)
        self.classifier.on_derived.append(self.search.refresh)
        # the work done once per cluster runs on the elected node (catalog/leadership.py)
        self.leadership = Leadership(settings, self.changelog, elect=elect)
        # the change stream (SSE, brokers, webhooks): enqueued in the write, sent by threads of its own
        self.events = EventService(self.store, layout, self.journal, data=data, access=self.access,
                                   nats=settings.events_nats(), webhooks=settings.webhooks(),
                                   owners=Owners(Principal.from_json, self.keys.revoked),
                                   shared=self.leadership.records("WEBHOOKS"))
        self.leadership.singleton("NATS events", lambda: self.events.publish(
            self.leadership.positions()), self.events.stop_publishing)
        self.leadership.singleton("webhooks", self.events.webhooks.deliver, lambda stop: stop())
        self.leadership.mirror("SCHEDULES", self.ingestion.schedules, self.ingestion.schedules.wake)
        self.leadership.singleton("ingestion schedules", self.ingestion.schedules.firing,
                                  lambda stop: stop())
        if snapshots.Publisher.wanted(self.store, settings):  # for new nodes to start from
            self.leadership.singleton("snapshots", lambda: snapshots.Publisher(
                self.journal, settings, self.publish_snapshot), snapshots.Publisher.close)
        self.audit.catch_up(self.changelog)
        self.inference.catch_up()  # a fresh catalog's first materialisation; or the log is ahead
        self.classifier.catch_up()  # rule conclusions, propagation, inheritance
        self.provenance.catch_up()  # who asserted what, for changesets it has not seen
        self.replica = replica.Replica.start(self.journal)  # other nodes' writes, with a shared log

    @classmethod
    def open(cls, settings: Settings | None = None, *, elect: bool = True) -> Catalog:
        return cls(settings or Settings(), elect=elect)

    @cached_property
    def openlineage(self) -> OpenLineageIngest:
        """Made on first use: the OpenLineage client's models take a fifth of a second to
        import, which every CLI command would pay."""
        from lineage.openlineage import OpenLineageIngest

        return OpenLineageIngest(self.assets, self.store, self.layout, self.journal,
                                 workspace=self.settings.default_workspace)

    def close(self) -> None:
        replica.stop(self.replica)  # no more changesets of other nodes
        self.leadership.close()  # another node takes the once-per-cluster work over
        self.ingestion.close()  # a background run stops first: it writes through the journal
        self.jobs.close()  # so does a job, at its next chunk (resumed on the next start)
        self.projector.close()  # what is pending is projected first
        self.inference.join()  # a full rematerialisation beside the writers writes the store
        self.events.close()
        if self.queries is not None:
            self.queries.close()
        self.search.close()
        self.classifier.checkpoint()
        self.journal.checkpoint()
        self.changelog.close()
        self.store.close()
        self.keys.close()
        self.audit.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def jsonld_context(self) -> dict[str, Any]:
        return {"@context": self.vocabulary.context()}

    def _sync_graph(self, source: bytes, graph: NamedNode, message: str) -> None:
        """Keep a vocabulary graph equal to the shipped file (one changeset when it changed)."""
        digest = hashlib.sha256(source).hexdigest()
        stored = self.store.quads(graph, _DIGEST, None, graph)
        if any(q.object.value == digest for q in stored):  # type: ignore[union-attr]
            return
        new = parse_rdf(source, RdfFormat.TURTLE, to_graph=graph)
        new.append(Quad(graph, _DIGEST, Literal(digest), graph))
        old = list(self.store.quads(None, None, None, graph))
        self.journal.commit(old, new, actor="system", message=message, exact=True, checked=False)

    # -- validation ----------------------------------------------------------------------------
    @property
    def validator(self) -> Validator:
        return self.checks.validator

    @property
    def vocabulary(self) -> Vocabulary:
        """REST's names for classes and attributes, as the stored vocabulary compiles."""
        return self.checks.vocabulary

    def serialize_report(self, report: ValidationReport, media_type: str) -> bytes:
        return serialize_quads(report.to_quads(), rdf_format(media_type),
                               {"sh": SH, "semcat": SEMCAT})

    def validate(self, *, workspace: str | None = None,
                 on_progress: Callable[[int, int], None] | None = None) -> ValidationReport:
        """Validate every typed node of the catalog (or of one workspace) as it is now."""
        if workspace is not None:
            self.access.check_workspace(workspace)  # a typo would validate nothing, "conforming"
        graphs = [g for g in self.sparql.data_graphs()
                  if workspace is None or g.value.startswith(f"{self.layout.base}/graph/{workspace}/")]
        nodes = list(dict.fromkeys(q.subject for g in graphs for q in self.store.quads(
            None, NamedNode(RDF_TYPE), None, g)))
        view = StoreView(self.store)
        results: list[ValidationResult] = []
        checked = 0
        for i in range(0, len(nodes), 1000):
            report = self.validator.validate(nodes[i:i + 1000], view)
            results += report.results
            checked += report.focus_nodes
            if on_progress:
                on_progress(min(i + 1000, len(nodes)), len(nodes))
        return ValidationReport(tuple(results), checked)

    # -- files ---------------------------------------------------------------------------------
    def load(self, paths: Iterable[Path], *, actor: str = "cli", graph: str | None = None,
             on_file: Callable[[Path, int], None] | None = None) -> list[Changeset | None]:
        """Load RDF files, one changeset per file (all of a file or none of it)."""
        results = rdf_files.load(self.journal, self.layout, self.sparql.route, paths,
                                 actor=actor, graph=graph, on_file=on_file)
        self.settle()  # a batch load ends with its projections in place
        return results

    def settle(self) -> None:
        """Wait until every projection reflects every write so far (a full rematerialisation
        beside the writers included)."""
        self.projector.wait()
        self.inference.join()
        self.projector.wait()

    def backup(self, target: Path) -> BackupInfo:
        """A consistent backup of this catalog, taken while it serves (catalog/backup.py)."""
        if self.settings.data is None or not isinstance(self.store, OxigraphStore):
            raise InputError("an in-memory catalog, or one on a remote store, has nothing on disk to back up")
        return backup.take(self.store, self.journal, self.settings.data, target)

    def publish_snapshot(self) -> snapshots.SnapshotInfo:
        """A snapshot of this node, for new nodes of its shared log to start from."""
        return snapshots.publish(self.store, self.journal, self.settings.data, self.settings,
                                 indexes=self.search.copy_indexes)

    def export(self, output: IO[bytes], media_type: str = "application/n-quads", *,
               inferred: bool = False) -> None:
        """Dump the catalog's data, ontology and shapes graphs; triple formats merge them.
        Asserted data only unless ``inferred``: the closure is rebuilt by ``reason()``, and an
        export loaded elsewhere should not turn inferences into assertions."""
        fmt = rdf_format(media_type)
        graphs = [*self.sparql.data_graphs(), self.layout.ontology, self.layout.custom_ontology,
                  self.layout.shapes, *(g for g in (self.reasoner.graphs() if inferred else ())
                                        if self.access.may_read_graph(g))]
        if self.queries is not None:  # from a snapshot, where it can be stopped
            output.write(self.queries.export([g.value for g in graphs], fmt.media_type,
                                             timeout_s=self.settings.export_timeout_s))
            return
        quads = [q for g in graphs for q in self.store.quads(None, None, None, g)]
        output.write(serialize_quads(quads, fmt))

    # -- reasoning -----------------------------------------------------------------------------
    def reason(self, *, on_phase: Callable[[str], None] | None = None) -> ReasoningReport:
        """Rematerialise every OWL 2 RL inference (data + ontology) into the inferred graphs."""
        self.access.require("manage-ontology")
        report = self.reasoner.materialise(on_phase=on_phase)
        self.search.refresh(self.search.entailed_iris())  # entailed types and classifications
        return report

    def inference_status(self) -> InferenceStatus:
        """Whether the inferred graphs reflect every write (``current``) or lag behind the
        change log, and by how many changesets: what /sparql's ``Semcat-Inference`` header and
        ``semcat query`` report, so that answers from asserted data alone are never silent."""
        return self.inference.status()

    def projection_lag(self) -> dict[str, int]:
        """Changesets each projection of the log has yet to reflect (vectors: 0 until the
        first semantic search builds them)."""
        applied = self.journal.applied_seq
        fresh = self.search.freshness()
        return {"text": applied - fresh["text"],
                "vectors": applied - fresh["vectors"] if fresh["vectors"] is not None else 0,
                "inference": self.inference.status().behind,
                "classification": applied - (self.classifier.up_to() or 0)
                if self.classifier.enabled else 0}

    def reached(self, position: int) -> bool:
        """Whether the store and every projection of the log reflect changeset ``position``
        (read-your-writes: a reader waits for this; sparql_api/positions.py)."""
        return self.journal.applied_seq >= position and all(
            position <= self.journal.applied_seq - behind
            for behind in self.projection_lag().values())

    def consistency(self) -> list[Finding]:
        """Every OWL 2 RL inconsistency (disjoint classes, owl:Nothing, irreflexive, asymmetric
        and disjoint properties, sameAs with differentFrom) in the asserted and inferred data,
        each with its offending facts. Findings span workspaces: governance admins only."""
        self.access.require("manage-ontology")
        return find_inconsistencies(self.store, self.layout)

    def explain(self, subject: str, predicate: str | None = None,
                object: str | None = None) -> list[Explanation]:
        """Why statements about ``subject`` (an asset key or IRI) hold: the rule and premises,
        recursively, down to asserted facts. With ``predicate`` (and ``object``, an IRI,
        prefixed name or key) the matching statements; without, every inferred one. Raises
        NotFound when no such statement is asserted or inferred. A caller sees only the
        explanations whose every premise lies in graphs they may read."""
        if self.access.readable() is None:
            return Explainer(self.store, self.layout).explain(subject, predicate, object)
        try:  # one answer for absent and hidden alike
            found = Explainer(self.store, self.layout).explain(subject, predicate, object)
        except NotFound:
            found = []
        def readable(e: Explanation) -> bool:
            return (e.graph is None or self.access.may_read_graph(NamedNode(e.graph))) and \
                all(readable(p) for p in e.premises)
        visible = [e for e in found if readable(e)]
        if not visible:
            raise NotFound(f"nothing about {subject!r} that you may read")
        return visible

    # -- demo ----------------------------------------------------------------------------------
    def load_demo(self, actor: str = "demo") -> list[WriteResult]:
        from demo import demo_assets

        results = self.assets.upsert_many(demo_assets(), actor=actor, message="demo catalog")
        self.settle()  # a batch load ends with its projections in place
        return results

    def load_demo_governance(self, actor: str = "demo") -> list[dict[str, Any]]:
        """The demo's classification rules and its propagation and inheritance flags (on top
        of ``load_demo``; `semcat demo` loads both). Returns the rules."""
        from demo import demo_governance, demo_rules

        self.sparql.update(demo_governance(self.layout.id_base), actor=actor,
                           message="demo: propagation and inheritance flags")
        rules = [self.rules.put(rule["id"], rule, actor=actor)[0] for rule in demo_rules()]
        self.settle()
        return rules
