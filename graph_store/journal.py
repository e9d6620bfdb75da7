"""The write path: net diff → version stamps → append → apply → durable → ack.

Every writer (REST, bulk, SPARQL Update, Graph Store protocol, file loads) hands its removed and
added quads to ``Journal.commit``; one writer at a time. Because the change log is appended
before the store is touched, and replayed on open, the store itself needs no transaction: that
is what lets large changesets use pyoxigraph's fast bulk writes. The log is fsynced as each
writer lets go of the lock, once for every changeset appended meanwhile (group commit,
graph_store/write_lock.py), and always before the store is flushed at a checkpoint, so the
durable store never holds what the durable log does not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from pyoxigraph import Literal, NamedNode, Quad

from graph_store.changelog import ChangeLogBackend
from graph_store.changeset import Changeset
from graph_store.errors import Conflict, ValidationFailed
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from graph_store.write_lock import WriteLock
from ontology.namespaces import RDF_TYPE, SEMCAT, XSD

tracer = trace.get_tracer("semcat")
log = logging.getLogger(__name__)

VERSION = NamedNode(SEMCAT + "version")
CREATED_AT = NamedNode(SEMCAT + "createdAt")
CREATED_BY = NamedNode(SEMCAT + "createdBy")
UPDATED_AT = NamedNode(SEMCAT + "updatedAt")
UPDATED_BY = NamedNode(SEMCAT + "updatedBy")
_SYSTEM_TERMS = frozenset((VERSION, CREATED_AT, CREATED_BY, UPDATED_AT, UPDATED_BY))
SYSTEM_PREDICATES = frozenset(p.value for p in _SYSTEM_TERMS)
_INTEGER = NamedNode(XSD + "integer")
CHECKPOINT_EVERY_S = 10.0  # at most this much of the log is replayed after a crash
RETRIES = 3  # a change refused by a shared log because others wrote first is re-made this often
_DATETIME = NamedNode(XSD + "dateTime")
_TYPE = NamedNode(RDF_TYPE)


def agent(layout: GraphLayout, actor: str) -> NamedNode:
    """The PROV agent a changeset's actor names: the user of that name (``user/...``)."""
    return NamedNode(layout.iri(actor if actor.startswith("user/") else "user/" + actor))


