"""Delete-and-rederive (DRed) for one net asserted change: the inferred quads to drop and to
add, read from the store and written by ``reasoning.incremental``. Overdelete everything
derivable from a retracted fact in the closure as it was, put back what still has a one-step
derivation from what remains, then derive forward from the insertions and the put-back facts."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from pyoxigraph import NamedNode, Quad

from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from reasoning.incremental_view import FactView, Triple
from reasoning.lexical import spelled_as_stored
from reasoning.replaced_values import replaced_values
from reasoning.rl_rules import TYPE, Rules, is_axiom
from reasoning.rl_steps import Steps

Term = Any


class NeedsFull(Exception):
    """This change needs a full rematerialisation; the message says why."""


class Maintenance:
    """The inferred change of one (net) asserted change; reads the store, writes nothing."""

    def __init__(self, store: GraphStore, layout: GraphLayout, rules: Rules,
                 graphs: list[NamedNode],
                 place: Callable[[NamedNode, Any], NamedNode] | None = None) -> None:
        self.layout = layout
        self.place = place
        self.rules = rules
        self.view = FactView(store, layout, graphs)
        self.steps = Steps(rules, self.view)
        self._homes: dict[Term, NamedNode] = {}
        self.shortcut = False  # the change only replaced values (reasoning/replaced_values.py)

    def run(self, removed: Iterable[Quad], added: Iterable[Quad]) -> tuple[list[Quad], list[Quad]]:
        """The inferred quads to remove and to add; raises ``NeedsFull`` when this change is one
        for full rematerialisation."""
        view, steps, layout = self.view, self.steps, self.layout
        shapes = layout.shapes

        def asserted(quads: Iterable[Quad]) -> list[Quad]:
            kept = [q for q in quads if isinstance(q.graph_name, NamedNode)
                    and q.graph_name != shapes and not layout.is_inferred(q.graph_name)]
            axiom = next((q for q in kept if is_axiom(q.predicate, q.object)), None)
            if axiom is not None:
                raise NeedsFull(f"an axiom changed ({axiom.predicate.value})")
            return kept

        rq, aq = asserted(removed), [self._canonical(q) for q in asserted(added)]
        dropped, gained, rest_r, rest_a = replaced_values(self.rules, view, self.target, steps.junk, rq, aq)
        self.shortcut, rq, aq = len(rest_r) + len(rest_a) < len(rq) + len(aq), rest_r, rest_a
        if not (rq or aq):
            return self._quads(set(), set(), set(), dropped, gained)
        touched = self._regraphed(rq, aq)
        retracted = {t for t in {(q.subject, q.predicate, q.object) for q in rq}
                     if not view.is_asserted(t)}
        inserted = {(q.subject, q.predicate, q.object) for q in aq}
        view.read_about({t[0] for t in inserted})

        # Delete and rederive. Overdelete what the retracted facts entailed, in the closure as
        # it was; virtual facts are passed through, not stored.
        view.withdraw(retracted)
        over: set[Triple] = set()
        passed: set[Triple] = set()
        stack = list(retracted)
        while stack:
            for c in steps.consequences(stack.pop()):
                if c in over or c in retracted or c in passed:
                    continue
                if steps.virtual(c):
                    passed.add(c)
                elif view.is_stored(c) and not view.is_asserted(c) and not steps.kept(c):
                    over.add(c)
                else:
                    continue
                stack.append(c)
        # Put back what still has a one-step derivation, then derive forward from it and from
        # the insertions.
        view.old, view.gone = False, over
        back = [c for c in over | retracted if not steps.virtual(c) and steps.derivable(c)]
        for c in back:
            view.add(c)
        self._derive(back + list(inserted))
        self._check_functional({t for t in inserted | view.new if t[1] != TYPE})
        return self._quads(over, inserted, touched, dropped, gained)

    def _regraphed(self, rq: list[Quad], aq: list[Quad]) -> set[Term]:
        """The subjects whose inferences may have to change graph: those the change gives a
        graph they were not in, or takes out of one, or whose type statement it touches. An
        edit within an asset's graphs (most edits) moves nothing, and re-homing every
        inference about it and naming it costs more than the rest of the step."""
        removed_in: dict[Term, set[object]] = defaultdict(set)
        added_in: dict[Term, set[object]] = defaultdict(set)
        for q in rq:
            removed_in[q.subject].add(q.graph_name)
        for q in aq:
            added_in[q.subject].add(q.graph_name)
        typed = {q.subject for q in (*rq, *aq) if q.predicate == TYPE}
        return {s for s in removed_in.keys() | added_in.keys()
                if s in typed or not added_in[s] <= removed_in[s]
                or not removed_in[s] <= self.view.asserted_graphs(s)}

    def complete(self) -> tuple[list[Quad], list[Quad]]:
        """What property chains add to a full materialisation (``reasonable`` 0.4 does not
        implement ``prp-spo2``), with everything that follows from it."""
        view = self.view
        links = [t for p in self.rules.links for t in
                 (*view.asserted(None, p, None), *(t for t, _ in view.stored(None, p, None)))]
        self._derive(links)
        return self._quads(set(), set(), set(), set(), set())

    def _derive(self, stack: list[Triple]) -> None:
        """Forward chaining from ``stack`` into the view's new facts."""
        view, steps = self.view, self.steps
        passed: set[Triple] = set()
        while stack:
            for c in steps.consequences(stack.pop()):
                if steps.virtual(c):
                    if c in passed:
                        continue
                    passed.add(c)
                elif c in view.new or view.contains(c):
                    continue
                else:
                    view.add(c)
                stack.append(c)

    def _quads(self, over: set[Triple], inserted: set[Triple], touched: set[Term],
               dropped: set[Quad], gained: set[Quad]) -> tuple[list[Quad], list[Quad]]:
        """The change as quads: withdrawn inferences and those now asserted out, new ones in,
        and whatever of the touched subjects' inferences must change graph; with what the
        replaced values drop and gain."""
        view = self.view
        now_asserted = {t for t in inserted if view.is_stored(t)}
        drop: set[Quad] = dropped | {Quad(*t, g) for d in (over - view.new, now_asserted)
                                     for t0 in d for t, g in view.stored(*t0)}
        add: set[Quad] = gained | {Quad(*t, self.target(t)) for t in view.new - over}
        self._move(touched, drop, add)
        return sorted(drop - add, key=str), sorted(add - drop, key=str)

    def _canonical(self, q: Quad) -> Quad:
        """``q`` as the store holds it: typed literals are stored in canonical form
        (``…03.380Z`` reads back as ``…03.38Z``), and sets of terms must agree with lookups."""
        if spelled_as_stored(q.object):
            return q
        return next(iter(self.view.store.quads(q.subject, q.predicate, q.object,  # type: ignore[arg-type]
                                               q.graph_name)), q)

    def _check_functional(self, edges: set[Triple]) -> None:
        r, view = self.rules, self.view
        for s, p, o in edges:
            if p in r.functional and len(view.objects(s, p)) > 1:
                raise NeedsFull(f"{s} has two values of the functional property {p}")
            if p in r.inverse_functional and len(view.subjects(p, o)) > 1:
                raise NeedsFull(f"{o} is the value of the inverse-functional {p} of two subjects")

    def home(self, subject: Term) -> NamedNode:
        """The inferred graph for statements about ``subject`` (``Materialiser`` rule: the first
        data graph, by IRI, holding it as a subject; else the ontology graphs; else default)."""
        found = self._homes.get(subject)
        if found is None:
            layout = self.layout
            vocabulary = (layout.ontology, layout.custom_ontology)
            graphs = self.view.asserted_graphs(subject)
            data = sorted((g for g in graphs if g not in vocabulary), key=lambda g: g.value)
            source = data[0] if data else next((g for g in vocabulary if g in graphs), None)
            found = self._homes[subject] = layout.inferred(source)
        return found

    def target(self, t: Triple) -> NamedNode:
        """The graph of inferred statement ``t``: its subject's home, or where ``place``
        sends statements naming an asset of another access partition."""
        home = self.home(t[0])
        return home if self.place is None else self.place(home, t[2])

    def _move(self, subjects: set[Term], drop: set[Quad], add: set[Quad]) -> None:
        """Inferences about ``subjects``, or naming them, whose place changed follow."""
        for s in subjects:
            naming = self.view.stored(None, None, s) if self.place is not None and \
                isinstance(s, NamedNode) else iter(())
            for t, g in itertools.chain(self.view.stored(s, None, None), naming):
                q = Quad(*t, g)
                want = self.target(t)
                if g != want and q not in drop:
                    drop.add(q)
                    add.add(Quad(*t, want))
