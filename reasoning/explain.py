"""Why an inferred fact holds: backward chaining over the ontology's axioms, on demand.

The materialiser keeps no trace of how ``reasonable`` derived each triple, so an explanation is
rebuilt when asked: for a statement present in the store (asserted or inferred), find an OWL 2
RL rule whose conclusion it is and whose premises are present, and explain those premises in
turn, down to asserted quads (those in a non-inferred graph). The rules traced are the ones the
semcat ontology relies on:

- ``cax-sco`` / ``cax-eqc``: ``x a D``, ``D ⊑ C`` (or ``D ≡ C``) gives ``x a C``
- ``prp-dom`` / ``prp-rng``: ``x p y`` with ``p``'s domain (range) ``C`` gives ``x a C`` (``y a C``)
- ``prp-spo1`` / ``prp-eqp``: ``x q y``, ``q ⊑ p`` (or ``q ≡ p``) gives ``x p y``
- ``prp-inv``: ``y q x`` with ``p`` the inverse of ``q`` gives ``x p y``; ``prp-symp`` likewise
- ``prp-trp``: a chain of ``p`` edges gives ``x p y`` for a transitive ``p`` (the cheapest chain,
  asserted or directly supported edges first); ``scm-sco`` / ``scm-spo`` the same for the class
  and property hierarchies

Statements in the classification rules' graphs (``graph/inferred/rules/...``) are explained by
what put them there (``reasoning.classifier``): a rule (its IRI and name) with the facts one of
its solutions matched; propagation along ``semcat:derivedFrom`` from the parent that carries the
classification (itself explained in turn, down to the asset that holds it of its own); or tag
inheritance with the ``semcat:partOf`` chain up to the tagged ancestor.

Anything else (property chains, sameAs, …) is reported as derived by the OWL 2 RL closure, rule
not traced. Cycles are cut (a statement is never its own premise), depth is bounded, and so is
the chain search.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from graph_store.errors import InputError, NotFound
from graph_store.layout import GraphLayout
from graph_store.protocol import Dataset, GraphStore
from ontology.namespaces import OWL, PREFIXES, RDF_TYPE, RDFS, SEMCAT, XSD
from reasoning.access_classes import CONSUMES as _CONSUMES
from reasoning.access_classes import contains_pii, holds_pii, rollup_sources
from reasoning.propagation import CLASSIFICATION, INHERITABLE, PART_OF, TAG, Facts
from reasoning.rules import Rule, read_rules
from reasoning.rules import premises as rule_premises

__all__ = ["UNTRACED", "Explainer", "Explanation"]

UNTRACED: Final = "derived by the OWL 2 RL closure (rule not traced)"
MAX_DEPTH: Final = 20
MAX_CHAIN_NODES: Final = 10_000

_TYPE: Final = NamedNode(RDF_TYPE)
_SUBCLASS: Final = NamedNode(RDFS + "subClassOf")
_SUBPROPERTY: Final = NamedNode(RDFS + "subPropertyOf")
_DOMAIN: Final = NamedNode(RDFS + "domain")
_RANGE: Final = NamedNode(RDFS + "range")
_EQ_CLASS: Final = NamedNode(OWL + "equivalentClass")
_EQ_PROPERTY: Final = NamedNode(OWL + "equivalentProperty")
_INVERSE: Final = NamedNode(OWL + "inverseOf")
_TRANSITIVE: Final = NamedNode(OWL + "TransitiveProperty")
_SYMMETRIC: Final = NamedNode(OWL + "SymmetricProperty")
_DERIVED_FROM: Final = NamedNode(SEMCAT + "derivedFrom")
_BOOLEAN: Final = NamedNode(XSD + "boolean")

# Preference among rule families when no candidate rests on asserted premises alone (the key is
# the three letters after "cax-" / "prp-" / "scm-").
_RANK: Final = {"sco": 0, "eqc": 0, "spo": 0, "eqp": 0, "trp": 1, "inv": 2, "sym": 2,
                "dom": 3, "rng": 3}

Term = Any  # NamedNode | BlankNode | Literal
Statement = tuple[Term, NamedNode, Term]


def _text(term: Term) -> str:
    return term.value if isinstance(term, NamedNode) else str(term)


def _curie(term: Term) -> str:
    """A short name for rule labels: ``semcat:View`` rather than the whole IRI."""
    if isinstance(term, NamedNode):
        for prefix, ns in PREFIXES.items():
            if term.value.startswith(ns) and len(term.value) > len(ns):
                return f"{prefix}:{term.value[len(ns):]}"
    return _text(term)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why ``statement`` (subject, predicate, object) holds: asserted in ``graph``, or derived by
    ``rule`` from ``premises``, each explained in turn."""

    statement: tuple[str, str, str]
    asserted: bool
    graph: str | None
    rule: str
    premises: tuple[Explanation, ...] = ()

    def to_json(self) -> dict[str, Any]:
        s, p, o = self.statement
        return {"statement": {"subject": s, "predicate": p, "object": o},
                "asserted": self.asserted, "graph": self.graph, "rule": self.rule,
                "premises": [e.to_json() for e in self.premises]}

    def leaves(self) -> Iterator[Explanation]:
        """The facts the explanation rests on."""
        if not self.premises:
            yield self
        for premise in self.premises:
            yield from premise.leaves()


