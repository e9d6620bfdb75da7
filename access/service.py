"""Access control by construction: who the current caller is, which graphs they may read, which
changes they may write, and which partition graph each asset lives in.

The caller travels in a context variable that the web layer sets per request (and tests set with
``acting_as``); without one, code runs as the local admin (CLI, in-process use). Every service
asks this module for the caller's readable graphs before it reads, and the journal asks it to
route and authorise every changeset before anything is logged, so no interface can forget.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pyoxigraph import NamedNode, Quad

from access.directory import (
    Directory,
    read_directory,
    read_policies,
    resolve,
    role_named,
    user_for,
)
from access.identity import LOCAL_ADMIN, Principal
from access.model import (
    EVERY_WORKSPACE,
    STANDARD_ROLES,
    Caller,
    Partition,
    decide,
)
from access.routing import PartitionRouting
from access.terms import (
    ACCESS_TYPES,
    TYPE,
    WATCHED,
    WORKSPACE,
    by_subject,
    lexical,
    semcat_term,
)
from graph_store.changeset import Changeset
from graph_store.errors import Forbidden, InputError, ValidationFailed
from graph_store.journal import SYSTEM_PREDICATES
from graph_store.layout import GraphLayout
from graph_store.protocol import Dataset, GraphStore
from reasoning.rules import CONSTRUCT_TEXT, ENABLED, RULE_CLASS, Rule

# The caller of the current request; the web layer sets it, in-process code is the local admin.
PRINCIPAL: ContextVar[Principal] = ContextVar("semcat_principal", default=LOCAL_ADMIN)


class AccessService(PartitionRouting):
    def __init__(self, store: GraphStore, layout: GraphLayout) -> None:
        self._store = store
        self._layout = layout
        self._pii = layout.iri("classification/pii")
        self._lock = threading.Lock()
        self._directory: Directory | None = None
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
            cached = self._callers[key] = resolve(self._store, self._layout, principal, snap)
        return cached

    # -- reads ---------------------------------------------------------------------------------
    def data_graphs(self) -> list[NamedNode]:
        """The graphs of asserted catalog data the caller may read: everything but the
        ontology (shipped and custom), the shapes and the inferred graphs."""
        skip = {self._layout.ontology.value, self._layout.custom_ontology.value,
                self._layout.shapes.value}
        readable = self.readable()
        return [g for g in self._store.named_graphs() if isinstance(g, NamedNode)
                and g.value not in skip and not self._layout.is_inferred(g)
                and (readable is None or g.value in readable)]

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
        if not role_named(self._layout, workspace, role, self._snapshot()):
            known = sorted({*STANDARD_ROLES, *(self._layout.key(r).rsplit("/", 1)[-1]
                                               for r in self._snapshot().role_grants)})
            raise InputError(f"no role {role!r} in workspace {workspace!r}; use one of {known}")

    def check_user(self, subject: str) -> None:
        """Refuse a key subject that names no user (by id or e-mail): a typo, most likely."""
        if user_for(self._store, self._layout, subject, self._snapshot()) is None:
            raise InputError(f"no user {subject!r} in the catalog; give a User's id (e.g. "
                             "user/alice) or e-mail")

    def check_workspace(self, workspace: str) -> None:
        """Refuse a workspace the catalog knows neither as a Workspace nor by its data."""
        known = self.workspaces()
        if workspace not in known:
            raise InputError(f"no workspace {workspace!r}; use one of {sorted(known)}")

    def workspaces(self) -> set[str]:
        declared = {self._layout.key(lexical(q.subject))
                    for q in self._store.quads(None, TYPE, semcat_term("Workspace"), None)}
        used = {info[0].workspace for g in self._store.named_graphs()
                if (info := self.graph_info(g)) is not None}
        return declared | used

    # -- writes --------------------------------------------------------------------------------
    def moved_only(self, removed: set[Quad], added: set[Quad]) -> set[object]:
        """Data assets the change only moves between partition and link graphs (the same
        statements removed from some and added to others): routing's doing, not the caller's."""
        rem_by, add_by = by_subject(removed), by_subject(added)
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
                    "severity": "Violation", "focusNode": lexical(q.subject),
                    "path": q.predicate.value, "value": o.value,
                    "message": f"{self._layout.key(o.value)!r} is not an asset you can see: it "
                               "does not exist or you may not read it; create it first or fix "
                               "the reference"})
        if problems:
            raise ValidationFailed(f"{len(problems)} reference(s) to unknown assets; nothing "
                                   "was written", report=problems[:100])

    def permit(self, removed: set[Quad], added: set[Quad]) -> None:
        """Forbidden unless the caller may make this change, whether or not the store holds
        it already: a refusal that came only for a real change would tell hidden statements
        from absent ones (the journal's hook for changes that change nothing)."""
        self.authorize_workspaces(removed, added)
        self.authorize(removed, added)

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
        added_by, removed_by = by_subject(added), by_subject(removed)
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
                    if semcat_term("ClassificationRule") in kinds:
                        self._need(caller, "manage-rules", EVERY_WORKSPACE, s)
                    elif governs_access:
                        self._need(caller, "manage-access", EVERY_WORKSPACE, s)
                    else:
                        self._shared_vocabulary(caller, action, s, current | after)
                elif name in (self._layout.ontology.value, self._layout.custom_ontology.value):
                    self._need(caller, "manage-attributes" if semcat_term("CustomAttribute") in kinds
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
        owners = {self._layout.key(lexical(q.object)) for q in quads if q.predicate == WORKSPACE}
        if not owners:
            self._need(caller, action, EVERY_WORKSPACE, subject)
        for ws in owners:
            self._need(caller, action, ws, subject)

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
        # routing reads the policies as a change proposes them; they hold from here on, not
        # before: a proposal refused after routing (by authorisation, say) changes nothing
        if self._touches_policies(set(cs.removed), set(cs.added)):
            self.config = self._config(read_policies(self._store, self._layout))
        snap = self._directory
        for q in (*cs.removed, *cs.added):
            if q.predicate in WATCHED or (q.predicate == TYPE and q.object in ACCESS_TYPES) \
                    or (snap is not None and lexical(q.subject) in snap.subjects):
                with self._lock:
                    self._directory = None
                    self._generation += 1
                    self._callers.clear()
                return

    def _snapshot(self) -> Directory:
        snap = self._directory
        if snap is None:
            with self._lock:
                snap = self._directory = read_directory(self._store, self._layout)
        return snap
