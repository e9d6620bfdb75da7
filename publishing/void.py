"""A VoID description of the dataset a reader may see (``/.well-known/void``, RFC 5785 as the
VoID note recommends): its size, where to query it, what it looks like, which vocabularies it
uses, and links to the SPARQL service description and the DCAT catalog."""

from __future__ import annotations

import threading
import time

from pyoxigraph import Literal, NamedNode, Triple

from access.terms import TYPE
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import DCAT, DCTERMS, FOAF, PROV, RDFS, SEMCAT, SKOS, XSD
from publishing.dcat import DATASET_KINDS
from publishing.publications import Publications, Scope
from publishing.urls import public_root

VOID = "http://rdfs.org/ns/void#"
PREFIXES = {"void": VOID, "dct": DCTERMS, "foaf": FOAF, "rdfs": RDFS}
EXAMPLES = 3
SIZE_TTL_S = 60.0  # counting is a scan of what a reader sees: VoID's figures may be a minute old
VOCABULARIES = (SEMCAT, DCAT, DCTERMS, PROV, SKOS, FOAF)


def _n(local: str) -> NamedNode:
    return NamedNode(VOID + local)


class VoidDescription:
    def __init__(self, store: GraphStore, layout: GraphLayout,
                 publications: Publications) -> None:
        self._store = store
        self._layout = layout
        self._pubs = publications
        # (graphs, published workspaces and assets) -> (when, size): one scan per reader kind
        # and minute, so repeated (anonymous) requests cannot keep the server counting
        self._sizes: dict[tuple[object, ...], tuple[float, tuple[int, int]]] = {}
        self._sizes_lock = threading.Lock()

    def triples(self, scope: Scope) -> list[Triple]:
        root = public_root(self._layout.base)
        ds = NamedNode(f"{root}/.well-known/void#dataset")
        sparql = NamedNode(f"{root}/sparql")
        count, entities = self._cached_size(scope)
        out = [
            Triple(ds, TYPE, _n("Dataset")),
            Triple(ds, NamedNode(DCTERMS + "title"), Literal("semcat catalog", language="en")),
            Triple(ds, NamedNode(DCTERMS + "description"), Literal(
                "The catalog's asserted metadata this reader may see" +
                (": its published data." if scope.anonymous else "."), language="en")),
            Triple(ds, NamedNode(FOAF + "homepage"), NamedNode(f"{root}/")),
            Triple(ds, _n("triples"), Literal(str(count), datatype=NamedNode(XSD + "integer"))),
            Triple(ds, _n("entities"), Literal(str(entities),
                                                datatype=NamedNode(XSD + "integer"))),
            Triple(ds, _n("uriSpace"), Literal(self._layout.id_base)),
            Triple(ds, _n("sparqlEndpoint"), sparql),
            # GET /sparql without a query answers with the SPARQL 1.1 service description
            Triple(ds, NamedNode(RDFS + "seeAlso"), sparql),
            Triple(ds, NamedNode(RDFS + "seeAlso"), NamedNode(f"{root}/api/v1/export/dcat")),
            Triple(ds, _n("rootResource"), NamedNode(f"{self._layout.base}/catalog")),
        ]
        if not scope.anonymous:
            out.append(Triple(ds, _n("dataDump"), NamedNode(f"{root}/api/v1/export")))
        out += [Triple(ds, _n("vocabulary"), NamedNode(v)) for v in VOCABULARIES]
        out += [Triple(ds, _n("exampleResource"), NamedNode(iri))
                for iri in self._pubs.assets(scope, DATASET_KINDS)[:EXAMPLES]]
        return out

    def _cached_size(self, scope: Scope) -> tuple[int, int]:
        key = (scope.graphs, scope.workspaces, scope.assets, scope.anonymous)
        with self._sizes_lock:  # one count at a time: concurrent requests wait for it
            kept = self._sizes.get(key)
            if kept is not None and time.monotonic() - kept[0] < SIZE_TTL_S:
                return kept[1]
            size = self._size(scope)
            if len(self._sizes) > 1000:
                self._sizes.clear()
            self._sizes[key] = (time.monotonic(), size)
            return size

    def _size(self, scope: Scope) -> tuple[int, int]:
        """Statements and typed resources the reader may see."""
        if not scope.anonymous:
            graphs = [g for g in self._store.named_graphs() if self._pubs.sees(scope, g)
                      and not self._layout.is_provenance(g)]
            triples = sum(1 for g in graphs for _ in self._store.quads(None, None, None, g))
            typed = {q.subject for g in graphs for q in self._store.quads(None, TYPE, None, g)}
            return triples, len(typed)
        triples = entities = 0
        subjects = {q.subject.value for g in scope.graphs or () for q in self._store.quads(
            None, TYPE, None, NamedNode(g)) if isinstance(q.subject, NamedNode)}
        for s in subjects:
            described = self._pubs.describe(s, scope)
            if described:
                triples += len(described)
                entities += 1
        return triples, entities
