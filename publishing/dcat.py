"""A DCAT 3 / DCAT-AP 3.0.1 catalog of the data assets a reader may see.

Built from each asset's own statements, as ``Publications.describe`` shows them to the reader,
so the export reveals exactly what dereferencing the asset's IRI would: nothing of hidden or
unpublished assets, nothing of restricted columns. Tables and views become ``dcat:Dataset``s;
tags their keywords, glossary terms their themes (``skos:Concept``s), owners their contact
points (with an e-mail only for authenticated readers), the workspace their publisher; each
has one distribution, its RDF description at its IRI on this server, served by the SPARQL
endpoint as a ``dcat:DataService``. Only DCAT-AP's mandatory and recommended properties that
the catalog can fill truthfully are emitted; the result conforms to the official shapes
(tests/test_dcat.py validates it with pySHACL).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from access.terms import TYPE
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import DCAT, DCTERMS, FOAF, SEMCAT, SKOS
from publishing.publications import Publications, Scope
from publishing.urls import public_root

VCARD = "http://www.w3.org/2006/vcard/ns#"
DATASET_KINDS = (SEMCAT + "Table", SEMCAT + "View")
PREFIXES = {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "skos": SKOS, "vcard": VCARD,
            "semcat": SEMCAT}
_NAME, _DESCRIPTION = NamedNode(SEMCAT + "name"), NamedNode(SEMCAT + "description")
_EMAIL = NamedNode(SEMCAT + "email")


def _n(ns: str, local: str) -> NamedNode:
    return NamedNode(ns + local)


class DcatExport:
    def __init__(self, store: GraphStore, layout: GraphLayout,
                 publications: Publications) -> None:
        self._store = store
        self._layout = layout
        self._pubs = publications

    def triples(self, scope: Scope, *, title: str = "semcat catalog") -> list[Triple]:
        """The catalog, its data service and one dataset per table or view ``scope`` shows."""
        root = public_root(self._layout.base)
        cat = NamedNode(f"{self._layout.base}/catalog")
        service = NamedNode(f"{root}/sparql")
        out: list[Triple] = []
        add = out.append
        datasets = self._pubs.assets(scope, DATASET_KINDS)
        add(Triple(cat, TYPE, _n(DCAT, "Catalog")))
        add(Triple(cat, _n(DCTERMS, "title"), Literal(title, language="en")))
        add(Triple(cat, _n(DCTERMS, "description"), Literal(
            f"The data assets of the semcat catalog at {root} that this reader may see "
            f"({'published ones only' if scope.anonymous else 'as their access allows'}).",
            language="en")))
        publisher = BlankNode()
        add(Triple(cat, _n(DCTERMS, "publisher"), publisher))
        out += self._agent(publisher, f"semcat at {root}")
        home = NamedNode(f"{root}/")
        add(Triple(cat, _n(FOAF, "homepage"), home))
        add(Triple(home, TYPE, _n(FOAF, "Document")))
        add(Triple(cat, _n(DCAT, "service"), service))
        add(Triple(service, TYPE, _n(DCAT, "DataService")))
        add(Triple(service, _n(DCTERMS, "title"), Literal("SPARQL 1.1 endpoint", language="en")))
        add(Triple(service, _n(DCAT, "endpointURL"), service))
        add(Triple(service, _n(DCAT, "endpointDescription"), service))
        seen: set[str] = set()  # agents, concepts and contact points described once
        for iri in datasets:
            node = NamedNode(iri)
            add(Triple(cat, _n(DCAT, "dataset"), node))
            add(Triple(service, _n(DCAT, "servesDataset"), node))
            out += self._dataset(node, scope, service, root, seen)
        return out

    def _dataset(self, node: NamedNode, scope: Scope, service: NamedNode, root: str,
                 seen: set[str]) -> Iterator[Triple]:
        quads = self._pubs.describe(node.value, scope)
        by: dict[str, list[Quad]] = {}
        for q in quads:
            by.setdefault(q.predicate.value, []).append(q)
        def one(local: str) -> Literal | None:
            values = [q.object for q in by.get(SEMCAT + local, ()) if isinstance(q.object, Literal)]
            return values[0] if values else None
        key = self._layout.key(node.value)
        name = one("name")
        yield Triple(node, TYPE, _n(DCAT, "Dataset"))
        yield Triple(node, _n(DCTERMS, "identifier"), Literal(key))
        yield Triple(node, _n(DCTERMS, "title"), Literal(name.value if name else key))
        described = one("description")
        kind = "view" if key.split("/")[1] == "view" else "table"
        qn = one("qualifiedName")
        yield Triple(node, _n(DCTERMS, "description"), Literal(
            described.value if described else f"The {kind} {qn.value if qn else key}."))
        for local, prop in (("createdAt", "issued"), ("updatedAt", "modified")):
            value = one(local)
            if value is not None:
                yield Triple(node, _n(DCTERMS, prop), value)
        page = NamedNode(f"{root}/ui/asset/{quote(key, safe='/')}")
        yield Triple(node, _n(DCAT, "landingPage"), page)
        yield Triple(page, TYPE, _n(FOAF, "Document"))
        for q in by.get(SEMCAT + "workspace", ()):
            if isinstance(q.object, NamedNode):
                yield Triple(node, _n(DCTERMS, "publisher"), q.object)
                if q.object.value not in seen:
                    seen.add(q.object.value)
                    yield from self._agent(q.object, self._label(q.object))
                break
        for q in by.get(SEMCAT + "tag", ()):
            yield Triple(node, _n(DCAT, "keyword"), Literal(self._label(q.object)))
        for q in by.get(SEMCAT + "glossaryTerm", ()):
            if isinstance(q.object, NamedNode):
                yield Triple(node, _n(DCAT, "theme"), q.object)
                if q.object.value not in seen:
                    seen.add(q.object.value)
                    yield Triple(q.object, TYPE, _n(SKOS, "Concept"))
                    yield Triple(q.object, _n(SKOS, "prefLabel"),
                                 Literal(self._label(q.object), language="en"))
        for q in by.get(SEMCAT + "owner", ()):
            if isinstance(q.object, NamedNode):
                yield from self._contact(node, q.object, scope, seen)
        dist = NamedNode(f"{node.value}#rdf")
        yield Triple(node, _n(DCAT, "distribution"), dist)
        yield Triple(dist, TYPE, _n(DCAT, "Distribution"))
        yield Triple(dist, _n(DCTERMS, "title"), Literal("RDF description (Turtle, JSON-LD, "
                                                          "N-Triples, RDF/XML)", language="en"))
        here = f"{root}/id/{quote(key, safe='/')}"
        yield Triple(dist, _n(DCAT, "accessURL"), NamedNode(here))
        yield Triple(dist, _n(DCAT, "downloadURL"), NamedNode(here + "?format=ttl"))
        media = NamedNode("http://www.iana.org/assignments/media-types/text/turtle")
        yield Triple(dist, _n(DCAT, "mediaType"), media)
        yield Triple(media, TYPE, _n(DCTERMS, "MediaType"))
        yield Triple(dist, _n(DCAT, "accessService"), service)

    def _contact(self, dataset: NamedNode, owner: NamedNode, scope: Scope,
                 seen: set[str]) -> Iterator[Triple]:
        card = NamedNode(owner.value + "#contact")
        yield Triple(dataset, _n(DCAT, "contactPoint"), card)
        if card.value in seen:
            return
        seen.add(card.value)
        team = self._layout.key(owner.value).startswith("team/")
        yield Triple(card, TYPE, _n(VCARD, "Kind"))
        yield Triple(card, TYPE, _n(VCARD, "Organization" if team else "Individual"))
        yield Triple(card, _n(VCARD, "fn"), Literal(self._label(owner)))
        if not scope.anonymous:  # people's addresses are for the catalog's own users
            for q in self._store.quads(owner, _EMAIL, None, self._layout.directory):
                if isinstance(q.object, Literal):
                    yield Triple(card, _n(VCARD, "hasEmail"), NamedNode(f"mailto:{q.object.value}"))

    @staticmethod
    def _agent(node: NamedNode | BlankNode, name: str) -> list[Triple]:
        return [Triple(node, TYPE, _n(FOAF, "Agent")),
                Triple(node, _n(FOAF, "name"), Literal(name))]

    def _label(self, node: object) -> str:
        if isinstance(node, NamedNode):
            for q in self._store.quads(node, _NAME, None, self._layout.directory):
                if isinstance(q.object, Literal):
                    return q.object.value
            return self._layout.key(node.value)
        return str(getattr(node, "value", node))
