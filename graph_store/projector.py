"""Projections off the write path: what follows the change log (the text index and vectors,
OWL RL inference, classification rules) is brought up to date on a thread of its own, so that a
write is acknowledged once it is validated, logged and applied to the store.

Each projection gets the changesets it has not seen, in order and in batches (a busy writer's
changesets cost one pass, not one each). Projections that maintain derived graphs incrementally
(inference, rules) run while the journal lock is held, so the store is exactly as the batch's
last changeset left it; those that re-read what changed (the text index) run after, while
writers go on. Each projection remembers its own position, so one that was killed catches up
from the log on the next open. In-memory catalogs (tests, scripts) project inline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry import trace

from graph_store.changeset import Changeset
from graph_store.journal import Journal

tracer = trace.get_tracer("semcat")
log = logging.getLogger(__name__)

QUIET_S = 0.02  # a batch starts once no write has come for this long...
MAX_DELAY_S = 0.25  # ...or this long after its first write, or once it holds this many
MAX_QUADS = 500  # changed statements: writers wait for a locked phase, so it is kept short

# Brings one projection up to the last of the changesets, given in log order; the store is as
# the last one left it. Never raises for a projection that can repair itself later.
Follow = Callable[[Sequence[Changeset]], None]

_phase = threading.local()


def in_locked_phase() -> bool:
    """Whether this thread runs a batch's locked projections: work they set off that needs no
    lock (re-indexing what the reasoners changed) can wait for the same batch's unlocked ones,
    instead of keeping writers out."""
    return getattr(_phase, "locked", False)


class Projector:
    def __init__(self, journal: Journal, locked: Sequence[tuple[str, Follow]],
                 unlocked: Sequence[tuple[str, Follow]] = (), *, background: bool) -> None:
        self._journal = journal
        self._locked = list(locked)  # they read the store as of the batch's last changeset
        self._unlocked = list(unlocked)  # they read it as of then or later
        self.position = journal.applied_seq  # every changeset up to here has been projected
        self._pending: list[Changeset] = []
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        journal.on_applied.append(self._enqueue if background else self._inline)
        if background:
            self._thread = threading.Thread(target=self._run, name="semcat-projector",
                                            daemon=True)
            self._thread.start()

    def _inline(self, cs: Changeset) -> None:
        self._project_locked([cs])
        self._project(self._unlocked, [cs])
        self.position = cs.seq

    def _enqueue(self, cs: Changeset) -> None:  # the journal lock is held
        with self._changed:
            self._pending.append(cs)
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._stopping:
                    self._changed.wait()
                if not self._pending:
                    return
                # Let a burst of writes through before taking their lock: the batch grows,
                # and writers do not queue behind one projection per write.
                started = time.monotonic()
                while not self._stopping and time.monotonic() - started < MAX_DELAY_S and \
                        sum(cs.size for cs in self._pending) < MAX_QUADS:
                    seen = len(self._pending)
                    self._changed.wait(QUIET_S)
                    if len(self._pending) == seen:
                        break
            with self._journal.lock:  # no write lands while these project the batch
                with self._changed:
                    batch, self._pending = self._pending, []
                self._project_locked(batch)
            self._project(self._unlocked, batch)
            with self._changed:
                self.position = batch[-1].seq
                self._changed.notify_all()

    def _project_locked(self, batch: Sequence[Changeset]) -> None:
        _phase.locked = True
        try:
            self._project(self._locked, batch)
        finally:
            _phase.locked = False

    @tracer.start_as_current_span("projections.follow")
    def _project(self, projections: list[tuple[str, Follow]],
                 batch: Sequence[Changeset]) -> None:
        for name, follow in projections:
            try:
                follow(batch)
            except Exception:  # the write is durable: the projection repairs itself later
                log.exception("the %s projection could not follow changesets %d..%d", name,
                              batch[0].seq, batch[-1].seq)

    def behind(self) -> int:
        """Changesets applied to the store and not yet handed to every projection."""
        return max(0, self._journal.applied_seq - self.position)

    def wait(self, position: int | None = None, timeout: float | None = None) -> bool:
        """Until every changeset up to ``position`` (default: the last applied) has been
        projected; False on timeout."""
        target = self._journal.applied_seq if position is None else position
        with self._changed:
            return self._changed.wait_for(lambda: self.position >= target or (
                self._thread is not None and not self._thread.is_alive()), timeout) and \
                self.position >= target

    def close(self) -> None:
        """Project what is pending, then stop the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()
