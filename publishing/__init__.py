"""Linked data: what the catalog publishes, to whom, and in which shapes (DESIGN.md principle 2).

``Publishing`` bundles the publication policy, IRI dereferencing, the DCAT-AP export and VoID
over one catalog's store; the web layer and the CLI build it from the catalog's parts, so the
``Catalog`` facade needs no new wiring.
"""

from __future__ import annotations

from pyoxigraph import DefaultGraph, Quad, Triple

from access.identity import Principal
from access.service import AccessService
from graph_store.formats import rdf_format, serialize_quads
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import PREFIXES
from publishing.dcat import PREFIXES as DCAT_PREFIXES
from publishing.dcat import DcatExport
from publishing.publications import (
    PUBLIC_READER,
    PUBLISH_ACTIONS,
    Publication,
    Publications,
    Scope,
)
from publishing.urls import SERVED_AT, public_root, served, serving
from publishing.void import PREFIXES as VOID_PREFIXES
from publishing.void import VoidDescription

__all__ = ["PUBLIC_READER", "PUBLISH_ACTIONS", "SERVED_AT", "Publication", "Publications",
           "Publishing", "Scope", "public_root", "served", "serving"]


class Publishing:
    def __init__(self, store: GraphStore, layout: GraphLayout, access: AccessService,
                 journal: Journal) -> None:
        self.layout = layout
        self.access = access
        self.publications = Publications(store, layout, access, journal)
        self._dcat = DcatExport(store, layout, self.publications)
        self._void = VoidDescription(store, layout, self.publications)

    def scope(self, principal: Principal | None = None) -> Scope:
        return self.publications.scope(principal or self.access.principal())

    def describe(self, key: str, media_type: str, scope: Scope) -> bytes | None:
        """The RDF description of the resource with id ``key``, as ``scope`` shows it; None
        when it shows nothing of it (unknown, hidden and unpublished alike)."""
        quads = self.publications.describe(self.layout.iri(key), scope)
        if not quads:
            return None
        return serialize_quads(quads, rdf_format(media_type), PREFIXES)

    def dcat(self, media_type: str, scope: Scope) -> bytes:
        return _serialize(self._dcat.triples(scope), media_type, DCAT_PREFIXES)

    def void(self, media_type: str, scope: Scope) -> bytes:
        return _serialize(self._void.triples(scope), media_type, VOID_PREFIXES)


def _serialize(triples: list[Triple], media_type: str, prefixes: dict[str, str]) -> bytes:
    quads = [Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples]
    return serialize_quads(quads, rdf_format(media_type), prefixes)