def utc_now() -> str:
    """Now, as the store keeps an xsd:dateTime (canonical: no trailing zeros in the fraction),
    so that the change log and the store spell a timestamp alike."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "")
    whole, _, fraction = stamp.partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"


Results = list[dict[str, Any]]
# Validates a change before it is logged: (violations, warnings) as JSON-ready results.
Check = Callable[[set[Quad], set[Quad]], tuple[Results, Results]]
# Authorisation alone, for a change that turns out to change nothing: raises Forbidden.
Permit = Callable[[set[Quad], set[Quad]], None]
# Rewrites a change before it is checked (e.g. moves assets between access partitions); gets the
# assets' current quads where the caller knows them.
Prepare = Callable[[set[Quad], set[Quad], Mapping[str, list[Quad]]], tuple[set[Quad], set[Quad]]]


class Journal:
    def __init__(self, store: GraphStore, changelog: ChangeLogBackend, layout: GraphLayout, *,
                 prepare: Prepare | None = None, check: Check | None = None,
                 permit: Permit | None = None) -> None:
        self.store = store
        self.changelog = changelog
        self.layout = layout
        self.prepare = prepare  # e.g. routes assets to their access partitions
        self.check = check  # validation and authorisation; skipped by unchecked commits
        # a caller must be allowed what it asks even when it is so already: else a refusal
        # that comes only for a real change tells hidden statements from absent ones
        self.permit = permit
        # projections of the log (indexes, reasoners, audit), in the order they are told
        self.on_applied: list[Callable[[Changeset], None]] = []
        self.lock = WriteLock(changelog.sync)
        # a log other nodes append to (graph_store/nats_changelog.py): appends name the position
        # they were validated at, and changesets of other nodes are applied as they come
        self.shared = bool(getattr(changelog, "shared", False))
        self.following = False  # applying changesets of other nodes (validated there, not here)
        self.applied_seq = self._checkpointed = changelog.applied_seq
        self._checkpointed_at = time.monotonic()

    def recover(self) -> int:
        """Apply what the log holds beyond the last checkpoint; returns how many changesets.

        The checkpoint is a lower bound, so some of these may be in the store already: applying
        a suffix of the log again, in order, is harmless (each changeset's removed and added
        sets are disjoint, so every quad ends as its last changeset left it).
        """
        n = 0
        with self.lock:
            for cs in self.changelog.since(self.applied_seq):
                self.store.apply_logged(cs)
                self.applied_seq = cs.seq
                n += 1
            self.checkpoint()
        if n:
            log.info("replayed %d changesets from the change log", n)
        return n

    def checkpoint(self) -> None:
        """Record how far the store is durable: flush it, then move the log's mark."""
        with self.lock:
            if self._checkpointed < self.applied_seq:
                self.changelog.sync(self.applied_seq)
                self.store.flush()
                self.changelog.mark_applied(self.applied_seq)
                self._checkpointed = self.applied_seq
            self._checkpointed_at = time.monotonic()

    def _exists(self, q: Quad) -> bool:
        return next(iter(self.store.quads(q.subject, q.predicate, q.object,  # type: ignore[arg-type]
                                          q.graph_name)), None) is not None

    @tracer.start_as_current_span("journal.commit")
    def commit(
        self,
        removed: Iterable[Quad],
        added: Iterable[Quad],
        *,
        actor: str,
        message: str,
        workspace: str = "",
        exact: bool = False,
        known: Mapping[str, list[Quad]] | None = None,
        pinned: NamedNode | None = None,
        checked: bool = True,
    ) -> Changeset | None:
        """Write one changeset; ``None`` when it would change nothing.

        ``exact`` promises that every removed quad exists and no added one does, and ``known``
        gives assets' current quads: callers that have read them already (the REST path) spare
        a store lookup per quad and per asset. ``pinned`` is a graph the writer named (Graph
        Store protocol): if preparing the change would move what it adds there elsewhere (to
        another access partition), the write is refused rather than relocated. ``checked``
        is False only for the system's own copy of the shipped vocabulary, on open.
        """
        if self.shared:  # a retry makes the change again from what the caller asked
            removed, added = list(removed), list(added)
        with self.lock:
            for attempt in range(RETRIES + 1):
                try:
                    return self._commit(removed, added, actor=actor, message=message,
                                        workspace=workspace, exact=exact, known=known,
                                        pinned=pinned, checked=checked)
                except StaleChange:
                    # others wrote the assets first: their changes are applied here now; a
                    # caller that read the assets itself must read them again (409)
                    self.follow()
                    if exact or known is not None or attempt == RETRIES:
                        raise
        raise AssertionError("unreachable")

    def _commit(self, removed: Iterable[Quad], added: Iterable[Quad], *, actor: str,
                message: str, workspace: str, exact: bool,
                known: Mapping[str, list[Quad]] | None, pinned: NamedNode | None,
                checked: bool) -> Changeset | None:
        """The body of ``commit``, under the journal lock."""
        rem = {q for q in removed if q.predicate not in _SYSTEM_TERMS}
        add = {q for q in added if q.predicate not in _SYSTEM_TERMS}
        rem, add = rem - add, add - rem
        wanted = rem, add
        if not exact:
            rem = {q for q in rem if self._exists(q)}
            add = {q for q in add if not self._exists(q)}
        if self.prepare is not None and (rem or add):
            asked = add
            rem, add = self.prepare(rem, add, known or {})
            if pinned is not None:
                if self.permit is not None and checked:  # 403 before a 409 naming a partition
                    self.permit(*wanted)
                moved, placed = _relocated(pinned, asked, add)
                if placed and self.permit is not None and checked:
                    # the caller may write where it asked but not where the statements go:
                    # refused as a write there, so the 409 never names a partition it cannot read
                    self.permit(set(), placed)
                _refuse_relocation(pinned, moved, placed)
        if not rem and not add:
            if self.permit is not None and checked and (wanted[0] or wanted[1]):
                self.permit(*wanted)
            return None
        warnings: Results = []
        if self.check is not None and checked:
            violations, warnings = self.check(rem, add)
            if violations:
                raise ValidationFailed(
                    f"{len(violations)} violation(s) of the shapes or the ontology; "
                    "nothing was written",
                    report=violations + warnings)
        now = utc_now()
        versions = self._stamp(rem, add, actor, now, known or {})
        cs = Changeset(actor, message, now, tuple(rem - add), tuple(add - rem), versions,
                       workspace)
        if not self.shared:
            cs = self.changelog.append(cs)
        else:
            try:
                cs = self.changelog.append(cs, after=self.applied_seq,
                                           reads={*(known or ()), *self._referenced(add)})
            except Conflict as e:
                raise StaleChange(e.detail) from e
            self.follow(upto=cs.seq - 1)  # what other nodes logged before it, first
        cs = replace(cs, warnings=tuple(warnings))
        self.lock.owe(cs.seq)  # durable before the caller hears of it
        self._apply(cs)
        return cs

    def _apply(self, cs: Changeset) -> None:
        """Apply a logged changeset to the store and hand it to the projections (the lock is
        held): a write of this node, or, with a shared log, one of another node's."""
        self.store.apply_logged(cs)
        self.applied_seq = cs.seq
        for callback in self.on_applied:
            try:
                callback(cs)
            except Exception:  # the write is durable: a projection catches up later
                log.exception("a projection could not follow changeset %d (%s)", cs.seq,
                              getattr(callback, "__qualname__", callback))
        if time.monotonic() - self._checkpointed_at > CHECKPOINT_EVERY_S:
            self.checkpoint()

    def _referenced(self, add: set[Quad]) -> set[str]:
        """Assets the change refers to (a table's schema, an owner): it was validated against
        them as they stood at its position, so it commits only if they are unchanged since."""
        versioned: dict[str, bool] = {}
        for q in add:
            o = q.object
            if isinstance(o, NamedNode) and q.predicate not in _SYSTEM_TERMS and \
                    q.predicate != _TYPE and o.value not in versioned:
                versioned[o.value] = self.layout.is_versioned(o.value)
        return {iri for iri, ok in versioned.items() if ok}

    def follow(self, upto: int | None = None) -> int:
        """Apply, in log order, what the log holds beyond this node's position (up to
        ``upto``): other nodes' changesets on a shared log. Returns how many."""
        n = 0
        with self.lock:
            if upto is not None and upto <= self.applied_seq:
                return 0
            self.following = True
            try:
                for cs in self.changelog.since(self.applied_seq):
                    if upto is not None and cs.seq > upto:
                        break
                    if cs.seq > self.applied_seq:
                        self._apply(cs)
                        n += 1
            finally:
                self.following = False
        return n

    def _stamp(self, rem: set[Quad], add: set[Quad], actor: str, now: str,
               known: Mapping[str, list[Quad]]) -> dict[str, int]:
        """Bump the version of every asset the change touches; adds the stamps to ``add``.

        This runs once per quad of every write, so it works on terms, not strings, and asks
        the layout once per subject."""
        is_asset: dict[object, bool] = {}
        added: dict[NamedNode, list[Quad]] = {}
        touched: set[NamedNode] = set()
        for quads, group in ((add, True), (rem, False)):
            for q in quads:
                s = q.subject
                ok = is_asset.get(s)
                if ok is None:
                    ok = is_asset[s] = isinstance(s, NamedNode) and self.layout.is_versioned(s.value)
                if ok:
                    touched.add(s)  # type: ignore[arg-type]
                    if group:
                        added.setdefault(s, []).append(q)  # type: ignore[arg-type]
        who = agent(self.layout, actor)
        now_literal = Literal(now, datatype=_DATETIME)
        current: dict[NamedNode, tuple[dict[str, Quad], list[Quad]]] = {}
        for subject in touched:
            system: dict[str, Quad] = {}
            remaining: list[Quad] = []
            given = known.get(subject.value)
            for q in given if given is not None else self.store.quads(subject, None, None, None):
                p = q.predicate
                if p in _SYSTEM_TERMS:
                    system[p.value] = q
                    rem.add(q)
                elif q not in rem:
                    remaining.append(q)
            current[subject] = system, remaining
        # An asset absent from the store may have been deleted: its versions go on from the log.
        logged = self.changelog.latest_versions([s.value for s, (sys_, _) in current.items()
                                                 if VERSION.value not in sys_])
        versions: dict[str, int] = {}
        for subject, (system, remaining) in current.items():
            old = system.get(VERSION.value)
            version = int(old.object.value) + 1 if old else logged.get(subject.value, 0) + 1  # type: ignore[union-attr]
            versions[subject.value] = version
            new = added.get(subject)
            if not remaining and not new:
                continue  # deleted: the version records the deletion, no stamps remain
            # Stamps live beside the asset's type: its home (partition) graph.
            graph = next((q.graph_name for q in (*(new or ()), *remaining) if q.predicate == _TYPE),
                         remaining[0].graph_name if remaining else new[0].graph_name)  # type: ignore[index]
            created_at = system.get(CREATED_AT.value)
            created_by = system.get(CREATED_BY.value)
            add.update((
                Quad(subject, VERSION, Literal(str(version), datatype=_INTEGER), graph),
                Quad(subject, UPDATED_AT, now_literal, graph),
                Quad(subject, UPDATED_BY, who, graph),
                Quad(subject, CREATED_AT, created_at.object if created_at else now_literal, graph),
                Quad(subject, CREATED_BY, created_by.object if created_by else who, graph),
            ))
        return versions


class StaleChange(Conflict):
    """A shared log refused the change: assets it touched changed on another node since the
    position it was validated at."""


def _relocated(graph: NamedNode, asked: set[Quad],
               added: set[Quad]) -> tuple[list[Quad], set[Quad]]:
    """The statements written to ``graph`` that routing does not leave there, and where it
    places them instead."""
    moved = [q for q in asked if q.graph_name == graph and q not in added]
    triples = {(q.subject, q.predicate, q.object) for q in moved}
    return moved, {p for p in added if (p.subject, p.predicate, p.object) in triples}


def _refuse_relocation(graph: NamedNode, moved: list[Quad], placed: set[Quad]) -> None:
    if not moved:
        return
    q = moved[0]
    where = next((p.graph_name for p in placed if (p.subject, p.predicate, p.object) ==
                  (q.subject, q.predicate, q.object)), None)
    raise Conflict(
        f"{len(moved)} statement(s) written to <{graph.value}> belong in another graph, e.g. "
        f"<{getattr(q.subject, 'value', q.subject)}>'s go to "
        f"<{getattr(where, 'value', 'another access partition')}> (its access partition); "
        "nothing was written. Write them to the default graph (?default) to have them placed, "
        "or name the graph they belong in")
