"""The classifications that decide access, derived for a change before it is logged.

A column that is PII only because a classification rule says so, or because PII flows to it
along lineage, must live in the PII partition from the changeset that makes it so (DESIGN.md,
"Flow of a write": derive what decides access, then route). ``Derivation`` computes, over the
store as the change will leave it (``graph_store.overlay.Overlay``), an asset's *effective*
classifications: asserted ones, rule conclusions, what propagates along ``semcat:derivedFrom``
(``reasoning.propagation``) and the roll-up ``contains-pii`` (below). It reuses the definitions
the classifier's projection uses, so the partition an asset is routed to and the classifications
it is shown with agree.

Rule conclusions about the assets a change touches are computed by running the rules on a
scratch store holding those assets as they will be and their neighbourhood two links out;
conclusions about other assets are read from the classifier's stored graphs (their inputs did
not change). A rule that reads further than two links from ``?this`` is still applied by the
classifier, one changeset later for routing purposes.

**Roll-up.** A container holds ``contains-pii`` (``{base}/id/classification/contains-pii``)
when one of its parts (``semcat:partOf``, any depth) is PII or contains PII, and a dashboard,
chart or ML model when an asset it consumes does: so "PII tables" finds the tables, schemas and
dashboards that hold PII columns. It is judged on its own (it does not propagate along lineage)
and, like any classification, decides access when a policy tests it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Final

from pyoxigraph import NamedNode, Quad

from graph_store.layout import GraphLayout
from graph_store.overlay import Overlay, scratch
from graph_store.protocol import Dataset, GraphStore
from ontology.namespaces import RDF_TYPE, RDFS, SEMCAT
from reasoning.propagation import CLASSIFICATION, PART_OF, Facts
from reasoning.rules import Rule, evaluate

__all__ = ["CONSUMES", "ROLLUP_CONSUMERS", "Derivation", "contains_pii", "holds_pii", "is_pii",
           "rollup_closure", "rollup_sources", "rollup_targets", "settle_rollup"]

CONSUMES: Final = NamedNode(SEMCAT + "consumes")
ROLLUP_CONSUMERS: Final = frozenset(NamedNode(SEMCAT + c) for c in ("Dashboard", "Chart",
                                                                    "MLModel"))
_TYPE: Final = NamedNode(RDF_TYPE)
_HIERARCHY: Final = (NamedNode(RDFS + "subClassOf"), NamedNode(RDFS + "subPropertyOf"))
NEIGHBOURHOOD: Final = 2  # links out from a touched asset that its rules may read


def contains_pii(layout: GraphLayout) -> NamedNode:
    return NamedNode(layout.iri("classification/contains-pii"))


def is_pii(layout: GraphLayout, classification: str) -> bool:
    pii = layout.iri("classification/pii")
    return classification == pii or classification.startswith(pii + "/")


class Derivation:
    """Effective classifications over one proposed change (make one per changeset: it memoises).

    ``view`` is the store as the change leaves it; ``touched`` the assets whose rule conclusions
    must be computed afresh (the others' are read from ``rule_graphs``, the classifier's)."""

    def __init__(self, store: GraphStore, view: Overlay, layout: GraphLayout,
                 rules: list[Rule], touched: Iterable[NamedNode],
                 derived_graphs: tuple[list[NamedNode], list[NamedNode]], *,
                 rollup: bool = True,
                 concluded: dict[NamedNode, set[NamedNode]] | None = None) -> None:
        """``rollup``: compute ``contains-pii`` (only needed where a policy tests it);
        ``concluded``: rule conclusions known already (all assets', after a rule changed)."""
        self._store = store
        self._view = view
        self._layout = layout
        self.contains_pii = contains_pii(layout)
        self.facts = Facts(view, local=frozenset({self.contains_pii}))
        self._rules = [r for r in rules if r.compiled is not None]
        self._touched = set(touched)
        self._rule_graphs, self._propagated_graphs = derived_graphs
        self._concluded: dict[NamedNode, set[NamedNode]] | None = None
        self._rollup = rollup
        self._known_conclusions = concluded
        self._own: dict[NamedNode, set[NamedNode]] = {}
        self._effective: dict[NamedNode, frozenset[str]] = {}
        self.changed_rules: set[NamedNode] = set()  # assets whose rule conclusions changed
        self._passes: dict[NamedNode, frozenset[NamedNode]] = {}  # what an asset passes on
        self._inflow: dict[NamedNode, frozenset[NamedNode]] = {}  # what reaches it
        self._cyclic = False

    # -- rule conclusions --------------------------------------------------------------------
    def _conclude_touched(self) -> dict[NamedNode, set[NamedNode]]:
        if self._concluded is not None:
            return self._concluded
        found: dict[NamedNode, set[NamedNode]] = {s: set() for s in self._touched}
        # only the assets some rule may be about (a look-up on the asset itself: a table
        # whose description changed is not a column) need their neighbourhood and a run
        candidates = {s for s in self._touched for r in self._rules
                      if r.compiled is not None and r.compiled.may_match(self._view, s)}
        if candidates:
            quads: set[Quad] = set()
            frontier = set(candidates)
            seen: set[object] = set()
            for _ in range(NEIGHBOURHOOD + 1):
                nxt: set[NamedNode] = set()
                for node in frontier - seen:
                    seen.add(node)
                    for q in self._view.quads(node, None, None, None):
                        quads.add(q)
                        if isinstance(q.object, NamedNode):
                            nxt.add(q.object)
                frontier = nxt
            for p in _HIERARCHY:
                quads.update(self._store.quads(None, p, None, None))
            local = scratch(quads)
            order = sorted(candidates, key=str)
            for rule in self._rules:
                assert rule.compiled is not None
                for s, p, o in evaluate(local, Dataset(), rule.compiled, self._layout.id_base,
                                        order):
                    if p == CLASSIFICATION and isinstance(o, NamedNode) and s in found:
                        found[s].add(o)
        self._concluded = found
        return found

    def _stored(self, x: NamedNode, graphs: list[NamedNode]) -> set[NamedNode]:
        return {q.object for g in graphs for q in self._store.quads(x, CLASSIFICATION, None, g)
                if isinstance(q.object, NamedNode)}

    def own(self, x: NamedNode) -> set[NamedNode]:
        """Asserted classifications and rule conclusions (not declassified on ``x``): the
        sources of propagation."""
        known = self._own.get(x)
        if known is None:
            if x in self._touched:
                concluded = self._conclude_touched().get(x)
            elif self._known_conclusions is not None:
                concluded = self._known_conclusions.get(x)
            else:
                concluded = self._stored(x, self._rule_graphs)
            blocked = self.facts.declassified(x)
            known = self.facts.classifications(x) | {
                c for c in concluded or () if not self.facts.blocks(blocked, c)}
            self._own[x] = known
        return known

    # -- effective -----------------------------------------------------------------------------
    def effective(self, x: NamedNode,
                  of: Callable[[NamedNode], frozenset[str]] | None = None) -> frozenset[str]:
        """``x``'s classification IRIs after the change: its own, what reaches it along
        lineage and the roll-up. ``of`` gives other assets' effective classifications for the
        roll-up (the caller's worklist knows which are fresh); by default, ``stored``."""
        known = self._effective.get(x)
        if known is None:
            own = self.own(x)
            received = self._received(x)
            classes = {c.value for c in own | received}
            if self._rollup and self._rolls_up(x, of or self.stored):
                classes.add(self.contains_pii.value)
            known = self._effective[x] = frozenset(classes)
        return known

    def _received(self, x: NamedNode) -> set[NamedNode]:
        """What reaches ``x`` along lineage (``Facts.propagated``'s definition), from what each
        parent passes on, memoised: linear in the lineage a change reaches, where following
        every chain from every asset is quadratic on long chains. Lineage with a cycle falls
        back to ``Facts.propagated``, which follows chains exactly."""
        if self._cyclic:
            return set(self.facts.propagated(x, self.own))
        facts, passes = self.facts, self._passes
        stack: list[tuple[NamedNode, bool]] = [(x, False)]
        open_: set[NamedNode] = set()
        while stack:
            node, done = stack.pop()
            if node in passes:
                continue
            parents = facts.parents(node)
            if not done:
                if node in open_:
                    self._cyclic = True
                    return set(facts.propagated(x, self.own))
                open_.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in parents if p not in passes)
                continue
            open_.discard(node)
            blocked = facts.declassified(node)
            inflow = {c for p in parents for c in passes.get(p, frozenset())
                      if not facts.blocks(blocked, c)}
            passes[node] = frozenset(inflow | {c for c in self.own(node) if facts.propagates(c)})
            self._inflow[node] = frozenset(inflow)
        return set(self._inflow[x])

    def forget(self, x: NamedNode) -> None:
        """Recompute ``x`` when asked again (its parts or inputs changed meanwhile)."""
        self._effective.pop(x, None)

    def stored(self, x: NamedNode) -> frozenset[str]:
        """``x``'s classifications as the store holds them now (asserted and derived)."""
        return frozenset(c.value for c in {
            *(q.object for q in self._store.quads(x, CLASSIFICATION, None, None)
              if isinstance(q.object, NamedNode)),
            *self._stored(x, self._rule_graphs), *self._stored(x, self._propagated_graphs)})

    def rollup_targets(self, x: NamedNode) -> set[NamedNode]:
        return rollup_targets(self.facts, x)

    def _rolls_up(self, x: NamedNode, of: Callable[[NamedNode], frozenset[str]]) -> bool:
        return any(y != x and holds_pii(self._layout, of(y)) for y in rollup_sources(self.facts, x))


