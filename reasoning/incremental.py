"""Incremental OWL 2 RL maintenance: each applied changeset updates the inferred graphs.

From a catalog's first changeset on (the first materialisation happens by itself, on open or on
the first write, ``inferredUpTo`` records it), every changeset the journal applies is followed
by the change it makes to the closure, for insertions and deletions alike, so the inferred graphs
stay equal to what a full rematerialisation would write. The rules are those of
``reasoning.rl_rules`` (class expressions included), applied one step at a time by
``reasoning.rl_steps``, and maintained with delete-and-rederive (``reasoning.dred``).
Types and edges are one fixpoint: types follow from edges (domains, ranges, someValuesFrom,
hasValue) and edges from types (hasValue), and types of one node from those of its neighbours
(someValuesFrom, allValuesFrom). Memberships of anonymous class expressions are decided on demand
and never stored, as the full materialiser drops them.

Each inferred triple lives in the inferred twin of its subject's asserted graph (as in
``reasoning.materialise``); a subject whose asserted statements move to another partition takes
its inferences along. The result is written straight to the store in one update per changeset
(inferences are a projection, never logged), with ``inferredUpTo`` advanced in the same update.

What is left to full rematerialisation (``Materialiser.materialise``, run synchronously in the
write's callback): the first materialisation, a change to the axioms (any triple of the
ontology's logic, in any graph, ``owl:sameAs`` included: DRed over equality is not sound without
rewriting every fact), a functional-property clash (which would entail ``owl:sameAs``), an
ontology whose class-expression lists are malformed, a very large changeset, or a log far ahead
of the inferred graphs on open. While the inferred graphs are behind the log (a full run under
way, incremental reasoning off, or a failed step), ``status`` says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Final

from opentelemetry import trace
from pyoxigraph import Literal, NamedNode, Quad

from graph_store.changeset import Changeset, net_change
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import SEMCAT
from reasoning.dred import Maintenance, NeedsFull
from reasoning.inference_status import IncrementalReport, InferenceStatus
from reasoning.lexical import spelled_as_stored
from reasoning.materialise import INFERRED_TRIPLES, INFERRED_UP_TO, Materialiser, ReasoningReport
from reasoning.rl_rules import TYPE, Rules, compile_rules

tracer = trace.get_tracer("semcat")
__all__ = ["IncrementalReasoner", "IncrementalReport", "InferenceStatus"]

log = logging.getLogger(__name__)

MAX_BEHIND: Final = 5_000  # changesets behind on catch-up before a full rematerialisation
LARGE_CHANGE: Final = 10_000  # quads in a change beyond which full rematerialisation may win
_INTEGER: Final = NamedNode("http://www.w3.org/2001/XMLSchema#integer")
Term = Any
_SHOWN: Final = frozenset({TYPE, NamedNode(SEMCAT + "classification")})  # see on_inferred


class IncrementalReasoner:
    """Follows the journal as one of its projections (``follow``); call ``catch_up`` once
    (which materialises a fresh catalog); ``on_inferred`` callbacks get the IRIs of the
    subjects whose inferred types or classifications changed."""

    def __init__(self, store: GraphStore, layout: GraphLayout, journal: Journal,
                 materialiser: Materialiser, *, enabled: bool = True,
                 beside: bool = True) -> None:
        self._store = store
        self._layout = layout
        self._journal = journal
        self._materialiser = materialiser
        self.enabled = enabled
        self.on_inferred: list[Callable[[set[str]], None]] = []
        self.last: IncrementalReport | None = None
        self.failed = False  # the last attempt to follow the log broke off
        self._rules: Rules | None = None
        self._background: threading.Thread | None = None  # a full run beside the writers
        self._catcher: threading.Thread | None = None  # what follow() skipped meanwhile
        self._catcher_waiting = False  # a catcher has not taken the journal lock yet
        self._beside = beside  # False: a write that needs a full run waits for it
        materialiser.on_materialised.append(self._after_materialise)

    def status(self) -> InferenceStatus:
        """Where the inferred graphs stand; cheap (two lookups), for every query to report."""
        up_to = self._materialiser.inferred_up_to()
        applied = self._journal.applied_seq
        behind = max(0, applied - (up_to or 0))
        if behind == 0:
            state = "current"
        elif (self.enabled and not self.failed) or self._materialiser.lock.locked():
            state = "catching-up"
        else:
            state = "stale"
        return InferenceStatus(state, behind, up_to, applied)

    def rules(self) -> Rules:
        if self._rules is None:
            self._rules = compile_rules(self._store, self._layout)
        return self._rules

    # -- entry points ----------------------------------------------------------------------------
    @tracer.start_as_current_span("reasoning.incremental")
    def follow(self, batch: Sequence[Changeset]) -> None:
        """A projection of the log (graph_store/projector.py; the journal lock is held). If a
        full materialisation is running, it catches up when done (``_after_materialise``)."""
        if not self.enabled:
            return
        if not self._materialiser.lock.acquire(blocking=False):
            self._catch_up_later()
            return
        try:
            self._sync(batch, beside=self._beside)
        except Exception:
            log.exception("the inferred graphs could not follow changesets %d..%d; they catch "
                          "up with the next write", batch[0].seq, batch[-1].seq)
        finally:
            self._materialiser.lock.release()

    def join(self, timeout: float | None = None) -> None:
        """Wait for a full run going on beside the writers, and for the catch-up after it
        (before the store closes)."""
        for thread in (self._background, self._catcher):
            if thread is not None:
                thread.join(timeout)

    def _catch_up_later(self) -> None:
        """Changesets ``follow`` had to skip (a full run held the lock; it folds in what it
        sees before it ends, but not a write that lands in the instant after): once the lock
        is free, in the order every taker takes the two locks, bring the graphs up to date.
        Called and decided under the journal lock, so a catcher not yet inside it sees these
        changesets too."""
        if self._catcher_waiting:
            return
        self._catcher_waiting = True

        def catch_up() -> None:
            with self._materialiser.lock, self._journal.lock:
                self._catcher_waiting = False
                if self._journal.applied_seq > (self._materialiser.inferred_up_to() or 0):
                    try:
                        self._sync(None)
                    except Exception:
                        log.exception("the inferred graphs could not catch up after a full run")

        self._catcher = threading.Thread(target=catch_up, name="semcat-inference-catch-up",
                                         daemon=True)
        self._catcher.start()

    def catch_up(self) -> IncrementalReport | None:
        """Bring the inferred graphs up to the journal: on open, a fresh catalog's first
        materialisation, or the log is ahead. A failure is logged and left for the next write
        (``status`` says stale): a catalog always opens."""
        if not self.enabled:
            return None
        with self._materialiser.lock, self._journal.lock:
            try:
                return self._sync(None)
            except Exception:
                log.exception("the inferred graphs could not catch up with the change log")
                return None

    def _after_materialise(self, report: ReasoningReport) -> None:
        self._rules = None
        self._complete(report.seq)
        if self.enabled:
            with self._journal.lock:
                self._sync(None)

    # -- work --------------------------------------------------------------------------------------
    def _sync(self, batch: Sequence[Changeset] | None, *,
              beside: bool = False) -> IncrementalReport | None:
        """Bring the inferred graphs up to the journal; ``failed`` records whether that broke
        off (the caller logs why). ``beside``: a full rematerialisation, if needed, runs on a
        thread of its own instead, so the writer holding the journal lock goes on."""
        self.failed = True
        report = self._step(batch, beside)
        self.failed = False
        return report

    def _step(self, batch: Sequence[Changeset] | None,
              beside: bool = False) -> IncrementalReport | None:
        up_to = self._materialiser.inferred_up_to()
        target = self._journal.applied_seq
        started = time.perf_counter()
        if up_to is None:
            return self._full_or_beside(beside, "the first materialisation", started)
        if up_to >= target:
            return None
        if batch is not None and len(batch) == 1 and batch[0].seq == target == up_to + 1:
            removed, added = list(batch[0].removed), list(batch[0].added)
        elif target - up_to > MAX_BEHIND:
            return self._full_or_beside(beside, f"{target - up_to} changesets behind", started)
        else:  # the net change, as the store has it now (lexical forms may differ in the log)
            run = batch if batch is not None and batch[0].seq == up_to + 1 and \
                batch[-1].seq == target else self._journal.changelog.since(up_to)
            removed, added = net_change(run)
            removed = [q for q in removed if spelled_as_stored(q.object) or not self._exists(q)]
            added = [q for q in added if spelled_as_stored(q.object) or self._exists(q)]
        size = len(removed) + len(added)
        # Measured at 20,000 assets: DRed costs about 80 us per changed quad, a full run about
        # as much per quad of the whole catalog; so a change larger than the closure goes full.
        if size > LARGE_CHANGE and size > self._inferred_count():
            return self._full_or_beside(beside, f"a change of {size:,} quads", started)
        rules = self.rules()
        if rules.unsupported:
            return self._full_or_beside(beside, "the ontology uses " + "; ".join(rules.unsupported), started)
        graphs = [g for g in self._materialiser.graphs() if g != self._layout.inferred_root]
        maintenance = Maintenance(self._store, self._layout, rules, graphs, self._materialiser.place)
        try:
            drop, add = maintenance.run(removed, added)
        except NeedsFull as e:
            return self._full_or_beside(beside, str(e), started)
        self._write(drop, add, target, set(graphs))
        subjects = {q.subject.value for q in (*drop, *add) if isinstance(q.subject, NamedNode)}
        self.last = IncrementalReport(target, "incremental", len(add), len(drop), len(subjects),
                                      time.perf_counter() - started,
                                      "values replaced" if maintenance.shortcut else "")
        # a new description entails its super-property's statement on every edit: only types
        # and classifications are shown beside the asserted ones, so only they are announced
        shown = {q.subject.value for q in (*drop, *add)
                 if isinstance(q.subject, NamedNode) and q.predicate in _SHOWN}
        if shown:
            for callback in self.on_inferred:
                callback(shown)
        return self.last

    def _full_or_beside(self, beside: bool, why: str, started: float) -> IncrementalReport | None:
        if not beside:
            return self._full(why, started)
        if self._background is None or not self._background.is_alive():
            self._background = threading.Thread(target=self._full_beside, args=(why,),
                                                name="semcat-rematerialise", daemon=True)
            self._background.start()
        return None  # status() says catching-up meanwhile

    def _full_beside(self, why: str) -> None:
        """A full run on its own thread: it reads the asserted graphs under the journal lock,
        reasons and writes its diff without it, then folds in the writes made meanwhile."""
        with self._materialiser.lock:
            try:
                self.failed = True
                self._full(why, time.perf_counter())
                while self._journal.applied_seq - (self._materialiser.inferred_up_to() or 0) \
                        > MAX_BEHIND:  # too many writes meanwhile to fold in incrementally
                    self._full("the writes made during the last full run", time.perf_counter())
                with self._journal.lock:
                    self._step(None)
                self.failed = False
            except Exception:
                log.exception("the full rematerialisation beside the writers failed")

    def _full(self, why: str, started: float) -> IncrementalReport:
        log.info("rematerialising all inferences: %s", why)
        before = self._digests() if self.on_inferred else {}
        report = self._materialiser.materialise_held()
        self._rules = None
        self._complete(report.seq)
        if self.on_inferred:
            after = self._digests()
            subjects = {s.value for s in before.keys() | after.keys()
                        if isinstance(s, NamedNode) and before.get(s) != after.get(s)}
            for callback in self.on_inferred:
                callback(subjects)
        self.last = IncrementalReport(report.seq, "full", report.inferred, 0, 0,
                                      time.perf_counter() - started, why)
        return self.last

    def _digests(self) -> dict[Term, int]:
        """Per subject, a digest of its inferred statements: which subjects a full
        rematerialisation changed, without holding every inferred quad twice (telling the
        search index about every subject costs a re-read of the whole catalog)."""
        root = self._layout.inferred_root
        found: dict[Term, int] = defaultdict(int)
        for g in self._materialiser.graphs():
            if g != root:
                for q in self._store.quads(None, None, None, g):
                    found[q.subject] ^= hash(q)
        return found

    def _complete(self, seq: int) -> None:
        """Add what property chains entail to a fresh full materialisation."""
        rules = self.rules()
        if not rules.chains:
            return
        graphs = [g for g in self._materialiser.graphs() if g != self._layout.inferred_root]
        try:
            drop, add = Maintenance(self._store, self._layout, rules, graphs,
                                     self._materialiser.place).complete()
        except NeedsFull as e:  # an equality the reasoner has drawn already
            log.warning("property chains not completed: %s", e)
            return
        if drop or add:
            self._write(drop, add, seq, set(graphs))

    def _exists(self, q: Quad) -> bool:
        return next(iter(self._store.quads(q.subject, q.predicate, q.object,  # type: ignore[arg-type]
                                           q.graph_name)), None) is not None

    def _inferred_count(self) -> int:
        root = self._layout.inferred_root
        found = next(iter(self._store.quads(root, INFERRED_TRIPLES, None, root)), None)
        return int(found.object.value) if found is not None else 0  # type: ignore[union-attr]

    def _write(self, drop: list[Quad], add: list[Quad], seq: int, known: set[NamedNode]) -> None:
        """One store update: the inferred change and the status, so readers see both or
        neither. A graph not in the store yet is created first (the store learns it holds
        inferences only then)."""
        root = self._layout.inferred_root
        status = [q for p in (INFERRED_UP_TO, INFERRED_TRIPLES)
                  for q in self._store.quads(root, p, None, root)]
        count = self._inferred_count() + len(add) - len(drop)
        fresh = [q for q in add if q.graph_name not in known]
        for g in {q.graph_name for q in fresh}:
            self._store.replace_graphs([g], [q for q in fresh if q.graph_name == g])  # type: ignore[list-item]
        update = [q for q in add if q.graph_name in known]
        update += [Quad(root, INFERRED_UP_TO, Literal(str(seq), datatype=_INTEGER), root),
                   Quad(root, INFERRED_TRIPLES, Literal(str(count), datatype=_INTEGER), root)]
        self._store.apply(Changeset("reasoner", f"inferences up to {seq}", "",
                                    (*drop, *status), tuple(update), seq=seq))
