"""The one place pyoxigraph terms become rdflib terms and back (for pySHACL, owlready2, rdflib's
SPARQL Update evaluator)."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, URIRef
from rdflib import Literal as RLiteral
from rdflib.term import Node

from ontology.namespaces import XSD

_XSD_STRING = XSD + "string"
_RDF_LANG = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return RLiteral(term.value, lang=term.language, normalize=False)
    if term.datatype.value == _XSD_STRING:
        return RLiteral(term.value, normalize=False)
    return RLiteral(term.value, datatype=URIRef(term.datatype.value), normalize=False)


def to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, RLiteral):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is None or str(term.datatype) in (_XSD_STRING, _RDF_LANG):
            return ox.Literal(str(term))
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    raise TypeError(f"cannot convert {term!r} to an RDF term")
