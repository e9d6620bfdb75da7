"""Embedded pyoxigraph backend (on-disk RocksDB, or in memory for tests)."""

from __future__ import annotations

import gc
import logging
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from opentelemetry import trace
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat, Store, Triple

from graph_store.changeset import Changeset
from graph_store.errors import BackendError, InputError
from graph_store.lock import StoreLock
from graph_store.protocol import Dataset, GraphName, Object, Subject
from graph_store.sparql_errors import readable_syntax_error

tracer = trace.get_tracer("semcat")
BACKUP_ATTEMPTS = 5
log = logging.getLogger(__name__)

# Up to ATOMIC_LIMIT quads a changeset is one SPARQL transaction, so readers never see half of
# it; larger ones are written with extend, and beyond BULK_LIMIT with pyoxigraph's bulk loader:
# much faster, not atomic for concurrent readers; the change log keeps them crash-safe.
ATOMIC_LIMIT = 2_000
BULK_LIMIT = 20_000
# What the store asserts about a subject is kept in memory for this many subjects (of at most
# ABOUT_LIMIT statements each): one write reads its asset, the asset's neighbours and their
# classes several times over (SHACL, routing, rules), and rarely-changing neighbours are read
# by every write. RocksDB is fast, but each quad costs a Python object.
ABOUT_SUBJECTS = 20_000
ABOUT_LIMIT = 1_000
_UNREAD = object()


def _triples_text(quads: tuple[Quad, ...] | list[Quad]) -> str:
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        g = "" if isinstance(q.graph_name, DefaultGraph) else str(q.graph_name)
        by_graph.setdefault(g, []).append(f"{q.subject} {q.predicate} {_term(q.object)} .")
    return " ".join(
        " ".join(lines) if not g else f"GRAPH {g} {{ {' '.join(lines)} }}"
        for g, lines in by_graph.items()
    )


def _term(term: object) -> str:
    """A term as SPARQL 1.2 writes it: a triple term (provenance's) is ``<<( s p o )>>``."""
    if isinstance(term, Triple):
        return f"<<( {term.subject} {term.predicate} {_term(term.object)} )>>"
    return str(term)


def _has_blank(quads: tuple[Quad, ...]) -> bool:
    return any(
        isinstance(q.subject, BlankNode) or _blank(q.object) or isinstance(q.graph_name, BlankNode)
        for q in quads
    )


def _blank(term: object) -> bool:
    """A blank node, or a triple term holding one (DELETE DATA cannot name either)."""
    if isinstance(term, Triple):
        return isinstance(term.subject, BlankNode) or _blank(term.object)
    return isinstance(term, BlankNode)


def run_query(store: Store, sparql: str, dataset: Dataset, base_iri: str | None) -> object:
    """``sparql`` over ``dataset`` in ``store`` (also what a query worker runs)."""
    try:
        return store.query(
            sparql,
            base_iri=base_iri,
            use_default_graph_as_union=dataset.default is None,
            default_graph=list(dataset.default) if dataset.default is not None else None,
            named_graphs=list(dataset.named) if dataset.named is not None else None,
        )
    except SyntaxError as e:
        raise readable_syntax_error(e, sparql) from e
    except OSError as e:
        raise BackendError(f"query failed: {e}") from e


