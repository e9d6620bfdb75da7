"""The one background thread that keeps the vector index up with the change log.

Writers never wait for the model: each applied changeset hands over its assets' embedding
texts (or removals) as a job tagged with the changeset's seq, and this thread encodes them in
batches on one torch thread and moves the index's seq forward. A job may also be a function
that produces its items (a catch-up that reads the store), so opening a catalog stays quick.
When the queue is idle it compacts the index (drops rows that removals left dead) and saves
it; being the index's only writer is what lets compaction build outside the index lock.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from embeddings.encoder import Embedder
from embeddings.vector_index import VectorIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Item:
    key: str
    vid: int
    text: str | None  # None: the asset is gone
    text_hash: str = ""


Job = list[Item] | Callable[[], list[Item]]
_STOP = object()


class EmbeddingWorker:
    def __init__(self, embedder: Embedder, index: VectorIndex, *, batch: int = 128,
                 threads: int = 1, save_every_s: float = 30.0) -> None:
        self.embedder = embedder
        self.index = index
        self.batch = batch
        self.threads = threads
        self.save_every_s = save_every_s
        self.embedded = 0  # texts encoded since start (not counting skipped unchanged ones)
        self.encode_seconds = 0.0
        self.failed = 0
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue()
        self._busy = threading.Lock()  # held while a job runs; reindex holds it to pause
        self._done = threading.Condition()
        self._queued = 0  # items in queued jobs (jobs that are functions count as 0)
        self._remaining = 0  # items of the running job not applied yet
        self._saved_at = time.monotonic()
        self._save_seconds = 0.0  # how long the last save took: big indexes save less often
        self._maintain_later = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="semcat-embeddings", daemon=True)
        self._thread.start()

    # -- the writer side -----------------------------------------------------------------------
    def submit(self, seq: int, job: Job) -> None:
        with self._done:
            self._queued += len(job) if isinstance(job, list) else 0
        self._queue.put((seq, job))

    @property
    def pending(self) -> int:
        """Items not yet in the index (an estimate while a catch-up is being read)."""
        with self._done:
            return self._queued + self._remaining

    def wait(self, seq: int, timeout: float) -> bool:
        """Block until the index reflects ``seq``; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._done:
            while self.index.seq < seq:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._done.wait(min(left, 1.0))
        return True

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No job runs inside this block (jobs keep queueing)."""
        with self._busy:
            yield

    def close(self, timeout: float = 30.0) -> None:
        """Stop after the batch being encoded; what is left stays for the next open (the
        index's seq only moves when a whole changeset is in)."""
        self._stopping.set()
        self._queue.put((0, _STOP))
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the embedding worker did not stop within %.0f s", timeout)
        self.index.save()

    # -- the thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                seq, job = self._queue.get(timeout=1.0)
            except queue.Empty:
                self._maintain()
                self._maybe_save()
                continue
            if job is _STOP:
                return
            self._maintain_later = True
            with self._busy:
                items: list[Item] = []
                if seq > self.index.seq:
                    try:
                        items = job() if callable(job) else job  # type: ignore[assignment]
                    except Exception:
                        log.exception("could not read the assets to embed for changeset %d", seq)
                with self._done:
                    self._queued -= len(job) if isinstance(job, list) else 0
                    self._remaining = len(items) if seq > self.index.seq else 0
                if seq > self.index.seq and self._apply(items):
                    with self.index.lock:
                        self.index.seq = seq
                        self.index.dirty = True
            with self._done:
                self._remaining = 0
                self._done.notify_all()
            self._maybe_save()

    def _apply(self, items: list[Item]) -> bool:
        """Encode and store ``items``; False if asked to stop before the end."""
        latest = {i.key: i for i in items}  # the last state of each asset wins
        gone = [i.vid for i in latest.values() if i.text is None]
        self.index.remove(gone)
        todo = sorted((i for i in latest.values() if i.text is not None
                       and not self.index.has_text(i.vid, i.text_hash)),
                      key=lambda i: len(i.text or ""))  # similar lengths batch with less padding
        with self._done:
            self._remaining = len(todo)
        for start in range(0, len(todo), self.batch):
            if self._stopping.is_set():
                return False
            chunk = todo[start:start + self.batch]
            t0 = time.perf_counter()
            try:
                vectors = self.embedder.encode([i.text or "" for i in chunk],
                                               threads=self.threads)
            except Exception:
                log.exception("embedding %d assets failed; they stay out of semantic search "
                              "until `semcat reindex`", len(chunk))
                self.failed += len(chunk)
                continue
            self.encode_seconds += time.perf_counter() - t0
            self.embedded += len(chunk)
            self.index.upsert([i.vid for i in chunk], vectors, [i.key for i in chunk],
                              [i.text_hash for i in chunk])
            with self._done:
                self._remaining = max(0, len(todo) - start - len(chunk))
        return True

    def _maintain(self) -> None:
        """When the queue is idle: compact the index if removals left too many dead rows
        (this thread is the only writer, and a reindex pauses it)."""
        if not self._maintain_later:
            return
        self._maintain_later = False
        with self._busy:
            try:
                if self.index.compact(force=False):
                    log.info("compacted the vector index (%d live vectors)", len(self.index))
            except Exception:
                log.exception("could not compact the vector index; searches skip its dead rows")

    def _maybe_save(self) -> None:
        """Every ``save_every_s``, or ten times as long as the last save took (a million
        HNSW vectors are ~1.7 GB: not something to rewrite every 30 s)."""
        interval = max(self.save_every_s, 10 * self._save_seconds)
        if self.index.dirty and time.monotonic() - self._saved_at > interval:
            t0 = time.monotonic()
            try:
                self.index.save()
            except Exception:
                log.exception("could not save the vector index; the change log still has "
                              "everything, so it catches up on the next open")
            self._save_seconds = time.monotonic() - t0
            self._saved_at = time.monotonic()
