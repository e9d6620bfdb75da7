"""The change log on NATS JetStream: one ordered, replicated log that several semcat nodes share.

The stream is the log: a changeset is one message (its sequence number is the changeset's
``seq``), stored on ``replicas`` servers before the publisher hears the acknowledgement, and
de-duplicated by its id (``Nats-Msg-Id``, a hash of its content), so a writer that retries after
a lost acknowledgement or a leader change stores it once. Each node reads the stream through
its own pull consumer (explicit acks) into a local SQLite ``LogIndex``, which answers the
query side (versions, deltas, state, ...) exactly as the embedded log does, and is rebuilt from
the stream if lost.

Optimistic concurrency: an append names the position it was validated at (``after``). The
node checks, in its index, that none of the assets the changeset touched (or ``reads``)
changed in (after, head], and publishes with ``Nats-Expected-Last-Sequence: head``, so the
server stores it only if the head is still where the check ended. If another node got there
first, this node reads what it wrote and checks again: a change to other assets costs one
more round trip, a change to these assets is a ``Conflict`` (409), and nothing is written.
(One message can carry only one subject, so a per-subject expected sequence cannot guard a
changeset that touches several assets; the stream-wide one can.)
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Coroutine, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import nats
from nats.aio.client import Client
from nats.errors import ConnectionClosedError, NoServersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError

from graph_store.changelog import ChangeLog, ChangeLogBackend, LogIndex
from graph_store.changeset import Changeset
from graph_store.errors import BackendError, Conflict
from graph_store.nats_codec import decode, encode, subject_token
from graph_store.nats_loop import BackgroundLoop

log = logging.getLogger(__name__)
T = TypeVar("T")
WRONG_LAST_SEQUENCE = 10071  # JetStream's error code for a failed expected-last-sequence
STREAM_NAME_IN_USE = 10058
FETCH = 256
_HEAD = re.compile(r"wrong last sequence: (\d+)")
_TRANSIENT = (NatsTimeout, asyncio.TimeoutError, NoStreamResponseError, ConnectionClosedError,
              NoServersError)


class NatsChangeLog(LogIndex):
    """A change log on a JetStream stream, mirrored into a local index at ``index`` (a SQLite
    file; ``None`` keeps it in memory and reads the stream again on every open).

    ``consumer`` names this node's durable consumer, so the server knows how far each node has
    read; without it the consumer is ephemeral. ``retry_for`` bounds how long an append or a
    read keeps retrying through a lost connection or a leader election."""

    shared = True  # other nodes append to it: the journal applies their changesets too

    def __init__(self, servers: str | Sequence[str], *, index: Path | None = None,
                 stream: str = "SEMCAT_LOG", prefix: str = "semcat.log", replicas: int = 1,
                 consumer: str | None = None, duplicate_window: float = 120.0,
                 timeout: float = 5.0, retry_for: float = 30.0) -> None:
        super().__init__(index)
        self.servers = [s.strip() for s in servers.split(",")] if isinstance(servers, str) \
            else list(servers)
        self.stream, self.prefix, self.replicas = stream, prefix.rstrip("."), replicas
        self.consumer, self.duplicate_window = consumer, duplicate_window
        self.timeout, self.retry_for = timeout, retry_for
        self.appended = 0
        # transient failures retried, races lost to other writers, messages read from the stream
        self.retries = self.conflict_rounds = self.read = 0
        self._ids: OrderedDict[str, int] = OrderedDict()  # recent changeset ids → seq
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._reading: asyncio.Lock | None = None
        self._consumer_name = consumer
        self._loop = BackgroundLoop("nats-changelog")
        # after each append, a word on a subject outside the stream wakes the other nodes'
        # followers (catalog/replica.py) at once instead of at their next poll
        self._tick, self._me = f"{self.prefix}-tick", uuid.uuid4().hex.encode()
        self.head = 0  # the stream's last sequence number when this node came
        try:
            self._run(self._connect())
        except BaseException:
            self.close()
            raise
        self.appended = self.last_seq

    # --- the synchronous interface ----------------------------------------------------------

    def append(self, cs: Changeset, *, after: int | None = None,
               reads: Collection[str] = ()) -> Changeset:
        """Append ``cs`` once the stream has stored it on its replicas; returns it with its
        ``seq``. With ``after``, refused with ``Conflict`` if an asset it touched, or one of
        ``reads``, changed after that position; nothing is written then."""
        body, headers = encode(cs)
        if self._nc is not None and len(body) > self._nc.max_payload:
            raise BackendError(
                f"a changeset of {len(body):,} bytes (encoded) exceeds the NATS server's "
                f"max_payload of {self._nc.max_payload:,}; raise max_payload on the servers or "
                "write it in smaller parts")
        assets = {*cs.versions, *reads}
        seq = self._run(self._append(cs, body, headers, after, assets))
        self.appended = max(self.appended, seq)
        return Changeset(
            cs.actor, cs.message, cs.time, cs.removed, cs.added, cs.versions, cs.workspace, seq
        )

    def sync(self, seq: int) -> None:
        """Nothing to wait for: an append returns once the stream's replicas hold it."""

    def catch_up(self) -> int:
        """Read the stream up to its current head into the index; returns the head."""
        return self._run(self._catch_up(None))

    def on_append(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` (on the log's own thread; it must not block) when another writer has
        appended: a hint, at most once, not a guarantee."""
        async def tick(msg: Any) -> None:
            if msg.data != self._me:
                wake()

        async def subscribe() -> None:
            assert self._nc is not None
            await self._nc.subscribe(self._tick, cb=tick)

        self._run(subscribe())

    def since(self, seq: int) -> Iterator[Changeset]:
        self.catch_up()
        return super().since(seq)

    def close(self) -> None:
        try:
            self._run(self._disconnect())
        except Exception as e:  # a broker already gone: the index is all that is left to close
            log.debug("nats change log: closing: %s", e)
        self._loop.stop()
        self._close_index()

    def _close_index(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return self._loop.run(coro, timeout=self.retry_for + self.timeout + 5)
        except TimeoutError as e:
            raise BackendError("the NATS change log did not answer in time") from e

    # --- on the loop ------------------------------------------------------------------------

    async def _connect(self) -> None:
        async def quiet(e: Exception) -> None:  # reconnects are routine in a cluster
            log.debug("nats change log: %s", e)

        self._reading = asyncio.Lock()
        try:
            self._nc = await asyncio.wait_for(nats.connect(
                servers=self.servers, connect_timeout=2, reconnect_time_wait=0.2,
                max_reconnect_attempts=-1, error_cb=quiet), self.retry_for)
        except (TimeoutError, OSError, NoServersError) as e:
            raise BackendError(f"could not reach a NATS server at {', '.join(self.servers)} "
                               f"in {self.retry_for:.0f} s: is it running, with JetStream?") from e
        self._js = self._nc.jetstream(timeout=self.timeout)
        await self._retrying(self._ensure_stream)
        await self._retrying(self._subscribe)

    async def _ensure_stream(self) -> None:
        assert self._js is not None
        try:
            info = await self._js.stream_info(self.stream)
        except NotFoundError:
            info = None
        self.head = int(info.state.last_seq) if info is not None else 0
        if info is not None:
            if info.config.num_replicas != self.replicas:
                log.warning("stream %s has %s replicas, not %d: the stream's own setting wins",
                            self.stream, info.config.num_replicas, self.replicas)
            self._refuse_ahead(int(info.state.last_seq))
            return
        self._refuse_ahead(0)
        config = StreamConfig(
            name=self.stream, subjects=[f"{self.prefix}.>"], storage=StorageType.FILE,
            num_replicas=self.replicas, duplicate_window=self.duplicate_window,
            deny_delete=True, deny_purge=True, allow_direct=True)
        try:
            await self._js.add_stream(config)
        except APIError as e:
            if e.err_code != STREAM_NAME_IN_USE:  # another node created it meanwhile
                raise

    def _refuse_ahead(self, head: int) -> None:
        if self.last_seq > head:
            raise BackendError(
                f"the local index of the change log holds {self.last_seq} changesets, but stream "
                f"{self.stream} ends at {head}: it is another or a recreated stream. Delete the "
                "index to read this one from the start")

    async def _subscribe(self) -> None:
        """Read from just after what the index holds; a durable consumer that stands elsewhere
        (the index was lost, or the node died between indexing and acking) starts again."""
        js = self._js
        assert js is not None
        start = self.last_seq + 1
        if self.consumer:
            try:
                info = await js.consumer_info(self.stream, self.consumer)
                if info.ack_floor is not None and info.ack_floor.stream_seq == start - 1 and \
                        (info.num_ack_pending or 0) == 0:
                    self._sub = await js.pull_subscribe_bind(self.consumer, self.stream)
                    return
                await js.delete_consumer(self.stream, self.consumer)
            except NotFoundError:
                pass
        config = ConsumerConfig(
            durable_name=self.consumer, ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
            filter_subject=f"{self.prefix}.>", max_ack_pending=10 * FETCH,
            inactive_threshold=None if self.consumer else 300.0)
        info = await js.add_consumer(self.stream, config)
        self._consumer_name = info.name
        self._sub = await js.pull_subscribe_bind(info.name, self.stream)

    async def _retrying(self, step: Any) -> Any:
        """Run ``step()`` again through transient failures (a node down, a leader election)."""
        deadline = time.monotonic() + self.retry_for
        delay = 0.05
        while True:
            try:
                return await step()
            except _TRANSIENT as e:
                if time.monotonic() > deadline:
                    raise BackendError(f"the NATS change log did not answer for "
                                       f"{self.retry_for:.0f} s: {e!r}") from e
                self.retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _append(self, cs: Changeset, body: bytes, headers: dict[str, str],
                      after: int | None, assets: set[str]) -> int:
        js = self._js
        assert js is not None
        msg_id = headers["Nats-Msg-Id"]
        subject = f"{self.prefix}.{subject_token(cs.workspace or '_')}"
        deadline = time.monotonic() + self.retry_for
        while True:
            if msg_id in self._ids:  # sent before (a retry): the stream keeps one copy
                return self._ids[msg_id]
            head = self.last_seq
            if after is not None:
                self._refuse_if_changed(after, assets)
                headers["Nats-Expected-Last-Sequence"] = str(head)
            try:
                ack = await self._retrying(
                    lambda: js.publish(subject, body, headers=headers))
            except APIError as e:
                moved = _HEAD.search(e.description or "")
                if e.err_code != WRONG_LAST_SEQUENCE or moved is None:
                    raise BackendError(f"NATS refused the changeset: {e}") from e
                head = int(moved.group(1))
                self._refuse_ahead(head)
                await self._catch_up(head)  # an earlier attempt of ours may be there
                self.conflict_rounds += 1
                if time.monotonic() > deadline and msg_id not in self._ids:
                    raise Conflict(f"other writers kept moving the change log's head for "
                                   f"{self.retry_for:.0f} s; nothing was written. Retry later") from e
                continue
            seq = int(ack.seq)
            if seq == self.last_seq + 1:
                self._record(cs, seq, msg_id)
            else:
                await self._catch_up(seq)
            try:
                assert self._nc is not None
                await self._nc.publish(self._tick, self._me)
            except Exception as e:  # a hint only: followers poll as well
                log.debug("nats change log: tick: %s", e)
            return seq

    def _refuse_if_changed(self, after: int, assets: set[str]) -> None:
        with self._lock:
            self._refuse_stale(after, assets)

    def _record(self, cs: Changeset, seq: int, msg_id: str) -> None:
        self._insert(cs, seq)
        self._ids[msg_id] = seq
        while len(self._ids) > 10_000:
            self._ids.popitem(last=False)

    async def _catch_up(self, upto: int | None) -> int:
        """Index every message up to ``upto`` (the stream's head when None)."""
        js, lock = self._js, self._reading
        assert js is not None and lock is not None
        if upto is None:
            upto = int((await self._retrying(lambda: js.stream_info(self.stream))).state.last_seq)
        async with lock:
            while self.last_seq < upto:
                sub = self._sub
                assert sub is not None
                want = min(FETCH, upto - self.last_seq)
                for msg in await self._retrying(partial(sub.fetch, want, timeout=self.timeout)):
                    seq = msg.metadata.sequence.stream
                    if seq == self.last_seq + 1:
                        self._record(decode(msg.data, msg.headers or {}), seq,
                                     (msg.headers or {}).get("Nats-Msg-Id", ""))
                        self.read += 1
                    elif seq > self.last_seq + 1:
                        raise BackendError(f"the change log stream skipped from {self.last_seq} "
                                           f"to {seq}: was it purged?")
                    await msg.ack()
        return upto

    async def _disconnect(self) -> None:
        nc, js, self._nc, self._js, self._sub = self._nc, self._js, None, None, None
        if js is not None and not self.consumer and self._consumer_name:
            try:  # an ephemeral consumer would linger on the servers for minutes
                await js.delete_consumer(self.stream, self._consumer_name)
            except Exception as e:
                log.debug("nats change log: dropping consumer: %s", e)
        if nc is not None and not nc.is_closed:
            await asyncio.wait_for(nc.close(), 2)


if TYPE_CHECKING:  # mypy checks that both logs give the journal what it needs
    def _interchangeable(nats_log: NatsChangeLog, sqlite_log: ChangeLog) -> list[ChangeLogBackend]:
        return [nats_log, sqlite_log]
