"""SHACL shapes compiled into plain Python checks.

The shapes graph stays the source of truth (pySHACL validates with it in `semcat validate
--engine pyshacl` and in the conformance tests); writes are checked by this compiled form because
they must cost microseconds per asset, not pySHACL's milliseconds. It understands the SHACL Core
subset semcat's shapes use, and refuses shapes that use anything else, so the two never disagree
silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import BlankNode, NamedNode, Quad

from graph_store.errors import InputError
from ontology.namespaces import RDF, RDFS, SH

Term = Any  # a pyoxigraph term

SUPPORTED = frozenset(SH + p for p in (
    "targetClass", "property", "path", "inversePath", "minCount", "maxCount", "datatype",
    "class", "nodeKind", "in", "pattern", "flags", "minInclusive", "maxInclusive",
    "minExclusive", "maxExclusive", "minLength", "maxLength", "severity", "message", "name",
    "description", "deactivated", "order", "group",
))


@dataclass(frozen=True)
class PropertyShape:
    shape: str
    path: str
    inverse: bool
    severity: str
    message: str
    min_count: int | None = None
    max_count: int | None = None
    datatype: str | None = None
    class_: str | None = None
    node_kind: str | None = None
    allowed: frozenset[Term] | None = None
    pattern: re.Pattern[str] | None = None
    bounds: tuple[tuple[str, Term], ...] = ()  # (component, limit literal)
    min_length: int | None = None
    max_length: int | None = None

    @property
    def path_label(self) -> str:
        return ("^" if self.inverse else "") + self.path


@dataclass(frozen=True)
class NodeShape:
    shape: str
    targets: frozenset[str]
    properties: tuple[PropertyShape, ...]


@dataclass
class Shapes:
    node_shapes: list[NodeShape]
    superclasses: dict[str, frozenset[str]] = field(default_factory=dict)
    inverse_paths: frozenset[str] = frozenset()

    def classes_of(self, types: Iterable[str]) -> set[str]:
        """Every class an instance of ``types`` belongs to (rdfs:subClassOf closure)."""
        out: set[str] = set()
        for t in types:
            out |= self.superclasses.get(t, frozenset({t}))
        return out

    def applicable(self, types: Iterable[str]) -> list[NodeShape]:
        classes = self.classes_of(types)
        return [s for s in self.node_shapes if s.targets & classes]


def superclass_closure(pairs: list[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Each class (that has a superclass) with every class it belongs to, itself included."""
    parents: dict[str, set[str]] = {}
    for sub, sup in pairs:
        parents.setdefault(sub, set()).add(sup)
    out: dict[str, frozenset[str]] = {}
    for start in parents:
        seen, todo = {start}, [start]
        while todo:
            for p in parents.get(todo.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        out[start] = frozenset(seen)
    return out


def _list(index: dict[Term, dict[str, list[Term]]], head: Term) -> list[Term]:
    items = []
    while head != NamedNode(RDF + "nil"):
        node = index.get(head, {})
        items += node.get(RDF + "first", [])
        head = (node.get(RDF + "rest") or [NamedNode(RDF + "nil")])[0]
    return items


def _one(node: dict[str, list[Term]], name: str) -> Term | None:
    values = node.get(SH + name)
    return values[0] if values else None


def compile_shapes(shape_quads: Iterable[Quad], ontology_quads: Iterable[Quad]) -> Shapes:
    index: dict[Term, dict[str, list[Term]]] = {}
    for q in shape_quads:
        index.setdefault(q.subject, {}).setdefault(q.predicate.value, []).append(q.object)
    used = {p for node in index.values() for p in node if p.startswith(SH)}
    unsupported = sorted(used - SUPPORTED)
    if unsupported:
        raise InputError(f"these SHACL terms are not supported in semcat shapes: {unsupported}")
    node_shapes: list[NodeShape] = []
    for subject, node in index.items():
        if not node.get(SH + "targetClass") or _deactivated(node):
            continue
        props = tuple(_property(index, p) for p in node.get(SH + "property", [])
                      if not _deactivated(index.get(p, {})))
        node_shapes.append(NodeShape(_label(subject), frozenset(t.value for t in
                                                             node[SH + "targetClass"]), props))
    pairs = [(q.subject.value, q.object.value) for q in ontology_quads
             if q.predicate.value == RDFS + "subClassOf" and isinstance(q.subject, NamedNode)
             and isinstance(q.object, NamedNode)]
    inverse = frozenset(p.path for s in node_shapes for p in s.properties if p.inverse)
    return Shapes(node_shapes, superclass_closure(pairs), inverse)


def _deactivated(node: dict[str, list[Term]]) -> bool:
    flag = _one(node, "deactivated")
    return flag is not None and flag.value == "true"


def _label(term: Term) -> str:
    return term.value if isinstance(term, NamedNode) else f"_:{term.value}"


def _property(index: dict[Term, dict[str, list[Term]]], ref: Term) -> PropertyShape:
    node = index.get(ref, {})
    path = _one(node, "path")
    inverse = False
    if isinstance(path, BlankNode):
        path = _one(index.get(path, {}), "inversePath")
        inverse = True
    if not isinstance(path, NamedNode):
        raise InputError(f"property shape {_label(ref)} needs sh:path to be an IRI or an "
                         "sh:inversePath of one")
    severity = _one(node, "severity")
    message = _one(node, "message") or _one(node, "name")
    bounds = tuple((name[0].upper() + name[1:] + "ConstraintComponent", _one(node, name))
                   for name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive")
                   if _one(node, name) is not None)
    pattern = _one(node, "pattern")
    flags = _one(node, "flags")
    allowed = _one(node, "in")

    def number(name: str) -> int | None:
        value = _one(node, name)
        return int(value.value) if value is not None else None

    def iri(name: str) -> str | None:
        value = _one(node, name)
        return value.value.removeprefix(SH) if value is not None else None

    return PropertyShape(
        shape=_label(ref), path=path.value, inverse=inverse,
        severity=severity.value.removeprefix(SH) if severity is not None else "Violation",
        message=message.value if message is not None else "",
        min_count=number("minCount"), max_count=number("maxCount"),
        datatype=iri("datatype"), class_=iri("class"), node_kind=iri("nodeKind"),
        allowed=frozenset(_list(index, allowed)) if allowed is not None else None,
        pattern=re.compile(pattern.value, re.IGNORECASE if flags is not None and "i" in
                           flags.value else 0) if pattern is not None else None,
        bounds=bounds, min_length=number("minLength"), max_length=number("maxLength"),
    )