class _Axioms:
    """The schema statements the traced rules use, read from every asserted graph."""

    def __init__(self, store: GraphStore) -> None:
        def pairs(p: NamedNode) -> list[tuple[Term, Term]]:
            return [(q.subject, q.object) for q in store.quads(None, p, None)]

        self.sub_classes: dict[Term, list[Term]] = {}  # C -> its direct subclasses
        self.eq_classes: dict[Term, list[Term]] = {}
        self.sub_properties: dict[Term, list[Term]] = {}
        self.eq_properties: dict[Term, list[Term]] = {}
        self.inverses: dict[Term, list[Term]] = {}
        self.with_domain: dict[Term, list[Term]] = {}  # C -> properties whose domain is C
        self.with_range: dict[Term, list[Term]] = {}
        for sub, sup in pairs(_SUBCLASS):
            self.sub_classes.setdefault(sup, []).append(sub)
        for sub, sup in pairs(_SUBPROPERTY):
            self.sub_properties.setdefault(sup, []).append(sub)
        for a, b in pairs(_EQ_CLASS):
            self.eq_classes.setdefault(a, []).append(b)
            self.eq_classes.setdefault(b, []).append(a)
        for a, b in pairs(_EQ_PROPERTY):
            self.eq_properties.setdefault(a, []).append(b)
            self.eq_properties.setdefault(b, []).append(a)
        for a, b in pairs(_INVERSE):
            self.inverses.setdefault(a, []).append(b)
            self.inverses.setdefault(b, []).append(a)
        for p, c in pairs(_DOMAIN):
            self.with_domain.setdefault(c, []).append(p)
        for p, c in pairs(_RANGE):
            self.with_range.setdefault(c, []).append(p)
        self.transitive = {q.subject for q in store.quads(None, _TYPE, _TRANSITIVE)}
        self.symmetric = {q.subject for q in store.quads(None, _TYPE, _SYMMETRIC)}


