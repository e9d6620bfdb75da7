"""The incremental reasoner's shortcut for the commonest change: literal values replaced.

An edited description or name, or the version stamps every write moves, change no type and no
edge between nodes; working such a change out by delete-and-rederive (reasoning/incremental.py)
reads and rederives everything about the subject. Here it is a few look-ups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from pyoxigraph import Literal, NamedNode, Quad

from reasoning.incremental_view import FactView
from reasoning.rl_rules import TYPE, Rules, Term, Triple

Key = tuple[Term, NamedNode, Term]  # subject, property, graph


def replaced_values(r: Rules, view: FactView, target: Callable[[Triple], NamedNode],
                    junk: Callable[[Term, Term, Term], object], rq: list[Quad], aq: list[Quad]
                    ) -> tuple[set[Quad], set[Quad], list[Quad], list[Quad]]:
    """Split a change: the inferred change of its replaced literal values (inferred quads to
    drop and to add), and the rest of it (removed, added), for the general path.

    A property of a subject whose values in a graph are all literals, some removed and some
    added, keeps a value: types, and every rule that does not read the value, conclude as
    before, so only its super-properties' copies of the old and new values change (prp-spo1).
    Properties a rule reads the value of (hasValue, chains, transitivity, functionality,
    someValuesFrom) and values with a second support stay with the rest."""
    removed: dict[Key, list[Quad]] = defaultdict(list)
    added: dict[Key, list[Quad]] = defaultdict(list)
    for q in rq:
        removed[q.subject, q.predicate, q.graph_name].append(q)
    for q in aq:
        added[q.subject, q.predicate, q.graph_name].append(q)
    valued = {p for p, _ in r.value_on}
    related: dict[NamedNode, frozenset[NamedNode] | None] = {}

    def others(p: NamedNode) -> frozenset[NamedNode] | None:
        """The properties under which a value of ``p`` has another support (its
        super-properties, and what is below them), or None when a rule reads values of one
        of them or derives values otherwise."""
        if p not in related:
            ups = r.superproperties.get(p, frozenset())
            near = ups.union(*(r.subproperties.get(x, ()) for x in (p, *ups))) - {p}
            # Rules that read the values of p and of its super-properties; p itself may be
            # functional when nothing is below it (its values are then the asserted ones,
            # counted below). Rules that derive values, under any of them.
            if (p in r.functional and r.subproperties.get(p)) or any(
                    x == TYPE or (x in r.functional and x != p) or x in r.inverse_functional
                    or x in r.some_on or x in r.every_on for x in (p, *ups)) or any(
                    x in valued or x in r.transitive or x in r.links or x in r.chains
                    for x in (p, *near)):
                related[p] = None
            else:
                related[p] = near
        return related[p]

    drop: set[Quad] = set()
    add: set[Quad] = set()
    rest_removed: list[Quad] = []
    rest_added: list[Quad] = []
    for key in removed.keys() | added.keys():
        gone, came = removed.get(key, []), added.get(key, [])
        s, p, _ = key
        near = others(p)
        if not (gone and came and near is not None
                and all(isinstance(q.object, Literal) for q in (*gone, *came))
                and not any(view.is_asserted((s, y, q.object)) for q in gone for y in near)
                and not any(view.stored_in((s, p, q.object)) for q in came)
                and (p not in r.functional or len(list(view.asserted(s, p, None))) == 1)):
            rest_removed += gone
            rest_added += came
            continue
        ups = r.superproperties.get(p, ())
        for q in gone:
            if not view.is_asserted((s, p, q.object)):  # else still asserted in another graph
                drop.update(Quad(s, x, q.object, g) for x in ups
                            for g in view.stored_in((s, x, q.object)))
        for q in came:
            for x in ups:
                t = (s, x, q.object)
                if not view.contains(t) and junk(*t) is None:
                    add.add(Quad(*t, target(t)))
    return drop, add, rest_removed, rest_added
