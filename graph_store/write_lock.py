"""The journal's lock, with group commit: a changeset is appended to the change log without
waiting for the disk, and made durable when its writer lets go of the lock, by one fsync that
covers every changeset appended meanwhile. The next writer validates and applies while the
disk catches up, instead of queueing behind each writer's fsync.

So a write is visible (to a reader that gets the lock next) a moment before it is durable, but
acknowledged only after; a writer that holds the lock across several commits (a merge patch
reads and writes under it) syncs once, as it lets go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType


class WriteLock:
    """Reentrant, like the ``threading.RLock`` it wraps. Counts how long it was held and
    waited for (outermost holds only): with one writer at a time, its busy share is how close
    the write path is to saturation (the ``semcat_write_lock_*`` metrics)."""

    def __init__(self, sync: Callable[[int], None]) -> None:
        self._lock = threading.RLock()
        self._local = threading.local()  # this thread's depth, and what it must sync at 0
        self._sync = sync
        self.held_s = 0.0
        self.waited_s = 0.0
        self.holds = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        depth = getattr(self._local, "depth", 0)
        asked = time.perf_counter()
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._local.depth = depth + 1
            if depth == 0:
                now = self._local.since = time.perf_counter()
                self.waited_s += now - asked
                self.holds += 1
        return got

    def release(self) -> None:
        depth = self._local.depth = self._local.depth - 1
        owed = 0
        if depth == 0:
            owed = self._local.__dict__.pop("owed", 0)
            self.held_s += time.perf_counter() - self._local.since
        self._lock.release()
        if owed:
            self._sync(owed)  # outside the lock: writers behind us go on meanwhile

    def owe(self, seq: int) -> None:
        """Called under the lock: changesets up to ``seq`` are durable once it is let go."""
        self._local.owed = max(seq, getattr(self._local, "owed", 0))

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
