"""Focus-node-scoped validation of a changeset's result, or of the whole store.

Each write validates only the nodes it touches (DESIGN.md, principle 4), reading their
statements as they will be after the change: the store's, minus what the changeset removes,
plus what it adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import Any, Protocol

from opentelemetry import trace
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from graph_store.protocol import QuadSource
from ontology.namespaces import PREFIXES, RDF, RDF_TYPE, XSD
from shapes.model import PropertyShape, Shapes
from shapes.report import ValidationReport, ValidationResult

Term = Any
tracer = trace.get_tracer("semcat")
_TYPE = NamedNode(RDF_TYPE)
_NODES = (NamedNode, BlankNode)
_LEXICAL = {
    XSD + "integer": re.compile(r"^[+-]?\d+$"),
    XSD + "decimal": re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
    XSD + "boolean": re.compile(r"^(true|false|1|0)$"),
    XSD + "date": re.compile(r"^-?\d{4,}-\d\d-\d\d(Z|[+-]\d\d:\d\d)?$"),
    XSD + "dateTime": re.compile(r"^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$"),
}
_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long",
                              "nonNegativeInteger", "positiveInteger")}


class GraphView(Protocol):
    def outgoing(self, node: Term) -> dict[str, list[Term]]: ...

    def incoming(self, node: Term, predicate: str) -> list[Term]: ...


class StoreView:
    """The store as it is (``semcat validate``)."""

    def __init__(self, store: QuadSource) -> None:
        self.store = store

    def outgoing(self, node: Term) -> dict[str, list[Term]]:
        out: dict[str, list[Term]] = {}
        for q in self.store.quads(node, None, None, None):
            values = out.setdefault(q.predicate.value, [])
            if q.object not in values:
                values.append(q.object)
        return out

    def incoming(self, node: Term, predicate: str) -> list[Term]:
        return list(dict.fromkeys(q.subject for q in self.store.quads(
            None, NamedNode(predicate), node, None)))


class ChangeView(StoreView):
    """The store as it will be once ``removed`` and ``added`` are applied."""

    def __init__(self, store: QuadSource, removed: set[Quad], added: Iterable[Quad]) -> None:
        super().__init__(store)
        self.removed = removed
        self.added: dict[Term, list[Quad]] = {}
        self._added_all = list(added)
        for q in self._added_all:
            self.added.setdefault(q.subject, []).append(q)
        self._cache: dict[Term, dict[str, list[Term]]] = {}
        self._by_object: dict[tuple[str, Term], list[Term]] | None = None  # built on first use

    def outgoing(self, node: Term) -> dict[str, list[Term]]:
        cached = self._cache.get(node)
        if cached is not None:
            return cached
        out: dict[str, list[Term]] = {}
        stored = self.store.quads(node, None, None, None) if isinstance(node, _NODES) \
            else ()
        removed = self.removed
        for q in chain(stored, self.added.get(node, ())):
            if removed and q in removed:
                continue
            out.setdefault(q.predicate.value, []).append(q.object)
        for p, values in out.items():
            if len(values) > 1:  # the same statement may sit in two graphs
                out[p] = list(dict.fromkeys(values))
        self._cache[node] = out
        return out

    def incoming(self, node: Term, predicate: str) -> list[Term]:
        if self._by_object is None:
            self._by_object = {}
            for q in self._added_all:
                self._by_object.setdefault((q.predicate.value, q.object), []).append(q.subject)
        p = NamedNode(predicate)
        found = [q.subject for q in self.store.quads(None, p, node, None) if q not in self.removed]
        found += self._by_object.get((predicate, node), [])
        return list(dict.fromkeys(found))


class Validator:
    def __init__(self, shapes: Shapes) -> None:
        self.shapes = shapes

    @tracer.start_as_current_span("shapes.validate")
    def validate(self, focus: Iterable[Term], view: GraphView) -> ValidationReport:
        classes: dict[Term, set[str]] = {}  # a value's classes, looked up once per call
        results: list[ValidationResult] = []
        n = 0
        for node in focus:
            if isinstance(node, Literal):
                continue
            props = view.outgoing(node)
            types = [t.value for t in props.get(RDF_TYPE, ()) if isinstance(t, NamedNode)]
            shapes = self.shapes.applicable(types) if types else []
            if not shapes:
                continue
            n += 1
            for shape in shapes:
                for ps in shape.properties:
                    values = view.incoming(node, ps.path) if ps.inverse \
                        else props.get(ps.path, [])
                    if values or ps.min_count:
                        results += self._check(node, ps, values, view, classes)
        return ValidationReport(tuple(results), n)

    def _check(self, node: Term, ps: PropertyShape, values: list[Term], view: GraphView,
               classes: dict[Term, set[str]]) -> list[ValidationResult]:
        focus = node.value if isinstance(node, NamedNode) else f"_:{node.value}"
        out: list[ValidationResult] = []

        def fail(component: str, detail: str, value: Term | None = None) -> None:
            # The shape's own words, then the constraint and what it expects, so that a
            # refusal says what to change (a custom attribute's message alone would not).
            message = f"{ps.message} [{detail}]" if ps.message else detail
            out.append(ValidationResult(focus, ps.path_label, component, ps.severity, message,
                                        None if value is None else str(value.value), ps.shape))

        path = _short(ps.path_label)
        if ps.min_count is not None and len(values) < ps.min_count:
            fail("MinCountConstraintComponent",
                 f"sh:minCount {ps.min_count}: {path} needs at least {ps.min_count} value(s), "
                 f"has {len(values)}")
        if ps.max_count is not None and len(values) > ps.max_count:
            fail("MaxCountConstraintComponent",
                 f"sh:maxCount {ps.max_count}: {path} takes at most {ps.max_count} value(s), "
                 f"has {len(values)}")
        for v in values:
            shown = _shown(v)
            if ps.datatype is not None and not _has_datatype(v, ps.datatype):
                fail("DatatypeConstraintComponent",
                     f"sh:datatype {_short(ps.datatype)}: {shown} is not a valid "
                     f"{_short(ps.datatype)}", v)
            if ps.class_ is not None and not self._instance_of(v, ps.class_, view, classes):
                fail("ClassConstraintComponent",
                     f"sh:class {_short(ps.class_)}: {shown} is not a known {_short(ps.class_)}",
                     v)
            if ps.node_kind is not None and not _node_kind(v, ps.node_kind):
                fail("NodeKindConstraintComponent",
                     f"sh:nodeKind sh:{ps.node_kind}: {shown} is not a {ps.node_kind}", v)
            if ps.allowed is not None and v not in ps.allowed:
                allowed = ", ".join(sorted(_shown(a) for a in ps.allowed))
                fail("InConstraintComponent", f"sh:in ({allowed}): {shown} is not one of them",
                     v)
            if ps.pattern is not None and (isinstance(v, BlankNode) or
                                           not ps.pattern.search(v.value)):
                fail("PatternConstraintComponent",
                     f"sh:pattern {ps.pattern.pattern}: {shown} does not match it", v)
            if ps.min_length is not None and (isinstance(v, BlankNode) or
                                              len(v.value) < ps.min_length):
                fail("MinLengthConstraintComponent",
                     f"sh:minLength {ps.min_length}: {shown} is shorter", v)
            if ps.max_length is not None and (isinstance(v, BlankNode) or
                                              len(v.value) > ps.max_length):
                fail("MaxLengthConstraintComponent",
                     f"sh:maxLength {ps.max_length}: {shown} is longer", v)
            for component, limit in ps.bounds:
                if not _within(v, component, limit):
                    name = component[0].lower() + component[1:].removesuffix("ConstraintComponent")
                    fail(component, f"sh:{name} {limit.value}: {shown} is out of bounds", v)
        return out

    def _instance_of(self, value: Term, cls: str, view: GraphView,
                     cache: dict[Term, set[str]]) -> bool:
        if isinstance(value, Literal):
            return False
        classes = cache.get(value)
        if classes is None:
            types = [t.value for t in view.outgoing(value).get(RDF_TYPE, ())
                     if isinstance(t, NamedNode)]
            classes = cache[value] = self.shapes.classes_of(types)
        return cls in classes


def _short(iri: str) -> str:
    """An IRI as a CURIE of a well-known prefix (semcat:Schema, xsd:integer) where it is one."""
    inverse, iri = ("^", iri[1:]) if iri.startswith("^") else ("", iri)
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and iri != namespace:
            return f"{inverse}{prefix}:{iri.removeprefix(namespace)}"
    return inverse + iri


def _shown(value: Term) -> str:
    """A value as a message quotes it: literals in quotes, nodes by IRI."""
    if isinstance(value, Literal):
        return f'"{value.value}"'
    return _short(value.value) if isinstance(value, NamedNode) else f"_:{value.value}"


def _has_datatype(value: Term, datatype: str) -> bool:
    if not isinstance(value, Literal):
        return False
    actual = value.datatype.value if value.datatype is not None else XSD + "string"
    if value.language:
        actual = RDF + "langString"
    if actual != datatype:
        return False
    lexical = _LEXICAL.get(datatype)
    return lexical is None or bool(lexical.match(value.value))


def _node_kind(value: Term, kind: str) -> bool:
    if kind == "IRI":
        return isinstance(value, NamedNode)
    if kind == "Literal":
        return isinstance(value, Literal)
    if kind == "BlankNode":
        return isinstance(value, BlankNode)
    if kind == "BlankNodeOrIRI":
        return not isinstance(value, Literal)
    if kind == "IRIOrLiteral":
        return not isinstance(value, BlankNode)
    return not isinstance(value, NamedNode)  # BlankNodeOrLiteral


def _comparable(term: Term) -> tuple[str, Any] | None:
    if not isinstance(term, Literal):
        return None
    dt = term.datatype.value if term.datatype is not None else XSD + "string"
    try:
        if dt in _NUMERIC:
            return "number", Decimal(term.value)
        if dt == XSD + "dateTime":
            parsed = datetime.fromisoformat(term.value.replace("Z", "+00:00"))
            return ("datetime-tz" if parsed.tzinfo else "datetime"), parsed
        if dt == XSD + "date":
            return "date", date.fromisoformat(term.value[:10])
        if dt == XSD + "string":
            return "string", term.value
    except (InvalidOperation, ValueError):
        return None
    return None


def _within(value: Term, component: str, limit: Term) -> bool:
    a, b = _comparable(value), _comparable(limit)
    if a is None or b is None or a[0] != b[0]:
        return False
    if component.startswith("MinInclusive"):
        return bool(a[1] >= b[1])
    if component.startswith("MaxInclusive"):
        return bool(a[1] <= b[1])
    if component.startswith("MinExclusive"):
        return bool(a[1] > b[1])
    return bool(a[1] < b[1])
