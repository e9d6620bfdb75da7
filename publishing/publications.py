"""The publication policy: which workspaces and assets anyone may read without credentials.

A publication is one statement, ``<{base}/graph/system/publications> semcat:published <target>``,
in that system graph, written through the journal like every other change (so it is versioned,
audited and replayed). The target is a workspace (``{base}/id/acme``: every asset in it) or an
asset (``{base}/id/acme/table/...``: it and its parts, the columns of a table or everything in a
database).

What an anonymous reader then sees is decided once, as a ``Scope``: the partition graphs a
viewer of the published workspaces may read, minus every partition that a policy or PII singles
out (a graph whose partition carries classifications). So a PII column of a published table,
which lives in the workspace's PII partition, stays hidden, and so does anything a deny policy
hides from an ordinary viewer; within those graphs, only the published assets' own statements,
with references to unpublished assets dropped. Everything else answers exactly like an unknown
IRI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import NamedNode, Quad

from access.identity import LOCAL_ADMIN, Principal
from access.model import Caller
from access.service import AccessService
from access.terms import DATA_KIND_SEGMENTS, PART_OF, TYPE
from graph_store.errors import Forbidden, InputError, NotFound
from graph_store.journal import Journal
from graph_store.layout import RESERVED_WORKSPACES, GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import SEMCAT

PUBLISHED = NamedNode(SEMCAT + "published")
# Who may publish in a workspace besides instance admins: its admins (manage-access) and
# stewards (manage-rules), the roles that answer for what a workspace shows.
PUBLISH_ACTIONS = ("manage-access", "manage-rules")
# The principal of a request without credentials on a server that is not --open, for the
# routes that serve published data (sparql_api/routes/linked_data.py).
PUBLIC_READER = Principal("urn:semcat:anonymous", "published")
_EDITORS = frozenset(NamedNode(SEMCAT + p) for p in ("createdBy", "updatedBy"))
MAX_DEPTH = 8  # partOf hops from an asset up to a published ancestor (column → ... → database)


@dataclass(frozen=True)
class Publication:
    target: str  # a workspace or asset id
    kind: str    # "workspace" | "asset"

    def to_json(self) -> dict[str, str]:
        return {"id": self.target, "kind": self.kind}


@dataclass(frozen=True)
class Scope:
    """What one reader may see of the catalog's asserted data."""

    graphs: frozenset[str] | None  # readable graphs; None: every graph (instance admins)
    workspaces: frozenset[str] = frozenset()  # anonymous: the workspaces published whole
    assets: frozenset[str] = frozenset()      # anonymous: the assets published one by one
    anonymous: bool = False
    _covered: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)


