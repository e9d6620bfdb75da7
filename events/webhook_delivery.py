"""Delivering the feed to webhook subscriptions: at least once, in log order, from each
subscription's confirmed position.

One thread with one event loop serves every subscription, a task each, so writers never wait
for a slow target. A task reads events after its position (from memory, or from the change
log), keeps those its filters want, and sends each one as the subscription's owner may see it
*now* (``view``), retrying with exponential backoff on network errors, timeouts and any non-2xx
answer (redirects are not followed). After ``max_attempts`` the event is dead-lettered and the
subscription moves on; a dead letter can be replayed later. A failed attempt is recorded (with
its count) before the next, and an outcome with the position it reaches, so a restart resumes
where it stopped; events delivered at their first attempt are recorded a batch at a time,
unsynced (what a crash loses of them is delivered again: at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from events import egress, webhook_payload
from events.feed import EventFeed
from events.model import Event, Position
from events.webhook_store import Delivery, Subscription, WebhookStore
from graph_store.errors import InputError

log = logging.getLogger(__name__)
BATCH = 500
IDLE_S = 1.0  # a task looks again this often without being woken
RESTART_S = 5.0  # after a task failed (a bug, a full disk): the reconciler starts it again
PRUNE_EVERY = 100  # deliveries between trims of a subscription's history
FLUSH_EVERY = 100  # events delivered at their first attempt, recorded together

# What the owner of a subscription may see of events, as JSON, decided now
View = Callable[[Subscription, Sequence[Event]], list[dict[str, Any]]]
# Why the owner may no longer have events delivered (key revoked, rights lost), or None
OwnerProblem = Callable[[Subscription], str | None]


@dataclass(frozen=True)
class Prepared:
    """What ``Dispatcher._prepare`` decided for a batch of events (see there)."""

    wanted: frozenset[str]  # ids of the events the filters want
    shown: dict[str, dict[str, Any]]
    retrying: dict[str, Delivery]
    secrets: tuple[str, ...]  # none: the subscription is gone
    target: egress.Target | str  # the checked target, or why it was refused


@dataclass(frozen=True)
class WebhookConfig:
    allow_private: bool = False
    max_attempts: int = 10
    backoff_s: float = 5.0
    max_backoff_s: float = 3600.0
    timeout_s: float = 10.0
    history: int = 1000

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt, after ``attempts`` failed ones."""
        return float(min(self.backoff_s * 2 ** (attempts - 1), self.max_backoff_s))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Dispatcher:
    def __init__(self, feed: EventFeed, store: WebhookStore, config: WebhookConfig, *,
                 view: View, owner_problem: OwnerProblem) -> None:
        self._feed = feed
        self._store = store
        self.config = config
        self._view = view
        self._owner_problem = owner_problem
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wakes: dict[str, asyncio.Event] = {}
        self._stopping = False
        self._started = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._recorded = 0
        self._version = 0  # bumped by every change of subscriptions: a task looks again

    def refresh(self) -> None:
        """Subscriptions changed: start, stop or wake their tasks (starts the thread once);
        an event being sent is sent as the subscription now is."""
        with self._started:
            self._version += 1
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=lambda: asyncio.run(self._main()),
                                                name="semcat-webhooks", daemon=True)
                self._thread.start()
        self._ready.wait(10)
        self._call(self._reconcile_soon)

    def _call(self, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(fn)

    def _reconcile_soon(self) -> None:
        if self._changed is not None:
            self._changed.set()
        self._wake_all()

    def _wake_all(self) -> None:
        for wake in self._wakes.values():
            wake.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._changed = changed = asyncio.Event()
        stop_listening = self._feed.listen(lambda: self._call(self._wake_all))
        self._ready.set()
        try:
            while not self._stopping:
                await self._reconcile()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), IDLE_S)
                changed.clear()
        finally:
            stop_listening()
            for task in self._tasks.values():
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _reconcile(self) -> None:
        subs = {s.id: s for s in await asyncio.to_thread(self._store.all)}
        for sub_id in list(self._tasks):
            if sub_id not in subs or subs[sub_id].paused or self._tasks[sub_id].done():
                self._tasks.pop(sub_id).cancel()
                self._wakes.pop(sub_id, None)
        for sub in subs.values():
            if not sub.paused and sub.id not in self._tasks:
                self._wakes[sub.id] = wake = asyncio.Event()
                self._tasks[sub.id] = asyncio.create_task(self._follow(sub.id, wake),
                                                          name=f"webhook {sub.id}")

    async def _follow(self, sub_id: str, wake: asyncio.Event) -> None:
        """Deliver one subscription's events until it is paused or deleted; after a failure
        of the catalog's own (not the receiver's), log it, and start again a little later."""
        try:
            await self._deliver_all(sub_id, wake)
        except Exception:
            log.exception("webhook %s: delivery stopped; starting again in %.0f s", sub_id,
                          RESTART_S)
            await asyncio.sleep(RESTART_S)

    async def _deliver_all(self, sub_id: str, wake: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=self.config.timeout_s, follow_redirects=False,
                                     trust_env=False) as client:
            while not self._stopping:
                wake.clear()
                version = self._version
                look = await asyncio.to_thread(self._look, sub_id)
                if look is None:
                    return
                sub, replays, events, batch = look
                if replays:
                    for replay in replays:
                        if not await self._replay(client, sub, replay, version):
                            break
                    continue
                if not events:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), IDLE_S)
                    continue
                done: list[Delivery] = []  # delivered at the first attempt, recorded together
                reached: Position | None = events[-1].position
                for event in [e for e in events if batch and e.id in batch.wanted]:
                    assert batch is not None
                    if not await self._deliver(client, sub, event, batch, version, done):
                        reached = None  # paused, deleted or changed: look again
                        break
                    if len(done) >= FLUSH_EVERY:
                        await self._flush(sub_id, done, None)
                await self._flush(sub_id, done, reached)

    def _look(self, sub_id: str) -> tuple[Subscription, list[Delivery], list[Event],
                                          Prepared | None] | None:
        """In one trip off the loop: the subscription as it is now (None once it is paused or
        deleted, or its owner may no longer have events delivered: then it is paused), its
        pending replays, else the next events and what sending them needs."""
        sub = self._store.get(sub_id)
        if sub is None or sub.paused:
            return None
        problem = self._owner_problem(sub)
        if problem is not None:
            log.warning("webhook %s paused: %s", sub_id, problem)
            self._store.pause(sub_id, problem)
            return None
        replays = self._store.pending_replays(sub_id)
        if replays:
            return sub, replays, [], None
        events = self._feed.read(sub.position, BATCH) or []
        wanted = [e for e in events if _may_want(sub, e)]
        return sub, [], events, self._prepare(sub, wanted) if wanted else None

    async def _flush(self, sub_id: str, done: list[Delivery], reached: Position | None) -> None:
        """Record what was delivered, and move the position to ``reached`` (else past the last
        of them)."""
        if done:
            advance = reached or Position.parse(done[-1].event)
            await asyncio.to_thread(self._store.delivered, sub_id, list(done), advance)
            self._prune(sub_id, len(done))
            done.clear()
        elif reached is not None:
            await asyncio.to_thread(self._store.save_position, sub_id, reached)

    def _prepare(self, sub: Subscription, events: Sequence[Event]) -> Prepared:
        """What sending ``events`` needs, decided now, in one trip off the loop: what the owner
        may see of them, attempts a restart interrupted, the secret, the checked target."""
        shown = {e["id"]: e for e in self._view(sub, events)}
        retrying = {d.event: d for d in self._store.deliveries(sub.id, status="retrying",
                                                               limit=BATCH)}
        try:  # checked again for every batch and every retry: DNS may answer differently now
            target: egress.Target | str = egress.check(sub.url,
                                                       allow_private=self.config.allow_private)
        except InputError as e:
            target = e.detail
        return Prepared(frozenset(e.id for e in events), shown, retrying,
                        self._store.secrets(sub.id), target)

    async def _replay(self, client: httpx.AsyncClient, sub: Subscription, dead: Delivery,
                      version: int) -> bool:
        """Deliver a dead letter again, read back from the log; False if the task must stop."""
        position = Position.parse(dead.event)
        events = await asyncio.to_thread(self._feed.read, Position(position.seq - 1), 1)
        event = next((e for e in events or () if e.id == dead.event), None)
        if event is None:
            await asyncio.to_thread(self._store.record, Delivery(
                **{**dead.__dict__, "status": "dead-lettered", "replays": dead.replays + 1,
                   "last_error": "the event is no longer in the change log",
                   "last_at": now_iso()}))
            return True
        return await self._deliver(client, sub, event, None, version, [], replaying=dead)

    async def _deliver(self, client: httpx.AsyncClient, sub: Subscription, event: Event,
                       batch: Prepared | None, version: int, done: list[Delivery], *,
                       replaying: Delivery | None = None) -> bool:
        """Send one event until it is delivered or dead-lettered (True), or a subscription
        changed meanwhile (False: the caller looks again). The first attempt uses what
        ``_prepare`` decided for its batch; every retry decides afresh. An event delivered at
        its first attempt joins ``done``; any other outcome is recorded at once (after
        ``done``)."""
        record = replaying or (batch.retrying.get(event.id) if batch else None)
        n, attempts, first = (record.n, 0 if replaying else record.attempts, record.first_at) \
            if record else (0, 0, now_iso())
        replays = record.replays + (1 if replaying else 0) if record else 0
        advance = None if replaying else event.position
        while not self._stopping and self._version == version:
            if batch is None:
                batch = await asyncio.to_thread(self._prepare, sub, [event])
            shown, secrets, target = batch.shown.get(event.id), batch.secrets, batch.target
            batch = None
            if shown is None:  # the owner may not see it (any more): nothing to deliver
                await self._flush(sub.id, done, None)
                if n:
                    await asyncio.to_thread(self._store.record, _delivery(
                        n, sub.id, event, "withheld", attempts, None, None,
                        "the owner may no longer read it", first, replays), advance=advance)
                elif advance is not None:
                    await asyncio.to_thread(self._store.save_position, sub.id, advance)
                return True
            code, latency, error = await self._attempt(client, sub, shown, secrets, target)
            attempts += 1
            if error is None and not n and not replaying:
                done.append(_delivery(0, sub.id, event, "delivered", attempts, code, latency,
                                      None, first, 0))
                return True
            await self._flush(sub.id, done, None)
            # a replay still being retried stays pending: a restart replays it again
            again = "replay-pending" if replaying else "retrying"
            status = "delivered" if error is None else "dead-lettered" \
                if attempts >= self.config.max_attempts else again
            n = await asyncio.to_thread(self._store.record, _delivery(
                n, sub.id, event, status, attempts, code, latency, error, first, replays),
                advance=advance if status != again else None)
            self._prune(sub.id, 1)
            if status == "dead-lettered":
                log.warning("webhook %s: event %s dead-lettered after %d attempts (%s)", sub.id,
                            event.id, attempts, error)
            if status != again:
                return True
            await asyncio.sleep(self.config.delay(attempts))
        return False

    async def _attempt(self, client: httpx.AsyncClient, sub: Subscription,
                       event: dict[str, Any], secrets: tuple[str, ...],
                       target: egress.Target | str
                       ) -> tuple[int | None, float | None, str | None]:
        """One request: status code, latency in ms, and what went wrong (None: a 2xx)."""
        if not secrets:
            return None, None, "the subscription is gone"
        if isinstance(target, str):  # refused by the egress rule
            return None, None, target
        body = webhook_payload.body(event, sub.format)
        started = time.perf_counter()
        try:
            response = await client.post(
                target.pinned, content=body,
                headers={**webhook_payload.headers(secrets, event["id"], body),
                         "host": target.host},
                extensions={"sni_hostname": target.name})
        except httpx.HTTPError as e:
            latency = (time.perf_counter() - started) * 1000
            return None, latency, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        latency = (time.perf_counter() - started) * 1000
        if 200 <= response.status_code < 300:
            return response.status_code, latency, None
        return response.status_code, latency, f"HTTP {response.status_code}"

    def _prune(self, sub_id: str, recorded: int) -> None:
        """Trim a subscription's history now and then (on the loop: one indexed delete)."""
        before, self._recorded = self._recorded, self._recorded + recorded
        if before // PRUNE_EVERY != self._recorded // PRUNE_EVERY:
            self._store.prune(sub_id, self.config.history)

    def close(self) -> None:
        """Stop (what was not confirmed is delivered again by the next start)."""
        self._stopping = True
        self._call(self._reconcile_soon)
        if self._thread is not None:
            self._thread.join(15)


def _may_want(sub: Subscription, event: Event) -> bool:
    """The filters' cheap part, before the owner's view is asked for."""
    f = sub.filter
    if not f.wants(event):
        return False
    if event.assets:
        return any(f.wants_asset(a) for a in event.assets)
    return not f.about_assets


def _delivery(n: int, sub_id: str, event: Event, status: str, attempts: int, code: int | None,
              latency: float | None, error: str | None, first: str, replays: int) -> Delivery:
    return Delivery(n, sub_id, event.id, event.type, status, attempts, code, latency, error,
                    first, now_iso(), replays)