class OxigraphStore:
    """A pyoxigraph ``Store``. It keeps no bookkeeping of its own: every quad in it is catalog
    data, so the union of its graphs is a caller's whole dataset (see ``Journal`` for replay)."""

    def __init__(self, path: Path | None, *, derived: str | None = None) -> None:
        """``derived`` is the IRI under which projection graphs live (inferred triples):
        ``quads`` with no graph skips them, so every read of the current asserted state (asset
        documents, version stamps, routing, SHACL) is blind to what a reasoner added."""
        self._lock = StoreLock.acquire(path) if path else None  # before RocksDB opens it
        try:
            self._store = Store(str(path)) if path else Store()
        except OSError as e:
            self._release()
            raise BackendError(f"cannot open the store at {path}: {e}") from e
        self._derived_root = derived
        self._derived: set[NamedNode | BlankNode] = set()
        self._find_derived()
        self._about: dict[object, tuple[Quad, ...] | None] = {}  # subject -> asserted quads
        self._epoch = 0  # bumped by every change to asserted graphs, after it is written
        self._about_lock = threading.Lock()
        self._graphs: tuple[NamedNode | BlankNode, ...] | None = None  # named_graphs, kept
        self._graph_set: frozenset[object] = frozenset()
        self._graphs_epoch = 0  # bumped by every change that may add or drop a graph

    def _is_derived(self, graph: NamedNode | BlankNode) -> bool:
        root = self._derived_root
        return root is not None and isinstance(graph, NamedNode) and (
            graph.value == root or graph.value.startswith(root + "/"))

    def _find_derived(self) -> None:
        self._derived = {g for g in self._store.named_graphs() if self._is_derived(g)}

    @tracer.start_as_current_span("store.apply")
    def apply(self, changeset: Changeset, /) -> None:
        """Idempotent: replaying a suffix of the log in order converges to the same state."""
        try:
            self._apply(changeset)
            self._drop_emptied(changeset)
        finally:
            self._regraph({q.graph_name for q in changeset.added})
            derived = self._derived
            self._forget(None if changeset.size > ABOUT_SUBJECTS else {
                q.subject for q in (*changeset.removed, *changeset.added)
                if q.graph_name not in derived})

    def apply_logged(self, changeset: Changeset, /) -> None:
        """An embedded store is one node's own: the log's changesets come in order."""
        self.apply(changeset)

    def _drop_emptied(self, changeset: Changeset) -> None:
        """pyoxigraph keeps a named graph after its last quad is gone; an asset moved out of an
        access partition must not leave it listed (every listed graph costs readers time)."""
        emptied = {q.graph_name for q in changeset.removed} - {q.graph_name for q in
                                                               changeset.added}
        try:
            for g in emptied:
                if isinstance(g, NamedNode) and next(iter(
                        self._store.quads_for_pattern(None, None, None, g)), None) is None:
                    self._store.remove_graph(g)
                    self._derived.discard(g)
                    self._regraph(None)
        except OSError as e:
            raise BackendError(f"could not apply changeset {changeset.seq}: {e}") from e

    def _apply(self, changeset: Changeset) -> None:
        try:
            if not changeset.removed and len(changeset.added) <= BULK_LIMIT:
                self._store.extend(changeset.added)  # one transaction, with no text to parse
                return
            if changeset.size <= ATOMIC_LIMIT and not _has_blank(changeset.removed + changeset.added):
                self._store.update(f"DELETE DATA {{ {_triples_text(changeset.removed)} }} ;"
                                   f" INSERT DATA {{ {_triples_text(changeset.added)} }}")
                return
            for q in changeset.removed:
                self._store.remove(q)
            if len(changeset.added) > BULK_LIMIT:
                self._store.bulk_extend(changeset.added)
            else:
                self._store.extend(changeset.added)
        except (OSError, SyntaxError) as e:
            raise BackendError(f"could not apply changeset {changeset.seq}: {e}") from e

    @tracer.start_as_current_span("store.query")
    def query(self, sparql: str, /, *, dataset: Dataset, base_iri: str | None = None) -> object:
        return run_query(self._store, sparql, dataset, base_iri)

    def quads(
        self,
        subject: Subject | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
        graph: GraphName | None = None,
    ) -> Iterator[Quad]:
        if graph is None and subject is not None and self._derived_root is not None:
            about = self._asserted_about(subject)
            if about is not None:
                if predicate is None and object is None:
                    return iter(about)
                return (q for q in about if (predicate is None or q.predicate == predicate)
                        and (object is None or q.object == object))
        found = self._store.quads_for_pattern(subject, predicate, object, graph)
        if graph is not None or not self._derived:
            return found
        derived = self._derived
        return (q for q in found if q.graph_name not in derived)

    def derived(self, subject: Subject | None = None, predicate: NamedNode | None = None,
                object: Object | None = None) -> Iterator[Quad]:
        if subject is None and object is None:
            raise ValueError("derived() reads about a subject or of an object")
        derived = self._derived
        return (q for q in self._store.quads_for_pattern(subject, predicate, object, None)
                if q.graph_name in derived)

    def _asserted_about(self, subject: Subject) -> tuple[Quad, ...] | None:
        """What the asserted graphs say about ``subject``, from memory where it can be; None
        for a subject with more than ABOUT_LIMIT statements (read them from RocksDB), which is
        remembered too, so such a subject is not counted again on every read."""
        kept = self._about.get(subject, _UNREAD)  # one look-up: a writer may drop it meanwhile
        if kept is not _UNREAD:
            return kept  # type: ignore[return-value]
        epoch, derived = self._epoch, self._derived
        quads = []
        found: tuple[Quad, ...] | None = None
        for q in self._store.quads_for_pattern(subject, None, None, None):
            if q.graph_name not in derived:
                quads.append(q)
                if len(quads) > ABOUT_LIMIT:
                    break
        else:
            found = tuple(quads)
        with self._about_lock:
            if epoch == self._epoch:  # no change landed while it was read
                if len(self._about) >= ABOUT_SUBJECTS:
                    self._about.clear()
                self._about[subject] = found
        return found

    def _forget(self, subjects: Iterable[object] | None = None) -> None:
        """After a change to asserted graphs: what was kept about ``subjects`` (or all) is
        stale, and a read that began before the change must not be kept."""
        with self._about_lock:
            self._epoch += 1
            if subjects is None:
                self._about.clear()
            else:
                for s in subjects:
                    self._about.pop(s, None)

    def replace_graphs(self, graphs: Iterable[NamedNode], quads: Sequence[Quad], /) -> None:
        """Make ``graphs`` hold exactly ``quads`` (which must lie in them), outside the change
        log: projections are rebuilt from asserted data, never logged. Only the difference is
        written, so a rerun that changes little is cheap and readers never see unchanged quads
        vanish; when most quads change, the graphs are cleared and bulk-loaded instead. Not
        atomic for concurrent readers. Not flushed: the write-ahead log keeps it across a
        crash of the process, and a projection behind after a power cut catches up from its
        recorded position. (A flush per call, as projections make several per batch, piled up
        small files until RocksDB's flush waited on a write stall that never cleared, with the
        journal's lock held: the server stopped answering writes.)"""
        targets = set(graphs)
        self._derived |= {g for g in targets if self._is_derived(g)}  # before readers see them
        new = set(quads)
        stray = next((q for q in new if q.graph_name not in targets), None)
        if stray is not None:
            raise ValueError(f"{stray} lies outside the graphs being replaced")
        try:
            old = {q for g in targets for q in self._store.quads_for_pattern(None, None, None, g)}
            stale = old - new
            if len(stale) > BULK_LIMIT and len(stale) > len(old) // 2:
                for g in targets:
                    self._store.remove_graph(g)
                fresh = new
            else:
                for q in stale:
                    self._store.remove(q)
                for g in targets - {q.graph_name for q in new}:
                    self._store.remove_graph(g)  # emptied: no longer listed
                fresh = new - old
            if len(fresh) > ATOMIC_LIMIT:
                self._store.bulk_extend(fresh)
            else:
                self._store.extend(fresh)
        except OSError as e:
            raise BackendError(f"could not replace graphs: {e}") from e
        finally:
            self._find_derived()
            self._regraph(None)
            if any(not self._is_derived(g) for g in targets):
                self._forget()

    def load_quads(self, quads: Iterable[Quad]) -> None:
        """Add quads outside the change log: only for throwaway in-memory stores
        (``graph_store.overlay.scratch``)."""
        self._store.extend(quads)
        self._regraph(None)
        self._forget()

    def named_graphs(self) -> list[NamedNode | BlankNode]:
        """Kept in memory between changes that add or drop a graph (every write lists them
        for routing and access; RocksDB answers by scanning the graph index)."""
        graphs = self._graphs
        if graphs is None:
            epoch = self._graphs_epoch
            graphs = tuple(self._store.named_graphs())
            with self._about_lock:
                if epoch == self._graphs_epoch:
                    self._graphs, self._graph_set = graphs, frozenset(graphs)
        return list(graphs)

    def _regraph(self, added: set[object] | None) -> None:
        """After a write that added quads in ``added`` graphs (None: may have dropped some)."""
        with self._about_lock:
            if added is None or self._graphs is None or not {
                    g for g in added if not isinstance(g, DefaultGraph)} <= self._graph_set:
                self._graphs_epoch += 1
                self._graphs = None

    def dump(self, output: IO[bytes], format: RdfFormat, graph: GraphName | None = None) -> None:
        if graph is None:
            self._store.dump(output, format=format)
        else:
            self._store.dump(output, format=format, from_graph=graph)

    def flush(self) -> None:
        self._store.flush()

    def backup(self, target: Path, *, attempts: int = BACKUP_ATTEMPTS) -> None:
        """A consistent copy of the store as it is now, beside a live writer: a RocksDB
        checkpoint (hard links on the same file system, so cheap)."""
        if self._lock is None:
            raise InputError("an in-memory catalog has nothing on disk to back up")
        for attempt in range(attempts):
            try:
                self._store.backup(str(target))
                return
            except (OSError, RuntimeError) as e:
                # RocksDB copies the live write-ahead log; a write landing meanwhile (the
                # reasoner's, which does not take the journal lock) can fail the copy: retry
                shutil.rmtree(target, ignore_errors=True)
                if attempt == attempts - 1:
                    raise BackendError(f"cannot back up the store to {target}: {e}") from e
                log.info("backing up the store failed (%s); retrying", e)
                time.sleep(0.05 * (attempt + 1))

    def close(self) -> None:
        """Release the on-disk lock (pending result iterators keep the store alive, hence gc)."""
        self._store.flush()
        del self._store
        gc.collect()
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
