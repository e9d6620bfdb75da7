"""What an OWL 2 RL closure contains that the catalog does not keep.

A complete RL closure is full of statements that are true but useless, or not RDF at all.
The materialiser keeps none of these (each is counted, by rule name, in the report):

- ``literal subject``: a literal in subject position (e.g. ``"a" owl:sameAs "a"`` from a
  functional data property): not RDF; the store could not hold it.
- ``non-IRI predicate``: a blank node or literal as predicate: not RDF either.
- ``owl:sameAs self``: ``x owl:sameAs x`` (rule eq-ref, for every term).
- ``rdf:type owl:Thing``: every individual (and, by punning, every class and property) is one.
- ``built-in vocabulary``: statements about RDF, RDFS, OWL or XSD terms themselves
  (``owl:Thing a owl:Class``, ``owl:Nothing a owl:Thing``, …): axioms of the language.
- ``reflexive schema``: ``C rdfs:subClassOf C``, ``C owl:equivalentClass C``,
  ``p rdfs:subPropertyOf p``, ``p owl:equivalentProperty p``; and ``C rdfs:subClassOf owl:Thing``.
- ``anonymous class expression``: a statement whose subject or object is a blank node the
  ontology uses as an OWL class expression or list (a restriction, an intersection), e.g.
  ``:alice rdf:type _:takesSomeCourse``; and any ``rdf:type`` with a blank-node class. Nobody
  can name such a class in a query, and they are a sixth of LUBM's closure.

``x rdf:type owl:Nothing`` is kept on purpose: it is an inconsistency, for the consistency
checks to report.
"""

from __future__ import annotations

from typing import Any, Final

from pyoxigraph import BlankNode, Literal, NamedNode

from ontology.namespaces import OWL, RDF, RDF_TYPE, RDFS, XSD

_TYPE: Final = NamedNode(RDF_TYPE)
_THING: Final = NamedNode(OWL + "Thing")
_SAME_AS: Final = NamedNode(OWL + "sameAs")
_SUBCLASS: Final = NamedNode(RDFS + "subClassOf")
_REFLEXIVE: Final = frozenset({_SUBCLASS, NamedNode(RDFS + "subPropertyOf"),
                               NamedNode(OWL + "equivalentClass"),
                               NamedNode(OWL + "equivalentProperty")})
_BUILT_IN: Final = (RDF, RDFS, OWL, XSD)
_LIST: Final = frozenset({RDF + "first", RDF + "rest"})


class JunkFilter:
    """Decides, per inferred triple, whether to drop it; learns the ontology's anonymous class
    expressions from the asserted triples as they are read."""

    def __init__(self) -> None:
        self._expressions: set[BlankNode] = set()

    def note_blank_subject(self, subject: BlankNode, predicate: NamedNode, obj: Any) -> None:
        """Record ``subject`` as an OWL class expression or list node when the asserted triple
        describes it in OWL terms (``owl:onProperty``, ``owl:intersectionOf``, ``rdf:first``,
        ``rdf:type owl:Restriction``, …)."""
        p = predicate.value
        if p.startswith(OWL) or p in _LIST or (
                p == RDF_TYPE and isinstance(obj, NamedNode) and obj.value.startswith(OWL)):
            self._expressions.add(subject)

    def rule(self, s: Any, p: NamedNode, o: Any) -> str | None:
        """The name of the rule that drops ``(s, p, o)``, or None to keep it."""
        if isinstance(s, Literal):
            return "literal subject"
        if p == _TYPE:
            if o == _THING:
                return "rdf:type owl:Thing"
            if isinstance(o, BlankNode):
                return "anonymous class expression"
        if isinstance(s, NamedNode):
            if s.value.startswith(_BUILT_IN):
                return "built-in vocabulary"
        elif s in self._expressions:
            return "anonymous class expression"
        if isinstance(o, BlankNode) and o in self._expressions:
            return "anonymous class expression"
        if s == o and (p == _SAME_AS or p in _REFLEXIVE):
            return "owl:sameAs self" if p == _SAME_AS else "reflexive schema"
        if p == _SUBCLASS and o == _THING:
            return "reflexive schema"
        return None
