"""The write path: net diff → version stamps → durable append → apply → ack.

Every writer (REST, bulk, SPARQL Update, Graph Store protocol, file loads) hands its removed and
added quads to ``Journal.commit``; one writer at a time. Because the change log is appended (and
fsynced) before the store is touched, and replayed on open, the store itself needs no
transaction: that is what lets large changesets use pyoxigraph's fast bulk writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode, Quad

from graph_store.changelog import ChangeLog
from graph_store.changeset import Changeset
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import RDF_TYPE, SEMCAT, XSD

log = logging.getLogger(__name__)

VERSION = NamedNode(SEMCAT + "version")
CREATED_AT = NamedNode(SEMCAT + "createdAt")
CREATED_BY = NamedNode(SEMCAT + "createdBy")
UPDATED_AT = NamedNode(SEMCAT + "updatedAt")
UPDATED_BY = NamedNode(SEMCAT + "updatedBy")
SYSTEM_PREDICATES = frozenset(p.value for p in (VERSION, CREATED_AT, CREATED_BY, UPDATED_AT,
                                                UPDATED_BY))
_INTEGER = NamedNode(XSD + "integer")
CHECKPOINT_EVERY_S = 1.0
_DATETIME = NamedNode(XSD + "dateTime")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Journal:
    def __init__(self, store: GraphStore, changelog: ChangeLog, layout: GraphLayout) -> None:
        self.store = store
        self.changelog = changelog
        self.layout = layout
        self.lock = threading.RLock()
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
                self.store.apply(cs)
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
                self.store.flush()
                self.changelog.mark_applied(self.applied_seq)
                self._checkpointed = self.applied_seq
            self._checkpointed_at = time.monotonic()

    def _exists(self, q: Quad) -> bool:
        return next(iter(self.store.quads(q.subject, q.predicate, q.object, q.graph_name)),
                    None) is not None

    def commit(
        self,
        removed: Iterable[Quad],
        added: Iterable[Quad],
        *,
        actor: str,
        message: str,
        workspace: str = "",
        exact: bool = False,
    ) -> Changeset | None:
        """Write one changeset; ``None`` when it would change nothing.

        ``exact`` promises that every removed quad exists and no added one does (the REST path
        knows this already), which skips a lookup per quad.
        """
        with self.lock:
            rem = {q for q in removed if q.predicate.value not in SYSTEM_PREDICATES}
            add = {q for q in added if q.predicate.value not in SYSTEM_PREDICATES}
            rem, add = rem - add, add - rem
            if not exact:
                rem = {q for q in rem if self._exists(q)}
                add = {q for q in add if not self._exists(q)}
            if not rem and not add:
                return None
            now = utc_now()
            versions = self._stamp(rem, add, actor, now)
            cs = Changeset(actor, message, now, tuple(rem - add), tuple(add - rem), versions,
                           workspace)
            cs = self.changelog.append(cs)
            self.store.apply(cs)
            self.applied_seq = cs.seq
            if time.monotonic() - self._checkpointed_at > CHECKPOINT_EVERY_S:
                self.checkpoint()
            return cs

    def _stamp(self, rem: set[Quad], add: set[Quad], actor: str, now: str) -> dict[str, int]:
        """Bump the version of every asset the change touches; adds the stamps to ``add``."""
        added_by_subject: dict[str, list[Quad]] = {}
        for q in add:
            if isinstance(q.subject, NamedNode) and self.layout.is_versioned(q.subject.value):
                added_by_subject.setdefault(q.subject.value, []).append(q)
        touched = set(added_by_subject) | {
            q.subject.value for q in rem
            if isinstance(q.subject, NamedNode) and self.layout.is_versioned(q.subject.value)
        }
        who = NamedNode(self.layout.iri("user/" + actor))
        versions: dict[str, int] = {}
        current: dict[str, tuple[dict[str, Quad], list[Quad]]] = {}
        for iri in touched:
            system: dict[str, Quad] = {}
            remaining: list[Quad] = []
            for q in self.store.quads(NamedNode(iri), None, None, None):
                if q.predicate.value in SYSTEM_PREDICATES:
                    system[q.predicate.value] = q
                    rem.add(q)
                elif q not in rem:
                    remaining.append(q)
            current[iri] = system, remaining
        # An asset absent from the store may have been deleted: its versions go on from the log.
        logged = self.changelog.latest_versions([i for i, (s, _) in current.items()
                                                 if VERSION.value not in s])
        for iri, (system, remaining) in current.items():
            subject = NamedNode(iri)
            old = system.get(VERSION.value)
            version = int(old.object.value) + 1 if old else logged.get(iri, 0) + 1
            versions[iri] = version
            new = added_by_subject.get(iri, [])
            content = sorted(new, key=lambda q: q.predicate.value != RDF_TYPE) + remaining
            if not content:
                continue  # deleted: the version records the deletion, no stamps remain
            graph = content[0].graph_name
            created_at = system.get(CREATED_AT.value)
            created_by = system.get(CREATED_BY.value)
            add.update((
                Quad(subject, VERSION, Literal(str(version), datatype=_INTEGER), graph),
                Quad(subject, UPDATED_AT, Literal(now, datatype=_DATETIME), graph),
                Quad(subject, UPDATED_BY, who, graph),
                Quad(subject, CREATED_AT,
                     created_at.object if created_at else Literal(now, datatype=_DATETIME), graph),
                Quad(subject, CREATED_BY, created_by.object if created_by else who, graph),
            ))
        return versions
