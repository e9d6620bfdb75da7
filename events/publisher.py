"""Publishing the feed to a broker, at least once, from the position the broker confirmed.

``LogPublisher`` holds everything that does not depend on the broker: it reads events from
the feed (recent ones from memory, older ones from the change log) after the confirmed
position, hands them to the broker in batches of whole changesets, and records the position
once the broker has acknowledged a batch. While the broker is away it retries with backoff,
on a thread and event loop of its own, so writers never wait for it. A broker is one small
subclass: ``connect``, ``send`` (returns once every event is acknowledged) and ``disconnect``
(events/nats_publisher.py; docs/events.md sketches Kafka).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from events.feed import EventFeed
from events.model import Event, Position

log = logging.getLogger(__name__)

BATCH = 500  # events per batch, rounded up to whole changesets
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


class SharedPositions(Protocol):
    """Positions a cluster shares (graph_store/nats_lease.py's ``Positions``): the elected
    node that publishes saves them there, and the next one resumes from them."""

    def get(self, name: str) -> int | None: ...

    def save(self, name: str, seq: int) -> None: ...


class ConfirmedPosition:
    """The last changeset a broker acknowledged every event of: a small file in the data
    directory (``events/{name}.position``), replaced atomically after each acknowledged
    batch; in memory for an in-memory catalog. With ``shared`` (several nodes, one of them
    publishing at a time) the cluster's position comes first, and is saved too."""

    def __init__(self, path: Path | None, shared: SharedPositions | None = None,
                 name: str = "events") -> None:
        self.path, self._shared, self._name = path, shared, name
        text = path.read_text().strip() if path is not None and path.exists() else ""
        self.new = not text  # nothing published from this data directory yet
        self.seq = int(text) if text.isdigit() else 0
        cluster = shared.get(name) if shared is not None else None
        if cluster is not None:  # what the last publisher of the cluster confirmed
            self.new, self.seq = False, cluster

    def save(self, seq: int) -> None:
        self.seq = seq
        if self._shared is not None:
            self._shared.save(self._name, seq)
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as f:
            f.write(f"{seq}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class LogPublisher(ABC):
    name = "broker"

    def __init__(self, feed: EventFeed, confirmed: ConfirmedPosition) -> None:
        self._feed = feed
        self.confirmed = confirmed
        self.connected = False
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"semcat-{self.name}",
                                        daemon=True)

    # -- what a broker provides ----------------------------------------------------------------
    @abstractmethod
    async def connect(self) -> None:
        """Connect, and make sure where events go exists (a stream, a topic)."""

    @abstractmethod
    async def send(self, events: Sequence[Event]) -> None:
        """Publish ``events``; return once the broker acknowledged every one, raise if not.
        Each event's ``id`` is unique and stable: the broker's de-duplication key."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Close the connection; never raises."""

    # -- the loop ------------------------------------------------------------------------------
    def start(self) -> LogPublisher:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        wake = self._wake
        loop = self._loop

        def woken() -> None:  # on the feed's thread
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(wake.set)

        stop_listening = self._feed.listen(woken)
        self._ready.set()
        backoff = FIRST_BACKOFF_S
        try:
            while not self._stopping:
                try:
                    await self.connect()
                    self.connected = True
                    log.info("publishing events to %s from position %d", self.name,
                             self.confirmed.seq)
                    backoff = FIRST_BACKOFF_S
                    await self._publish(wake)
                except Exception as e:
                    if self._stopping:
                        break
                    log.warning("publishing events to %s failed (%s); retrying in %.1f s from "
                                "position %d", self.name, e or type(e).__name__, backoff,
                                self.confirmed.seq)
                    await self.disconnect()
                    self.connected = False
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), backoff)
                    wake.clear()
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
        finally:
            stop_listening()
            await self.disconnect()
            self.connected = False

    async def _publish(self, wake: asyncio.Event) -> None:
        """Until stopped: each batch after the confirmed position, sent, then confirmed."""
        while not self._stopping:
            wake.clear()
            after = Position(self.confirmed.seq)
            events = self._feed.read(after, BATCH, memory_only=True)  # live: no thread hop
            if events is None:
                events = await asyncio.to_thread(self._feed.read, after, BATCH) or []
            if events:
                await self.send(events)
                await asyncio.to_thread(self.confirmed.save, events[-1].seq)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), 1.0)

    def close(self) -> None:
        """Stop (what is unconfirmed is published again by the next start)."""
        self._stopping = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(wake.set)
        if self._thread.is_alive():
            self._thread.join(15)