def holds_pii(layout: GraphLayout, classes: Iterable[str]) -> bool:
    """Whether classifications make an asset count for the roll-up: PII, or contains PII."""
    rolled = contains_pii(layout).value
    return any(c == rolled or is_pii(layout, c) for c in classes)


def rollup_sources(facts: Facts, x: NamedNode) -> set[NamedNode]:
    """The assets whose PII ``x``'s roll-up looks at: its parts, and what it consumes if it is
    a dashboard, chart or ML model."""
    sources = facts.parts(x)
    if facts.objects(x, _TYPE) & ROLLUP_CONSUMERS:
        sources |= facts.objects(x, CONSUMES)
    return sources


def rollup_targets(facts: Facts, x: NamedNode) -> set[NamedNode]:
    """The assets whose roll-up looks at ``x``: its container, and its consumers that are
    dashboards, charts or ML models."""
    targets = facts.objects(x, PART_OF)
    for q in facts.store.quads(None, CONSUMES, x, None):
        if isinstance(q.subject, NamedNode) and facts.objects(q.subject, _TYPE) & ROLLUP_CONSUMERS:
            targets.add(q.subject)
    targets.discard(x)
    return targets


def settle_rollup(facts: Facts, start: Iterable[NamedNode], changed: Iterable[NamedNode],
                  touched: set[NamedNode], holds: Callable[[NamedNode], bool],
                  stored: Callable[[NamedNode], bool],
                  settled: dict[NamedNode, bool]) -> None:
    """The roll-up of ``start``'s assets, and of their containers and consumers while it
    changes, into ``settled``. ``changed``: the assets whose classifications may differ from
    what is stored; ``holds``: whether an asset counts for the roll-up now; ``stored``: its
    roll-up as stored. An asset looks at all of its sources only when its own statements
    changed (a dashboard consuming something new) or one of its changed sources may have
    cleared it; otherwise its changed sources decide. So a schema that gains tables is not
    read table by table on every batch, which made a large import slow down as it grew."""
    targets: dict[NamedNode, set[NamedNode]] = {}
    fresh: dict[NamedNode, set[NamedNode]] = {}  # an asset -> its sources that changed

    def note(y: NamedNode) -> None:
        if y not in targets:
            targets[y] = rollup_targets(facts, y)
            for t in targets[y]:
                fresh.setdefault(t, set()).add(y)

    for y in changed:
        note(y)
    queue = deque(sorted(start, key=str))
    visits: dict[NamedNode, int] = {}
    while queue:
        t = queue.popleft()
        visits[t] = visits.get(t, 0) + 1
        if visits[t] > 8:  # a containment cycle: settle as is
            continue
        was = stored(t)
        if any(holds(y) for y in fresh.get(t, ()) if y != t):
            rolled = True
        elif t in touched or was:
            rolled = any(holds(y) for y in rollup_sources(facts, t) if y != t)
        else:  # no unchanged source held PII (else it would be stored), nor does a changed one
            rolled = False
        if rolled != settled.get(t, was):
            settled[t] = rolled
            note(t)
            queue.extend(sorted(targets[t], key=str))
        else:
            settled.setdefault(t, rolled)


def rollup_closure(facts: Facts, holders: Iterable[NamedNode]) -> set[NamedNode]:
    """Every asset that contains, or is built on, one of ``holders``, at any depth."""
    found: set[NamedNode] = set()
    queue = deque(holders)
    while queue:
        for t in rollup_targets(facts, queue.popleft()):
            if t not in found:
                found.add(t)
                queue.append(t)
    return found
