"""Keeps rule conclusions, propagated classifications and inherited tags up to date.

These are projections of the asserted data (DESIGN.md, principle 3): never in the change log,
written straight to the store's ``graph/inferred/rules/...`` graphs (``GraphLayout.rule_inferred``),
partitioned like the asserted graph of the asset they are about. Rule conclusions and what
propagation / inheritance add go to two families of graphs, so an asset's own classifications
(asserted or by a rule: the sources of propagation) can be read without recomputing rules. No
triple is stored twice: conclusions already asserted are left out, and propagation leaves out
what a rule concludes.

On each batch of applied changesets (``follow``, as their net change) the rules run for the
touched assets only (bound with ``VALUES``), propagation is recomputed for them and, while an
asset's classifications change, for what is derived from it, and inheritance for them and their
parts; the difference with what is stored is written in one store update. A changeset that
adds, changes or removes a rule, or edits the ontology, reruns everything (``reapply``), as
does opening a store whose projection is behind the log. The change-log position reflected is
kept in the family's root graph.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from opentelemetry import trace
from pyoxigraph import Literal, NamedNode, Quad

from graph_store.changeset import Changeset, net_change
from graph_store.journal import SYSTEM_PREDICATES, Journal
from graph_store.layout import GraphLayout
from graph_store.protocol import Dataset, GraphStore, write_derived
from ontology.namespaces import DCTERMS, RDF_TYPE, RDFS, SEMCAT, XSD
from reasoning.access_classes import (
    CONSUMES,
    contains_pii,
    holds_pii,
    is_pii,
    rollup_closure,
    rollup_targets,
    settle_rollup,
)
from reasoning.lineage_walks import PO, delta, inherit_all, propagate_all, worklist
from reasoning.propagation import (
    CLASSIFICATION,
    DECLASSIFIES,
    DERIVED_FROM,
    INHERITABLE,
    PART_OF,
    PROPAGATES,
    TAG,
    Facts,
)
from reasoning.rules import CONSTRUCT_TEXT, ENABLED, RULE_CLASS, Rule, evaluate, read_rules

tracer = trace.get_tracer("semcat")
__all__ = ["Classifier", "DerivationReport"]

log = logging.getLogger(__name__)

DERIVED_UP_TO: Final = NamedNode(SEMCAT + "derivedUpTo")
_INTEGER: Final = NamedNode(XSD + "integer")
_TYPE: Final = NamedNode(RDF_TYPE)
# A changeset touching more than this share of the catalog's resources is cheaper to handle by
# a full run (one pass per rule and per classification) than asset by asset.
FULL_RUN_SHARE: Final = 0.25
STATUS_EVERY_S: Final = 10.0
# What propagation, the PII roll-up and inheritance read, beside the rules' conclusions.
_STRUCTURE: Final = frozenset((CLASSIFICATION, TAG, PART_OF, DERIVED_FROM, DECLASSIFIES,
                               PROPAGATES, INHERITABLE, CONSUMES, _TYPE))
# Text that none of them reads, unless the ontology makes it a sub-property of what they do:
# the edits a catalog sees most (a new description, a renamed asset) and the version stamps.
_TEXT: Final = frozenset(NamedNode(p) for p in (
    SEMCAT + "description", SEMCAT + "name", SEMCAT + "displayName", RDFS + "label",
    RDFS + "comment", DCTERMS + "description", DCTERMS + "title", *SYSTEM_PREDICATES))
_SUBPROPERTY: Final = NamedNode(RDFS + "subPropertyOf")


@dataclass(frozen=True, slots=True)
class DerivationReport:
    """What a full run produced."""

    rules: int
    concluded: int
    propagated: int
    inherited: int
    seconds: float


class Classifier:
    """The maintainer of the rule, propagation and inheritance graphs (see module docstring)."""

    def __init__(self, store: GraphStore, layout: GraphLayout, journal: Journal, *,
                 enabled: bool = True) -> None:
        self._store = store
        self._layout = layout
        self._journal = journal
        self.enabled = enabled
        self.base_iri = layout.id_base
        self.on_derived: list[Callable[[set[str]], None]] = []  # subjects whose derived facts changed
        self._rules: list[Rule] | None = None
        self._lock = threading.RLock()
        self._roots = (layout.rule_inferred(), layout.rule_inferred(propagated=True))
        self._size: int | None = None  # typed resources (counted at full runs, else once)
        # The position reached, when the stored status lags behind it (see ``_write``).
        self._seq: int | None = None
        self._status_at = time.monotonic()
        self._failed = False
        self._contains = contains_pii(layout)

    def _facts(self) -> Facts:
        return Facts(self._store, local=frozenset({self._contains}))

    # -- what is there -----------------------------------------------------------------------
    def rules(self) -> list[Rule]:
        """Every stored rule (enabled or not), compiled."""
        if self._rules is None:
            self._rules = read_rules(self._store, self.base_iri)
        return self._rules

    def _active(self) -> list[Rule]:
        return [r for r in self.rules() if r.enabled and r.compiled is not None]

    def graphs(self) -> list[NamedNode]:
        """This maintainer's graphs in the store, the status graph included."""
        root = self._roots[0].value
        return [g for g in self._store.named_graphs() if isinstance(g, NamedNode)
                and (g.value == root or g.value.startswith(root + "/"))]

    def _content_graphs(self) -> tuple[list[NamedNode], list[NamedNode]]:
        """(rule graphs, propagation graphs), roots excluded."""
        prop = self._roots[1].value + "/"
        rules: list[NamedNode] = []
        propagated: list[NamedNode] = []
        for g in self.graphs():
            if g in self._roots:
                continue
            (propagated if g.value.startswith(prop) else rules).append(g)
        return rules, propagated

    def dataset(self) -> Dataset:
        """What rules read: every asserted graph but the shapes."""
        graphs = tuple(g for g in self._store.named_graphs() if isinstance(g, NamedNode)
                       and not self._layout.is_inferred(g) and g != self._layout.shapes)
        return Dataset(default=graphs, named=graphs)

    def up_to(self) -> int | None:
        """The change-log position the graphs reflect (None: never built)."""
        if self._seq is not None:
            return self._seq
        root = self._roots[0]
        found = next(iter(self._store.quads(root, DERIVED_UP_TO, None, root)), None)
        return int(found.object.value) if found is not None else None  # type: ignore[union-attr]

    def home(self, subject: NamedNode) -> NamedNode | None:
        """The asserted graph an asset lives in (that of its type), None once it is gone."""
        found = next(iter(self._store.quads(subject, _TYPE, None)), None) or \
            next(iter(self._store.quads(subject, None, None)), None)
        return found.graph_name if found is not None else None  # type: ignore[return-value]

    # -- full runs ---------------------------------------------------------------------------
    def catch_up(self) -> DerivationReport | None:
        """On open: rerun everything if the projection is behind the change log."""
        if not self.enabled:
            return None
        if self.up_to() == self._journal.applied_seq:
            self.rules()  # compile them now rather than on the first write
            return None
        return self.reapply()

    def reapply(self) -> DerivationReport:
        """Recompute every rule conclusion, propagated classification and inherited tag."""
        with self._journal.lock, self._lock:
            started = time.perf_counter()
            facts = self._facts()
            dataset = self.dataset()
            rules = self._active()
            concluded: dict[NamedNode, set[PO]] = {}
            for rule in rules:
                assert rule.compiled is not None
                for s, p, o in evaluate(self._store, dataset, rule.compiled, self.base_iri):
                    concluded.setdefault(s, set()).add((p, o))
            concluded = {s: kept for s, pos in concluded.items()
                         if (kept := self._keep(facts, s, pos))}
            self._size = sum(1 for _ in self._store.quads(None, _TYPE, None))
            propagated = propagate_all(self._store, facts, concluded)
            inherited = inherit_all(self._store, facts)
            holders = {q.subject for q in self._store.quads(None, CLASSIFICATION, None)
                       if isinstance(q.subject, NamedNode) and is_pii(self._layout,
                                                                      _value(q.object))}
            holders |= {s for s, pos in concluded.items()
                        if holds_pii(self._layout, (_value(o) for p, o in pos
                                                    if p == CLASSIFICATION))}
            holders |= {s for s, cs in propagated.items()
                        if holds_pii(self._layout, (c.value for c in cs))}
            rolled = rollup_closure(facts, holders)
            quads: list[Quad] = []
            counts = [0, 0, 0]
            for s in {*concluded, *propagated, *inherited, *rolled}:
                home = self.home(s)
                if home is None:
                    continue
                rule_graph = self._layout.rule_inferred(home)
                prop_graph = self._layout.rule_inferred(home, propagated=True)
                own = concluded.get(s, set())
                quads += (Quad(s, p, o, rule_graph) for p, o in own)  # type: ignore[arg-type]
                extra = {(CLASSIFICATION, c) for c in propagated.get(s, ())} - own
                if s in rolled:
                    extra.add((CLASSIFICATION, self._contains))
                extra |= {(TAG, t) for t in inherited.get(s, ())}
                quads += (Quad(s, p, o, prop_graph) for p, o in extra)  # type: ignore[arg-type]
                counts[0] += len(own)
                counts[1] += len(propagated.get(s, ()))
                counts[2] += len(inherited.get(s, ()))
            seq = self._journal.applied_seq
            root = self._roots[0]
            status = Quad(root, DERIVED_UP_TO, Literal(str(seq), datatype=_INTEGER), root)
            targets = {*self.graphs(), *self._roots, *(q.graph_name for q in quads)}
            old = {q for g in self.graphs() if g not in self._roots
                   for q in self._store.quads(None, None, None, g)}
            self._store.replace_graphs(targets, [*quads, status])  # type: ignore[arg-type]
            self._seq, self._status_at = None, time.monotonic()
            report = DerivationReport(len(rules), counts[0], counts[1], counts[2],
                                      time.perf_counter() - started)
            log.info("classification rules: %d rules, %d conclusions, %d propagated, "
                     "%d inherited in %.2f s", report.rules, report.concluded,
                     report.propagated, report.inherited, report.seconds)
            self._notify({q.subject.value for q in old.symmetric_difference(quads)
                          if isinstance(q.subject, NamedNode)})
            return report

    def _keep(self, facts: Facts, subject: NamedNode, pos: set[PO]) -> set[PO]:
        """Conclusions worth storing: not asserted already, not declassified on the subject."""
        declassified = facts.declassified(subject)
        return {(p, o) for p, o in pos
                if next(iter(self._store.quads(subject, p, o)), None) is None  # type: ignore[arg-type]
                and not (p == CLASSIFICATION and isinstance(o, NamedNode)
                         and facts.blocks(declassified, o))}

    # -- incremental -------------------------------------------------------------------------
    def on_applied(self, cs: Changeset) -> None:
        """Inside the write: a change to the rules (or the ontology) drops the compiled ones,
        so that reading the rules never lags behind, while their conclusions follow later."""
        if self._rules is not None and self._needs_full_run(cs):
            self._rules = None

    @tracer.start_as_current_span("rules.classify")
    def follow(self, batch: Sequence[Changeset]) -> None:
        """A projection of the log (graph_store/projector.py; the journal lock is held): bring
        the derived graphs up to the batch's last changeset, as one net change. The writes are
        durable already, so a failure is logged, not raised, and the next batch reruns
        everything."""
        full = any(self._needs_full_run(cs) for cs in batch)
        if full:
            self._rules = None  # reread: the change may be to a rule
        if not self.enabled:
            return
        if len(batch) == 1:
            cs = batch[0]
        else:
            removed, added = net_change(batch)
            cs = Changeset("", "", "", tuple(removed), tuple(added), seq=batch[-1].seq)
        with self._lock:
            try:
                self._follow(cs, full)
                self._failed = False
            except Exception:
                log.exception("classification rules could not follow changesets %d..%d; the "
                              "next write reruns them in full", batch[0].seq, batch[-1].seq)
                self._failed = True

    def _follow(self, cs: Changeset, full: bool) -> None:
        if full or self._failed or self.up_to() is None:
            self.reapply()
            return
        touched: set[NamedNode] = set()
        flags_prop: set[NamedNode] = set()
        flags_tag: set[NamedNode] = set()
        for quads in (cs.removed, cs.added):  # changesets hold asserted quads only
            for q in quads:
                touched.add(q.subject)  # type: ignore[arg-type]
                if q.predicate == PROPAGATES:
                    flags_prop.add(q.subject)  # type: ignore[arg-type]
                elif q.predicate == INHERITABLE:
                    flags_tag.add(q.subject)  # type: ignore[arg-type]
        touched = {s for s in touched if isinstance(s, NamedNode)}
        if self._size is None:
            self._size = sum(1 for _ in self._store.quads(None, _TYPE, None))
        if len(touched) > FULL_RUN_SHARE * self._size:
            self.reapply()
            return
        changed = self._update(touched, cs, flags_prop, flags_tag)
        self._notify({s.value for s in changed})

    def _needs_full_run(self, cs: Changeset) -> bool:
        known = {r.iri for r in self.rules()}
        vocabulary = {self._layout.ontology, self._layout.custom_ontology}
        markers = {CONSTRUCT_TEXT, ENABLED}
        for quads in (cs.removed, cs.added):
            for q in quads:
                if q.subject in known or q.predicate in markers or q.object == RULE_CLASS:
                    return True
        return any(g in vocabulary for g in {q.graph_name for q in (*cs.removed, *cs.added)})

    def _update(self, touched: set[NamedNode], cs: Changeset, flags_prop: set[NamedNode],
                flags_tag: set[NamedNode]) -> set[NamedNode]:
        facts = self._facts()
        rule_graphs, prop_graphs = self._content_graphs()
        stored: dict[NamedNode, tuple[set[Quad], set[Quad]]] = {}

        def stored_of(y: NamedNode) -> tuple[set[Quad], set[Quad]]:
            if y not in stored:
                stored[y] = ({q for g in rule_graphs for q in self._store.quads(y, None, None, g)},
                             {q for g in prop_graphs for q in self._store.quads(y, None, None, g)})
            return stored[y]

        # 1. the rules, for the touched assets
        new_rules: dict[NamedNode, set[PO]] = {s: set() for s in touched}
        order = sorted(touched, key=str)
        dataset = self.dataset()
        for rule in self._active():
            assert rule.compiled is not None
            for s, p, o in evaluate(self._store, dataset, rule.compiled, self.base_iri, order):
                if s in new_rules:
                    new_rules[s].add((p, o))
        new_rules = {s: self._keep(facts, s, pos) for s, pos in new_rules.items()}
        if self._text_only(cs) and all(
                new_rules[y] == {(q.predicate, q.object) for q in stored_of(y)[0]}
                for y in touched):
            self._write(set(), set(), cs.seq)  # the rules concluded as before, and nothing
            return set()  # propagation, roll-up or inheritance reads has changed

        def own_classes(x: NamedNode) -> set[NamedNode]:
            pos = new_rules[x] if x in new_rules else \
                {(q.predicate, q.object) for q in stored_of(x)[0]}
            return facts.classifications(x) | {o for p, o in pos  # type: ignore[misc]
                                               if p == CLASSIFICATION and isinstance(o, NamedNode)}

        added_by, removed_by = delta(cs)

        def old_asserted(y: NamedNode, p: NamedNode) -> set[object]:
            now = {q.object for q in self._store.quads(y, p, None)}
            return (now - added_by.get((y, p), set())) | removed_by.get((y, p), set())

        def stored_objects(y: NamedNode, p: NamedNode) -> set[object]:
            rules_q, prop_q = stored_of(y)
            return {q.object for q in (*rules_q, *prop_q) if q.predicate == p}

        # 2. propagation: touched assets, then downstream while classifications change
        members = self._scheme_members(facts, flags_prop)
        forced = facts.carriers(CLASSIFICATION, members) | {
            q.subject for c in members for g in rule_graphs
            for q in self._store.quads(None, CLASSIFICATION, c, g)
            if isinstance(q.subject, NamedNode)}
        new_prop: dict[NamedNode, set[NamedNode]] = {}
        worklist(touched | forced, facts.children, lambda y: (
            self._prop_changed(y, facts, own_classes, new_prop, old_asserted, stored_objects)
            or y in forced))
        # 2b. the roll-up: containers and consumers of assets whose PII may have changed
        contains = self._contains

        def stored_contains(y: NamedNode) -> bool:
            return any(q.predicate == CLASSIFICATION and q.object == contains
                       for q in stored_of(y)[1])

        def classes_of(y: NamedNode) -> set[str]:
            prop = new_prop[y] if y in new_prop else \
                {q.object for q in stored_of(y)[1] if q.predicate == CLASSIFICATION}
            found = {c.value for c in own_classes(y) | prop} - {contains.value}  # type: ignore[union-attr]
            if new_roll.get(y, stored_contains(y)):
                found.add(contains.value)
            return found

        new_roll: dict[NamedNode, bool] = {}
        start = {t for y in touched | new_prop.keys() for t in rollup_targets(facts, y)}
        start |= touched | {q.object for q in cs.removed  # type: ignore[misc]
                            if q.predicate == PART_OF and isinstance(q.object, NamedNode)}
        settle_rollup(facts, start, touched | new_prop.keys(), touched,
                      lambda y: holds_pii(self._layout, classes_of(y)), stored_contains, new_roll)
        # 3. inheritance: touched assets and their parts while tags change
        forced_tags = facts.carriers(TAG, flags_tag)
        new_inh: dict[NamedNode, set[NamedNode]] = {}

        def tags_changed(y: NamedNode) -> bool:
            inherited = set(facts.inherited(y))
            own = facts.tags(y)
            new_inh[y] = inherited - own
            before = old_asserted(y, TAG) | stored_objects(y, TAG)
            return y in touched or y in forced_tags or (own | inherited) != before

        worklist(touched | forced_tags, facts.parts, tags_changed)
        # 4. the difference with what is stored
        removed: set[Quad] = set()
        added: set[Quad] = set()
        changed: set[NamedNode] = set()
        for y in touched | new_prop.keys() | new_inh.keys() | new_roll.keys():
            rules_q, prop_q = stored_of(y)
            home = self.home(y)
            want_rules: set[Quad] = set()
            want_prop: set[Quad] = set()
            if home is not None:
                rg = self._layout.rule_inferred(home)
                pg = self._layout.rule_inferred(home, propagated=True)
                pos = new_rules[y] if y in new_rules else \
                    {(q.predicate, q.object) for q in rules_q}
                want_rules = {Quad(y, p, o, rg) for p, o in pos}  # type: ignore[arg-type]
                classes = new_prop[y] if y in new_prop else \
                    {q.object for q in prop_q if q.predicate == CLASSIFICATION} - {contains}
                if new_roll.get(y, stored_contains(y)):
                    classes = classes | {contains}
                tags = new_inh[y] if y in new_inh else \
                    {q.object for q in prop_q if q.predicate == TAG}
                extra = ({(CLASSIFICATION, c) for c in classes} - pos) | {(TAG, t) for t in tags}
                want_prop = {Quad(y, p, o, pg) for p, o in extra}  # type: ignore[arg-type]
            old = rules_q | prop_q
            new = want_rules | want_prop
            if old != new:
                changed.add(y)
                removed |= old - new
                added |= new - old
        self._write(removed, added, cs.seq)
        return changed

    def _text_only(self, cs: Changeset) -> bool:
        """Whether ``cs`` changes only text that propagation, roll-up and inheritance never
        read (through the ontology's sub-properties neither)."""
        predicates = {q.predicate for q in (*cs.removed, *cs.added)}
        if not predicates <= _TEXT:
            return False
        seen, todo = set(predicates), list(predicates)
        while todo:  # the super-properties the ontology gives them, by any number of steps
            for q in self._store.quads(todo.pop(), _SUBPROPERTY, None, None):
                up = q.object
                if up in _STRUCTURE:
                    return False
                if isinstance(up, NamedNode) and up not in seen:
                    seen.add(up)
                    todo.append(up)
        return True

    def _prop_changed(self, y: NamedNode, facts: Facts,
                      own_classes: Callable[[NamedNode], set[NamedNode]],
                      new_prop: dict[NamedNode, set[NamedNode]],
                      old_asserted: Callable[[NamedNode, NamedNode], set[object]],
                      stored_objects: Callable[[NamedNode, NamedNode], set[object]]) -> bool:
        """Recompute what ``y`` receives; True when its classifications changed (so what is
        derived from it must be looked at)."""
        own = own_classes(y)
        received = set(facts.propagated(y, own_classes))
        new_prop[y] = received - own
        before = old_asserted(y, CLASSIFICATION) | stored_objects(y, CLASSIFICATION)
        return (own | received) != before - {self._contains}

    @staticmethod
    def _scheme_members(facts: Facts, flagged: set[NamedNode]) -> set[NamedNode]:
        """Classifications whose propagation flag may have changed: flagged ones, and the
        members of flagged schemes."""
        return flagged | {m for f in flagged for m in facts.parts(f)}

    def _write(self, removed: set[Quad], added: set[Quad], seq: int, *,
               force: bool = False) -> None:
        """One store update, the status with it; graphs met for the first time are created
        with ``replace_graphs``, which tells the store they are projections. A changeset that
        changes nothing derived writes no status for up to STATUS_EVERY_S (a store update costs
        milliseconds on disk): a stored status never runs ahead of the stored graphs, and one
        left behind by a crash only costs a full run on open."""
        if not (removed or added or force) and \
                time.monotonic() - self._status_at < STATUS_EVERY_S:
            self._seq = seq
            return
        self._seq, self._status_at = None, time.monotonic()
        root = self._roots[0]
        old_status = set(self._store.quads(root, DERIVED_UP_TO, None, root))
        status = Quad(root, DERIVED_UP_TO, Literal(str(seq), datatype=_INTEGER), root)
        removed = removed | (old_status - {status})
        added = added | ({status} - old_status)
        write_derived(self._store, removed, added, "rules")

    def checkpoint(self) -> None:
        """Store the position reached (on close)."""
        with self._lock:
            if self._seq is not None:
                self._write(set(), set(), self._seq, force=True)

    def _notify(self, subjects: set[str]) -> None:
        if subjects:
            for callback in self.on_derived:
                callback(subjects)


def _value(term: object) -> str:
    return str(getattr(term, "value", ""))
