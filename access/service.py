"""Access control by construction: who the current caller is, which graphs they may read, which
changes they may write, and which partition graph each asset lives in.

The caller travels in a context variable that the web layer sets per request (and tests set with
``acting_as``); without one, code runs as the local admin (CLI, in-process use). Every service
asks this module for the caller's readable graphs before it reads, and the journal asks it to
route and authorise every changeset before anything is logged, so no interface can forget.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import unquote

from pyoxigraph import Literal, NamedNode, Quad

from access.identity import LOCAL_ADMIN, Principal
from access.model import (
    EVERY_WORKSPACE,
    STANDARD_ROLES,
    Caller,
    Partition,
    PartitionConfig,
    Policy,
    decide,
)
from graph_store.changeset import Changeset
from graph_store.errors import Forbidden, InputError, ValidationFailed
from graph_store.journal import SYSTEM_PREDICATES
from graph_store.layout import DATA_KINDS, RESERVED_WORKSPACES, GraphLayout
from graph_store.overlay import Overlay
from graph_store.protocol import Dataset, GraphStore
from ontology.namespaces import RDF_TYPE, SEMCAT
from reasoning.access_classes import Derivation, contains_pii
from reasoning.rules import CONSTRUCT_TEXT, ENABLED, RULE_CLASS, Rule, evaluate, read_rules

log = logging.getLogger(__name__)

# The caller of the current request; the web layer sets it, in-process code is the local admin.
PRINCIPAL: ContextVar[Principal] = ContextVar("semcat_principal", default=LOCAL_ADMIN)


def _v(term: object) -> str:
    """A term's lexical value (subjects and objects here are never quoted triples)."""
    return str(getattr(term, "value", term))


def _by_subject(quads: Iterable[Quad]) -> dict[object, set[Quad]]:
    out: dict[object, set[Quad]] = {}
    for q in quads:
        out.setdefault(q.subject, set()).add(q)
    return out


def _t(local: str) -> NamedNode:
    return NamedNode(SEMCAT + local)


TYPE = NamedNode(RDF_TYPE)
MEMBER_OF, HAS_ROLE, GRANTS = _t("memberOf"), _t("hasRole"), _t("grants")
WORKSPACE, EMAIL, NAME, OWNER = _t("workspace"), _t("email"), _t("name"), _t("owner")
CLASSIFICATION, SHARED_WITH, ACCESS_POLICY = _t("classification"), _t("sharedWith"), \
    _t("AccessPolicy")
PART_OF = _t("partOf")
MAX_VISITS = 8  # routing revisits an asset while what it depends on settles; a bound for cycles
_POLICY_TERMS = {_t(p) for p in ("effect", "action", "targetClassification", "targetWorkspace",
                                 "callerMemberOf", "callerProperty", "callerValue",
                                 "exceptOwners")}
# Resources whose writes change who may do what: managing them needs manage-access.
ACCESS_TYPES = frozenset(_t(c) for c in ("User", "Team", "Role", "Permission", "AccessPolicy",
                                          "Workspace"))
_DATA_KIND_SEGMENTS = frozenset(DATA_KINDS.values())
_TEAM = _t("Team")
_WATCHED = {MEMBER_OF, HAS_ROLE, GRANTS, EMAIL, SHARED_WITH, *_POLICY_TERMS}


@dataclass
class _Directory:
    """A snapshot of users, teams, roles, policies and sharing, rebuilt after access edits."""

    user_teams: dict[str, set[str]] = field(default_factory=dict)
    agent_roles: dict[str, set[str]] = field(default_factory=dict)
    role_grants: dict[str, frozenset[str]] = field(default_factory=dict)
    role_workspace: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)      # lower-cased e-mail -> user IRI
    team_names: dict[str, str] = field(default_factory=dict)  # lower-cased name -> team IRI
    policies: tuple[Policy, ...] = ()
    shared_from: dict[str, set[str]] = field(default_factory=dict)  # ws -> readers' workspaces
    subjects: set[str] = field(default_factory=set)  # every resource read into the snapshot


