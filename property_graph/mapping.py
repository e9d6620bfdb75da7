"""From RDF to a property graph: what one catalog resource becomes as a node and its edges.

Every typed resource of the asserted data graphs is a node keyed by its IRI; its classes and
their superclasses (local names) are its labels; its literal statements are its properties
(local names, lists where a property has several values); its IRI-valued statements between
two such nodes are relationships (local names in UPPER_SNAKE). The reasoner's graphs are not
projected: they are not written through the change log this projection follows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Quad

from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import RDF_TYPE, RDFS

RESOURCE = "Resource"  # every projected node has it: the label its IRI is unique under
POSITION = "SemcatProjection"  # the one node holding the changeset the graph reflects
_TYPE = NamedNode(RDF_TYPE)
_SUBCLASS = NamedNode(RDFS + "subClassOf")
_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = {f"{_XSD}{t}" for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                     "positiveInteger", "unsignedInt", "unsignedLong")}
_FLOATS = {f"{_XSD}{t}" for t in ("double", "float", "decimal")}
Value = str | int | float | bool


def local_name(iri: str) -> str:
    """The part of an IRI after its last #, / or :, as ontologies name their terms."""
    return re.split(r"[#/:]", iri.rstrip("#/"))[-1] or iri


def relationship_type(predicate: str) -> str:
    """``derivedFrom`` -> ``DERIVED_FROM``: Cypher's convention for relationship types."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", local_name(predicate))
    return re.sub(r"\W+", "_", name).strip("_").upper() or "RELATED"


def quoted(name: str) -> str:
    """A label, type or key as a Cypher identifier: labels cannot be parameters."""
    return "`" + name.replace("`", "``") + "`"


def _value(lit: Literal) -> Value:
    dt = lit.datatype.value
    try:
        if dt in _INTEGERS:
            return int(lit.value)
        if dt in _FLOATS:
            return float(lit.value)
        if dt == f"{_XSD}boolean":
            return lit.value in ("true", "1")
    except ValueError:
        pass
    return lit.value  # dates stay ISO text: the one temporal form every Bolt server reads


@dataclass
class Node:
    iri: str
    labels: tuple[str, ...]
    props: dict[str, Value | list[Value]]
    fresh: bool  # not in the graph with these labels: (re)created, with its incoming edges


@dataclass
class Described:
    """What the store says now about some resources: the nodes that exist and the edges
    between them; ``gone`` are the asked IRIs that are no longer typed resources."""
    nodes: list[Node] = field(default_factory=list)
    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (type, from, to)
    gone: list[str] = field(default_factory=list)


class Mapper:
    """Reads resources from the store as nodes and edges."""

    def __init__(self, store: GraphStore, layout: GraphLayout) -> None:
        self._store = store
        self._layout = layout
        self._skip = {layout.ontology, layout.custom_ontology, layout.shapes}
        self._superclasses: dict[str, tuple[str, ...]] = {}

    def _data(self, q: Quad) -> bool:
        return q.graph_name not in self._skip and not self._layout.is_inferred(q.graph_name)

    def refresh_classes(self) -> None:
        """Forget the class hierarchy: read again after an ontology edit."""
        self._superclasses = {}

    def _labels_of(self, cls: str) -> tuple[str, ...]:
        """The class and its named superclasses, nearest first (shipped and custom ontology)."""
        found = self._superclasses.get(cls)
        if found is None:
            seen: list[str] = []
            todo = [cls]
            while todo:
                c = todo.pop(0)
                if c in seen:
                    continue
                seen.append(c)
                for g in (self._layout.ontology, self._layout.custom_ontology):
                    todo += [q.object.value for q in self._store.quads(NamedNode(c), _SUBCLASS,
                                                                        None, g)
                             if isinstance(q.object, NamedNode)]
            found = self._superclasses[cls] = tuple(seen)
        return found

    def typed_subjects(self) -> list[str]:
        """Every resource the projection holds a node for, in a stable order."""
        return sorted({q.subject.value for q in self._store.quads(None, _TYPE, None)
                       if isinstance(q.subject, NamedNode) and self._data(q)})

    def _is_node(self, iri: str) -> bool:
        return any(self._data(q) for q in self._store.quads(NamedNode(iri), _TYPE, None))

    def describe(self, iris: Iterable[str], existing: dict[str, set[str]]) -> Described:
        """The nodes of ``iris`` with their outgoing edges, and the incoming edges of the
        fresh ones: not among the ``existing`` nodes (IRI -> labels) with the same labels.
        A node whose labels change is made anew, since a server may key its storage by the
        label set (ArcadeDB's vertex types), where a relabelled node would clash with itself."""
        out = Described()
        nodes: set[str] = set()
        targets: dict[str, bool] = {}
        for iri in dict.fromkeys(iris):
            quads = [q for q in self._store.quads(NamedNode(iri), None, None) if self._data(q)]
            classes = sorted({q.object.value for q in quads
                              if q.predicate == _TYPE and isinstance(q.object, NamedNode)})
            if not classes:
                out.gone.append(iri)
                continue
            nodes.add(iri)
            labels = dict.fromkeys(local_name(s) for c in classes for s in self._labels_of(c))
            values: dict[str, list[Value]] = {}
            for q in quads:
                if isinstance(q.object, Literal):
                    values.setdefault(local_name(q.predicate.value), []).append(_value(q.object))
                elif isinstance(q.object, NamedNode) and q.predicate != _TYPE:
                    out.edges.add((relationship_type(q.predicate.value), iri, q.object.value))
            props: dict[str, Value | list[Value]] = {
                k: v[0] if len(v) == 1 else _homogeneous(v) for k, v in sorted(values.items())
                if k != "iri"}
            props["iri"] = iri
            node_labels = (RESOURCE, *(lb for lb in labels if lb != RESOURCE))
            out.nodes.append(Node(iri, node_labels, props,
                                  existing.get(iri) != set(node_labels)))
        for node in out.nodes:
            if not node.fresh:
                continue
            iri = node.iri
            for q in self._store.quads(None, None, NamedNode(iri)):
                if isinstance(q.subject, NamedNode) and q.predicate != _TYPE and self._data(q):
                    out.edges.add((relationship_type(q.predicate.value), q.subject.value, iri))
        # an edge is projected only between two nodes: to a resource that is a node now
        for _, _, o in out.edges:
            if o not in nodes and o not in targets:
                targets[o] = self._is_node(o)
        for _, s, _ in out.edges:
            if s not in nodes and s not in targets:
                targets[s] = self._is_node(s)
        out.edges = {e for e in out.edges
                     if (e[1] in nodes or targets[e[1]]) and (e[2] in nodes or targets[e[2]])}
        return out


def _homogeneous(values: list[Value]) -> list[Value]:
    """Neo4j lists hold one type: mixed values become text. Sorted, so rebuilds compare."""
    kinds = {type(v) for v in values}
    if len(kinds) > 1:
        return sorted(str(v) for v in values)
    return sorted(values, key=lambda v: (str(type(v)), v))
