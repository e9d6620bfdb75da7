"""OWL 2 RL inconsistencies in the catalog, reported with the asserted facts behind them.

The checks are the RL rules whose conclusion is ``false``, evaluated over the entailed data
(asserted graphs plus the reasoner's inferred graphs):

- ``cax-dw``: ``x a C1``, ``x a C2``, ``C1 owl:disjointWith C2``
- ``cax-adc``: the same for two members of an ``owl:AllDisjointClasses`` list
- ``cls-nothing2``: ``x a owl:Nothing``
- ``prp-irp``: ``x p x`` for an ``owl:IrreflexiveProperty`` ``p``
- ``prp-asyp``: ``x p y`` and ``y p x`` for an ``owl:AsymmetricProperty`` ``p``
- ``prp-pdw``: ``x p1 y`` and ``x p2 y`` with ``p1 owl:propertyDisjointWith p2``
- ``eq-diff1``: ``x owl:sameAs y`` and ``x owl:differentFrom y``

Types are closed under the ontology's ``rdfs:subClassOf`` / ``owl:equivalentClass`` hierarchy
here too, so a clash between asserted types is found before ``reason()`` has run. Each finding
lists its offending facts: the statements of the clash traced (by the Explainer's backward
chaining) down to asserted quads, and the axiom that makes them clash.

``DisjointnessGuard`` is the cheap write-time form of cax-dw / cax-adc: the disjoint class
pairs are computed once per ontology, and a change is checked against the post-change asserted
types of the nodes it touches (plus their superclasses).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Final

from pyoxigraph import NamedNode, Quad

from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import OWL, RDF_TYPE, RDFS
from reasoning.explain import Explanation, ProofSearch

__all__ = ["DisjointnessGuard", "Fact", "Finding", "disjoint_pairs", "find_inconsistencies"]

_RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_TYPE: Final = NamedNode(RDF_TYPE)
_FIRST: Final = NamedNode(_RDF + "first")
_REST: Final = NamedNode(_RDF + "rest")
_NIL: Final = NamedNode(_RDF + "nil")
_SUBCLASS: Final = NamedNode(RDFS + "subClassOf")
_EQ_CLASS: Final = NamedNode(OWL + "equivalentClass")
_DISJOINT: Final = NamedNode(OWL + "disjointWith")
_ALL_DISJOINT: Final = NamedNode(OWL + "AllDisjointClasses")
_MEMBERS: Final = NamedNode(OWL + "members")
_NOTHING: Final = NamedNode(OWL + "Nothing")
_IRREFLEXIVE: Final = NamedNode(OWL + "IrreflexiveProperty")
_ASYMMETRIC: Final = NamedNode(OWL + "AsymmetricProperty")
_PROP_DISJOINT: Final = NamedNode(OWL + "propertyDisjointWith")
_SAME: Final = NamedNode(OWL + "sameAs")
_DIFFERENT: Final = NamedNode(OWL + "differentFrom")
_MAX_LIST: Final = 10_000

Term = Any  # NamedNode | BlankNode | Literal


def _text(term: Term) -> str:
    return term.value if isinstance(term, NamedNode) else str(term)


@dataclass(frozen=True, slots=True)
class Fact:
    """One statement a finding rests on; ``graph`` is None for a fact no graph holds (an
    inference the explainer could not trace)."""

    subject: str
    predicate: str
    object: str
    graph: str | None
    asserted: bool

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "predicate": self.predicate, "object": self.object,
                "graph": self.graph, "asserted": self.asserted}

    @classmethod
    def of(cls, quad: Quad, asserted: bool) -> Fact:
        return cls(_text(quad.subject), _text(quad.predicate), _text(quad.object),
                   _text(quad.graph_name) if isinstance(quad.graph_name, NamedNode) else None,
                   asserted)


@dataclass(frozen=True, slots=True)
class Finding:
    """One inconsistency: the RL ``rule`` violated, a ``message``, the ``focus`` resource and
    the offending ``facts`` (asserted ones first)."""

    rule: str
    message: str
    focus: str
    facts: tuple[Fact, ...] = ()
    derivations: tuple[Explanation, ...] = ()  # how the inferred statements among them hold

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "focusNode": self.focus,
                "facts": [f.to_json() for f in self.facts],
                "derivations": [e.to_json() for e in self.derivations]}


# -- the ontology's disjointness -------------------------------------------------------------------
def _rdf_list(store: GraphStore, head: Term) -> list[Term]:
    items: list[Term] = []
    node = head
    while node != _NIL and len(items) < _MAX_LIST:
        first = next(iter(store.quads(node, _FIRST, None)), None)
        rest = next(iter(store.quads(node, _REST, None)), None)
        if first is None or rest is None:
            break
        items.append(first.object)
        node = rest.object
    return items


@dataclass(frozen=True, slots=True)
class _Axiom:
    rule: str
    facts: tuple[Fact, ...]  # the axiom as stored (for cax-adc: the owl:members statement)


def disjoint_pairs(store: GraphStore) -> dict[frozenset[str], _Axiom]:
    """Every pair of disjoint named classes, from the asserted graphs, with its axiom."""
    pairs: dict[frozenset[str], _Axiom] = {}
    for q in store.quads(None, _DISJOINT, None):
        if isinstance(q.subject, NamedNode) and isinstance(q.object, NamedNode) \
                and q.subject != q.object:
            pairs.setdefault(frozenset({q.subject.value, q.object.value}),
                             _Axiom("cax-dw", (Fact.of(q, True),)))
    for q in store.quads(None, _TYPE, _ALL_DISJOINT):
        for m in store.quads(q.subject, _MEMBERS, None):  # type: ignore[arg-type]
            members = [c.value for c in _rdf_list(store, m.object) if isinstance(c, NamedNode)]
            axiom = _Axiom("cax-adc", (Fact(_text(m.subject), _text(m.predicate),
                                            " ".join(members),
                                            _text(m.graph_name), True),))
            for a, b in combinations(dict.fromkeys(members), 2):
                pairs.setdefault(frozenset({a, b}), axiom)
    return pairs


def _superclasses(store: GraphStore) -> dict[str, set[str]]:
    """Each named class's superclasses (reflexive, transitive), from the asserted graphs."""
    up: dict[str, set[str]] = {}
    for q in store.quads(None, _SUBCLASS, None):
        if isinstance(q.subject, NamedNode) and isinstance(q.object, NamedNode):
            up.setdefault(q.subject.value, set()).add(q.object.value)
    for q in store.quads(None, _EQ_CLASS, None):
        if isinstance(q.subject, NamedNode) and isinstance(q.object, NamedNode):
            up.setdefault(q.subject.value, set()).add(q.object.value)
            up.setdefault(q.object.value, set()).add(q.subject.value)
    closed: dict[str, set[str]] = {}
    for start in up:
        seen = {start}
        todo = [start]
        while todo:
            for sup in up.get(todo.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    todo.append(sup)
        closed[start] = seen
    return closed


def _clashes(classes: Iterable[str], pairs: dict[frozenset[str], _Axiom]
             ) -> Iterator[tuple[str, str, _Axiom]]:
    for a, b in combinations(sorted(set(classes)), 2):
        axiom = pairs.get(frozenset({a, b}))
        if axiom is not None:
            yield a, b, axiom


# -- the check over the entailed data --------------------------------------------------------------
class _Checker:
    def __init__(self, store: GraphStore, layout: GraphLayout) -> None:
        self.store = store
        self.search = ProofSearch(store, layout)
        self.up = _superclasses(store)
        self.pending: list[Explanation] = []  # derivations traced for the finding being built

    def facts(self, s: Term, p: NamedNode, o: Term) -> list[Fact]:
        """The statement traced down to its asserted premises (itself when asserted)."""
        quad = self.search.asserted(s, p, o)
        if quad is not None:
            return [Fact.of(quad, True)]
        explanation = self.search.explain((s, p, o))
        self.pending.append(explanation)
        return [self._leaf(e) for e in explanation.leaves()]

    def finding(self, rule: str, message: str, focus: Term, facts: Iterable[Fact]) -> Finding:
        derivations, self.pending = tuple(dict.fromkeys(self.pending)), []
        return Finding(rule, message, _text(focus), _dedupe(facts), derivations)

    @staticmethod
    def _leaf(e: Explanation) -> Fact:
        s, p, o = e.statement
        return Fact(s, p, o, e.graph, e.asserted)

    def type_facts(self, x: Term, cls: str, types: dict[str, list[Term]]) -> list[Fact]:
        """Why ``x`` is a ``cls``: the type statement present for it, or for the most specific
        present type below it in the hierarchy, traced to asserted facts."""
        if cls in types:
            return self.facts(x, _TYPE, NamedNode(cls))
        below = [t for t in types if cls in self.up.get(t, ())]
        out: list[Fact] = []
        for t in below[:1]:
            out += self.facts(x, _TYPE, NamedNode(t))
        return out

    def run(self) -> list[Finding]:
        findings: list[Finding] = []
        findings += self.disjoint_classes()
        for q in self.search.matching(None, _TYPE, _NOTHING):
            findings.append(self.finding("cls-nothing2", f"{_text(q.subject)} is an owl:Nothing",
                                    q.subject, self.facts(*_spo(q))))
        findings += self.properties()
        findings += self.same_and_different()
        return findings

    def disjoint_classes(self) -> list[Finding]:
        pairs = disjoint_pairs(self.store)
        if not pairs:
            return []
        disjoint = {c for pair in pairs for c in pair}
        by_node: dict[Term, dict[str, list[Term]]] = {}
        for q in self.search.matching(None, _TYPE, None):
            if isinstance(q.object, NamedNode):
                by_node.setdefault(q.subject, {}).setdefault(q.object.value, [])
        findings = []
        for x, types in by_node.items():
            classes = {c for t in types for c in self.up.get(t, {t})} & disjoint
            if len(classes) < 2:
                continue
            for a, b, axiom in _clashes(classes, pairs):
                facts = [*self.type_facts(x, a, types), *self.type_facts(x, b, types),
                         *axiom.facts]
                findings.append(self.finding(
                    axiom.rule, f"{_text(x)} is both a {a} and a {b}, which are disjoint",
                    x, facts))
        return findings

    def properties(self) -> list[Finding]:
        findings = []
        for t in self.store.quads(None, _TYPE, _IRREFLEXIVE):
            p = t.subject
            if not isinstance(p, NamedNode):
                continue
            for q in self.search.matching(None, p, None):
                if q.subject == q.object:
                    findings.append(self.finding(
                        "prp-irp", f"{_text(q.subject)} is related to itself by the irreflexive "
                        f"{_text(p)}", q.subject,
                        [*self.facts(*_spo(q)), Fact.of(t, True)]))
        for t in self.store.quads(None, _TYPE, _ASYMMETRIC):
            p = t.subject
            if not isinstance(p, NamedNode):
                continue
            seen: set[tuple[Term, Term]] = set()
            for q in self.search.matching(None, p, None):
                pair = (q.subject, q.object)
                if q.subject == q.object or pair in seen or (q.object, q.subject) in seen:
                    continue
                seen.add(pair)
                back = next(self.search.matching(q.object, p, q.subject), None)
                if back is not None:
                    findings.append(self.finding(
                        "prp-asyp", f"{_text(q.subject)} and {_text(q.object)} are related "
                        f"both ways by the asymmetric {_text(p)}", q.subject,
                        [*self.facts(*_spo(q)), *self.facts(*_spo(back)), Fact.of(t, True)]))
        for t in self.store.quads(None, _PROP_DISJOINT, None):
            p1, p2 = t.subject, t.object
            if not isinstance(p1, NamedNode) or not isinstance(p2, NamedNode):
                continue
            for q in self.search.matching(None, p1, None):
                other = next(self.search.matching(q.subject, p2, q.object), None)
                if other is not None:
                    findings.append(self.finding(
                        "prp-pdw", f"{_text(q.subject)} is related to {_text(q.object)} by "
                        f"both {_text(p1)} and {_text(p2)}, which are disjoint properties",
                        q.subject,
                        [*self.facts(*_spo(q)), *self.facts(*_spo(other)), Fact.of(t, True)]))
        return findings

    def same_and_different(self) -> list[Finding]:
        findings = []
        seen: set[frozenset[Term]] = set()
        for q in self.search.matching(None, _DIFFERENT, None):
            key = frozenset({q.subject, q.object})
            if key in seen:
                continue
            same = next(self.search.matching(q.subject, _SAME, q.object), None) or \
                next(self.search.matching(q.object, _SAME, q.subject), None)
            if same is None:
                continue
            seen.add(key)
            findings.append(self.finding(
                "eq-diff1", f"{_text(q.subject)} and {_text(q.object)} are said to be both "
                "the same and different", q.subject,
                [*self.facts(*_spo(same)), *self.facts(*_spo(q))]))
        return findings


def _spo(q: Quad) -> tuple[Term, NamedNode, Term]:
    return q.subject, q.predicate, q.object


def _dedupe(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    unique = list(dict.fromkeys(facts))
    return tuple(sorted(unique, key=lambda f: not f.asserted))


def find_inconsistencies(store: GraphStore, layout: GraphLayout) -> list[Finding]:
    """Every OWL 2 RL inconsistency in the catalog's asserted and inferred data."""
    return _Checker(store, layout).run()


# -- write-time refusal ----------------------------------------------------------------------------
class DisjointnessGuard:
    """Reports a change that gives a node two disjoint classes (cax-dw / cax-adc), from the
    node's post-change asserted types and their superclasses. Built once per ontology."""

    def __init__(self, store: GraphStore, superclasses: dict[str, frozenset[str]]) -> None:
        self.pairs = disjoint_pairs(store)
        self.superclasses = superclasses
        self.disjoint = {c for pair in self.pairs for c in pair}

    def violations(self, store: GraphStore, removed: set[Quad], added: set[Quad]
                   ) -> list[dict[str, Any]]:
        if not self.pairs:
            return []
        added_types: dict[Term, set[str]] = {}
        for q in added:
            if q.predicate == _TYPE and isinstance(q.object, NamedNode):
                added_types.setdefault(q.subject, set()).add(q.object.value)
        out: list[dict[str, Any]] = []
        for x, new in added_types.items():
            types = new | {q.object.value for q in store.quads(x, _TYPE, None)
                           if q not in removed and isinstance(q.object, NamedNode)}
            classes = {c for t in types for c in self.superclasses.get(t, frozenset({t}))}
            for a, b, axiom in _clashes(classes & self.disjoint, self.pairs):
                out.append({"focusNode": _text(x), "path": RDF_TYPE, "constraint": axiom.rule,
                            "severity": "Violation",
                            "message": f"{_text(x)} would be both a {a} and a {b}, which are "
                                       "disjoint (refuse_inconsistent_writes is on)"})
        return out
