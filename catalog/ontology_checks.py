"""Checks on proposed ontology edits: the DL-consistency and SHACL gate every change passes.

Split from ``catalog.ontology_editor`` so the editor keeps naming, versioning and writing terms
while this module owns deciding whether a change may be committed: a DL reasoner (HermiT) must
find the proposed ontology, with a sample of the catalog's own facts, consistent and free of
newly unsatisfiable classes, and no asset may newly violate the shapes compiled against it. It
also holds the OWL vocabulary constants and helpers the ontology modules share, and never
imports the editor.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat

from graph_store.errors import BackendError, ValidationFailed
from graph_store.formats import serialize_quads
from graph_store.journal import SYSTEM_PREDICATES
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import DCTERMS, OWL, PREFIXES, RDF, RDF_TYPE, RDFS, SEMCAT, XSD
from reasoning import ConsistencyResult, check_consistency
from shapes import StoreView, ValidationResult, Validator, compile_shapes

log = logging.getLogger(__name__)

TYPE = NamedNode(RDF_TYPE)
CLASS = NamedNode(OWL + "Class")
OBJECT_PROPERTY = NamedNode(OWL + "ObjectProperty")
DATATYPE_PROPERTY = NamedNode(OWL + "DatatypeProperty")
_ANNOTATION_PROPERTY = NamedNode(OWL + "AnnotationProperty")
ONTOLOGY = NamedNode(OWL + "Ontology")
IMPORTS = NamedNode(OWL + "imports")
VERSION_INFO = NamedNode(OWL + "versionInfo")
DIGEST = NamedNode(SEMCAT + "sourceDigest")
_DATETIMES = (NamedNode(XSD + "dateTime"), NamedNode(XSD + "dateTimeStamp"))
KINDS = {CLASS: "class", OBJECT_PROPERTY: "object", DATATYPE_PROPERTY: "datatype",
          _ANNOTATION_PROPERTY: "annotation"}
# Statements no DL reasoner draws conclusions from: an edit made only of these needs no check.
_NON_LOGICAL = frozenset(NamedNode(i) for i in (
    RDFS + "label", RDFS + "comment", RDFS + "seeAlso", RDFS + "isDefinedBy", OWL + "deprecated",
    OWL + "versionInfo", OWL + "versionIRI", OWL + "priorVersion", OWL + "imports",
    DCTERMS + "isReplacedBy", SEMCAT + "sourceDigest"))
DECLARATIONS = frozenset((*KINDS, ONTOLOGY, NamedNode(OWL + "NamedIndividual")))
# The OWL 2 datatype map: what HermiT accepts as a property range or a literal's datatype.
OWL2_DATATYPES = frozenset((
    *(XSD + t for t in ("string", "boolean", "decimal", "integer", "nonNegativeInteger",
                        "positiveInteger", "nonPositiveInteger", "negativeInteger", "long", "int",
                        "short", "byte", "double", "float", "dateTime", "dateTimeStamp", "anyURI",
                        "normalizedString", "token", "language", "hexBinary", "base64Binary")),
    RDF + "langString", RDF + "PlainLiteral", RDFS + "Literal"))


def lexical(term: object) -> str:
    """A term's lexical value (IRI, blank node id or literal text)."""
    return str(getattr(term, "value", term))


def _named_in(explanation: str, quads: list[Quad]) -> list[str]:
    """The IRIs behind the short names a reasoner's explanation uses (db.sales.t1, Table)."""
    words = set(re.findall(r"[\w.~%-]+", explanation))
    iris = {t.value for q in quads for t in (q.subject, q.object) if isinstance(t, NamedNode)}
    return sorted(i for i in iris if re.split(r"[#/]", i)[-1] in words)


