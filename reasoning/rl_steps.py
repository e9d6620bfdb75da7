"""One step of the compiled OWL 2 RL rules over a ``FactView``, in both directions.

The incremental reasoner (``reasoning.incremental``) runs delete-and-rederive with these:
``consequences`` (what a fact entails together with what the view holds) for overdeletion and
forward chaining, ``derivable`` (whether a fact still follows from what the view holds) for
rederivation. Every rule instance has a premise from which ``consequences`` finds it, so forward
chaining from the changed facts reaches every new conclusion.

Memberships of anonymous class expressions (``x a [ owl:intersectionOf ( … ) ]``) are never
stored: the full materialiser drops them (``reasoning.junk``), and so does this one. They are
*virtual* facts: ``consequences`` passes through them on the way from a change to the named
facts it affects, and ``holds`` decides them on demand from the stored named types and edges.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pyoxigraph import BlankNode, Literal, NamedNode

from reasoning.incremental_view import FactView
from reasoning.junk import JunkFilter
from reasoning.rl_rules import THING, TYPE, Rules, Term, Triple

__all__ = ["Steps"]

_Path = frozenset[tuple[Term, Term]]
_NO_PATH: _Path = frozenset()


class Steps:
    def __init__(self, rules: Rules, view: FactView) -> None:
        self.rules = rules
        self.view = view
        self.junk = JunkFilter().rule

    @staticmethod
    def virtual(t: Triple) -> bool:
        """A membership of an anonymous class: passed through, never stored."""
        return t[1] == TYPE and isinstance(t[2], BlankNode)

    # -- forward ---------------------------------------------------------------------------------
    def consequences(self, t: Triple) -> Iterator[Triple]:
        """The facts ``t`` entails in one step, together with what the view holds."""
        s, p, o = t
        found = self._from_type(s, o) if p == TYPE else self._from_edge(s, p, o)
        junk = self.junk
        return (c for c in found if not isinstance(c[0], Literal)
                and (self.virtual(c) or junk(*c) is None))

    def _from_edge(self, s: Term, p: NamedNode, o: Term) -> list[Triple]:
        r, view = self.rules, self.view
        found: list[Triple] = [(s, q, o) for q in r.superproperties.get(p, ())]
        literal = isinstance(o, Literal)
        if not literal:
            found += [(o, q, s) for q in r.inverses.get(p, ())]
            if p in r.symmetric:
                found.append((o, p, s))
        if p in r.transitive:
            found += [(s, p, z) for z in view.objects(o, p)]
            found += [(w, p, o) for w in view.subjects(p, s)]
        for head, chain, i in r.links.get(p, ()):
            rights = self._walk(o, chain[i + 1:])
            if rights:
                found += [(w, head, z) for w in self._walk_back(s, chain[:i]) for z in rights]
        found += [(s, TYPE, c) for c in r.domains.get(p, ())]  # prp-dom
        found += [(s, TYPE, h) for h in r.value_on.get((p, o), ())]  # cls-hv2
        found += [(s, TYPE, x) for x in r.some_on.get(p, ())  # cls-svf1/2
                  if self.holds(o, r.some[x][1])]
        if not literal:
            found += [(o, TYPE, c) for c in r.ranges.get(p, ())]  # prp-rng
            found += [(o, TYPE, r.every[a][1]) for a in r.every_on.get(p, ())  # cls-avf
                      if self.holds(s, a)]
        return found

    def _from_type(self, x: Term, c: Term) -> list[Triple]:
        """What ``x a c`` entails: the superclasses of ``c`` at once (their own consequences
        follow when they are new, or held already), and the expressions ``c`` takes part in."""
        r, view = self.rules, self.view
        found: list[Triple] = [(x, TYPE, sup) for sup in r.above.get(c, ())]  # cax-sco, int2, uni
        found += [(x, TYPE, i) for i in r.in_intersections.get(c, ())  # cls-int1
                  if all(self.holds(x, m) for m in r.intersections[i])]
        for some in r.some_of.get(c, ()):  # cls-svf1, c the filler
            found += [(w, TYPE, some) for w in view.subjects(r.some[some][0], x)]
        if c in r.every:  # cls-avf
            prop, filler = r.every[c]
            found += [(z, TYPE, filler) for z in view.objects(x, prop)
                      if not isinstance(z, Literal)]
        if c in r.value:  # cls-hv1
            prop, value = r.value[c]
            found.append((x, prop, value))
        return found

    def _walk(self, start: Term, chain: Sequence[NamedNode]) -> set[Term]:
        nodes = {start}
        for p in chain:
            nodes = {z for n in nodes for z in self.view.objects(n, p)}
        return nodes

    def _walk_back(self, end: Term, chain: Sequence[NamedNode]) -> set[Term]:
        nodes = {end}
        for p in reversed(chain):
            nodes = {w for n in nodes for w in self.view.subjects(p, n)}
        return nodes

    # -- backward ---------------------------------------------------------------------------------
    def derivable(self, t: Triple) -> bool:
        """Whether ``t`` follows in one step from what the view holds (not from ``t`` itself)."""
        s, p, o = t
        if p == TYPE:
            return self._supported(s, o, _NO_PATH)
        r, view = self.rules, self.view
        if any(view.contains((s, q, o)) for q in r.subproperties.get(p, ())):
            return True
        if not isinstance(o, Literal):
            if any(view.contains((o, q, s)) for q in r.inverses.get(p, ())):
                return True
            if p in r.symmetric and view.contains((o, p, s)):
                return True
        if p in r.transitive and any(view.contains((z, p, o)) for z in view.objects(s, p)):
            return True
        if any(o in self._walk(s, chain) for chain in r.chains.get(p, ())):
            return True
        return any(self.holds(s, h) for h in r.value_on.get((p, o), ()))  # cls-hv1

    def kept(self, t: Triple) -> bool:
        """Whether ``t`` is a type its node has by an asserted subclass: it survives any
        retraction of other facts, so overdeletion can stop there (a class on a busy node,
        such as a department's ``Organization``, would otherwise withdraw and rederive every
        membership that goes through it)."""
        x, p, c = t
        below = self.rules.below.get(c) if p == TYPE else None
        return below is not None and any(k in below for _, _, k in self.view.asserted(x, TYPE, None))

    def holds(self, x: Term, c: Term, path: _Path = _NO_PATH) -> bool:
        """Whether ``x`` is a ``c`` now: named classes as the view has them (the maintained
        closure), anonymous ones decided from their definitions. ``path`` cuts cycles through
        anonymous classes (a least fixpoint needs no goal twice on one branch)."""
        if c == THING:
            return True
        if isinstance(x, Literal):
            return False
        if self.view.contains((x, TYPE, c)):
            return True
        if not isinstance(c, BlankNode) or (x, c) in path:
            return False
        return self._supported(x, c, path | {(x, c)})

    def _supported(self, x: Term, c: Term, path: _Path) -> bool:
        """``x a c`` by a subclass ``x`` is in, or by a rule concluding ``c`` or an anonymous
        subclass of it."""
        r = self.rules
        below = r.below.get(c, frozenset())
        if below and any(k in below and k != c for k in self.view.objects(x, TYPE)):
            return True
        return self._direct(x, c, path) or any(
            self._direct(x, k, path) for k in below if isinstance(k, BlankNode) and k != c)

    def _direct(self, x: Term, k: Term, path: _Path) -> bool:
        """``x a k`` by a rule whose conclusion is ``k`` itself."""
        r, view = self.rules, self.view
        members = r.intersections.get(k)
        if members and all(self.holds(x, m, path) for m in members):
            return True
        if k in r.some:
            prop, filler = r.some[k]
            if any(self.holds(y, filler, path) for y in view.objects(x, prop)):
                return True
        if k in r.value and view.contains((x, *r.value[k])):
            return True
        if any(view.objects(x, prop) for prop in r.domain_of.get(k, ())):
            return True
        if any(view.has_subject(prop, x) for prop in r.range_of.get(k, ())):
            return True
        return any(self.holds(w, a, path) for a in r.every_into.get(k, ())
                   for w in view.subjects(r.every[a][0], x))
