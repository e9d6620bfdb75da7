"""The OWL 2 RL rule families the incremental reasoner maintains, compiled from the axioms.

Compiling once per ontology version turns each family into a lookup table, so applying a rule
to one changed triple is a dictionary access rather than a join with the ontology:

- ``cax-sco`` / ``cax-eqc``: the reflexive-transitive superclass closure of each class;
- ``prp-spo1`` / ``prp-eqp``: the superproperty closure of each property (and its inverse,
  for checking whether a triple is still supported);
- ``prp-dom`` / ``prp-rng``: domains and ranges per property;
- ``prp-inv1/2`` and ``prp-symp``: the inverses of each property;
- ``prp-trp``: the transitive properties;
- ``prp-spo2``: property chains, indexed by each link.

Axioms are read from every asserted graph (the shapes aside), as the full materialiser reads
them. Constructs that derive types from class expressions (restrictions, intersections, unions,
``hasValue``, keys, …) are outside these families: ``unsupported`` names them, and the
incremental reasoner then leaves the inferred graphs to full rematerialisation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from pyoxigraph import BlankNode, NamedNode, Quad

from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import OWL, RDF, RDF_TYPE, RDFS

__all__ = ["AXIOM_PREDICATES", "Rules", "compile_rules", "is_axiom"]

TYPE: Final = NamedNode(RDF_TYPE)
_SUBCLASS, _SUBPROPERTY = NamedNode(RDFS + "subClassOf"), NamedNode(RDFS + "subPropertyOf")
_DOMAIN, _RANGE = NamedNode(RDFS + "domain"), NamedNode(RDFS + "range")
_EQ_CLASS, _EQ_PROPERTY = NamedNode(OWL + "equivalentClass"), NamedNode(OWL + "equivalentProperty")
_INVERSE, _CHAIN = NamedNode(OWL + "inverseOf"), NamedNode(OWL + "propertyChainAxiom")
_FIRST, _REST, _NIL = NamedNode(RDF + "first"), NamedNode(RDF + "rest"), NamedNode(RDF + "nil")
_CHARACTERISTICS: Final = {name: NamedNode(OWL + name) for name in (
    "TransitiveProperty", "SymmetricProperty", "FunctionalProperty",
    "InverseFunctionalProperty")}
# OWL predicates that annotate rather than constrain: changing them entails nothing new.
_ANNOTATIONS: Final = frozenset(OWL + p for p in (
    "versionInfo", "versionIRI", "imports", "priorVersion", "backwardCompatibleWith",
    "incompatibleWith", "deprecated"))
# Class expressions: their rules (cls-*) derive types from types and edges from types, which
# the layered maintenance below does not do.
_CLASS_EXPRESSIONS: Final = tuple(OWL + p for p in (
    "someValuesFrom", "allValuesFrom", "hasValue", "intersectionOf", "unionOf", "complementOf",
    "oneOf", "hasKey", "maxCardinality", "maxQualifiedCardinality", "hasSelf", "onProperty"))
AXIOM_PREDICATES: Final = frozenset(
    {_SUBCLASS.value, _SUBPROPERTY.value, _DOMAIN.value, _RANGE.value, _FIRST.value,
     _REST.value})
# Types that make their subject part of the ontology's logic, not mere declarations.
_AXIOM_TYPES: Final = frozenset(OWL + t for t in (
    "TransitiveProperty", "SymmetricProperty", "FunctionalProperty", "InverseFunctionalProperty",
    "AsymmetricProperty", "IrreflexiveProperty", "ReflexiveProperty", "Restriction",
    "AllDisjointClasses", "AllDisjointProperties", "AllDifferent", "NegativePropertyAssertion"))

Term = Any
Triple = tuple[Term, NamedNode, Term]


def is_axiom(p: NamedNode, o: Term) -> bool:
    """Whether a triple with predicate ``p`` and object ``o`` is part of the ontology's logic
    (a change to it changes what the rules are). ``owl:sameAs`` counts: equality is left to full
    materialisation."""
    v = p.value
    if v in AXIOM_PREDICATES:
        return True
    if v.startswith(OWL):
        return v not in _ANNOTATIONS
    return p == TYPE and isinstance(o, NamedNode) and o.value in _AXIOM_TYPES


def _closure(edges: dict[Term, set[Term]]) -> dict[Term, frozenset[Term]]:
    """Strict reachability over ``edges`` (a node reaches itself only through a cycle)."""
    out: dict[Term, frozenset[Term]] = {}
    for start in edges:
        seen: set[Term] = set()
        stack = list(edges[start])
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(edges.get(n, ()))
        out[start] = frozenset(seen)
    return out


@dataclass(frozen=True)
class Rules:
    """The compiled rule families; every map leaves out what is empty."""

    superclasses: dict[Term, frozenset[Term]]  # class -> every strict superclass
    superproperties: dict[NamedNode, frozenset[NamedNode]]  # p -> every strict superproperty
    subproperties: dict[NamedNode, frozenset[NamedNode]]  # p -> every strict subproperty
    inverses: dict[NamedNode, frozenset[NamedNode]]  # p -> q with p inverseOf q or q of p
    symmetric: frozenset[NamedNode]
    transitive: frozenset[NamedNode]
    domains: dict[NamedNode, frozenset[Term]]
    ranges: dict[NamedNode, frozenset[Term]]
    chains: dict[NamedNode, tuple[tuple[NamedNode, ...], ...]]  # q -> chains implying q
    functional: frozenset[NamedNode]
    inverse_functional: frozenset[NamedNode]
    unsupported: tuple[str, ...] = ()
    links: dict[NamedNode, tuple[tuple[NamedNode, tuple[NamedNode, ...], int], ...]] = field(
        default_factory=dict)  # p -> (q, chain, position of p) for each chain p is a link of

    def classes_of(self, cls: Term) -> frozenset[Term]:
        """``cls`` and all its superclasses."""
        return self.superclasses.get(cls, frozenset()) | {cls}

    def edge_rules(self, p: NamedNode) -> bool:
        """Whether a ``p`` triple can entail another non-type triple."""
        return (p in self.superproperties or p in self.inverses or p in self.symmetric
                or p in self.transitive or p in self.links)


def _objects(store: GraphStore, layout: GraphLayout, p: NamedNode,
             o: Term | None = None) -> Iterator[Quad]:
    for q in store.quads(None, p, o):
        if isinstance(q.graph_name, NamedNode) and q.graph_name != layout.shapes:
            yield q


def _list(store: GraphStore, head: Term) -> tuple[Term, ...] | None:
    items: list[Term] = []
    seen: set[Term] = set()
    while head != _NIL:
        if head in seen or len(items) > 100:
            return None
        seen.add(head)
        first = next(iter(store.quads(head, _FIRST, None)), None)
        rest = next(iter(store.quads(head, _REST, None)), None)
        if first is None or rest is None:
            return None
        items.append(first.object)
        head = rest.object
    return tuple(items)


def compile_rules(store: GraphStore, layout: GraphLayout) -> Rules:
    """Read the axioms from the asserted graphs and compile them."""
    sco: dict[Term, set[Term]] = defaultdict(set)
    spo: dict[Term, set[Term]] = defaultdict(set)
    for q in _objects(store, layout, _SUBCLASS):
        sco[q.subject].add(q.object)
    for q in _objects(store, layout, _EQ_CLASS):
        sco[q.subject].add(q.object)
        sco[q.object].add(q.subject)
    for q in _objects(store, layout, _SUBPROPERTY):
        spo[q.subject].add(q.object)
    for q in _objects(store, layout, _EQ_PROPERTY):
        spo[q.subject].add(q.object)
        spo[q.object].add(q.subject)
    named = _named_only
    superclasses = {c: frozenset(s for s in sup if not isinstance(s, BlankNode))
                    for c, sup in _closure(sco).items()}
    superproperties = {p: frozenset(named(sup)) for p, sup in _closure(spo).items()
                       if isinstance(p, NamedNode)}
    subproperties: dict[NamedNode, set[NamedNode]] = defaultdict(set)
    for prop, sup in superproperties.items():
        for parent in sup:
            subproperties[parent].add(prop)
    inverses: dict[NamedNode, set[NamedNode]] = defaultdict(set)
    for q in _objects(store, layout, _INVERSE):
        if isinstance(q.subject, NamedNode) and isinstance(q.object, NamedNode):
            inverses[q.subject].add(q.object)
            inverses[q.object].add(q.subject)
    characteristic = {name: frozenset(named(q.subject for q in _objects(store, layout, TYPE, t)))
                      for name, t in _CHARACTERISTICS.items()}
    domains: dict[NamedNode, set[Term]] = defaultdict(set)
    ranges: dict[NamedNode, set[Term]] = defaultdict(set)
    for target, predicate in ((domains, _DOMAIN), (ranges, _RANGE)):
        for q in _objects(store, layout, predicate):
            if isinstance(q.subject, NamedNode) and not isinstance(q.object, BlankNode):
                target[q.subject].add(q.object)
    chains: dict[NamedNode, list[tuple[NamedNode, ...]]] = defaultdict(list)
    unsupported: list[str] = []
    for q in _objects(store, layout, _CHAIN):
        chain = _list(store, q.object)
        if chain is None or not chain or not all(isinstance(p, NamedNode) for p in chain) or \
                not isinstance(q.subject, NamedNode):
            unsupported.append(f"a property chain of {q.subject} that is not a list of IRIs")
            continue
        chains[q.subject].append(chain)
    for iri in _CLASS_EXPRESSIONS:
        if next(_objects(store, layout, NamedNode(iri)), None) is not None:
            unsupported.append(f"class expressions (owl:{iri[len(OWL):]})")
    links: dict[NamedNode, list[tuple[NamedNode, tuple[NamedNode, ...], int]]] = defaultdict(list)
    for head, found in chains.items():
        for chain in found:
            for i, link in enumerate(chain):
                links[link].append((head, chain, i))
    return Rules(
        superclasses={c: s for c, s in superclasses.items() if s},
        superproperties={p: s for p, s in superproperties.items() if s},
        subproperties={p: frozenset(s) for p, s in subproperties.items()},
        inverses={p: frozenset(s) for p, s in inverses.items()},
        symmetric=characteristic["SymmetricProperty"],
        transitive=characteristic["TransitiveProperty"],
        domains={p: frozenset(s) for p, s in domains.items()},
        ranges={p: frozenset(s) for p, s in ranges.items()},
        chains={q: tuple(c) for q, c in chains.items()},
        functional=characteristic["FunctionalProperty"],
        inverse_functional=characteristic["InverseFunctionalProperty"],
        unsupported=tuple(unsupported),
        links={p: tuple(v) for p, v in links.items()},
    )


def _named_only(terms: Iterable[Term]) -> Iterator[NamedNode]:
    return (t for t in terms if isinstance(t, NamedNode))
