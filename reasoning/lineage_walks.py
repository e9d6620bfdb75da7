"""The graph walks behind ``Classifier``: classifications down lineage, tags down to parts.

Split out of ``reasoning.classifier`` to keep that module about *when* derived graphs are
recomputed and written; this one holds *how* the breadth-first walks spread facts, for full
runs (``propagate_all``, ``inherit_all``) and incremental ones (``worklist``, ``delta``).
It must not import ``reasoning.classifier``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from pyoxigraph import NamedNode

from graph_store.changeset import Changeset
from graph_store.protocol import GraphStore
from reasoning.propagation import CLASSIFICATION, DECLASSIFIES, INHERITABLE, TAG, Facts

__all__ = ["PO", "delta", "inherit_all", "propagate_all", "worklist"]

PO = tuple[NamedNode, object]  # (predicate, object) of a statement about a known subject


def propagate_all(store: GraphStore, facts: Facts, concluded: dict[NamedNode, set[PO]]
                  ) -> dict[NamedNode, set[NamedNode]]:
    """Forward from every source of each classification, stopping at declassifiers."""
    sources: dict[NamedNode, set[NamedNode]] = {}
    for q in store.quads(None, CLASSIFICATION, None):
        if isinstance(q.subject, NamedNode) and isinstance(q.object, NamedNode):
            sources.setdefault(q.object, set()).add(q.subject)
    for s, pos in concluded.items():
        for p, o in pos:
            if p == CLASSIFICATION and isinstance(o, NamedNode):
                sources.setdefault(o, set()).add(s)
    result: dict[NamedNode, set[NamedNode]] = {}
    for c, holders in sources.items():
        if not facts.propagates(c):
            continue
        seen = set(holders)
        queue = deque(holders)
        while queue:
            x = queue.popleft()
            for child in facts.children(x):
                if child in seen or facts.blocks(facts.declassified(child), c):
                    continue
                seen.add(child)
                result.setdefault(child, set()).add(c)
                queue.append(child)
    return result


def inherit_all(store: GraphStore, facts: Facts) -> dict[NamedNode, set[NamedNode]]:
    """Every inheritable tag, from its carriers down to the datasets among their parts."""
    result: dict[NamedNode, set[NamedNode]] = {}
    tags = {q.subject for q in store.quads(None, INHERITABLE, None)
            if isinstance(q.subject, NamedNode)}
    for tag in tags:
        if not facts.inheritable(tag):
            continue
        holders = facts.carriers(TAG, [tag])
        seen = set(holders)
        queue = deque(holders)
        while queue:
            x = queue.popleft()
            for part in facts.parts(x):
                if part in seen:
                    continue
                seen.add(part)
                queue.append(part)
                if part not in holders and facts.is_dataset(part):
                    result.setdefault(part, set()).add(tag)
    return result


def delta(cs: Changeset) -> tuple[dict[tuple[object, object], set[object]],
                                  dict[tuple[object, object], set[object]]]:
    """What ``cs`` added and removed of classifications, tags and declassifications, by
    (subject, predicate)."""
    added: dict[tuple[object, object], set[object]] = {}
    removed: dict[tuple[object, object], set[object]] = {}
    for target, quads in ((added, cs.added), (removed, cs.removed)):
        for q in quads:
            if q.predicate in (CLASSIFICATION, TAG, DECLASSIFIES):
                target.setdefault((q.subject, q.predicate), set()).add(q.object)
    return added, removed


def worklist(start: Iterable[NamedNode], successors: Callable[[NamedNode], set[NamedNode]],
             visit: Callable[[NamedNode], bool]) -> None:
    """Visit each node once, breadth first; a visit that reports a change queues the node's
    successors."""
    queue = deque(sorted(start, key=str))
    seen = set(queue)
    while queue:
        y = queue.popleft()
        if visit(y):
            for nxt in sorted(successors(y), key=str):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
