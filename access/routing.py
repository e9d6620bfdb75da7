"""Partition routing: which partition (or link) graph each asset's statements live in, so
that the graphs a caller may read hide exactly what policy hides. A mixin of ``AccessService``,
kept apart because placement is its own concern, beside reading and authorising."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pyoxigraph import NamedNode, Quad

from access.directory import Directory, read_policies
from access.model import Caller, Partition, PartitionConfig, Policy
from access.terms import (
    ACCESS_POLICY,
    CLASSIFICATION,
    DATA_KIND_SEGMENTS,
    MAX_VISITS,
    OWNER,
    PART_OF,
    POLICY_TERMS,
    TEAM,
    TYPE,
    WORKSPACE,
    by_subject,
    lexical,
)
from graph_store.errors import InputError
from graph_store.journal import SYSTEM_PREDICATES
from graph_store.layout import RESERVED_WORKSPACES, GraphLayout
from graph_store.overlay import Overlay
from graph_store.protocol import Dataset, GraphStore
from reasoning.access_classes import Derivation, contains_pii
from reasoning.rules import CONSTRUCT_TEXT, ENABLED, RULE_CLASS, Rule, evaluate, read_rules

log = logging.getLogger(__name__)


class PartitionRouting:
    """Routing and partition lookup over the service's store, layout and caches."""

    _store: GraphStore
    _layout: GraphLayout
    _pii: str
    _partitions: dict[str, tuple[Partition, Partition | None] | None]
    _rule_cache: list[Rule] | None
    config: PartitionConfig

    if TYPE_CHECKING:  # provided by AccessService
        def readable(self, caller: Caller | None = None) -> frozenset[str] | None: ...
        def _snapshot(self) -> Directory: ...

    # -- partitions ----------------------------------------------------------------------------
    def partition_of(self, graph: object) -> Partition | None:
        """The partition a workspace data graph holds; None for every other graph."""
        info = self.graph_info(graph)
        return info[0] if info is not None and info[1] is None else None

    def graph_info(self, graph: object) -> tuple[Partition, Partition | None] | None:
        """``(partition, None)`` for a partition graph; ``(subject's, object's)`` for a link
        graph, which holds the statements of one partition's assets that name an asset of
        another (lineage, containment): readable only to who may read both, so a hidden asset
        is not even named; None for every other graph."""
        if not isinstance(graph, NamedNode):
            return None
        value = graph.value
        if value in self._partitions:
            return self._partitions[value]
        prefix = f"{self._layout.base}/graph/"
        info: tuple[Partition, Partition | None] | None = None
        if value.startswith(prefix):
            segments = value[len(prefix):].split("/")
            if len(segments) == 2:
                ws, label = unquote(segments[0]), unquote(segments[1])
                if ws not in RESERVED_WORKSPACES:
                    own, _, other = label.partition("|")
                    mine = Partition.parse(ws, own, self._layout.id_base)
                    if other:
                        other_ws, _, other_label = other.partition("|")
                        info = (mine, Partition.parse(other_ws, other_label,
                                                      self._layout.id_base))
                    else:
                        info = (mine, None)
        if len(self._partitions) > 10_000:
            self._partitions.clear()
        self._partitions[value] = info
        return info

    def _link(self, source: NamedNode, target: NamedNode) -> NamedNode:
        mine, theirs = self.partition_of(source), self.partition_of(target)
        assert mine is not None and theirs is not None
        base = self._layout.id_base
        return self._layout.partition(
            mine.workspace, f"{mine.label(base)}|{theirs.workspace}|{theirs.label(base)}")

    def _inferred_source(self, graph: str) -> str | None:
        """The asserted graph an inferred graph mirrors (``inferred/{ws}/{p}``, and the rules
        engine's ``inferred/rules/{ws}/{p}`` and ``inferred/rules/propagated/{ws}/{p}``, and
        provenance's ``inferred/provenance/{ws}/{p}``)."""
        root = self._layout.inferred_root.value + "/"
        if not graph.startswith(root):
            return None
        rest = graph[len(root):]
        for family in ("rules/", "propagated/", "provenance/"):
            rest = rest.removeprefix(family)
        return f"{self._layout.base}/graph/{rest}"

    def _config(self, policies: Iterable[Policy]) -> PartitionConfig:
        ps = tuple(policies)
        return PartitionConfig(
            frozenset({self._pii, *(p.target for p in ps if p.target)}),
            frozenset(p.target for p in ps if p.target and p.except_owners))

    def route(self, removed: set[Quad], added: set[Quad],
              known: Mapping[str, list[Quad]]) -> tuple[set[Quad], set[Quad]]:
        """Place every asset the change affects in the partition graph its effective
        classifications (asserted, by a rule, along lineage, rolled up) and owners call for,
        merged with its container's (what hides a table hides its columns), and its statements
        that name an asset of another partition in the link graph between the two, within the
        same changeset. Affected are the assets it touches, and transitively what is derived
        from, part of or (for the roll-up) built on an asset whose partition changes; every
        asset, when the policies change."""
        self.check_placement(added)
        policy_change = self._touches_policies(removed, added)
        config = self._config(read_policies(self._store, self._layout, removed, added)) if policy_change \
            else self.config
        rem_by, add_by = by_subject(removed), by_subject(added)
        touched = {s for s, qs in (*add_by.items(), *rem_by.items())
                   if isinstance(s, NamedNode) and any(self.graph_info(q.graph_name) for q in qs)}
        view = Overlay(self._store, removed, added)
        derivation = self._derivation(view, touched, config, removed, added)
        start = set(touched) | set(derivation.changed_rules)
        everything = config != self.config
        if everything:
            start |= {q.subject for g in self._store.named_graphs() if self.partition_of(g)
                      for q in self._store.quads(None, TYPE, None, g)
                      if isinstance(q.subject, NamedNode)}
        teams = frozenset(self._snapshot().team_names.values()) | {  # incl. teams made now
            lexical(q.subject) for q in added if q.predicate == TYPE and q.object == TEAM}
        states: dict[NamedNode, tuple[set[Quad], set[Quad]]] = {}  # subject -> (now, after)
        targets: dict[NamedNode, NamedNode] = {}

        def state(s: NamedNode) -> tuple[set[Quad], set[Quad]]:
            if s not in states:
                current = known.get(s.value)
                now = set(current) if current is not None else set(self._store.quads(
                    s, None, None, None))
                states[s] = now, (now - rem_by.get(s, set())) | add_by.get(s, set())
            return states[s]

        fresh: dict[NamedNode, frozenset[str]] = {}

        def effective(y: NamedNode) -> frozenset[str]:
            return fresh[y] if y in fresh else derivation.stored(y)

        def tested(classes: frozenset[str]) -> Partition:
            return config.partition("", classes, ())

        queue = deque(sorted(start, key=str))
        queued = set(queue)
        visits: dict[NamedNode, int] = {}
        while queue:
            s = queue.popleft()
            queued.discard(s)
            visits[s] = visits.get(s, 0) + 1
            if visits[s] > MAX_VISITS:
                log.warning("routing %s did not settle; placing it as computed", s.value)
                continue
            now, after = state(s)
            infos = [i for i in (self.graph_info(q.graph_name) for q in after
                                 if q.predicate.value not in SYSTEM_PREDICATES) if i]
            if not infos:
                continue
            # the workspace its ids or its own statement name; the graphs only as a last resort
            declared = sorted(self._layout.key(lexical(q.object)) for q in after
                              if q.predicate == WORKSPACE)
            ws = self.namespace(s) or (declared[0] if declared else infos[0][0].workspace)
            derivation.forget(s)
            before = effective(s)
            classes = derivation.stored(s) if everything and s not in touched and \
                s not in derivation.changed_rules else derivation.effective(s, effective)
            fresh[s] = classes
            part = config.partition(ws, classes, (lexical(q.object) for q in after
                                                  if q.predicate == OWNER), teams)
            for parent in derivation.facts.objects(s, PART_OF):
                if parent != s and self._is_data_asset(parent):
                    above = targets.get(parent) or self._home(view.quads(parent, TYPE, None))
                    theirs = self.partition_of(above)
                    if theirs is not None and theirs.workspace == ws:
                        part = Partition(ws, part.targets | theirs.targets,
                                         part.owners | theirs.owners)
            previous = targets.get(s) or self._home(now)
            target = targets[s] = self._layout.partition(ws, part.label(self._layout.id_base))
            follow: set[NamedNode] = set()
            if tested(classes) != tested(before):
                follow |= derivation.facts.children(s)        # what it propagates to
                follow |= derivation.rollup_targets(s)         # what rolls it up
            if target != previous:
                follow |= derivation.facts.parts(s)            # what it contains
            for nxt in follow:
                if nxt not in queued and self._is_data_asset(nxt):
                    queued.add(nxt)
                    queue.append(nxt)
        moved = [s for s, target in targets.items()
                 if any(q.graph_name != target for q in states[s][0] if q.predicate == TYPE)]
        for o in moved:  # statements of other assets naming a moved one follow it
            for q in self._store.quads(None, None, o, None):
                r = q.subject
                if isinstance(r, NamedNode) and r not in targets and self.graph_info(
                        q.graph_name):
                    now, _ = state(r)
                    targets[r] = self._home(now) or q.graph_name  # type: ignore[assignment]
        return self._place(states, targets, removed, added, rem_by, add_by)

    def _place(self, states: dict[NamedNode, tuple[set[Quad], set[Quad]]],
               targets: dict[NamedNode, NamedNode], removed: set[Quad], added: set[Quad],
               rem_by: dict[object, set[Quad]], add_by: dict[object, set[Quad]]
               ) -> tuple[set[Quad], set[Quad]]:
        """The change with every routed asset's statements in their graphs. A statement the
        caller adds naming an asset it may not read stays beside its subject: it must not
        reveal, by where it lands or by a refusal, that the asset exists (SHACL then judges
        the reference as it judges one to an absent asset)."""
        readable = self.readable()
        homes: dict[NamedNode, NamedNode | None] = {}

        def home(o: NamedNode) -> NamedNode | None:
            if o in targets:
                return targets[o]
            if o not in homes:
                homes[o] = self._home(self._store.quads(o, TYPE, None, None)) \
                    if self._is_data_asset(o) else None
            return homes[o]

        out_rem, out_add = set(removed), set(added)
        for s, target in targets.items():
            now, after = states[s]
            placed = set()
            for q in after:
                g = q.graph_name
                if self.graph_info(g) and q.predicate.value not in SYSTEM_PREDICATES:
                    # (the journal re-stamps versions beside the type, in the home graph)
                    g = target
                    o = q.object  # type: ignore[assignment]
                    if isinstance(o, NamedNode) and o != s and self._is_data_asset(o):
                        theirs = home(o)
                        if theirs is not None and theirs != target and not (
                                readable is not None and q in added and q not in now
                                and theirs.value not in readable):
                            g = self._link(target, theirs)
                placed.add(q if g == q.graph_name else Quad(q.subject, q.predicate, q.object, g))
            if placed == after:
                continue
            out_rem -= rem_by.get(s, set())
            out_add -= add_by.get(s, set())
            out_rem |= now - placed
            out_add |= placed - now
        return out_rem, out_add  # the new config takes effect once applied (on_applied)

    def _derivation(self, view: Overlay, touched: set[NamedNode], config: PartitionConfig,
                    removed: set[Quad], added: set[Quad]) -> Derivation:
        """What derives the classifications routing needs; after a change to the rules, with
        every asset's conclusions under the new rules (``changed_rules``: whose differ)."""
        rules_changed = any(q.predicate in (CONSTRUCT_TEXT, ENABLED) or q.object == RULE_CLASS
                            for q in (*removed, *added))
        rules = read_rules(view, self._layout.id_base) if rules_changed else self._rules()
        graphs = self._derived_graphs()
        concluded: dict[NamedNode, set[NamedNode]] | None = None
        changed: set[NamedNode] = set()
        if rules_changed:
            concluded = {}
            dataset = Dataset(default=tuple(g for g in self._store.named_graphs()
                                            if isinstance(g, NamedNode)
                                            and not self._layout.is_inferred(g)
                                            and g != self._layout.shapes))
            for rule in rules:
                if rule.enabled and rule.compiled is not None:
                    for s, p, o in evaluate(self._store, dataset, rule.compiled,
                                            self._layout.id_base):
                        if p == CLASSIFICATION and isinstance(o, NamedNode):
                            concluded.setdefault(s, set()).add(o)
            stored: dict[NamedNode, set[NamedNode]] = {}
            for g in graphs[0]:
                for q in self._store.quads(None, CLASSIFICATION, None, g):
                    if isinstance(q.subject, NamedNode) and isinstance(q.object, NamedNode):
                        stored.setdefault(q.subject, set()).add(q.object)
            changed = {s for s in concluded.keys() | stored.keys()
                       if concluded.get(s, set()) != stored.get(s, set())}
        rollup = any(t == contains_pii(self._layout).value for t in config.targets)
        derivation = Derivation(self._store, view, self._layout,
                                [r for r in rules if r.enabled], touched, graphs,
                                rollup=rollup, concluded=concluded)
        derivation.changed_rules = changed
        return derivation

    def _rules(self) -> list[Rule]:
        if self._rule_cache is None:
            self._rule_cache = read_rules(self._store, self._layout.id_base)
        return self._rule_cache

    def _derived_graphs(self) -> tuple[list[NamedNode], list[NamedNode]]:
        """The classifier's graphs: (rule conclusions, propagation and inheritance)."""
        rules_root = self._layout.rule_inferred().value + "/"
        prop_root = self._layout.rule_inferred(propagated=True).value + "/"
        rules: list[NamedNode] = []
        propagated: list[NamedNode] = []
        for g in self._store.named_graphs():
            if isinstance(g, NamedNode) and g.value.startswith(rules_root):
                (propagated if g.value.startswith(prop_root) else rules).append(g)
        return rules, propagated

    def place_inferred(self, home: NamedNode, obj: object) -> NamedNode:
        """Where an inferred statement goes, given its subject's inferred graph: beside its
        subject, unless it names an asset of another partition (an inferred ``upstream``
        edge to a PII column): then in the inferred twin of the link graph between the two,
        so that inferences hide what the asserted data hides."""
        if not isinstance(obj, NamedNode) or not self._is_data_asset(obj):
            return home
        source = self._inferred_source(home.value)
        mine = NamedNode(source) if source else None
        if mine is None or self.partition_of(mine) is None:
            return home
        theirs = self._home(self._store.quads(obj, TYPE, None, None))
        if theirs is None or theirs == mine:
            return home
        return self._layout.inferred(self._link(mine, theirs))

    def _home(self, quads: Iterable[Quad]) -> NamedNode | None:
        """The partition graph of an asset: where its type statements are."""
        for q in quads:
            if q.predicate == TYPE and self.partition_of(q.graph_name):
                return q.graph_name  # type: ignore[return-value]
        return None

    def _is_data_asset(self, node: NamedNode) -> bool:
        parts = self._layout.key(node.value).split("/")
        return node.value.startswith(self._layout.id_base) and len(parts) > 2 and \
            parts[1] in DATA_KIND_SEGMENTS

    def _touches_policies(self, removed: set[Quad], added: set[Quad]) -> bool:
        return any(q.predicate in POLICY_TERMS or (q.predicate == TYPE and q.object ==
                                                     ACCESS_POLICY) for q in (*removed, *added))


    def namespace(self, term: object) -> str | None:
        """The workspace whose id space holds ``term`` (``{base}/id/{ws}/...``), if any: only
        those who may write that workspace may write statements about it, in any graph."""
        if not isinstance(term, NamedNode) or not term.value.startswith(self._layout.id_base):
            return None
        first, slash, _ = self._layout.key(term.value).partition("/")
        return unquote(first) if slash and first not in RESERVED_WORKSPACES else None

    def check_placement(self, added: set[Quad]) -> None:
        """Statements about a workspace's data assets live in that workspace's partition (or
        link) graphs: refuse them elsewhere, whoever writes them."""
        for q in added:
            s = q.subject
            ws = self.namespace(s)
            if ws is None or not self._is_data_asset(s):  # type: ignore[arg-type]
                continue
            info = self.graph_info(q.graph_name)
            if info is None or info[0].workspace != ws:
                where = getattr(q.graph_name, "value", "the default graph")
                raise InputError(
                    f"statements about {self._layout.key(lexical(s))!r} belong in workspace {ws!r}'s "
                    f"graphs, not <{where}>; write them to the default graph (?default, or no "
                    "GRAPH in SPARQL) to have them placed in their access partition")