class Publications:
    def __init__(self, store: GraphStore, layout: GraphLayout, access: AccessService,
                 journal: Journal) -> None:
        self._store = store
        self._layout = layout
        self._access = access
        self._journal = journal
        self.graph = layout.graph("system", "publications")

    # -- the policy ----------------------------------------------------------------------------
    def targets(self) -> list[Publication]:
        out = []
        for q in self._store.quads(self.graph, PUBLISHED, None, self.graph):
            if not isinstance(q.object, NamedNode):
                continue
            key = self._layout.key(q.object.value)
            out.append(Publication(key, "workspace" if "/" not in key else "asset"))
        return sorted(out, key=lambda p: p.target)

    def visible(self) -> list[Publication]:
        """The publications the caller may know of: those of what they may read."""
        caller = self._access.caller()
        return [p for p in self.targets() if caller.admin or (
            caller.can("read", p.target) if p.kind == "workspace"
            else self._readable_asset(NamedNode(self._layout.iri(p.target))))]

    def publish(self, target: str, *, actor: str) -> tuple[Publication, bool]:
        """Publish a workspace or an asset; ``(publication, created)``."""
        pub, node = self._check(target)
        if any(True for _ in self._store.quads(self.graph, PUBLISHED, node, self.graph)):
            return pub, False
        self._write([], [Quad(self.graph, PUBLISHED, node, self.graph)], actor,
                    f"publish {pub.target}", self._workspace(pub))
        return pub, True

    def unpublish(self, target: str, *, actor: str) -> Publication:
        pub, node = self._check(target)
        existing = list(self._store.quads(self.graph, PUBLISHED, node, self.graph))
        if not existing:
            raise NotFound(f"{pub.target!r} is not published; GET /api/v1/publications lists "
                           "what is")
        self._write(existing, [], actor, f"unpublish {pub.target}", self._workspace(pub))
        return pub

    def _check(self, target: str) -> tuple[Publication, NamedNode]:
        """The publication ``target`` names, once the caller may make it: an unknown or hidden
        asset is 404 (alike), an unknown workspace 422, a caller without rights 403."""
        if not target or target.startswith("/") or "://" in target:
            raise InputError(f"{target!r} is not a workspace or asset id (e.g. acme or "
                             "acme/table/pg/shop.sales.orders)")
        iri = self._layout.iri(target)
        key = self._layout.key(iri)
        if "/" not in key:
            if key in RESERVED_WORKSPACES:
                raise InputError(f"{key!r} is not a workspace")
            self._access.check_workspace(key)
            pub = Publication(key, "workspace")
        else:
            node = NamedNode(iri)
            if not self._is_data_asset(node) or not self._readable_asset(node):
                raise NotFound(f"no asset {key!r}: it does not exist or you may not read it")
            pub = Publication(key, "asset")
        ws = self._workspace(pub)
        caller = self._access.caller()
        if not any(caller.can(a, ws) for a in PUBLISH_ACTIONS):
            raise Forbidden(f"{caller.principal.subject} may not publish in workspace {ws!r}: "
                            "that takes an instance admin, or a workspace admin or steward of "
                            f"{ws!r}; nothing was changed", reason="missing permission publish")
        return pub, NamedNode(iri)

    def _write(self, removed: list[Quad], added: list[Quad], actor: str, message: str,
               workspace: str) -> None:
        """The system graph is written as the system, once the caller's right to publish has
        been checked above; the change log and the audit log still name the caller."""
        with self._access.acting_as(LOCAL_ADMIN):
            self._journal.commit(removed, added, actor=actor, message=message,
                                 workspace=workspace)

    @staticmethod
    def _workspace(pub: Publication) -> str:
        return pub.target.split("/", 1)[0]

    def _readable_asset(self, node: NamedNode) -> bool:
        readable = self._access.readable()
        return any(readable is None or getattr(q.graph_name, "value", None) in readable
                   for q in self._store.quads(node, TYPE, None, None)
                   if not self._layout.is_inferred(q.graph_name))

    def _is_data_asset(self, node: NamedNode) -> bool:
        parts = self._layout.key(node.value).split("/")
        return node.value.startswith(self._layout.id_base) and len(parts) > 2 and \
            parts[1] in DATA_KIND_SEGMENTS

    # -- scopes --------------------------------------------------------------------------------
    def scope(self, principal: Principal) -> Scope:
        """What ``principal`` may read: the published data for the anonymous reader, its
        readable graphs for everyone else."""
        if (principal.subject, principal.via) != (PUBLIC_READER.subject, PUBLIC_READER.via):
            return Scope(self._access.readable(self._access.caller(principal)))
        targets = self.targets()
        whole = frozenset(p.target for p in targets if p.kind == "workspace")
        assets = frozenset(self._layout.iri(p.target) for p in targets if p.kind == "asset")
        spaces = whole | {self._workspace(p) for p in targets}
        # a viewer of the published workspaces, and nothing more; its own principal per set of
        # workspaces, since the access service caches readable graphs by principal
        reader = Principal(PUBLIC_READER.subject, PUBLIC_READER.via,
                           grants=tuple((ws, "viewer") for ws in sorted(spaces)))
        caller = Caller(reader, permissions={ws: frozenset({"read"}) for ws in spaces})
        readable = self._access.readable(caller) or frozenset()
        graphs = frozenset(g for g in readable if self._public(g, spaces))
        return Scope(graphs, whole, assets, anonymous=True)

    def _public(self, graph: str, spaces: frozenset[str]) -> bool:
        info = self._access.graph_info(NamedNode(graph))
        return info is not None and all(
            p is None or (p.workspace in spaces and not p.targets) for p in info)

    def sees(self, scope: Scope, graph: object) -> bool:
        return isinstance(graph, NamedNode) and not self._layout.is_inferred(graph) and (
            scope.graphs is None or graph.value in scope.graphs)

    def covers(self, scope: Scope, iri: str) -> bool:
        """Whether ``scope`` shows the asset ``iri``: anything it has statements of, or for the
        anonymous reader, a published asset, or a part of one, in the public graphs."""
        if not scope.anonymous:
            return True
        if iri in scope._covered:
            return scope._covered[iri]
        node = NamedNode(iri)
        ok = False
        ws = self._layout.key(iri).split("/", 1)[0]
        if self._is_data_asset(node) and any(self.sees(scope, q.graph_name)
                                             for q in self._store.quads(node, TYPE, None, None)):
            ok = ws in scope.workspaces or self._published_ancestor(scope, node)
        scope._covered[iri] = ok
        return ok

    def _published_ancestor(self, scope: Scope, node: NamedNode) -> bool:
        seen: set[str] = set()
        frontier = [node]
        for _ in range(MAX_DEPTH + 1):
            nxt = []
            for n in frontier:
                if n.value in scope.assets:
                    return True
                seen.add(n.value)
                nxt += [q.object for q in self._store.quads(n, PART_OF, None, None)
                        if isinstance(q.object, NamedNode) and q.object.value not in seen
                        and self.sees(scope, q.graph_name)]
            if not nxt:
                return False
            frontier = nxt
        return False

    # -- descriptions --------------------------------------------------------------------------
    def describe(self, iri: str, scope: Scope) -> list[Quad]:
        """The asserted statements about ``iri`` that ``scope`` shows; ``[]`` when it shows
        nothing of it (unknown, hidden and unpublished alike)."""
        if not self.covers(scope, iri):
            return []
        quads = [q for q in self._store.quads(NamedNode(iri), None, None, None)
                 if self.sees(scope, q.graph_name) and not self._layout.is_provenance(q.graph_name)]
        if scope.anonymous:  # who edited it is the catalog's business, not the public's
            quads = [q for q in quads if q.predicate not in _EDITORS and not (
                isinstance(q.object, NamedNode) and
                self._is_data_asset(q.object) and not self.covers(scope, q.object.value))]
        return quads

    def assets(self, scope: Scope, kinds: Iterable[str]) -> list[str]:
        """The IRIs of assets of ``kinds`` (class IRIs) that ``scope`` shows, sorted."""
        out: set[str] = set()
        for kind in kinds:
            for q in self._store.quads(None, TYPE, NamedNode(kind), None):
                if isinstance(q.subject, NamedNode) and self.sees(scope, q.graph_name) and \
                        self.covers(scope, q.subject.value):
                    out.add(q.subject.value)
        return sorted(out)