class ProofSearch:
    """One explanation request: the store's present state, the axioms, and a memo of the
    statements already explained (a grounded explanation is valid whatever asked for it)."""

    def __init__(self, store: GraphStore, layout: GraphLayout) -> None:
        self.store = store
        self.inferred_graphs = [g for g in store.named_graphs() if isinstance(g, NamedNode)
                                and layout.is_inferred(g) and g != layout.inferred_root
                                and not layout.is_provenance(g)]
        self.axioms = _Axioms(store)
        self.memo: dict[Statement, Explanation] = {}
        self.derivations = _Derivations(store, layout)

    # -- what is present ---------------------------------------------------------------------
    def asserted(self, s: Term, p: NamedNode, o: Term) -> Quad | None:
        return next(iter(self.store.quads(s, p, o)), None)

    def inferred(self, s: Term, p: NamedNode, o: Term) -> Quad | None:
        for g in self.inferred_graphs:
            found = next(iter(self.store.quads(s, p, o, g)), None)
            if found is not None:
                return found
        return None

    def present(self, s: Term, p: NamedNode, o: Term) -> bool:
        return self.asserted(s, p, o) is not None or self.inferred(s, p, o) is not None

    def matching(self, s: Term | None, p: NamedNode | None, o: Term | None) -> Iterator[Quad]:
        yield from self.store.quads(s, p, o)
        for g in self.inferred_graphs:
            yield from self.store.quads(s, p, o, g)

    # -- explaining ----------------------------------------------------------------------------
    def explain(self, st: Statement) -> Explanation:
        """The statement explained; an inferred one no traced rule reaches is a leaf saying so."""
        found = self.prove(st, frozenset(), 0)
        if found is not None:
            return found
        quad = self.inferred(*st)
        graph = _text(quad.graph_name) if quad is not None else None
        return Explanation(self._strings(st), False, graph, UNTRACED)

    @staticmethod
    def _strings(st: Statement) -> tuple[str, str, str]:
        return (_text(st[0]), _text(st[1]), _text(st[2]))

    def prove(self, st: Statement, stack: frozenset[Statement], depth: int) -> Explanation | None:
        """An explanation of ``st`` ending in asserted quads, or None."""
        known = self.memo.get(st)
        if known is not None:
            return known
        quad = self.asserted(*st)
        if quad is not None:
            result = Explanation(self._strings(st), True, _text(quad.graph_name), "asserted")
            self.memo[st] = result
            return result
        if depth >= MAX_DEPTH or st in stack:
            return None
        home = self.inferred(*st)
        if home is None:
            return None
        inner = stack | {st}
        derived = self.derivations.candidates(st, home.graph_name)
        if derived is not None:  # a rule's, propagation's or inheritance's statement
            candidates = [(rule, [p for p in found if self.present(*p)]) for rule, found in derived]
        else:
            candidates = list(self._candidates(st, inner))
        for rule, premises in candidates:
            proofs = []
            for premise in premises:
                proof = self.prove(premise, inner, depth + 1)
                if proof is None:
                    break
                proofs.append(proof)
            else:
                result = Explanation(self._strings(st), False, _text(home.graph_name), rule,
                                     tuple(proofs))
                self.memo[st] = result
                return result
        return None

    def _candidates(self, st: Statement, stack: frozenset[Statement]
                    ) -> Iterator[tuple[str, list[Statement]]]:
        """Rule instances concluding ``st`` whose premises are present, best first: those
        resting on asserted premises alone, then by rule (hierarchy, transitivity, inverse,
        domain and range), so a lineage chain is read along its own property."""
        found = list(self._instances(st, stack))
        found.sort(key=lambda c: (any(self.asserted(*p) is None for p in c[1]),
                                  _RANK.get(c[0].partition("-")[2][:3], 9)))
        yield from found

    def _instances(self, st: Statement, stack: frozenset[Statement]
                   ) -> Iterator[tuple[str, list[Statement]]]:
        s, p, o = st
        ax = self.axioms
        if p == _TYPE:
            for d in ax.sub_classes.get(o, ()):
                if self.present(s, _TYPE, d):
                    yield f"cax-sco: {_curie(d)} ⊑ {_curie(o)}", [(s, _TYPE, d)]
            for d in ax.eq_classes.get(o, ()):
                if self.present(s, _TYPE, d):
                    yield f"cax-eqc: {_curie(d)} ≡ {_curie(o)}", [(s, _TYPE, d)]
            for q in ax.with_domain.get(o, ()):
                edge = next((x for x in self.matching(s, q, None)
                             if (x.subject, x.predicate, x.object) not in stack), None)
                if edge is not None:
                    yield (f"prp-dom: {_curie(q)} has domain {_curie(o)}",
                           [(s, q, edge.object)])
            for q in ax.with_range.get(o, ()):
                edge = next((x for x in self.matching(None, q, s)
                             if (x.subject, x.predicate, x.object) not in stack), None)
                if edge is not None:
                    yield (f"prp-rng: {_curie(q)} has range {_curie(o)}",
                           [(edge.subject, q, s)])
        for q in ax.sub_properties.get(p, ()):
            if self.present(s, q, o):
                yield f"prp-spo1: {_curie(q)} ⊑ {_curie(p)}", [(s, q, o)]
        for q in ax.eq_properties.get(p, ()):
            if self.present(s, q, o):
                yield f"prp-eqp: {_curie(q)} ≡ {_curie(p)}", [(s, q, o)]
        if not isinstance(o, Literal):
            for q in ax.inverses.get(p, ()):
                if self.present(o, q, s):
                    yield f"prp-inv: {_curie(p)} is the inverse of {_curie(q)}", [(o, q, s)]
            if p in ax.symmetric and self.present(o, p, s):
                yield f"prp-symp: {_curie(p)} is symmetric", [(o, p, s)]
        rule = ("prp-trp" if p in ax.transitive else "scm-sco" if p == _SUBCLASS
                else "scm-spo" if p == _SUBPROPERTY else None)
        if rule is not None:
            chain = self._chain(st, stack)
            if chain:
                yield f"{rule}: {_curie(p)} is transitive", chain

    def _supported(self, a: Term, p: NamedNode, b: Term) -> bool:
        """An edge with a direct reason: asserted, or a sub- or equivalent property's edge, or
        an asserted inverse edge: a good link in a chain."""
        ax = self.axioms
        return (self.asserted(a, p, b) is not None
                or any(self.present(a, q, b) for q in (*ax.sub_properties.get(p, ()),
                                                        *ax.eq_properties.get(p, ())))
                or any(self.asserted(b, q, a) is not None for q in ax.inverses.get(p, ())))

    def _chain(self, st: Statement, stack: frozenset[Statement]) -> list[Statement]:
        """The cheapest path of two or more present ``p`` edges from s to o (Dijkstra: a
        directly supported edge costs 1, any other 3), avoiding statements being explained."""
        s, p, o = st
        if isinstance(o, Literal):
            return []
        best: dict[Term, int] = {s: 0}
        back: dict[Term, Term] = {}
        heap: list[tuple[int, int, Term]] = [(0, 0, s)]
        tie = 0
        while heap and len(best) <= MAX_CHAIN_NODES:
            cost, _, node = heapq.heappop(heap)
            if node == o:
                break
            if cost > best.get(node, cost):
                continue
            for q in self.matching(node, p, None):
                nxt = q.object
                edge = (node, p, nxt)
                if edge == st or edge in stack or isinstance(nxt, Literal) or nxt == node:
                    continue
                step = cost + (1 if self._supported(node, p, nxt) else 3)
                if step < best.get(nxt, step + 1):
                    best[nxt] = step
                    back[nxt] = node
                    tie += 1
                    heapq.heappush(heap, (step, tie, nxt))
        if o not in back:
            return []
        path = [o]
        while path[-1] != s:
            path.append(back[path[-1]])
        path.reverse()
        return [(a, p, b) for a, b in pairwise(path)]


