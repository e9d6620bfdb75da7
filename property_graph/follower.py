"""Keeps the property graph in step with the change log, on a thread of its own.

Like the text index it re-reads what changed rather than replaying triples: a batch of
changesets names the resources it touched, and their current state in the store is written
to the graph, with the batch's last sequence number, in one transaction. The position lives
in the graph itself (a ``:SemcatProjection`` node), so a graph restored from a backup, a
server that was down or a semcat process that was killed all resume from where the graph
really is; re-reading is idempotent, so a batch written twice changes nothing.

It follows the log, not the projector: a Bolt server that is slow or away must never hold up
the projections the catalog's own reads wait for. Only changesets already applied to the
store are read, so the state it copies is never older than the position it records.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from pyoxigraph import NamedNode

from graph_store.changelog import ChangeLogBackend
from graph_store.changeset import Changeset
from graph_store.errors import SemcatError
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from property_graph.config import Neo4jConfig
from property_graph.cypher import GraphWriter
from property_graph.mapping import Mapper

log = logging.getLogger(__name__)
MAX_BATCH = 500  # changesets per transaction
CHUNK = 500  # resources per transaction of a rebuild
RETRY_S = 2.0  # after a failed write, the next try


class CatalogParts(Protocol):
    """What the projection needs of a Catalog (which sits in a layer above this one)."""

    @property
    def store(self) -> GraphStore: ...
    @property
    def layout(self) -> GraphLayout: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def changelog(self) -> ChangeLogBackend: ...


def touched(changesets: list[Changeset]) -> list[str]:
    """The resources a batch changed: the subjects of its statements, in order of first use."""
    found: dict[str, None] = {}
    for cs in changesets:
        for q in (*cs.removed, *cs.added):
            if isinstance(q.subject, NamedNode):
                found.setdefault(q.subject.value, None)
    return list(found)


class PropertyGraphProjection:
    """The projection of one catalog into one Bolt database."""

    def __init__(self, parts: CatalogParts, config: Neo4jConfig) -> None:
        self._parts = parts
        self.writer = GraphWriter(config)
        self.mapper = Mapper(parts.store, parts.layout)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self.position = 0
        self.error: str | None = None  # the last failure, until a write succeeds

    # -- one pass --------------------------------------------------------------------------
    def catch_up(self) -> int:
        """Project every applied changeset after the graph's position; returns how many."""
        stored = self.writer.position()
        # an empty graph, or one ahead of the log (the catalog was restored from an older
        # backup): copy the store as it is, then follow the log
        if stored is None or stored > self._parts.journal.applied_seq:
            self.rebuild()
            return 0
        self.position = stored
        done = 0
        for batch in self._batches():
            if self._stop.is_set():  # closing: the rest is caught up on the next start
                break
            self._project(batch)
            done += len(batch)
        return done

    def _batches(self) -> Iterator[list[Changeset]]:
        applied = self._parts.journal.applied_seq
        batch: list[Changeset] = []
        for cs in self._parts.changelog.since(self.position):
            if cs.seq > applied:
                break
            batch.append(cs)
            if len(batch) >= MAX_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def _project(self, batch: list[Changeset]) -> None:
        layout = self._parts.layout
        if any(q.graph_name in (layout.ontology, layout.custom_ontology)
               for cs in batch for q in (*cs.removed, *cs.added)):
            self.mapper.refresh_classes()  # labels follow the class hierarchy
        iris = touched(batch)
        # a bulk load touches many: several transactions, the position moving with the last
        for i in range(0, len(iris), CHUNK):
            chunk = iris[i:i + CHUNK]
            existing = self.writer.labels(chunk)
            last = i + CHUNK >= len(iris)
            self.writer.apply(self.mapper.describe(chunk, existing), existing,
                              batch[-1].seq if last else None)
        if not iris:
            self.writer.set_position(batch[-1].seq)
        self._advance(batch[-1].seq)

    def _advance(self, seq: int) -> None:
        with self._changed:
            self.position = seq
            self.error = None
            self._changed.notify_all()

    def rebuild(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Drop the projected graph and copy the store into it anew; returns the node count.
        The position is the one applied when the copy began: what lands during the copy is
        replayed after it, and replaying is idempotent."""
        seq = self._parts.journal.applied_seq
        self.writer.prepare()
        self.writer.clear()
        self.mapper.refresh_classes()
        subjects = self.mapper.typed_subjects()
        for i in range(0, len(subjects), CHUNK):
            if self._stop.is_set():  # closing: with no position, the next start copies again
                return i
            chunk = subjects[i:i + CHUNK]
            self.writer.apply(self.mapper.describe(chunk, {}), {}, None)
            if on_progress:
                on_progress(min(i + CHUNK, len(subjects)), len(subjects))
        if on_progress and not subjects:
            on_progress(0, 0)
        self.writer.set_position(seq)
        self._advance(seq)
        return len(subjects)

    # -- following -------------------------------------------------------------------------
    def start(self) -> PropertyGraphProjection:
        """Follow the log on a thread: every applied changeset wakes it."""
        self._parts.journal.on_applied.append(self._on_applied)
        self._thread = threading.Thread(target=self._run, name="semcat-property-graph",
                                        daemon=True)
        self._thread.start()
        return self

    def _on_applied(self, cs: Changeset) -> None:  # inside the write: only a signal
        self._wake.set()

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            if not first:
                self._wake.wait(RETRY_S if self.error else None)
            first = False
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.catch_up()
            except SemcatError as e:
                self._failed(e.detail)
            except Exception as e:  # the graph repairs itself on the next pass
                log.exception("the property graph could not follow the change log")
                self._failed(str(e))

    def _failed(self, detail: str) -> None:
        log.warning("the property graph is behind at changeset %d: %s", self.position, detail)
        with self._changed:
            self.error = detail
            self._changed.notify_all()

    def behind(self) -> int:
        return max(0, self._parts.journal.applied_seq - self.position)

    def wait(self, position: int | None = None, timeout: float | None = None) -> bool:
        """Until the graph reflects changeset ``position`` (default: the last applied)."""
        target = self._parts.journal.applied_seq if position is None else position
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self.position < target:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def close(self) -> None:
        """Stop following (what is not projected yet is caught up on the next start)."""
        if self._on_applied in self._parts.journal.on_applied:
            self._parts.journal.on_applied.remove(self._on_applied)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.writer.close()

