"""SPARQL queries that can be stopped.

pyoxigraph cannot cancel a running query: a heavy one past its deadline would go on using CPU
and memory in the server. So an on-disk catalog answers queries in worker processes (pebble's
pool ends a task's process at its deadline, which frees both at once). Each worker reads a
RocksDB checkpoint of the store: a consistent snapshot that is never older than the last
applied changeset, so a query still sees every acknowledged write.
Checkpoints are hard links, cheap to take; one is kept while a query reads it.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from pebble import ProcessExpired, ProcessPool
from pebble.common.types import CONSTS

from graph_store import query_worker
from graph_store.errors import BackendError, QueryTimeout, SemcatError
from graph_store.oxigraph_store import OxigraphStore
from graph_store.protocol import Dataset

tracer = trace.get_tracer("semcat")
log = logging.getLogger(__name__)
# A worker busy in the engine does not run Python's SIGTERM handler: pebble's SIGKILL, which
# follows after this many seconds, is what stops it (3 s by default).
CONSTS.term_timeout = 0.2
# pebble checks deadlines this often; the engine's own deadline check (as results stream) fires
# first where it can
GRACE_S = 0.25
# What a worker answers: (kind of result, media type chosen, body)
Answer = tuple[str, str, bytes]
# Picks the media type from the Accept header and the offered types (sparql_api/negotiation.py);
# a module-level function, so it travels to the worker by reference
Choose = Callable[[str | None, tuple[str, ...]], str]


@dataclass(frozen=True)
class Snapshot:
    seq: int
    path: Path


class Snapshots:
    def __init__(self, store: OxigraphStore, root: Path, lock: Any,
                 applied: Callable[[], int]) -> None:
        self._store = store
        self._root = root
        self._journal_lock = lock
        self._applied = applied
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._latest: Snapshot | None = None
        self._readers: dict[Path, int] = {}
        shutil.rmtree(root, ignore_errors=True)  # a previous run's
        root.mkdir(parents=True)

    def acquire(self) -> Snapshot:
        """A snapshot at least as new as the last changeset applied when the call came, held
        until released (calls that waited for another's snapshot share it, though writes
        landed meanwhile: they came after the call)."""
        needed = self._applied()
        with self._lock:
            # Without the journal's lock, as a query in this process reads (waiting for writers
            # here made queries under a write load 100 times slower): the snapshot holds at
            # least ``seq``. A write landing during RocksDB's copy of the live log can fail it.
            if self._fresh(needed) or self._take(attempts=3):
                return self._hold()
        # After a few failed tries the journal's lock keeps writers out for one; taken before
        # ours, in the order writers take them (a writer may run a query), never after.
        with self._journal_lock, self._lock:
            if not self._fresh(needed):
                self._take(attempts=1, fail=True)
            return self._hold()

    def _fresh(self, needed: int) -> bool:
        return self._latest is not None and self._latest.seq >= needed

    def _take(self, *, attempts: int, fail: bool = False) -> bool:
        """A new latest snapshot; False (or BackendError, with ``fail``) when the copy failed."""
        seq = self._applied()
        path = self._root / f"{seq}-{next(self._ids)}"
        try:
            self._store.backup(path, attempts=attempts)
        except BackendError:
            if fail:
                raise
            return False
        self._latest = Snapshot(seq, path)
        self._readers[path] = 0
        self._prune()
        return True

    def _hold(self) -> Snapshot:
        assert self._latest is not None
        self._readers[self._latest.path] += 1
        return self._latest

    def release(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._readers[snapshot.path] -= 1
            self._prune()

    def _prune(self) -> None:
        for path, readers in list(self._readers.items()):
            if readers == 0 and self._latest is not None and path != self._latest.path:
                shutil.rmtree(path, ignore_errors=True)
                del self._readers[path]

    def close(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)


class QueryPool:
    def __init__(self, snapshots: Snapshots, workers: int) -> None:
        self._snapshots = snapshots
        # spawned, not forked: the server's threads (and torch) must not be copied into them
        self._pool = ProcessPool(max_workers=workers,
                                 context=multiprocessing.get_context("spawn"))

    @tracer.start_as_current_span("sparql.worker")
    def run(self, text: str, dataset: Dataset, base_iri: str, *, accept: str | None,
            choose: Choose, extra_types: tuple[str, ...], timeout_s: float,
            max_bytes: int) -> Answer:
        """Run ``text`` over ``dataset`` and serialise the answer in the type ``choose`` picks
        from the result's types plus ``extra_types`` (for which the worker sends the standard
        format beneath: SPARQL JSON results or N-Triples). QueryTimeout at the deadline, with
        the worker's process ended."""
        return self._in_worker(  # type: ignore[no-any-return]
            query_worker.execute, (text, dataset, base_iri, accept, choose, extra_types,
                                   timeout_s, max_bytes),
            timeout_s=timeout_s + GRACE_S, what="query",
            advice=f"the query ran past the {timeout_s:g} s deadline and was stopped; narrow it "
                   "or add LIMIT")

    @tracer.start_as_current_span("export.worker")
    def export(self, graphs: list[str], media_type: str, *, timeout_s: float) -> bytes:
        """``graphs`` serialised in ``media_type`` from a snapshot, stopped at the deadline."""
        return self._in_worker(  # type: ignore[no-any-return]
            query_worker.export, (graphs, media_type), timeout_s=timeout_s, what="export",
            advice=f"the export ran past the {timeout_s:g} s deadline and was stopped; raise "
                   "SEMCAT_EXPORT_TIMEOUT_S")

    def _in_worker(self, fn: Callable[..., Any], args: tuple[Any, ...], *, timeout_s: float,
                   what: str, advice: str) -> Any:
        """``fn(snapshot path, *args)`` in a worker, ended at the deadline."""
        snapshot = self._snapshots.acquire()
        try:
            future = self._pool.schedule(fn, timeout=timeout_s,
                                         args=(str(snapshot.path), *args))
            return future.result()
        except FutureTimeout as e:
            raise QueryTimeout(advice) from e
        except (ProcessExpired, BrokenProcessPool) as e:
            raise BackendError(f"the {what}'s worker process ended ({e}); it may have run out "
                               "of memory") from e
        except SemcatError:
            raise
        except Exception as e:  # the engine's own failure, from the worker
            raise BackendError(f"the {what} failed in its worker: {e}") from e
        finally:
            self._snapshots.release(snapshot)

    def close(self) -> None:
        self._pool.stop()
        self._pool.join(timeout=10)
        self._snapshots.close()
