"""OWL 2 RL materialisation of the catalog into inferred graphs, with the ``reasonable`` reasoner.

Inferred triples are a projection of the asserted data (DESIGN.md, principle 3): they never go
through the change log, but straight to the store's inferred graphs, replaced wholesale on each
run, with the change-log position they reflect recorded beside them. Each inferred triple lands
in the inferred twin of its subject's asserted graph (``graph/ws/p`` → ``graph/inferred/ws/p``),
so inferences share the access partition of what they are about; subjects with no asserted
graph go to ``graph/inferred/default``. Triples the store asserts already are not repeated.

``reasonable`` (Rust) speaks rdflib terms: the asserted quads are converted once per distinct
term, and a reverse map turns the reasoner's output back into the very pyoxigraph terms that
came in (so literals keep their exact lexical form even where rdflib would normalise them).

Two gaps of ``reasonable`` 0.4 are covered here and in ``reasoning.incremental``: functional
property declarations are withheld unless they conclude something (its ``prp-fp`` join is
quadratic, see ``_reason_functional_apart``), and property chains (``prp-spo2``, which it does
not implement) are completed after each run by the incremental reasoner's rules
(``on_materialised``). Between runs, the incremental reasoner keeps the inferred graphs current.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import rdflib
import reasonable
from opentelemetry import trace
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from graph_store.errors import BackendError
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from graph_store.rdflib_bridge import to_oxigraph
from ontology.namespaces import OWL, PROV, RDF_TYPE, SEMCAT, XSD
from reasoning.junk import JunkFilter

tracer = trace.get_tracer("semcat")
__all__ = ["Materialiser", "ReasoningReport"]

log = logging.getLogger(__name__)

# The inferred graphs' status, in the root inferred graph: how far into the change log they are
# valid, when they were made, and how many triples they hold.
INFERRED_UP_TO: Final = NamedNode(SEMCAT + "inferredUpTo")
INFERRED_TRIPLES: Final = NamedNode(SEMCAT + "inferredTriples")
GENERATED_AT: Final = NamedNode(PROV + "generatedAtTime")
_INTEGER: Final = NamedNode(XSD + "integer")
_URI, _BNODE, _LITERAL = rdflib.URIRef, rdflib.BNode, rdflib.Literal
RdfTerm = Any  # rdflib's URIRef | BNode | Literal; rdflib's own annotations are too loose for mypy
_RDF_TYPE: Final = rdflib.URIRef(RDF_TYPE)
_FUNCTIONAL: Final = (rdflib.URIRef(OWL + "FunctionalProperty"),
                      rdflib.URIRef(OWL + "InverseFunctionalProperty"))
Phase = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ReasoningReport:
    """What a full materialisation did. ``dropped`` counts reasoner output left out on purpose,
    per rule (see ``reasoning.junk``); ``seq`` is the change-log position the inferred graphs
    reflect; ``reasoner_seconds`` is the part spent inside ``reasonable`` itself."""

    seconds: float
    asserted: int
    inferred: int
    dropped: int
    seq: int
    graphs: int
    reasoner_seconds: float
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks


def _to_rdflib(term: Any) -> RdfTerm:
    if isinstance(term, NamedNode):
        return _URI(term.value)
    if isinstance(term, BlankNode):
        return _BNODE(term.value)
    if term.language:
        return _LITERAL(term.value, lang=term.language)
    # Keep xsd:string explicit: reasonable writes plain literals back typed as xsd:string.
    return _LITERAL(term.value, datatype=term.datatype.value)


class _Memo(dict[Any, Any]):
    """Each term converted once: the hot loops below look terms up by the million."""

    def __init__(self, convert: Callable[[Any], Any], known: dict[Any, Any] | None = None) -> None:
        super().__init__(known or {})
        self.convert = convert

    def __missing__(self, term: Any) -> Any:
        value = self[term] = self.convert(term)
        return value


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Millions of small tuples and terms are built at once: the cyclic collector would scan
    them all again and again (about 40% of the non-reasoner time); reference counting still
    frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Input:
    """The asserted triples, as the reasoner wants them, and what is needed to map back."""

    def __init__(self) -> None:
        self.triples: list[tuple[RdfTerm, RdfTerm, RdfTerm]] = []
        self.forward = _Memo(_to_rdflib)
        self.home: dict[Any, NamedNode] = {}  # subject -> the inferred graph it belongs in
        self.junk = JunkFilter()

    def read(self, store: GraphStore, graph: NamedNode, target: NamedNode) -> None:
        forward, home, triples, junk = self.forward, self.home, self.triples, self.junk
        for q in store.quads(None, None, None, graph):
            s, p, o = q.subject, q.predicate, q.object
            if isinstance(o, Triple) or isinstance(s, Triple):
                continue  # RDF 1.2 triple terms: OWL 2 RL has nothing to say about them
            a = forward[s]
            if s not in home:
                home[s] = target  # the first graph wins: data graphs are read first
            if isinstance(s, BlankNode):
                junk.note_blank_subject(s, p, o)
            triples.append((a, forward[p], forward[o]))


class Materialiser:
    """Full OWL 2 RL rematerialisation of the catalog's asserted graphs (data and ontology;
    the SHACL shapes are not axioms and stay out)."""

    def __init__(self, store: GraphStore, layout: GraphLayout, journal: Journal, *,
                 place: Callable[[NamedNode, Any], NamedNode] | None = None) -> None:
        self._store = store
        self._layout = layout
        self._journal = journal
        # Where an inference naming another asset goes, given its subject's inferred graph:
        # the access layer sends it to the twin of the link graph between the two partitions.
        self.place = place
        # One materialisation at a time; the incremental reasoner holds it too while it writes.
        self.lock = threading.Lock()
        self.on_materialised: list[Callable[[ReasoningReport], None]] = []

    # -- what is there ----------------------------------------------------------------------
    def graphs(self) -> list[NamedNode]:
        """The OWL RL inferred graphs in the store (with the root status graph); not those of
        the classification rules (``graph/inferred/rules/...``), provenance or log positions,
        which have their own keepers."""
        rules = self._layout.rule_inferred().value
        return [g for g in self._store.named_graphs()
                if isinstance(g, NamedNode) and self._layout.is_inferred(g)
                and g.value != rules and not g.value.startswith(rules + "/")
                and not self._layout.is_provenance(g) and g != self._layout.log_positions]

    def sources(self) -> list[NamedNode]:
        """The asserted graphs reasoned over: data graphs first, by IRI (they decide where a
        subject's inferences go, so the order is fixed), then the ontology graphs."""
        layout = self._layout
        vocabulary = [layout.ontology, layout.custom_ontology]
        data = sorted((g for g in self._store.named_graphs() if isinstance(g, NamedNode)
                       and not layout.is_inferred(g) and g != layout.shapes
                       and g not in vocabulary), key=lambda g: g.value)
        return [*data, *vocabulary]

    def inferred_up_to(self) -> int | None:
        """The change-log position the inferred graphs reflect; None if never (completely)
        materialised. Writes after it are not reflected yet."""
        root = self._layout.inferred_root
        found = next(iter(self._store.quads(root, INFERRED_UP_TO, None, root)), None)
        return int(found.object.value) if found is not None else None  # type: ignore[union-attr]

    # -- materialise ------------------------------------------------------------------------
    @tracer.start_as_current_span("reasoning.materialise")
    def materialise(self, *, on_phase: Phase | None = None) -> ReasoningReport:
        """Recompute every inferred triple from the asserted graphs as they are now; then
        ``on_materialised`` (the incremental reasoner catches up with writes made meanwhile)."""
        with self.lock:
            report = self.materialise_held(on_phase=on_phase)
            for callback in self.on_materialised:
                callback(report)
            return report

    def materialise_held(self, *, on_phase: Phase | None = None) -> ReasoningReport:
        """``materialise`` for a caller that holds ``lock`` already; no callbacks."""
        with _gc_paused():
            return self._materialise(on_phase or (lambda _: None))

    def _materialise(self, phase: Phase) -> ReasoningReport:
        started = t = time.perf_counter()
        phases: dict[str, float] = {}

        def step(name: str) -> None:
            nonlocal t
            now = time.perf_counter()
            phases[name] = now - t
            t = now

        phase("reading asserted triples")
        data = _Input()
        with self._journal.lock:  # a consistent read, at a known position of the log
            seq = self._journal.applied_seq
            for g in self.sources():
                data.read(self._store, g, self._layout.inferred(g))
        asserted = len(data.triples)
        step("read")
        phase(f"reasoning over {asserted:,} triples")
        output = self._reason_functional_apart(data.triples)
        step("reason")
        phase(f"picking the new triples out of {len(output):,}")
        quads, dropped = self._inferred_quads(data, output)
        del output, data
        step("select")
        phase(f"writing {len(quads):,} inferred triples")
        self._write(quads, seq)
        step("write")
        seconds = time.perf_counter() - started
        graphs = len({q.graph_name for q in quads})
        log.info("materialised %d inferred triples into %d graphs from %d asserted in %.2f s "
                 "(reasonable %.2f s); dropped %d", len(quads), graphs, asserted, seconds,
                 phases["reason"], sum(dropped.values()))
        return ReasoningReport(seconds, asserted, len(quads), sum(dropped.values()), seq, graphs,
                               phases["reason"], dict(dropped), phases)

    def _reason_functional_apart(self, triples: list[tuple[RdfTerm, RdfTerm, RdfTerm]]
                                 ) -> list[tuple[RdfTerm, ...]]:
        """``reasonable`` 0.4 joins ``prp-fp`` / ``prp-ifp`` in time and memory that grow with
        the square of a functional property's triples (every asset's ``semcat:version`` and
        ``semcat:workspace``: 14 GB at 20,000 assets). Those rules only ever conclude
        ``owl:sameAs``, and nothing but ``y owl:sameAs y`` (dropped as junk) when no subject
        has two values of a functional property (nor an object two subjects of an inverse
        functional one). So reason without the declarations, check that in the closure, and
        reason again with them only if it fails."""
        declared = [t for t in triples if t[1] == _RDF_TYPE and t[2] in _FUNCTIONAL]
        if not declared:
            return self._reason(triples)
        hidden = set(declared)
        output = self._reason([t for t in triples if t not in hidden])
        functional = {s for s, _, o in declared if o == _FUNCTIONAL[0]}
        inverse = {s for s, _, o in declared if o == _FUNCTIONAL[1]}
        value: dict[tuple[RdfTerm, RdfTerm], RdfTerm] = {}  # (s, p) -> o, p functional
        owner: dict[tuple[RdfTerm, RdfTerm], RdfTerm] = {}  # (p, o) -> s, p inverse functional
        for s, p, o in output:
            if (p in functional and value.setdefault((s, p), o) != o) or \
                    (p in inverse and owner.setdefault((p, o), s) != s):
                log.info("a functional property has two values: reasoning with prp-fp")
                return self._reason(triples)
        return output

    @staticmethod
    def _reason(triples: list[tuple[RdfTerm, RdfTerm, RdfTerm]]) -> list[tuple[RdfTerm, ...]]:
        reasoner = reasonable.PyReasoner()
        try:
            reasoner.from_graph(triples)
            return reasoner.reason()  # type: ignore[no-any-return]
        except BaseException as e:  # a Rust panic arrives as pyo3's PanicException(BaseException)
            if type(e).__name__ != "PanicException":
                raise
            raise BackendError(f"the OWL 2 RL reasoner failed: {e}") from None

    def _inferred_quads(self, data: _Input, output: Iterable[tuple[RdfTerm, ...]]
                        ) -> tuple[list[Quad], Counter[str]]:
        """The reasoner's output (asserted and inferred together) minus what is asserted and
        minus junk, as quads in their inferred graphs."""
        asserted = set(data.triples)
        # Back to the very terms that were read; terms the reasoner made up (owl:Thing, fresh
        # blank nodes) are converted once each.
        back = _Memo(to_oxigraph, {v: k for k, v in data.forward.items()})
        home, default = data.home, self._layout.inferred()
        rule = data.junk.rule
        dropped: Counter[str] = Counter()
        quads: list[Quad] = []
        for triple in output:
            if triple in asserted:
                continue
            s, p, o = triple
            if isinstance(s, _LITERAL) or not isinstance(p, _URI):
                dropped["literal subject" if isinstance(s, _LITERAL) else "non-IRI predicate"] += 1
                continue
            subject, predicate, obj = back[s], back[p], back[o]
            junk = rule(subject, predicate, obj)
            if junk is None:
                g = home.get(subject, default)
                quads.append(Quad(subject, predicate, obj,
                                  g if self.place is None else self.place(g, obj)))
            else:
                dropped[junk] += 1
        return quads, dropped

    def _write(self, quads: list[Quad], seq: int) -> None:
        """Replace every inferred graph; the status goes last, so a run cut short leaves no
        claim that the inferred graphs are complete."""
        root = self._layout.inferred_root
        targets = {*self.graphs(), root, *(q.graph_name for q in quads)}
        self._store.replace_graphs(targets, quads)  # type: ignore[arg-type]
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        status = [
            Quad(root, INFERRED_UP_TO, Literal(str(seq), datatype=_INTEGER), root),
            Quad(root, INFERRED_TRIPLES, Literal(str(len(quads)), datatype=_INTEGER), root),
            Quad(root, GENERATED_AT, Literal(now, datatype=NamedNode(XSD + "dateTime")), root),
        ]
        self._store.replace_graphs([root], status)

