"""What the incremental reasoner reads: asserted and inferred triples, with its pending changes.

Inferred triples are a projection stored in the inferred graphs; while one changeset is being
worked out, the facts it has withdrawn (``gone``) are hidden and those it has derived (``new``)
show, without touching the store until the result is written in one go. Asserted triples are
those of the named graphs the materialiser reads (not the shapes, not the default graph).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore

Term = Any
Triple = tuple[Term, NamedNode, Term]


class FactView:
    def __init__(self, store: GraphStore, layout: GraphLayout, graphs: list[NamedNode]) -> None:
        self.store = store
        self.shapes = layout.shapes
        self.graphs = graphs  # the inferred graphs (their root, the status, aside)
        self._graph_set = frozenset(graphs)
        self.gone: set[Triple] = set()  # stored inferences withdrawn
        self.new: set[Triple] = set()  # inferences not stored yet
        self.removed: set[Triple] = set()  # asserted before the change, visible while `old`
        self.old = False
        self._old_sp: dict[tuple[Term, NamedNode], set[Term]] = defaultdict(set)
        self._old_po: dict[tuple[NamedNode, Term], set[Term]] = defaultdict(set)
        self._by_sp: dict[tuple[Term, NamedNode], set[Term]] = defaultdict(set)
        self._by_po: dict[tuple[NamedNode, Term], set[Term]] = defaultdict(set)
        self._asserted_of: dict[Term, set[tuple[NamedNode, Term]]] = {}
        self._graphs_of: dict[Term, set[NamedNode]] = {}
        self._stored_of: dict[Term, dict[tuple[NamedNode, Term], list[NamedNode]]] = {}
        self._stored_point: dict[Triple, bool] = {}

    # -- the store ------------------------------------------------------------------------------
    # The store does not change while a change is worked out, so what it holds about a subject
    # is read once, in one call for the asserted graphs and one per inferred graph: forward
    # chaining asks about the same few subjects over and over.
    def asserted(self, s: Term | None, p: NamedNode | None, o: Term | None) -> Iterator[Triple]:
        if s is not None:
            return ((s, q, z) for q, z in self._asserted_about(s) if (p is None or q == p)
                    and (o is None or z == o))
        return self._asserted(s, p, o)

    def _asserted(self, s: Term | None, p: NamedNode | None, o: Term | None
                  ) -> Iterator[Triple]:
        return ((q.subject, q.predicate, q.object) for q in self._asserted_quads(s, p, o))

    def _asserted_quads(self, s: Term | None, p: NamedNode | None, o: Term | None
                        ) -> Iterator[Quad]:
        shapes = self.shapes
        return (q for q in self.store.quads(s, p, o)
                if q.graph_name != shapes and isinstance(q.graph_name, NamedNode))

    def _asserted_about(self, s: Term) -> set[tuple[NamedNode, Term]]:
        found = self._asserted_of.get(s)
        if found is None:
            quads = list(self._asserted_quads(s, None, None))
            found = self._asserted_of[s] = {(q.predicate, q.object) for q in quads}
            self._graphs_of[s] = {q.graph_name for q in quads}  # type: ignore[misc]
        return found

    def asserted_graphs(self, s: Term) -> set[NamedNode]:
        """The graphs that assert something about ``s``."""
        self._asserted_about(s)
        return self._graphs_of[s]

    def is_asserted(self, t: Triple) -> bool:
        return (t[1], t[2]) in self._asserted_about(t[0])

    def stored(self, s: Term | None, p: NamedNode | None, o: Term | None
               ) -> Iterator[tuple[Triple, NamedNode]]:
        """Inferred triples in the store, with their graph (withdrawn ones included)."""
        if s is not None:
            return (((s, q, z), g) for (q, z), graphs in self._stored_about(s).items()
                    if (p is None or q == p) and (o is None or z == o) for g in graphs)
        if o is not None:  # one read across the graphs, not one per graph
            mine = self._graph_set
            return (((q.subject, q.predicate, q.object), q.graph_name)  # type: ignore[misc]
                    for q in self.store.derived(None, p, o) if q.graph_name in mine)
        return (((q.subject, q.predicate, q.object), g) for g in self.graphs
                for q in self.store.quads(s, p, o, g))

    def _stored_about(self, s: Term) -> dict[tuple[NamedNode, Term], list[NamedNode]]:
        found = self._stored_of.get(s)
        if found is None:
            found = self._stored_of[s] = defaultdict(list)
            mine = self._graph_set
            for q in self.store.derived(s):
                if q.graph_name in mine:
                    found[q.predicate, q.object].append(q.graph_name)  # type: ignore[arg-type]
        return found

    def read_about(self, subjects: set[Term]) -> None:
        """Read what the store infers about each subject at once: what new statements entail
        is mostly about their subjects, and one read apiece beats a look-up per consequence."""
        for s in subjects:
            self._stored_about(s)

    def is_stored(self, t: Triple) -> bool:
        # Overdeletion asks this of many subjects it never enumerates: one point look-up each,
        # not a read of everything about the subject.
        about = self._stored_of.get(t[0])
        if about is not None:
            return (t[1], t[2]) in about
        hit = self._stored_point.get(t)
        if hit is None:
            mine = self._graph_set
            hit = self._stored_point[t] = any(
                q.graph_name in mine for q in self.store.derived(t[0], t[1], t[2]))
        return hit

    def stored_in(self, t: Triple) -> list[NamedNode]:
        """The inferred graphs holding ``t``: one point look-up."""
        mine = self._graph_set
        return [q.graph_name for q in self.store.derived(t[0], t[1], t[2])  # type: ignore[misc]
                if q.graph_name in mine]

    # -- the view -------------------------------------------------------------------------------
    def withdraw(self, removed: set[Triple]) -> None:
        """Show the closure as it was before ``removed`` were retracted (``old``), until
        ``old`` is set back."""
        self.removed, self.old = removed, True
        for t in removed:
            self._old_sp[t[0], t[1]].add(t[2])
            self._old_po[t[1], t[2]].add(t[0])

    def add(self, t: Triple) -> None:
        self.new.add(t)
        self._by_sp[t[0], t[1]].add(t[2])
        self._by_po[t[1], t[2]].add(t[0])

    def contains(self, t: Triple) -> bool:
        if t in self.new or (self.old and t in self.removed):
            return True
        if self.is_asserted(t):
            return True
        return t not in self.gone and self.is_stored(t)

    def objects(self, s: Term, p: NamedNode) -> set[Term]:
        if isinstance(s, Literal):
            return set()
        found = {t[2] for t in self.asserted(s, p, None)}
        found.update(t[2] for t, _ in self.stored(s, p, None) if t not in self.gone)
        found.update(self._by_sp.get((s, p), ()))
        if self.old:
            found.update(self._old_sp.get((s, p), ()))
        return found

    def subjects(self, p: NamedNode, o: Term) -> set[Term]:
        found = {t[0] for t in self.asserted(None, p, o)}
        found.update(t[0] for t, _ in self.stored(None, p, o) if t not in self.gone)
        found.update(self._by_po.get((p, o), ()))
        if self.old:
            found.update(self._old_po.get((p, o), ()))
        return found

    def has_subject(self, p: NamedNode, o: Term) -> bool:
        """Whether some ``? p o`` holds: the cheap test behind ranges."""
        if self._by_po.get((p, o)) or next(self.asserted(None, p, o), None) is not None:
            return True
        if self.old and self._old_po.get((p, o)):
            return True
        return any(t not in self.gone for t, _ in self.stored(None, p, o))