class Explainer:
    """Explains statements about the catalog's resources (see the module docstring)."""

    def __init__(self, store: GraphStore, layout: GraphLayout) -> None:
        self._store = store
        self._layout = layout

    def term(self, text: str) -> NamedNode:
        """An IRI from an IRI, a prefixed name (``semcat:View``) or an asset key."""
        prefix, colon, local = text.partition(":")
        if colon and prefix in PREFIXES and not local.startswith("//"):
            return NamedNode(PREFIXES[prefix] + local)
        return NamedNode(self._layout.iri(text))

    def explain(self, subject: str, predicate: str | None = None,
                object: str | None = None) -> list[Explanation]:
        """Explain ``subject predicate object``; without an object every such statement present;
        without a predicate every inferred statement about the subject. Raises NotFound when
        nothing matches (a statement neither asserted nor inferred), InputError for an object
        without a predicate."""
        search = ProofSearch(self._store, self._layout)
        s = self.term(subject)
        p = self.term(predicate) if predicate is not None else None
        if p is None and object is not None:
            raise InputError("give a predicate along with an object to explain one statement")
        o = self.term(object) if object is not None else None
        if p is None:
            quads: list[Quad] = [q for g in search.inferred_graphs
                                 for q in self._store.quads(s, None, None, g)]
            if not quads and not search.present(s, None, None):  # type: ignore[arg-type]
                raise NotFound(f"nothing is known about {subject}")
        else:
            quads = list(search.matching(s, p, o))
            if not quads:
                rules = self._layout.rule_inferred().value
                reasoned = any(g.value != rules and not g.value.startswith(rules + "/")
                               for g in search.inferred_graphs)
                hint = "" if reasoned else " (nothing is inferred yet: run `semcat reason`)"
                what = f"{subject} {predicate} {object}" if object is not None else \
                    f"{subject} {predicate} anything"
                raise NotFound(f"the catalog neither asserts nor infers {what}{hint}")
        statements = list(dict.fromkeys((q.subject, q.predicate, q.object) for q in quads
                                        if not isinstance(q.subject, BlankNode)
                                        or p is not None))
        statements.sort(key=lambda t: (_text(t[1]), _text(t[2])))
        return [search.explain(st) for st in statements]  # type: ignore[arg-type]


