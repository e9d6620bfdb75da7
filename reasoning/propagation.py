"""Classification propagation along lineage, and tag inheritance down the containment tree.

**Propagation.** ``Y semcat:derivedFrom X`` and ``X semcat:classification C`` (asserted, or
concluded by a rule) give ``Y semcat:classification C``, transitively, at table and column level
alike. Formally Y receives C when some chain ``Y derivedFrom X1 derivedFrom ... Xn`` ends at an
asset holding C of its own (asserted or by a rule) and no asset on the chain before Xn, Y
included, declassifies C. ``Z semcat:declassifies C`` (e.g. a hashed e-mail column) means: Z
neither receives C by propagation nor passes it on, and rules do not give Z that C; naming a
classification scheme declassifies all its classifications. An assertion still wins: a steward
who states C on Z gets C on Z. Classifications flagged ``semcat:propagates false`` (on
themselves or on their scheme) stay where they are; the default is to propagate. The demo
flags the sensitivity scheme so: a mart that aggregates a confidential table is judged on its own.

**Inheritance.** Tags flagged ``semcat:inheritable true`` on a database or schema (any asset)
apply to everything below it along ``semcat:partOf`` that is a ``dcat:Dataset`` (schemas,
tables, views; not columns, which would drown in them).

Both are defined by paths, not by stored intermediate results, so the incremental maintainer
(``reasoning.classifier``) can recompute any asset exactly from asserted facts and rule
conclusions, and a cycle in lineage can never keep a retracted classification alive.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Final

from pyoxigraph import Literal, NamedNode

from graph_store.protocol import QuadSource
from ontology.namespaces import DCAT, RDF_TYPE, RDFS, SEMCAT

__all__ = ["CLASSIFICATION", "DECLASSIFIES", "DERIVED_FROM", "INHERITABLE", "PART_OF",
           "PROPAGATES", "TAG", "Facts"]

CLASSIFICATION: Final = NamedNode(SEMCAT + "classification")
DERIVED_FROM: Final = NamedNode(SEMCAT + "derivedFrom")
DECLASSIFIES: Final = NamedNode(SEMCAT + "declassifies")
PROPAGATES: Final = NamedNode(SEMCAT + "propagates")
INHERITABLE: Final = NamedNode(SEMCAT + "inheritable")
PART_OF: Final = NamedNode(SEMCAT + "partOf")
TAG: Final = NamedNode(SEMCAT + "tag")
_TYPE: Final = NamedNode(RDF_TYPE)
_SUBCLASS: Final = NamedNode(RDFS + "subClassOf")
_DATASET: Final = NamedNode(DCAT + "Dataset")
MAX_ANCESTORS: Final = 64  # partOf chains are short; this only guards against cycles

Sources = Callable[[NamedNode], set[NamedNode]]


def _false(store: QuadSource, subject: NamedNode, flag: NamedNode) -> bool:
    found = next(iter(store.quads(subject, flag, None)), None)
    return found is not None and isinstance(found.object, Literal) and \
        found.object.value in ("false", "0")


def _true(store: QuadSource, subject: NamedNode, flag: NamedNode) -> bool:
    found = next(iter(store.quads(subject, flag, None)), None)
    return found is not None and isinstance(found.object, Literal) and \
        found.object.value in ("true", "1")


class Facts:
    """Asserted facts the two definitions read, with small memos for one maintenance pass
    (make a new one per changeset: the memos assume the store does not change meanwhile)."""

    def __init__(self, store: QuadSource, *, local: frozenset[NamedNode] = frozenset()) -> None:
        """``local``: classifications judged on their own, which never propagate (roll-ups)."""
        self.store = store
        self.local = local
        self._propagates: dict[NamedNode, bool] = {}
        self._inheritable: dict[NamedNode, bool] = {}
        self._schemes: dict[NamedNode, NamedNode | None] = {}
        self._dataset_classes: set[NamedNode] | None = None

    # -- single facts ------------------------------------------------------------------------
    def objects(self, subject: NamedNode, predicate: NamedNode) -> set[NamedNode]:
        return {q.object for q in self.store.quads(subject, predicate, None)
                if isinstance(q.object, NamedNode)}

    def parents(self, node: NamedNode) -> set[NamedNode]:
        """What ``node`` is directly derived from."""
        return self.objects(node, DERIVED_FROM)

    def children(self, node: NamedNode) -> set[NamedNode]:
        """What is directly derived from ``node``."""
        return {q.subject for q in self.store.quads(None, DERIVED_FROM, node)
                if isinstance(q.subject, NamedNode)}

    def parts(self, node: NamedNode) -> set[NamedNode]:
        return {q.subject for q in self.store.quads(None, PART_OF, node)
                if isinstance(q.subject, NamedNode)}

    def classifications(self, node: NamedNode) -> set[NamedNode]:
        return self.objects(node, CLASSIFICATION)

    def tags(self, node: NamedNode) -> set[NamedNode]:
        return self.objects(node, TAG)

    def scheme(self, classification: NamedNode) -> NamedNode | None:
        if classification not in self._schemes:
            found = self.objects(classification, PART_OF)
            self._schemes[classification] = min(found, key=str) if found else None
        return self._schemes[classification]

    def propagates(self, classification: NamedNode) -> bool:
        """False when the classification, or else its scheme, says ``propagates false``."""
        known = self._propagates.get(classification)
        if known is None and classification in self.local:
            known = self._propagates[classification] = False
        if known is None:
            scheme = self.scheme(classification)
            own = next(iter(self.store.quads(classification, PROPAGATES, None)), None)
            if own is not None:
                known = not _false(self.store, classification, PROPAGATES)
            else:
                known = scheme is None or not _false(self.store, scheme, PROPAGATES)
            self._propagates[classification] = known
        return known

    def inheritable(self, tag: NamedNode) -> bool:
        known = self._inheritable.get(tag)
        if known is None:
            known = self._inheritable[tag] = _true(self.store, tag, INHERITABLE)
        return known

    def declassified(self, node: NamedNode) -> set[NamedNode]:
        """What ``node`` declassifies (classifications and schemes)."""
        return self.objects(node, DECLASSIFIES)

    def blocks(self, declassified: set[NamedNode], classification: NamedNode) -> bool:
        return bool(declassified) and (classification in declassified
                                       or self.scheme(classification) in declassified)

    def is_dataset(self, node: NamedNode) -> bool:
        """A dcat:Dataset by its asserted types and the ontology's class hierarchy."""
        if self._dataset_classes is None:
            found, frontier = {_DATASET}, [_DATASET]
            while frontier:
                cls = frontier.pop()
                for q in self.store.quads(None, _SUBCLASS, cls):
                    if isinstance(q.subject, NamedNode) and q.subject not in found:
                        found.add(q.subject)
                        frontier.append(q.subject)
            self._dataset_classes = found
        return bool(self.objects(node, _TYPE) & self._dataset_classes)

    # -- propagation -------------------------------------------------------------------------
    def propagated(self, node: NamedNode, sources: Sources) -> dict[NamedNode, NamedNode]:
        """The classifications ``node`` receives along lineage, each with the parent it came
        through. ``sources(x)`` gives x's own classifications (asserted or by a rule)."""
        blocked_here = self.declassified(node)
        # Upstream closure, remembering each asset's declassifications.
        upstream: dict[NamedNode, set[NamedNode]] = {}
        edges: dict[NamedNode, set[NamedNode]] = {}
        queue = deque([node])
        seen = {node}
        while queue:
            x = queue.popleft()
            edges[x] = self.parents(x)
            for parent in edges[x]:
                if parent not in seen:
                    seen.add(parent)
                    upstream[parent] = self.declassified(parent)
                    queue.append(parent)
        candidates: set[NamedNode] = set()
        own = {x: sources(x) for x in upstream}
        for found in own.values():
            candidates |= found
        result: dict[NamedNode, NamedNode] = {}
        for c in sorted(candidates, key=str):
            if self.blocks(blocked_here, c) or not self.propagates(c):
                continue
            via = self._reaches(node, c, edges, upstream, own)
            if via is not None:
                result[c] = via
        return result

    def _reaches(self, node: NamedNode, c: NamedNode, edges: dict[NamedNode, set[NamedNode]],
                 declassified: dict[NamedNode, set[NamedNode]],
                 own: dict[NamedNode, set[NamedNode]]) -> NamedNode | None:
        """The parent through which a chain from ``node`` reaches an asset holding ``c`` of its
        own, passing no asset that declassifies ``c``; None if there is none."""
        queue: deque[tuple[NamedNode, NamedNode]] = deque(
            (p, p) for p in sorted(edges.get(node, ()), key=str))
        seen = {node}
        while queue:
            x, first = queue.popleft()
            if x in seen:
                continue
            seen.add(x)
            if c in own.get(x, ()):
                return first
            if self.blocks(declassified.get(x, set()), c):
                continue
            queue.extend((p, first) for p in edges.get(x, ()) if p not in seen)
        return None

    # -- inheritance -------------------------------------------------------------------------
    def inherited(self, node: NamedNode) -> dict[NamedNode, NamedNode]:
        """The inheritable tags ``node`` gets from the assets above it, each with the ancestor
        that carries it (the nearest); empty unless ``node`` is a dataset."""
        if not self.is_dataset(node):
            return {}
        result: dict[NamedNode, NamedNode] = {}
        seen = {node}
        frontier = sorted(self.objects(node, PART_OF), key=str)
        while frontier and len(seen) < MAX_ANCESTORS:
            ancestor = frontier.pop(0)
            if ancestor in seen:
                continue
            seen.add(ancestor)
            for tag in sorted(self.tags(ancestor), key=str):
                if tag not in result and self.inheritable(tag):
                    result[tag] = ancestor
            frontier.extend(sorted(self.objects(ancestor, PART_OF), key=str))
        return result

    # -- who carries what ----------------------------------------------------------------------
    def carriers(self, predicate: NamedNode, values: Iterable[NamedNode]) -> set[NamedNode]:
        """Assets that assert ``predicate value`` for any of ``values``."""
        return {q.subject for v in values for q in self.store.quads(None, predicate, v)
                if isinstance(q.subject, NamedNode)}