class AccessService:
    def __init__(self, store: GraphStore, layout: GraphLayout) -> None:
        self._store = store
        self._layout = layout
        self._pii = layout.iri("classification/pii")
        self._lock = threading.Lock()
        self._directory: _Directory | None = None
        self._generation = 0
        self._callers: dict[tuple[Principal, int], Caller] = {}
        self._readable: dict[tuple[Principal, int, tuple[str, ...]], frozenset[str]] = {}
        self._partitions: dict[str, tuple[Partition, Partition | None] | None] = {}
        self._rule_cache: list[Rule] | None = None  # classification rules, for routing
        self.config = self._config(self._snapshot().policies)
        self.instance_graphs = frozenset(g.value for g in (
            layout.ontology, layout.custom_ontology, layout.shapes, layout.directory))

    # -- the current caller --------------------------------------------------------------------
    @staticmethod
    def principal() -> Principal:
        return PRINCIPAL.get()

    @contextmanager
    def acting_as(self, principal: Principal) -> Iterator[Caller]:
        """Run the block as ``principal``: every read and write in it is checked for them."""
        token = PRINCIPAL.set(principal)
        try:
            yield self.caller(principal)
        finally:
            PRINCIPAL.reset(token)

    def caller(self, principal: Principal | None = None) -> Caller:
        principal = principal or PRINCIPAL.get()
        if principal.admin:
            return Caller(principal)
        snap = self._snapshot()
        key = (principal, self._generation)
        cached = self._callers.get(key)
        if cached is None:
            cached = self._callers[key] = self._resolve(principal, snap)
        return cached

    # -- reads ---------------------------------------------------------------------------------
    def readable(self, caller: Caller | None = None) -> frozenset[str] | None:
        """The graph IRIs the caller may read; ``None`` for everything (admins)."""
        caller = caller or self.caller()
        if caller.admin:
            return None
        graphs = tuple(sorted(g.value for g in self._store.named_graphs()
                              if isinstance(g, NamedNode)))
        key = (caller.principal, self._generation, graphs)
        cached = self._readable.get(key)
        if cached is not None:
            return cached
        snap = self._snapshot()
        out = set(self.instance_graphs.intersection(graphs))  # absent graphs cost time too
        for g in graphs:
            info = self.graph_info(NamedNode(g))
            if info is not None and all(
                    decide(caller, "read", part, snap.policies,
                           snap.shared_from.get(part.workspace, ()))
                    for part in info if part is not None):
                out.add(g)
        for g in graphs:
            source = self._inferred_source(g)
            if source is not None and source in out:
                out.add(g)
        if len(self._readable) > 1000:
            self._readable.clear()
        result = self._readable[key] = frozenset(out)
        return result

    def restrict(self, dataset: Dataset, *, infer: bool = True) -> Dataset:
        """Narrow a SPARQL dataset to the caller's graphs. The union becomes the list of
        readable graphs; named graphs the caller may not read behave as absent: asking for them
        reveals nothing, not even that they exist."""
        readable = self.readable()
        if readable is None:
            return dataset
        allowed = tuple(NamedNode(g) for g in sorted(readable)
                        if infer or not self._layout.is_inferred(NamedNode(g)))
        ok = {g.value for g in allowed}
        def keep(graphs: tuple[object, ...] | None) -> tuple[NamedNode, ...]:
            if graphs is None:
                return allowed
            return tuple(g for g in graphs if isinstance(g, NamedNode) and g.value in ok)
        return Dataset(default=keep(dataset.default), named=keep(dataset.named))

    def may_read_graph(self, graph: object) -> bool:
        readable = self.readable()
        return readable is None or (isinstance(graph, NamedNode) and graph.value in readable)

    def visible(self, quads: Iterable[Quad]) -> list[Quad]:
        """The quads in graphs the caller may read."""
        readable = self.readable()
        if readable is None:
            return list(quads)
        return [q for q in quads if isinstance(q.graph_name, NamedNode)
                and q.graph_name.value in readable]

    def require(self, action: str, workspace: str = EVERY_WORKSPACE) -> Caller:
        """Raise Forbidden unless the caller holds ``action`` in ``workspace`` (instance-wide
        for the default)."""
        caller = self.caller()
        if not caller.can(action, workspace):
            where = "instance-wide" if workspace == EVERY_WORKSPACE else \
                f"in workspace {workspace!r}"
            raise Forbidden(f"{caller.principal.subject} may not {action} {where}; ask an "
                            "admin for a role that grants it",
                            reason=f"missing permission {action}")
        return caller

    def check_role(self, workspace: str, role: str) -> None:
        """Refuse a role name that grants nothing in ``workspace`` (a typo, most likely)."""
        if not self._role_named(workspace, role, self._snapshot()):
            known = sorted({*STANDARD_ROLES, *(self._layout.key(r).rsplit("/", 1)[-1]
                                               for r in self._snapshot().role_grants)})
            raise InputError(f"no role {role!r} in workspace {workspace!r}; use one of {known}")

    def check_user(self, subject: str) -> None:
        """Refuse a key subject that names no user (by id or e-mail): a typo, most likely."""
        if self._user_for(subject, self._snapshot()) is None:
            raise InputError(f"no user {subject!r} in the catalog; give a User's id (e.g. "
                             "user/alice) or e-mail")

    def check_workspace(self, workspace: str) -> None:
        """Refuse a workspace the catalog knows neither as a Workspace nor by its data."""
        known = self.workspaces()
        if workspace not in known:
            raise InputError(f"no workspace {workspace!r}; use one of {sorted(known)}")

    def workspaces(self) -> set[str]:
        declared = {self._layout.key(_v(q.subject))
                    for q in self._store.quads(None, TYPE, _t("Workspace"), None)}
        used = {info[0].workspace for g in self._store.named_graphs()
                if (info := self.graph_info(g)) is not None}
        return declared | used

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
        engine's ``inferred/rules/{ws}/{p}`` and ``inferred/rules/propagated/{ws}/{p}``)."""
        root = self._layout.inferred_root.value + "/"
        if not graph.startswith(root):
            return None
        rest = graph[len(root):]
        for family in ("rules/", "propagated/"):
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
        config = self._config(self._read_policies(removed, added)) if policy_change \
            else self.config
        rem_by, add_by = _by_subject(removed), _by_subject(added)
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
            _v(q.subject) for q in added if q.predicate == TYPE and q.object == _TEAM}
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
            declared = sorted(self._layout.key(_v(q.object)) for q in after
                              if q.predicate == WORKSPACE)
            ws = self.namespace(s) or (declared[0] if declared else infos[0][0].workspace)
            derivation.forget(s)
            before = effective(s)
            classes = derivation.stored(s) if everything and s not in touched and \
                s not in derivation.changed_rules else derivation.effective(s, effective)
            fresh[s] = classes
            part = config.partition(ws, classes, (_v(q.object) for q in after
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
        return self._place(states, targets, removed, added, rem_by, add_by, policy_change,
                           config)

    def _place(self, states: dict[NamedNode, tuple[set[Quad], set[Quad]]],
               targets: dict[NamedNode, NamedNode], removed: set[Quad], added: set[Quad],
               rem_by: dict[object, set[Quad]], add_by: dict[object, set[Quad]],
               policy_change: bool, config: PartitionConfig) -> tuple[set[Quad], set[Quad]]:
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
        if policy_change:
            self.config = config
        return out_rem, out_add

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
            parts[1] in _DATA_KIND_SEGMENTS

    def _touches_policies(self, removed: set[Quad], added: set[Quad]) -> bool:
        return any(q.predicate in _POLICY_TERMS or (q.predicate == TYPE and q.object ==
                                                     ACCESS_POLICY) for q in (*removed, *added))

    def _read_policies(self, removed: set[Quad] = frozenset(),  # type: ignore[assignment]
                       added: set[Quad] = frozenset()) -> list[Policy]:  # type: ignore[assignment]
        """The access policies as they are (or will be, after removed/added)."""
        subjects = {q.subject for q in self._store.quads(None, TYPE, ACCESS_POLICY, None)}
        subjects |= {q.subject for q in (*removed, *added) if q.predicate in _POLICY_TERMS
                     or (q.predicate == TYPE and q.object == ACCESS_POLICY)}
        added_by = _by_subject(q for q in added if q.subject in subjects)
        policies = []
        for s in subjects:
            quads = (set(self._store.quads(s, None, None, None))  # type: ignore[arg-type]
                     - removed) | added_by.get(s, set())
            props: dict[str, str] = {}
            typed = False
            for q in quads:
                if q.predicate == TYPE and q.object == ACCESS_POLICY:
                    typed = True
                elif q.predicate.value.startswith(SEMCAT):
                    props[q.predicate.value[len(SEMCAT):]] = _v(q.object)
            if not typed:
                continue
            ws = props.get("targetWorkspace") or props.get("workspace")
            policies.append(Policy(
                _v(s), props.get("effect", "deny").lower(), props.get("action", "read"),
                props.get("targetClassification"),
                self._layout.key(ws) if ws else None, props.get("callerMemberOf"),
                props.get("callerProperty"), props.get("callerValue"),
                props.get("exceptOwners", "false").lower() in ("true", "1")))
        return sorted(policies, key=lambda p: p.iri)

    # -- writes --------------------------------------------------------------------------------
    def namespace(self, term: object) -> str | None:
        """The workspace whose id space holds ``term`` (``{base}/id/{ws}/...``), if any: only
        those who may write that workspace may write statements about it, in any graph."""
        if not isinstance(term, NamedNode) or not term.value.startswith(self._layout.id_base):
            return None
        first, slash, _ = self._layout.key(term.value).partition("/")
        return unquote(first) if slash and first not in RESERVED_WORKSPACES else None

    def moved_only(self, removed: set[Quad], added: set[Quad]) -> set[object]:
        """Data assets the change only moves between partition and link graphs (the same
        statements removed from some and added to others): routing's doing, not the caller's."""
        rem_by, add_by = _by_subject(removed), _by_subject(added)
        moved: set[object] = set()
        for s, gone in rem_by.items():
            new = add_by.get(s)
            if not new or not isinstance(s, NamedNode) or not self._is_data_asset(s):
                continue
            content = {(q.predicate, q.object) for q in gone
                       if q.predicate.value not in SYSTEM_PREDICATES}
            if content and content == {(q.predicate, q.object) for q in new
                                       if q.predicate.value not in SYSTEM_PREDICATES} and all(
                    self.graph_info(q.graph_name) for q in (*gone, *new)):
                moved.add(s)
        return moved

    def authorize_workspaces(self, removed: set[Quad], added: set[Quad], *,
                             moved: set[object] = frozenset()) -> None:  # type: ignore[assignment]
        """The first, coarse check: Forbidden unless the caller may write in every workspace
        whose ids the change touches. It depends on nothing hidden, so it may come before the
        checks that must treat hidden and absent alike (SHACL, references)."""
        caller = self.caller()
        if caller.admin:
            return
        for s in {q.subject for q in (*removed, *added)} - moved:
            ws = self.namespace(s)
            if ws is not None and not (caller.can("write", ws) or caller.can("delete", ws)
                                       or caller.can("manage-access", ws)):
                self._deny(caller, "write", f"workspace {ws!r}", s)

    def check_references(self, removed: set[Quad], added: set[Quad]) -> None:
        """Refuse (422) a new statement that names a data asset the caller cannot see, whether
        it does not exist or is hidden from the caller: one answer for both, so that naming an
        asset tells nothing about it; and a reference to a hidden asset would otherwise decide,
        through what the referrer derives from it, where the referrer lands."""
        readable = self.readable()
        before = {(q.subject, q.predicate, q.object) for q in removed}
        typed = {q.subject for q in added if q.predicate == TYPE}
        problems: list[dict[str, str]] = []
        for q in added:
            o = q.object
            if not isinstance(o, NamedNode) or (q.subject, q.predicate, o) in before or \
                    o in typed or o == q.subject or not self._is_data_asset(o):
                continue
            seen = any(q2 not in removed and (readable is None or getattr(
                q2.graph_name, "value", None) in readable)
                for q2 in self._store.quads(o, TYPE, None, None))
            if not seen:
                problems.append({
                    "severity": "Violation", "focusNode": _v(q.subject),
                    "path": q.predicate.value, "value": o.value,
                    "message": f"{self._layout.key(o.value)!r} is not an asset you can see: it "
                               "does not exist or you may not read it; create it first or fix "
                               "the reference"})
        if problems:
            raise ValidationFailed(f"{len(problems)} reference(s) to unknown assets; nothing "
                                   "was written", report=problems[:100])

    def authorize(self, removed: set[Quad], added: set[Quad], *,
                  moved: set[object] = frozenset()) -> None:  # type: ignore[assignment]
        """Raise Forbidden unless the caller may make every part of this change (but the
        moves routing adds: ``moved``)."""
        caller = self.caller()
        if caller.admin:
            return
        snap = self._snapshot()
        subjects: dict[object, set[object]] = {}
        for q in (*removed, *added):
            if q.subject not in moved:
                subjects.setdefault(q.subject, set()).add(q.graph_name)
        added_by, removed_by = _by_subject(added), _by_subject(removed)
        for s, graphs in subjects.items():
            current = set(self._store.quads(s, None, None, None))  # type: ignore[arg-type]
            after = (current - removed_by.get(s, set())) | added_by.get(s, set())
            kinds = {q.object for q in (*current, *after) if q.predicate == TYPE}
            governs_access = bool(kinds & ACCESS_TYPES)
            deleted = not any(q.predicate.value not in SYSTEM_PREDICATES for q in after)
            action = "manage-access" if governs_access else "delete" if deleted else "write"
            ws = self.namespace(s)
            if ws is not None:
                self._need(caller, action, ws, s)
            for g in graphs:
                info = self.graph_info(g)
                name = g.value if isinstance(g, NamedNode) else "the default graph"
                if info is not None:
                    part = info[0]
                    other = info[1]
                    if other is not None and any(q.graph_name == g for q in
                                                 added_by.get(s, ())) and not decide(
                            caller, "read", other, snap.policies,
                            snap.shared_from.get(other.workspace, ())):
                        # naming what you may not read; removing such a statement (deleting
                        # your own asset) reveals nothing and needs no read of the other side
                        self._deny(caller, "write", f"workspace {part.workspace!r}", s)
                    shared = snap.shared_from.get(part.workspace, ())
                    if not (decide(caller, action, part, snap.policies) and
                            decide(caller, "read", part, snap.policies, shared)):
                        self._deny(caller, action, f"workspace {part.workspace!r}", s)
                elif name == self._layout.directory.value:
                    if ws is not None:
                        continue  # a workspace's own resource (its roles): checked above
                    if _t("ClassificationRule") in kinds:
                        self._need(caller, "manage-rules", EVERY_WORKSPACE, s)
                    elif governs_access:
                        self._need(caller, "manage-access", EVERY_WORKSPACE, s)
                    else:
                        self._shared_vocabulary(caller, action, s, current | after)
                elif name in (self._layout.ontology.value, self._layout.custom_ontology.value):
                    self._need(caller, "manage-attributes" if _t("CustomAttribute") in kinds
                               else "manage-ontology", EVERY_WORKSPACE, s)
                elif name == self._layout.shapes.value:
                    self._need(caller, "manage-attributes", EVERY_WORKSPACE, s)
                elif name == self._layout.graph("rules").value:
                    self._need(caller, "manage-rules", EVERY_WORKSPACE, s)
                else:
                    self._deny(caller, "write", f"graph <{name}>", s)

    def _shared_vocabulary(self, caller: Caller, action: str, subject: object,
                           quads: set[Quad]) -> None:
        """Tags, glossary terms, platforms and classifications are shared by every workspace:
        changing one needs that action instance-wide, or in the workspace that owns it
        (``semcat:workspace``, before and after the change, so nobody moves one into theirs)."""
        owners = {self._layout.key(_v(q.object)) for q in quads if q.predicate == WORKSPACE}
        if not owners:
            self._need(caller, action, EVERY_WORKSPACE, subject)
        for ws in owners:
            self._need(caller, action, ws, subject)

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
                    f"statements about {self._layout.key(_v(s))!r} belong in workspace {ws!r}'s "
                    f"graphs, not <{where}>; write them to the default graph (?default, or no "
                    "GRAPH in SPARQL) to have them placed in their access partition")

    def _need(self, caller: Caller, action: str, workspace: str, subject: object) -> None:
        if not caller.can(action, workspace):
            self._deny(caller, action, "instance-wide" if workspace == EVERY_WORKSPACE else
                       f"workspace {workspace!r}", subject)

    def _deny(self, caller: Caller, action: str, where: str, subject: object) -> None:
        what = self._layout.key(getattr(subject, "value", str(subject)))
        raise Forbidden(f"{caller.principal.subject} may not {action} {what!r} ({where}); "
                        "nothing was written", reason=f"missing permission {action}")

    # -- the directory -------------------------------------------------------------------------
    def on_applied(self, cs: Changeset) -> None:
        if any(q.predicate in (CONSTRUCT_TEXT, ENABLED) or q.object == RULE_CLASS
               for q in (*cs.removed, *cs.added)):
            self._rule_cache = None
        snap = self._directory
        for q in (*cs.removed, *cs.added):
            if q.predicate in _WATCHED or (q.predicate == TYPE and q.object in ACCESS_TYPES) \
                    or (snap is not None and _v(q.subject) in snap.subjects):
                with self._lock:
                    self._directory = None
                    self._generation += 1
                    self._callers.clear()
                return

    def _snapshot(self) -> _Directory:
        snap = self._directory
        if snap is None:
            with self._lock:
                snap = self._directory = self._read_directory()
        return snap

    def _read_directory(self) -> _Directory:
        d = _Directory()
        quads = self._store.quads
        for q in quads(None, MEMBER_OF, None, None):
            d.user_teams.setdefault(_v(q.subject), set()).add(_v(q.object))
        for q in quads(None, HAS_ROLE, None, None):
            d.agent_roles.setdefault(_v(q.subject), set()).add(_v(q.object))
        grants: dict[str, set[str]] = {}
        for q in quads(None, GRANTS, None, None):
            grants.setdefault(_v(q.subject), set()).add(_v(q.object).rsplit("/", 1)[-1])
        for q in quads(None, TYPE, _t("Role"), None):
            role = _v(q.subject)
            slug = role.rsplit("/", 1)[-1]
            d.role_grants[role] = frozenset(grants.get(role) or STANDARD_ROLES.get(slug) or ())
            for w in quads(q.subject, WORKSPACE, None, None):  # type: ignore[arg-type]
                d.role_workspace[role] = self._layout.key(_v(w.object))
        for q in quads(None, EMAIL, None, None):
            d.emails[_v(q.object).lower()] = _v(q.subject)
        for q in quads(None, TYPE, _t("Team"), None):
            for n in quads(q.subject, NAME, None, None):  # type: ignore[arg-type]
                d.team_names[_v(n.object).lower()] = _v(q.subject)
            d.team_names.setdefault(self._layout.key(_v(q.subject)).lower(), _v(q.subject))
        d.policies = tuple(self._read_policies())
        for q in quads(None, SHARED_WITH, None, None):
            d.shared_from.setdefault(self._layout.key(_v(q.subject)), set()).add(
                self._layout.key(_v(q.object)))
        users = {_v(q.subject) for q in quads(None, TYPE, _t("User"), None)}
        d.subjects = {*users, *d.user_teams, *d.agent_roles, *d.role_grants,
                      *d.emails.values(), *d.team_names.values(), *(p.iri for p in d.policies)}
        return d

    def _resolve(self, principal: Principal, snap: _Directory) -> Caller:
        user = self._user_for(principal.subject, snap)
        teams = set(snap.user_teams.get(user, ())) if user else set()
        for group in principal.groups:
            team = snap.team_names.get(group.lower()) or snap.team_names.get(
                f"team/{group}".lower())
            if team:
                teams.add(team)
        permissions: dict[str, set[str]] = {}
        for agent in (user, *teams):
            for role in snap.agent_roles.get(agent or "", ()):
                scope = snap.role_workspace.get(role, EVERY_WORKSPACE)
                permissions.setdefault(scope, set()).update(snap.role_grants.get(role, ()))
        for ws, name in principal.grants:
            permissions.setdefault(ws, set()).update(self._role_named(ws, name, snap))
        attributes: dict[str, set[str]] = {}
        if user:
            for q in self._store.quads(NamedNode(user), None, None, None):
                if isinstance(q.object, Literal | NamedNode):
                    attributes.setdefault(q.predicate.value, set()).add(_v(q.object))
        return Caller(principal, user, frozenset(teams),
                      {k: frozenset(v) for k, v in attributes.items()},
                      {k: frozenset(v) for k, v in permissions.items()})

    def _user_for(self, subject: str, snap: _Directory) -> str | None:
        if "@" in subject and "/" not in subject:
            return snap.emails.get(subject.lower())
        iri = self._layout.iri(subject)
        if next(iter(self._store.quads(NamedNode(iri), TYPE, _t("User"), None)), None):
            return iri
        return None

    def _role_named(self, workspace: str, name: str, snap: _Directory) -> frozenset[str]:
        for key in (f"{workspace}/role/{name}", f"role/{name}"):
            grants = snap.role_grants.get(self._layout.iri(key))
            if grants:
                return grants
        return STANDARD_ROLES.get(name, frozenset())
