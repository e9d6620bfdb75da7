"""The feed: events of every applied changeset, readable from any position.

The journal hands each applied changeset to ``on_applied`` while it holds its lock, so that
callback only enqueues; a thread of the feed's own makes the events and keeps the recent ones
in memory for live readers. Older positions are read back from the change log itself
(``ChangeLog.since``) and made into the same events, so nothing is stored twice.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from events.model import WHOLE, Event, Position
from graph_store.changelog import ChangeLogBackend
from graph_store.changeset import Changeset

log = logging.getLogger(__name__)

Build = Callable[[Changeset], list[Event]]
# Live readers are seconds behind at most; each quad held here is walked by every one of the
# garbage collector's full passes (which stop all threads), so memory keeps only a little
MAX_RECENT_CHANGESETS = 2_000
MAX_RECENT_QUADS = 50_000


class EventFeed:
    def __init__(self, changelog: ChangeLogBackend, build: Build, *, start: int,
                 durable: Callable[[int], None] | None = None) -> None:
        """``start``: the last changeset applied before the feed was hooked to the journal;
        ``durable(seq)`` returns once changeset ``seq`` is on disk (the journal fsyncs the log
        once per group of writers, after they applied their changesets): no event announces
        a change a power cut could still undo."""
        self._changelog = changelog
        self._build = build
        self._durable = durable
        self.position = start  # every changeset up to here has its events made
        self._incoming: deque[Changeset] = deque()
        self._recent: deque[tuple[int, tuple[Event, ...], int]] = deque()
        self._recent_quads = 0
        self._changed = threading.Condition()
        self._listeners: list[Callable[[], None]] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="semcat-events", daemon=True)
        self._thread.start()

    def on_applied(self, cs: Changeset) -> None:
        """The journal's hook, called with its lock held: enqueue, nothing more."""
        with self._changed:
            self._incoming.append(cs)
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._incoming and not self._stopping:
                    self._changed.wait()
                if not self._incoming:
                    return
                batch = list(self._incoming)
                self._incoming.clear()
            if self._durable is not None:
                try:
                    self._durable(batch[-1].seq)
                except Exception:  # the writer that owes this fsync reports it
                    log.exception("the change log could not be synced")
            for cs in batch:
                try:
                    made = tuple(self._build(cs))
                except Exception:  # the changeset is durable: readers get it from the log
                    log.exception("could not make the events of changeset %d", cs.seq)
                    made = ()
                self._remember(cs.seq, made)
            for listener in list(self._listeners):
                listener()

    def _remember(self, seq: int, made: tuple[Event, ...]) -> None:
        size = sum(e.size for e in made)
        with self._changed:
            self._recent.append((seq, made, size))
            self._recent_quads += size
            while len(self._recent) > MAX_RECENT_CHANGESETS or (
                    self._recent_quads > MAX_RECENT_QUADS and len(self._recent) > 1):
                self._recent_quads -= self._recent.popleft()[2]
            self.position = seq
            self._changed.notify_all()

    def read(self, after: Position, limit: int = 1000, *,
             memory_only: bool = False) -> list[Event] | None:
        """Events after ``after`` (at most about ``limit``, whole changesets), oldest first;
        ``[]`` when there are none yet. ``memory_only``: None rather than read the log (a
        caller on an event loop reads live events without a trip to a worker thread)."""
        with self._changed:
            upto = self.position
            oldest = self._recent[0][0] if self._recent else upto + 1
            recent = [e for seq, made, _ in self._recent if seq >= after.seq for e in made
                      if e.position > after]
        out: list[Event] = []
        # the first changeset with events after ``after``: its own, when it names one event
        first = after.seq + 1 if after.index == WHOLE else after.seq
        last = first - 1
        if first < oldest:  # older than what is in memory: from the log
            if memory_only:
                return None
            changesets = self._changelog.since(first - 1)
            try:  # a generator: closing it ends its reads
                for cs in changesets:
                    if cs.seq >= oldest or cs.seq > upto or len(out) >= limit:
                        break
                    out += [e for e in self._build(cs) if e.position > after]
                    last = cs.seq
            finally:
                getattr(changesets, "close", lambda: None)()
            if len(out) >= limit or last < oldest - 1:
                return out
        for e in recent:
            if len(out) >= limit and e.seq != out[-1].seq:
                break
            out.append(e)
        return out

    def wait(self, after: int, timeout: float) -> bool:
        """Until events after changeset ``after`` exist (True) or ``timeout`` passes."""
        with self._changed:
            return self._changed.wait_for(lambda: self.position > after or self._stopping,
                                          timeout) and self.position > after

    def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (on the feed's thread) whenever new events are made; returns
        what stops it."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners \
            else None

    def close(self) -> None:
        """Make the events of what is enqueued, then stop."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join()
        for listener in list(self._listeners):
            listener()
