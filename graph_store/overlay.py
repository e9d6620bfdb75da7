"""Views of the store for checks that must run before a change is logged.

``Overlay`` answers ``quads`` patterns over the store minus ``removed`` plus ``added`` (asserted
graphs only, like ``GraphStore.quads``); ``Restricted`` over the graphs a caller may read;
``scratch`` copies a few quads into a throwaway in-memory store where SPARQL (classification
rules) can run over them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pyoxigraph import NamedNode, Quad

from graph_store.oxigraph_store import OxigraphStore
from graph_store.protocol import GraphName, GraphStore, Object, QuadSource, Subject


class Overlay:
    def __init__(self, store: GraphStore, removed: set[Quad], added: Iterable[Quad]) -> None:
        self.store = store
        self.removed = removed
        self.added = list(added)
        self._by_subject: dict[object, list[Quad]] = {}
        self._by_object: dict[object, list[Quad]] = {}
        self._by_predicate: dict[object, list[Quad]] = {}
        for q in self.added:
            self._by_subject.setdefault(q.subject, []).append(q)
            self._by_object.setdefault(q.object, []).append(q)
            self._by_predicate.setdefault(q.predicate, []).append(q)

    def quads(self, subject: Subject | None = None, predicate: NamedNode | None = None,
              object: Object | None = None, graph: GraphName | None = None) -> Iterator[Quad]:
        removed = self.removed
        for q in self.store.quads(subject, predicate, object, graph):
            if not removed or q not in removed:
                yield q
        if subject is not None:
            candidates = self._by_subject.get(subject, ())
        elif object is not None:
            candidates = self._by_object.get(object, ())
        elif predicate is not None:
            candidates = self._by_predicate.get(predicate, ())
        else:
            candidates = self.added
        for q in candidates:
            if (subject is None or q.subject == subject) and \
                    (predicate is None or q.predicate == predicate) and \
                    (object is None or q.object == object) and \
                    (graph is None or q.graph_name == graph):
                yield q


class Restricted:
    """The store as a caller may read it: statements in ``graphs`` only. Checks of a caller's
    change (SHACL) read through it, so an asset hidden from the caller is absent for them."""

    def __init__(self, store: QuadSource, graphs: frozenset[str]) -> None:
        self.store = store
        self.graphs = graphs

    def quads(self, subject: Subject | None = None, predicate: NamedNode | None = None,
              object: Object | None = None, graph: GraphName | None = None) -> Iterator[Quad]:
        graphs = self.graphs
        return (q for q in self.store.quads(subject, predicate, object, graph)
                if getattr(q.graph_name, "value", None) in graphs)


def scratch(quads: Iterable[Quad]) -> OxigraphStore:
    """An in-memory store holding ``quads`` (a fraction of a millisecond for a few hundred)."""
    store = OxigraphStore(None)
    store.load_quads(quads)
    return store
