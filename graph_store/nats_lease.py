"""A lease on a NATS JetStream key-value bucket: which one of several processes holds a role
(catalog/leadership.py elects the node that runs the once-per-cluster work with it).

The bucket's ``ttl`` (its streams's max age) is the lease: a key written ``ttl`` ago is gone.
The holder writes the key again every ``ttl / 3`` with ``update(last=revision)``, so a write by
anyone else in between makes its renewal fail; the others try ``create`` every ``ttl / 3``,
which succeeds only once the key is gone (expired, or deleted by a holder that let go). A
holder that cannot renew (the servers away) gives the lease up while a third of it is left,
before the servers can drop the key, which is ``ttl`` after it *sent* its last successful
renewal: two holders never overlap, as long as the machines' clocks tick at the same rate.

Beside the lease, ``positions()`` keeps the guarded work's positions in a second bucket
(without a ttl), so that the next holder resumes where the last one stopped, and
``records(name)`` the state it needs wherever it runs (graph_store/nats_records.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.errors import NoServersError
from nats.js.errors import APIError, BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from graph_store.errors import BackendError
from graph_store.nats_loop import BackgroundLoop
from graph_store.nats_records import Records

log = logging.getLogger(__name__)
T = TypeVar("T")
KEY = "holder"
STREAM_NAME_IN_USE = 10058  # the bucket exists with another configuration (another ttl)


class NatsLease:
    """Hold key ``holder`` of bucket ``bucket`` while this process is alive and can reach the
    servers. ``on_change(held)`` is called on the lease's own thread (it must not block) each
    time this process gains or loses the lease; ``held`` and ``holder`` say how things stand.
    A process that is no ``candidate`` (a CLI command on a shared log) only watches."""

    def __init__(self, servers: str | Sequence[str], *, bucket: str, name: str, ttl: float,
                 replicas: int = 1, on_change: Callable[[bool], None] | None = None,
                 connect_for: float = 30.0, candidate: bool = True) -> None:
        self.servers = [s.strip() for s in servers.split(",")] if isinstance(servers, str) \
            else list(servers)
        self.bucket, self.name, self.replicas = bucket, name, replicas
        self.ttl = ttl  # the bucket's, once bound to it (the first node's setting wins)
        self.held = False
        self.candidate = candidate  # False: watches who holds the lease, never takes it
        self.holder: str | None = None  # the holder's name, as last seen
        self.changes = 0  # times this process gained or lost the lease
        self._token = json.dumps({"node": name, "id": uuid.uuid4().hex}).encode()
        self._on_change = on_change
        self._revision: int | None = None  # of our key, while we hold it
        self._deadline = 0.0  # monotonic: when the servers may drop our key
        self._nc: Client | None = None
        self._kv: KeyValue | None = None
        self._positions: Positions | None = None
        self._stopping: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop = BackgroundLoop(f"nats-lease-{bucket}")
        try:
            self._run(self._open(connect_for), timeout=connect_for + 10)
        except BaseException:
            self._loop.stop()
            raise

    # --- the synchronous interface ----------------------------------------------------------

    def positions(self) -> Positions:
        """The shared positions of the work this lease guards (bucket ``{bucket}_POSITIONS``)."""
        if self._positions is None:
            self._positions = Positions(self, self._run(self._bucket(
                f"{self.bucket}_POSITIONS", ttl=None)))
        return self._positions

    def records(self, name: str) -> Records:
        """A bucket of records every node keeps a copy of (``{bucket}_{name}``), such as the
        state the guarded work needs wherever it runs next."""
        return Records(self._run(self._bucket(f"{self.bucket}_{name}", ttl=None)), self._run)

    def close(self) -> None:
        """Stop renewing; a lease held is given up at once (deleted), so that another process
        takes it without waiting for it to expire."""
        if self._loop.loop.is_closed():
            return
        with contextlib.suppress(Exception):  # the servers gone: the key expires by itself
            self._run(self._stop(), timeout=self.ttl / 4 + 5)
        self._loop.stop()

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        try:
            return self._loop.run(coro, timeout=timeout)
        except TimeoutError as e:
            raise BackendError(f"the NATS servers at {', '.join(self.servers)} did not answer "
                               f"in time (lease {self.bucket})") from e

    # --- on the loop ------------------------------------------------------------------------

    async def _open(self, connect_for: float) -> None:
        async def quiet(e: Exception) -> None:  # reconnects are routine in a cluster
            log.debug("nats lease: %s", e)

        try:
            self._nc = await asyncio.wait_for(nats.connect(
                servers=self.servers, connect_timeout=2, reconnect_time_wait=0.2,
                max_reconnect_attempts=-1, error_cb=quiet), connect_for)
        except (TimeoutError, OSError, NoServersError) as e:
            raise BackendError(f"could not reach a NATS server at {', '.join(self.servers)} "
                               f"in {connect_for:.0f} s for the lease {self.bucket}") from e
        self._kv = await self._bucket(self.bucket, ttl=self.ttl)
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._keep(), name="lease")

    async def _bucket(self, bucket: str, *, ttl: float | None) -> KeyValue:
        """The bucket, created if missing; one that exists keeps its own ttl."""
        assert self._nc is not None
        js = self._nc.jetstream(timeout=5)
        try:
            kv = await js.key_value(bucket)
        except BucketNotFoundError:
            try:
                return await js.create_key_value(bucket=bucket, ttl=ttl, history=1,
                                                 replicas=self.replicas)
            except APIError as e:
                if e.err_code != STREAM_NAME_IN_USE:  # not another node creating it meanwhile
                    raise
                kv = await js.key_value(bucket)
        if ttl is not None:
            age = (await js.stream_info(f"KV_{bucket}")).config.max_age or 0.0
            if age and abs(age - ttl) > 1e-3:
                log.warning("lease bucket %s expires keys after %.1f s, not %.1f s: the bucket's "
                            "own setting wins", bucket, age, ttl)
                self.ttl = age
        return kv

    async def _keep(self) -> None:
        """Every ttl/3: renew the lease we hold, or try to take it."""
        stopping = self._stopping
        assert stopping is not None
        while not stopping.is_set():
            began = time.monotonic()
            try:
                await asyncio.wait_for(self._renew_or_take(began), self.ttl / 4)
            except Exception as e:  # the servers away or electing: try again next round
                log.debug("nats lease %s: %r", self.bucket, e)
            if self.held and time.monotonic() > self._deadline - self.ttl / 3:
                log.warning("lease %s: could not renew it for %.1f s; letting it go before it "
                            "expires", self.bucket, self.ttl * 2 / 3)
                self._revision = None
                self._set(False, None)
            wait = self.ttl / 3 - (time.monotonic() - began)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), max(wait, 0.01))

    async def _renew_or_take(self, began: float) -> None:
        kv = self._kv
        assert kv is not None
        if self.candidate:
            try:
                if self._revision is None:
                    self._revision = await kv.create(KEY, self._token)
                else:
                    self._revision = await kv.update(KEY, self._token, last=self._revision)
                self._deadline = began + self.ttl
                self._set(True, self.name)
                return
            except KeyWrongLastSequenceError:
                pass
        try:  # someone else wrote it; or our renewal landed and only its answer was lost
            entry = await kv.get(KEY)
        except KeyNotFoundError:  # it expired just now: take it next round
            self._revision = None
            self._set(False, None)
            return
        if entry.value == self._token:
            self._revision = entry.revision  # ours: renewed next round
            return
        self._revision = None
        self._set(False, _name(entry.value))

    def _set(self, held: bool, holder: str | None) -> None:
        self.holder = holder
        if held == self.held:
            return
        self.held = held
        self.changes += 1
        if held:
            log.info("lease %s: %s now holds it", self.bucket, self.name)
        else:  # lost, or given up on close (which is routine)
            closing = self._stopping is not None and self._stopping.is_set()
            log.log(logging.INFO if closing else logging.WARNING, "lease %s: %s no longer "
                    "holds it%s", self.bucket, self.name, f" ({holder} does)" if holder else "")
        if self._on_change is not None:
            try:
                self._on_change(held)
            except Exception:
                log.exception("lease %s: a listener failed", self.bucket)

    async def _stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._task is not None:
            await self._task
        kv, revision, self._revision = self._kv, self._revision, None
        if kv is not None and revision is not None and self.held:
            with contextlib.suppress(Exception):  # another may hold it by now: left alone
                await asyncio.wait_for(kv.delete(KEY, last=revision), 2)
            self._set(False, None)
        if self._nc is not None and not self._nc.is_closed:
            await asyncio.wait_for(self._nc.close(), 2)


class Positions:
    """Positions (sequence numbers) of the guarded work, by name, shared by the cluster: what
    the holder confirmed, read by the next one when it takes over."""

    def __init__(self, lease: NatsLease, kv: KeyValue) -> None:
        self._lease, self._kv = lease, kv

    def get(self, name: str) -> int | None:
        async def get() -> int | None:
            try:
                return int((await self._kv.get(name)).value or b"0")
            except KeyNotFoundError:
                return None
        return self._lease._run(get())

    def save(self, name: str, seq: int) -> None:
        self._lease._run(self._kv.put(name, str(seq).encode()))


def _name(token: bytes | None) -> str | None:
    try:
        return str(json.loads(token or b"")["node"])
    except (ValueError, KeyError, TypeError):
        return None