class _Derivations:
    """Why a statement of the classification rules' graphs holds (see the module docstring)."""

    def __init__(self, store: GraphStore, layout: GraphLayout) -> None:
        self.store = store
        self.layout = layout
        self.base_iri = layout.id_base
        self.rules_root = layout.rule_inferred().value + "/"
        self.propagated_root = layout.rule_inferred(propagated=True).value + "/"
        self._rules: list[Rule] | None = None
        self._rule_graphs = [g for g in store.named_graphs() if isinstance(g, NamedNode)
                             and g.value.startswith(self.rules_root)
                             and not g.value.startswith(self.propagated_root)]
        self.contains = contains_pii(layout)
        self.facts = Facts(store, local=frozenset({self.contains}))

    def rules(self) -> list[Rule]:
        if self._rules is None:
            self._rules = [r for r in read_rules(self.store, self.base_iri)
                           if r.enabled and r.compiled is not None]
        return self._rules

    def candidates(self, st: Statement, graph: Any) -> list[tuple[str, list[Statement]]] | None:
        """Rule instances for a statement in the rules' graphs; None for any other graph."""
        value = graph.value if isinstance(graph, NamedNode) else ""
        if value.startswith(self.propagated_root):
            return self._propagation(st)
        if value.startswith(self.rules_root):
            return self._by_rule(st)
        return None

    def _by_rule(self, st: Statement) -> list[tuple[str, list[Statement]]]:
        graphs = tuple(g for g in self.store.named_graphs() if isinstance(g, NamedNode)
                       and not self.layout.is_inferred(g) and g != self.layout.shapes)
        dataset = Dataset(default=graphs, named=graphs)
        found = []
        for rule in self.rules():
            assert rule.compiled is not None
            facts = rule_premises(self.store, dataset, rule.compiled, self.base_iri, st)
            if facts is not None:
                found.append((f"rule {rule.iri.value} ({rule.name})", facts))
        return found

    def _sources(self, x: Any) -> set[Any]:
        return self.facts.classifications(x) | {
            q.object for g in self._rule_graphs for q in self.store.quads(x, CLASSIFICATION, None, g)}

    def _propagation(self, st: Statement) -> list[tuple[str, list[Statement]]]:
        s, p, o = st
        if p == CLASSIFICATION and o == self.contains and isinstance(s, NamedNode):
            return self._rollup(s)
        if p == CLASSIFICATION and isinstance(s, NamedNode):
            via = self.facts.propagated(s, self._sources).get(o)
            if via is None:
                return []
            return [(f"propagation: {_curie(o)} flows along semcat:derivedFrom (nothing on the "
                     "way declassifies it)", [(s, _DERIVED_FROM, via), (via, p, o)])]
        if p == TAG and isinstance(s, NamedNode):
            ancestor = self.facts.inherited(s).get(o)
            chain = self._part_chain(s, ancestor) if ancestor is not None else None
            if chain is None:
                return []
            return [(f"inheritance: {_curie(o)} is inheritable and applies to the datasets "
                     f"below {_text(ancestor)} along semcat:partOf",
                     [*chain, (ancestor, TAG, o), (o, INHERITABLE, Literal("true",
                                                                              datatype=_BOOLEAN))])]
        return []

    def _classes(self, x: Any) -> set[Any]:
        """``x``'s classifications, asserted and derived (its own, propagated, rolled up)."""
        return {q.object for q in self.store.quads(x, CLASSIFICATION, None, None)
                if isinstance(q.object, NamedNode)} | {
            q.object for g in self.store.named_graphs() if isinstance(g, NamedNode)
            and g.value.startswith(self.rules_root)
            for q in self.store.quads(x, CLASSIFICATION, None, g)}

    def _rollup(self, s: NamedNode) -> list[tuple[str, list[Statement]]]:
        """contains-pii: a part (or, for dashboards, charts and models, an input) that is PII
        or contains PII."""
        found = []
        for y in sorted(rollup_sources(self.facts, s), key=str):
            link = (y, PART_OF, s) if self.facts.objects(y, PART_OF) & {s} else (s, _CONSUMES, y)
            for c in sorted(self._classes(y), key=str):
                if holds_pii(self.layout, [c.value]):
                    found.append((f"roll-up: {_text(s)} contains or is built on {_text(y)}, "
                                  f"which is {_curie(c)}", [link, (y, CLASSIFICATION, c)]))
                    break
            if found:
                break
        return found

    def _part_chain(self, s: Any, ancestor: Any) -> list[Statement] | None:
        back: dict[Any, Any] = {s: None}
        frontier = [s]
        while frontier and ancestor not in back:
            node = frontier.pop(0)
            for parent in sorted(self.facts.objects(node, PART_OF), key=str):
                if parent not in back:
                    back[parent] = node
                    frontier.append(parent)
        if ancestor not in back:
            return None
        chain: list[Statement] = []
        node = ancestor
        while back[node] is not None:
            chain.append((back[node], PART_OF, node))
            node = back[node]
        return chain[::-1]
