"""SPARQL 1.1 Query and Update, and the Graph Store protocol, over the catalog's dataset.

The default graph a query sees is the union of all graphs (data, ontology, shapes, and the
inferred graphs unless the caller asks for asserted triples only with ``infer=False``). Writes go
through the journal like every other write; triples written to the default graph land in their
subject's partition graph, and an update's default graph is the union of the data graphs.
Inferred graphs are the reasoner's: queries read them, writes to them are refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import trace
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat

from graph_store.changeset import Changeset
from graph_store.errors import InputError, NotFound
from graph_store.formats import parse_rdf, rdf_format, serialize_quads
from graph_store.journal import Journal
from graph_store.layout import DATA_KINDS, GraphLayout
from graph_store.protocol import Dataset, GraphStore
from graph_store.query_pool import Answer, Choose, QueryPool
from graph_store.results import QueryResult
from graph_store.sparql_guard import query_dataset, refuse_outbound
from graph_store.sparql_limits import SparqlLimits, check_sparql
from graph_store.update import evaluate_update
from ontology.namespaces import PREFIXES, RDF_TYPE, SD

if TYPE_CHECKING:
    from access.service import AccessService
    from catalog.ontology_editor import OntologyEditor

tracer = trace.get_tracer("semcat")
_KINDS = set(DATA_KINDS.values())


@dataclass(frozen=True)
class GraphWrite:
    graph: str | None
    created: bool
    changeset: Changeset | None


class SparqlService:
    def __init__(self, journal: Journal, store: GraphStore, layout: GraphLayout,
                 access: AccessService, ontology: OntologyEditor, *,
                 rewrite: Callable[[str, Dataset], str], default_workspace: str,
                 limits: SparqlLimits = SparqlLimits(), allow_outbound: bool = False,
                 pool: QueryPool | None = None, update_timeout_s: float = 30.0) -> None:
        self._journal = journal
        self._update_timeout_s = update_timeout_s
        self._store = store
        self._layout = layout
        self.access = access  # narrows every dataset to the caller's graphs
        self.ontology = ontology  # checks and versions ontology-graph writes
        # catalog/sparql_search.py: search inside SPARQL, rewritten before the outbound guard
        self.rewrite = rewrite
        self._default_ws = default_workspace
        self.limits = limits  # checked before any engine sees a query or update
        self.allow_outbound = allow_outbound  # SERVICE / LOAD for instance admins (settings)
        self._pool = pool  # worker processes, where queries can be stopped at their deadline
        # The service-defined base IRI of relative IRIs in queries and updates: the endpoint.
        self.base_iri = f"{layout.base}/sparql"

    # -- the dataset ---------------------------------------------------------------------------
    def data_graphs(self) -> list[NamedNode]:
        return self.access.data_graphs()

    def default_dataset(self) -> Dataset:
        """What a caller who may read everything queries: the union of all graphs. The store
        keeps nothing but catalog data, so the union needs no filtering, and pyoxigraph
        evaluates it faster than any explicit list of graphs (bench/lubm_sparql.py)."""
        return Dataset()

    def asserted_dataset(self) -> Dataset:
        """Everything but the inferred graphs (``infer=False``), as an explicit list of graphs:
        pyoxigraph has no "all graphs but these", and the list costs a little per query
        (bench/reasoning.py measures it)."""
        graphs = tuple(g for g in self._store.named_graphs() if not self._layout.is_inferred(g))
        return Dataset(default=(*graphs, DefaultGraph()), named=graphs)

    def _requested_dataset(self, default_uris: list[str], named_uris: list[str],
                           infer: bool = True) -> Dataset:
        if not default_uris and not named_uris:
            return self.default_dataset() if infer else self.asserted_dataset()
        try:
            default = tuple(NamedNode(u) for u in default_uris)
            named = tuple(NamedNode(u) for u in named_uris)
        except ValueError as e:
            raise InputError(f"invalid graph IRI: {e}") from e
        if not infer:  # asserted only, even where the query names an inferred graph
            default = tuple(g for g in default if not self._layout.is_inferred(g))
            named = tuple(g for g in named if not self._layout.is_inferred(g))
        return Dataset(default=default, named=named)

    def route(self, subject: object) -> NamedNode:
        """The graph a default-graph triple about ``subject`` is written to."""
        if isinstance(subject, NamedNode):
            for q in self._store.quads(subject, NamedNode(RDF_TYPE), None, None):
                if isinstance(q.graph_name, NamedNode):
                    return q.graph_name
            key = self._layout.key(subject.value)
            parts = key.split("/")
            if self._layout.is_versioned(subject.value):
                if len(parts) > 2 and parts[1] in _KINDS:
                    return self._layout.partition(parts[0], "general")
                return self._layout.directory
        return self._layout.partition(self._default_ws, "general")

    # -- SPARQL --------------------------------------------------------------------------------
    def query(self, text: str, *, default_graph_uris: list[str] | None = None,
              named_graph_uris: list[str] | None = None, infer: bool = True) -> QueryResult:
        """``infer=False`` answers from asserted triples only (GraphDB's ``infer`` parameter)."""
        text, dataset = self._prepare(text, default_graph_uris, named_graph_uris, infer)
        return QueryResult(self._store.query(text, dataset=dataset, base_iri=self.base_iri))

    def answer(self, text: str, *, default_graph_uris: list[str] | None = None,
               named_graph_uris: list[str] | None = None, infer: bool = True,
               accept: str | None, choose: Choose, extra_types: tuple[str, ...] = (),
               timeout_s: float, max_bytes: int) -> Answer:
        """A query's serialised answer, as the SPARQL protocol sends it: (kind, media type,
        body). Where a query pool runs, the query is stopped at its deadline (QueryTimeout)."""
        text, dataset = self._prepare(text, default_graph_uris, named_graph_uris, infer)
        if self._pool is not None:
            return self._pool.run(text, dataset, self.base_iri, accept=accept, choose=choose,
                                  extra_types=extra_types, timeout_s=timeout_s,
                                  max_bytes=max_bytes)
        result = QueryResult(self._store.query(text, dataset=dataset, base_iri=self.base_iri))
        return result.answer(accept, choose, extra_types, timeout_s=timeout_s,
                             max_bytes=max_bytes)

    @tracer.start_as_current_span("sparql.prepare")
    def _prepare(self, text: str, default_graph_uris: list[str] | None,
                 named_graph_uris: list[str] | None, infer: bool) -> tuple[str, Dataset]:
        """What the engine runs: checked against the limits, over the caller's dataset, with
        search rewritten in and outbound calls refused."""
        check_sparql(text, self.limits)
        default, named = default_graph_uris or [], named_graph_uris or []
        if not default and not named:  # the protocol's parameters override FROM / FROM NAMED
            default, named = query_dataset(text, self.base_iri)
        dataset = self._requested_dataset(default, named, infer)
        dataset = self.access.restrict(dataset, infer=infer)
        text = self.rewrite(text, dataset)  # SERVICE semcat:search → VALUES of hits over it
        if not self._outbound():
            refuse_outbound(text)
        return text, dataset

    @tracer.start_as_current_span("sparql.update")
    def update(self, text: str, *, actor: str, message: str = "SPARQL update",
               using_graph_uris: list[str] | None = None,
               using_named_graph_uris: list[str] | None = None) -> Changeset | None:
        for g in [*(using_graph_uris or []), *(using_named_graph_uris or [])]:
            self._target(g)  # refuses invalid IRIs
        removed, added = evaluate_update(
            text, self._store, graphs=self.data_graphs(), route=self.route,
            base_iri=self.base_iri, using=using_graph_uris, using_named=using_named_graph_uris,
            outbound=self._outbound(), limits=self.limits, readable=self.access.readable(),
            timeout_s=self._update_timeout_s)
        touched = {q.graph_name for q in (*removed, *added)}
        for graph in touched:
            self._refuse_inferred(graph)
        vocabulary = {g for g in touched if isinstance(g, NamedNode)
                      and self.ontology.governs(g)}
        if vocabulary:  # an ontology edit: checked and versioned like one
            if len(touched) > 1:
                raise InputError("an update may change one ontology graph or catalog data, not "
                                 "both at once; split it in two")
            return self._write(vocabulary.pop(), removed, added, actor=actor,
                               message=f"ontology: {message}",
                               exact=True)
        return self._journal.commit(removed, added, actor=actor, message=message, exact=True)

    def _outbound(self) -> bool:
        """Whether this caller's queries may fetch remote data: admins, where enabled."""
        return self.allow_outbound and self.access.caller().admin

    # -- Graph Store protocol ------------------------------------------------------------------
    def _target(self, graph: str | None) -> NamedNode | None:
        if graph is None:
            return None
        try:
            node = NamedNode(graph)
        except ValueError as e:
            raise InputError(f"invalid graph IRI {graph!r}: {e}") from e
        return node

    def graph_quads(self, graph: str | None) -> list[Quad]:
        """The default graph (``None``) is the union of the data graphs."""
        node = self._target(graph)
        if node is None:
            return [q for g in self.data_graphs() for q in self._store.quads(None, None, None, g)]
        quads = list(self._store.quads(None, None, None, node))
        if not quads or not self.access.may_read_graph(node):
            raise NotFound(f"no graph {graph}")
        return quads

    def graph_exists(self, graph: str | None) -> bool:
        """A graph exists while it holds triples (the default graph always does)."""
        node = self._target(graph)
        if node is not None and not self.access.may_read_graph(node):
            return False
        return node is None or next(iter(self._store.quads(None, None, None, node)), None) \
            is not None

    def serialize_graph(self, graph: str | None, media_type: str) -> bytes:
        return serialize_quads(self.graph_quads(graph), rdf_format(media_type), PREFIXES)

    def _parse(self, data: bytes, media_type: str, node: NamedNode | None,
               base_iri: str | None) -> list[Quad]:
        quads = parse_rdf(data, rdf_format(media_type), base_iri=base_iri)
        out = []
        for q in quads:
            if not isinstance(q.graph_name, DefaultGraph):
                raise InputError("the Graph Store protocol takes triples; this body names graphs")
            out.append(Quad(q.subject, q.predicate, q.object,
                            node if node is not None else self.route(q.subject)))
        return out

    def put_graph(self, graph: str | None, data: bytes, media_type: str, *, actor: str,
                  base_iri: str | None = None) -> GraphWrite:
        node = self._target(graph)
        new = self._parse(data, media_type, node, base_iri)
        existed = self.graph_exists(graph)
        old = self.graph_quads(graph) if existed else []
        cs = self._write(node, old, new, actor=actor, message=f"PUT graph {graph or 'default'}",
                         exact=True)
        return GraphWrite(graph, not existed, cs)

    def post_graph(self, graph: str | None, data: bytes, media_type: str, *, actor: str,
                   base_iri: str | None = None) -> GraphWrite:
        """Merge into ``graph``; with ``graph=None`` and ``new=True`` the caller creates one."""
        node = self._target(graph)
        existed = self.graph_exists(graph)
        cs = self._write(node, [], self._parse(data, media_type, node, base_iri), actor=actor,
                         message=f"POST graph {graph or 'default'}", exact=False)
        return GraphWrite(graph, not existed, cs)

    def new_graph_iri(self) -> str:
        return self._layout.graph("user", uuid.uuid4().hex).value

    def delete_graph(self, graph: str | None, *, actor: str) -> GraphWrite:
        old = self.graph_quads(graph)
        cs = self._write(self._target(graph), old, [], actor=actor,
                         message=f"DELETE graph {graph or 'default'}", exact=True)
        return GraphWrite(graph, False, cs)

    def _write(self, node: NamedNode | None, removed: list[Quad], added: list[Quad], *,
               actor: str, message: str, exact: bool) -> Changeset | None:
        """Writes to an ontology graph are ontology edits: DL- and SHACL-checked, versioned."""
        self._refuse_inferred(node)
        if node is not None and self.ontology.governs(node):
            return self.ontology.write_graph(node, removed, added, actor=actor, message=message)
        return self._journal.commit(removed, added, actor=actor, message=message, exact=exact,
                                    pinned=node)

    def _refuse_inferred(self, graph: object) -> None:
        if self._layout.is_inferred(graph):
            raise InputError(f"{graph} is an inferred graph: the reasoner maintains it from the "
                             "asserted data; change that instead (semcat reason rebuilds it)")

    def service_description(self, endpoint: str, media_type: str) -> bytes:
        """SPARQL 1.1 Service Description of this endpoint, in ``media_type``."""
        fmt = "http://www.w3.org/ns/formats/"
        named = ", ".join(f"[ sd:name {g} ]" for g in self.default_dataset().named or ())
        ttl = f"""
@prefix sd: <{SD}> .
<{endpoint}> a sd:Service ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage sd:SPARQL11Query, sd:SPARQL11Update ;
  sd:resultFormat <{fmt}SPARQL_Results_JSON>, <{fmt}SPARQL_Results_XML>,
    <{fmt}SPARQL_Results_CSV>, <{fmt}SPARQL_Results_TSV>, <{fmt}Turtle>, <{fmt}N-Triples>,
    <{fmt}JSON-LD>, <{fmt}RDF_XML> ;
  sd:defaultDataset [ a sd:Dataset ;
    sd:defaultGraph [ a sd:Graph ] ;
    sd:namedGraph {named or "[]"} ] .
"""
        quads = parse_rdf(ttl, RdfFormat.TURTLE)
        return serialize_quads(quads, rdf_format(media_type), {"sd": SD})
