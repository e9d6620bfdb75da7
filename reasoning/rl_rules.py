"""The OWL 2 RL rule families the incremental reasoner maintains, compiled from the axioms.

Compiling once per ontology version turns each family into a lookup table, so applying a rule
to one changed triple is a dictionary access rather than a join with the ontology:

- ``cax-sco`` / ``cax-eqc``, with ``cls-int2`` and ``cls-uni`` read as subclass edges (an
  intersection is below each of its members, a union above each of its): the strict
  superclass closure of each class, named and anonymous (``above``), and its converse;
- ``cls-int1``, ``cls-svf1/2``, ``cls-avf``, ``cls-hv1/2``: the class expressions, indexed by
  what triggers them (a member, a filler, a property, a property and value);
- ``prp-spo1`` / ``prp-eqp``: the superproperty closure of each property (and its inverse,
  for checking whether a triple is still supported);
- ``prp-dom`` / ``prp-rng``: domains and ranges per property (and per class);
- ``prp-inv1/2`` and ``prp-symp``: the inverses of each property;
- ``prp-trp``: the transitive properties;
- ``prp-spo2``: property chains, indexed by each link.

Axioms are read from every asserted graph (the shapes aside), as the full materialiser reads
them. What ``reasonable`` 0.4 does not derive from either (cardinalities, keys, ``oneOf``,
``complementOf``, disjointness: checked apart, by ``reasoning.consistency``) is not compiled;
a class expression or chain whose list is malformed is named in ``unsupported``, and the
incremental reasoner then leaves such a catalog to full rematerialisation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from pyoxigraph import NamedNode, Quad

from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import OWL, RDF, RDF_TYPE, RDFS

__all__ = ["AXIOM_PREDICATES", "THING", "Rules", "compile_rules", "is_axiom"]

TYPE: Final = NamedNode(RDF_TYPE)
THING: Final = NamedNode(OWL + "Thing")
_SUBCLASS, _SUBPROPERTY = NamedNode(RDFS + "subClassOf"), NamedNode(RDFS + "subPropertyOf")
_DOMAIN, _RANGE = NamedNode(RDFS + "domain"), NamedNode(RDFS + "range")
_EQ_CLASS, _EQ_PROPERTY = NamedNode(OWL + "equivalentClass"), NamedNode(OWL + "equivalentProperty")
_INVERSE, _CHAIN = NamedNode(OWL + "inverseOf"), NamedNode(OWL + "propertyChainAxiom")
_FIRST, _REST, _NIL = NamedNode(RDF + "first"), NamedNode(RDF + "rest"), NamedNode(RDF + "nil")
_INTERSECTION, _UNION = NamedNode(OWL + "intersectionOf"), NamedNode(OWL + "unionOf")
_ON_PROPERTY, _SOME = NamedNode(OWL + "onProperty"), NamedNode(OWL + "someValuesFrom")
_ALL, _VALUE = NamedNode(OWL + "allValuesFrom"), NamedNode(OWL + "hasValue")
_CHARACTERISTICS: Final = {name: NamedNode(OWL + name) for name in (
    "TransitiveProperty", "SymmetricProperty", "FunctionalProperty",
    "InverseFunctionalProperty")}
# OWL predicates that annotate rather than constrain: changing them entails nothing new.
_ANNOTATIONS: Final = frozenset(OWL + p for p in (
    "versionInfo", "versionIRI", "imports", "priorVersion", "backwardCompatibleWith",
    "incompatibleWith", "deprecated"))
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
Restriction = tuple[NamedNode, Term]  # (property, filler class or value)


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


def _index(pairs: Iterable[tuple[Term, Term]]) -> dict[Term, tuple[Term, ...]]:
    out: dict[Term, list[Term]] = defaultdict(list)
    for key, value in pairs:
        out[key].append(value)
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class Rules:
    """The compiled rule families; every map leaves out what is empty. Classes are IRIs or
    the blank nodes of anonymous class expressions."""

    above: dict[Term, frozenset[Term]]  # class -> every strict superclass, anonymous ones too
    below: dict[Term, frozenset[Term]]  # class -> every strict subclass
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
    # class expressions: cls-int1, cls-svf1/2 (filler owl:Thing), cls-avf, cls-hv1/2
    intersections: dict[Term, tuple[Term, ...]] = field(default_factory=dict)  # I -> members
    some: dict[Term, Restriction] = field(default_factory=dict)  # S -> (P, filler)
    every: dict[Term, Restriction] = field(default_factory=dict)  # A -> (P, filler)
    value: dict[Term, Restriction] = field(default_factory=dict)  # H -> (P, value)
    # the same, indexed by what triggers them
    in_intersections: dict[Term, tuple[Term, ...]] = field(default_factory=dict)  # member -> I
    some_on: dict[NamedNode, tuple[Term, ...]] = field(default_factory=dict)  # P -> S
    some_of: dict[Term, tuple[Term, ...]] = field(default_factory=dict)  # filler -> S
    every_on: dict[NamedNode, tuple[Term, ...]] = field(default_factory=dict)  # P -> A
    every_into: dict[Term, tuple[Term, ...]] = field(default_factory=dict)  # filler -> A
    value_on: dict[tuple[NamedNode, Term], tuple[Term, ...]] = field(
        default_factory=dict)  # (P, value) -> H
    domain_of: dict[Term, tuple[NamedNode, ...]] = field(default_factory=dict)  # class -> p
    range_of: dict[Term, tuple[NamedNode, ...]] = field(default_factory=dict)  # class -> p


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


def _restrictions(store: GraphStore, layout: GraphLayout, p: NamedNode
                  ) -> dict[Term, Restriction]:
    """Restriction node -> (its owl:onProperty, the object of ``p``); restrictions on property
    expressions other than IRIs (``[ owl:inverseOf p ]``) are left out."""
    out: dict[Term, Restriction] = {}
    for q in _objects(store, layout, p):
        subject: Term = q.subject
        on = next((r.object for r in store.quads(subject, _ON_PROPERTY, None)), None)
        if isinstance(on, NamedNode):
            out[q.subject] = (on, q.object)
    return out


def compile_rules(store: GraphStore, layout: GraphLayout) -> Rules:
    """Read the axioms from the asserted graphs and compile them."""
    unsupported: list[str] = []
    sco: dict[Term, set[Term]] = defaultdict(set)
    spo: dict[Term, set[Term]] = defaultdict(set)
    for q in _objects(store, layout, _SUBCLASS):
        sco[q.subject].add(q.object)
    for q in _objects(store, layout, _EQ_CLASS):
        sco[q.subject].add(q.object)
        sco[q.object].add(q.subject)
    lists: dict[NamedNode, dict[Term, tuple[Term, ...]]] = {_INTERSECTION: {}, _UNION: {}}
    for predicate, found in lists.items():
        for q in _objects(store, layout, predicate):
            members = _list(store, q.object)
            if members is None:
                unsupported.append(f"an owl:{predicate.value[len(OWL):]} of {q.subject} that "
                                   "is not a list")
            else:
                found[q.subject] = members
    for cls, members in lists[_INTERSECTION].items():
        sco[cls].update(members)  # cls-int2
    for cls, members in lists[_UNION].items():
        for member in members:
            sco[member].add(cls)  # cls-uni
    above = _closure(sco)
    below: dict[Term, set[Term]] = defaultdict(set)
    for cls, sup in above.items():
        for parent in sup:
            below[parent].add(cls)
    for q in _objects(store, layout, _SUBPROPERTY):
        spo[q.subject].add(q.object)
    for q in _objects(store, layout, _EQ_PROPERTY):
        spo[q.subject].add(q.object)
        spo[q.object].add(q.subject)
    named = _named_only
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
            if isinstance(q.subject, NamedNode):
                target[q.subject].add(q.object)
    chains: dict[NamedNode, list[tuple[NamedNode, ...]]] = defaultdict(list)
    for q in _objects(store, layout, _CHAIN):
        chain = _list(store, q.object)
        if chain is None or not chain or not all(isinstance(p, NamedNode) for p in chain) or \
                not isinstance(q.subject, NamedNode):
            unsupported.append(f"a property chain of {q.subject} that is not a list of IRIs")
            continue
        chains[q.subject].append(chain)
    links: dict[NamedNode, list[tuple[NamedNode, tuple[NamedNode, ...], int]]] = defaultdict(list)
    for head, found_chains in chains.items():
        for chain in found_chains:
            for i, link in enumerate(chain):
                links[link].append((head, chain, i))
    intersections = lists[_INTERSECTION]
    some = _restrictions(store, layout, _SOME)
    every = _restrictions(store, layout, _ALL)
    value = _restrictions(store, layout, _VALUE)
    return Rules(
        above={c: s for c, s in above.items() if s},
        below={c: frozenset(s) for c, s in below.items()},
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
        intersections=intersections,
        some=some,
        every=every,
        value=value,
        in_intersections=_index((m, i) for i, members in intersections.items() for m in members),
        some_on=_index((p, s) for s, (p, _) in some.items()),
        some_of=_index((d, s) for s, (_, d) in some.items()),
        every_on=_index((p, a) for a, (p, _) in every.items()),
        every_into=_index((d, a) for a, (_, d) in every.items()),
        value_on=_index(((p, v), h) for h, (p, v) in value.items()),
        domain_of=_index((c, p) for p, cs in domains.items() for c in cs),
        range_of=_index((c, p) for p, cs in ranges.items() for c in cs),
    )


def _named_only(terms: Iterable[Term]) -> Iterator[NamedNode]:
    return (t for t in terms if isinstance(t, NamedNode))