def _for_reasoner(q: Quad) -> Quad | None:
    """What the reasoner sees of a statement: no imports (never fetched), no bookkeeping, and
    date-times without fractional seconds (owlready2 re-writes ".335Z" as ".335000+00:00",
    which HermiT rejects as malformed)."""
    if q.predicate in (DIGEST, IMPORTS) or q.predicate.value in SYSTEM_PREDICATES:
        return None
    o = q.object
    if isinstance(o, Literal) and o.datatype in _DATETIMES and "." in o.value:
        return Quad(q.subject, q.predicate, Literal(re.sub(r"\.\d+", "", o.value, count=1),
                                                    datatype=o.datatype), q.graph_name)
    return q


def _violation_key(r: ValidationResult) -> tuple[str, str, str, str | None]:
    return r.focus, r.path, r.constraint, r.value


class OntologyChecker:
    """Refuses ontology changes that the reasoner or the shapes reject (see the module doc)."""

    def __init__(self, store: GraphStore, layout: GraphLayout, graphs: tuple[NamedNode, ...], *,
                 data_graphs: Callable[[], list[NamedNode]], validator: Callable[[], Validator],
                 reasoner: str = "hermit") -> None:
        self._store = store
        self._layout = layout
        self.graphs = graphs
        self._data_graphs = data_graphs
        self._validator = validator
        self.reasoner = reasoner

    def quads(self) -> list[Quad]:
        """Both ontology graphs: shipped and custom."""
        return [q for g in self.graphs for q in self._store.quads(None, None, None, g)]

    def state(self) -> int:
        """A digest of both ontology graphs: whether they changed while an edit was reasoned
        about (``reason`` runs without the write lock)."""
        return hash(frozenset(self.quads()))

    def reason(self, removed: set[Quad], added: set[Quad]) -> None:
        """Refuse (422) a change to the ontology graphs that the DL reasoner finds inconsistent
        with itself or the catalog's data; quads in other graphs are ignored. Takes seconds (a
        JVM): callers run it without the write lock and compare ``state`` before and after."""
        rem = {q for q in removed if q.graph_name in self.graphs}
        add = {q for q in added if q.graph_name in self.graphs}
        logical = [q for q in add if q.predicate not in _NON_LOGICAL and not (
            q.predicate == TYPE and q.object in DECLARATIONS)]
        if logical:  # removing axioms cannot make an ontology inconsistent (monotonicity)
            current = set(self.quads())
            self._check_reasoner(current, (current - rem) | add, logical)

    def check_shapes(self, removed: set[Quad], added: set[Quad]) -> None:
        """Refuse (422) a change to the ontology graphs that makes existing assets violate the
        shapes (under the write lock: it reads the assets as they are)."""
        rem = {q for q in removed if q.graph_name in self.graphs}
        add = {q for q in added if q.graph_name in self.graphs}
        if rem or add:
            self._check_shapes((set(self.quads()) - rem) | add)

    def _check_reasoner(self, current: set[Quad], proposed: set[Quad], logical: list[Quad]) -> None:
        facts = self._facts(proposed, logical)
        result = self._reason(proposed, facts)
        if result.consistent and not result.unsatisfiable:
            return
        # Refuse only what this edit breaks: data written earlier may be inconsistent already.
        before = self._reason(current, facts)
        source = f"{result.reasoner} (OWL 2 DL reasoner)"
        named = _named_in(result.explanation, [*logical, *facts])
        if not result.consistent:
            if not before.consistent:
                log.warning("ontology edit allowed: the catalog was inconsistent before it too")
                return
            raise ValidationFailed(
                "the edit would make the ontology inconsistent with the catalog's data; nothing "
                f"was written. {result.explanation}",
                report=[{"source": source, "consistent": False, "message": result.explanation,
                         "terms": named}])
        new = sorted(set(result.unsatisfiable) - set(before.unsatisfiable))
        if new:
            raise ValidationFailed(
                f"the edit would make {', '.join(new)} unsatisfiable (no instance could exist); "
                "nothing was written",
                report=[{"source": source, "consistent": True, "unsatisfiable": new,
                         "message": result.explanation}])

    def _reason(self, ontology: Iterable[Quad], facts: list[Quad]) -> ConsistencyResult:
        doc = [r for r in map(_for_reasoner, [*ontology, *facts]) if r is not None]
        turtle = serialize_quads(doc, RdfFormat.TURTLE, PREFIXES)
        try:
            return check_consistency(turtle, reasoner=self.reasoner)
        except Exception as e:  # a reasoner crash: say so rather than accept the edit unchecked
            raise BackendError(f"the {self.reasoner} reasoner could not check the edit: {e}") from e

    def _facts(self, proposed: set[Quad], logical: list[Quad]) -> list[Quad]:
        """A subset of the catalog's own statements that a DL check of the edit must include.

        One real individual per distinct set of asserted types (individuals with equal type
        sets are interchangeable for class axioms, so this is exact for them); and, for the
        properties the edit's axioms mention, one real assertion per (property, subject types,
        object types or datatype). Every statement is real, so a refusal is never spurious.
        """
        graphs = self._data_graphs()
        types: dict[Any, set[NamedNode]] = {}
        for g in graphs:
            for q in self._store.quads(None, TYPE, None, g):
                if isinstance(q.object, NamedNode):
                    types.setdefault(q.subject, set()).add(q.object)
        frozen = {s: frozenset(ts) for s, ts in types.items()}
        chosen: dict[frozenset[NamedNode], Any] = {}
        for s, ts in frozen.items():
            chosen.setdefault(ts, s)
        facts = {Quad(s, TYPE, t) for ts, s in chosen.items() for t in ts}
        declared = {q.subject for q in proposed if q.predicate == TYPE
                    and q.object in (OBJECT_PROPERTY, DATATYPE_PROPERTY)}
        mentioned = {t for q in logical for t in (q.subject, q.object)
                     if isinstance(t, NamedNode) and t in declared}
        seen: set[tuple[Any, ...]] = set()
        for p in mentioned:
            for g in graphs:
                for q in self._store.quads(None, p, None, g):
                    o = q.object
                    if isinstance(o, Literal):
                        if o.datatype.value not in OWL2_DATATYPES:
                            continue
                        signature: tuple[Any, ...] = (p, frozen.get(q.subject), o.datatype.value)
                    else:
                        signature = (p, frozen.get(q.subject), frozen.get(o))
                    if signature in seen:
                        continue
                    seen.add(signature)
                    facts.add(Quad(q.subject, p, o))
                    node: Any
                    for node in (q.subject, o):
                        facts.update(Quad(node, TYPE, t) for t in frozen.get(node, ()))
        log.debug("DL check with %d facts (%d type sets)", len(facts), len(chosen))
        return list(facts)

    def _check_shapes(self, proposed: set[Quad]) -> None:
        """Assets whose classes' superclasses change are validated again, with the nodes that
        refer to them (sh:class follows the hierarchy); only new violations refuse."""
        old = self._validator()
        new = Validator(compile_shapes(self._store.quads(None, None, None, self._layout.shapes),
                                       proposed))
        before, after = old.shapes.superclasses, new.shapes.superclasses
        changed = [c for c in before.keys() | after.keys()
                   if before.get(c, frozenset({c})) != after.get(c, frozenset({c}))]
        if not changed:
            return
        graphs = set(self._data_graphs())
        nodes: dict[Any, None] = {}
        for c in changed:
            for q in self._store.quads(None, TYPE, NamedNode(c), None):
                if q.graph_name in graphs:
                    nodes[q.subject] = None
        for n in list(nodes):
            if isinstance(n, NamedNode | BlankNode):
                for q in self._store.quads(None, None, n, None):
                    if q.graph_name in graphs:
                        nodes[q.subject] = None
        view = StoreView(self._store)
        known = {_violation_key(r) for r in old.validate(nodes, view).violations}
        broken = [r for r in new.validate(nodes, view).violations if _violation_key(r) not in known]
        if broken:
            raise ValidationFailed(
                f"{len({r.focus for r in broken})} existing asset(s) would violate the shapes "
                "under the edited ontology; nothing was written",
                report=[{"source": "SHACL", **r.to_json()} for r in broken[:100]])
