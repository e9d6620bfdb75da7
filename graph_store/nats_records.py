"""Records every node of a cluster keeps a copy of: a NATS key-value bucket (no ttl) that each
node follows into a store of its own (``Mirror``), so that the work one elected node does
(catalog/leadership.py) finds what it needs on whichever node is elected next: webhook
subscriptions (events/webhook_mirror.py), ingestion schedules (ingestion/schedules.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

log = logging.getLogger(__name__)
Runner = Callable[[Coroutine[Any, Any, Any]], Any]  # runs a coroutine on the lease's loop


class Records:
    """Records by key, which every node follows (``watch``) into a copy of its own.

    A write names the revision this node last saw or wrote of the record, so a change made
    elsewhere meanwhile wins over this node's (which then takes it, by the watch): a firing
    recorded on one node never brings back a schedule deleted on another."""

    def __init__(self, kv: KeyValue, run: Runner) -> None:
        self._kv, self._run = kv, run
        self._lock = threading.Lock()
        self._seen: dict[str, int | None] = {}  # key → the last revision known; None: deleted

    def put(self, key: str, value: bytes) -> bool:
        """Write the record, unless it changed or was deleted since this node last saw it
        (False: the other change wins)."""
        with self._lock:
            if key in self._seen and self._seen[key] is None:
                return False
            last = self._seen.get(key)
        try:
            revision = self._run(self._kv.put(key, value) if last is None
                                 else self._kv.update(key, value, last=last))
        except KeyWrongLastSequenceError:
            return False
        self._note(key, revision)
        return True

    def delete(self, key: str) -> None:
        self._run(self._kv.delete(key))
        with self._lock:
            self._seen[key] = None

    def _note(self, key: str, revision: int | None) -> None:
        with self._lock:
            known = self._seen.get(key, 0)
            if revision is None or known is None or revision > known:
                self._seen[key] = revision

    def watch(self, apply: Callable[[str, bytes | None], None],
              ready: Callable[[], None] = lambda: None) -> None:
        """Call ``apply(key, value)`` (``None``: deleted) for every record now, then
        ``ready()`` once, then ``apply`` for every change, in order, on a thread of the pool
        (the lease's loop goes on renewing); the watch starts again after a failure, from the
        current records."""
        async def follow() -> None:
            first = True
            while True:
                try:
                    watcher = await self._kv.watchall()
                    async for entry in watcher:
                        if entry is None:  # the records as they were: all delivered
                            if first:
                                first = False
                                await asyncio.to_thread(ready)
                            continue
                        gone = entry.operation in ("DEL", "PURGE")
                        self._note(entry.key, None if gone else entry.revision)
                        await asyncio.to_thread(apply, entry.key, None if gone else entry.value)
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    log.warning("watching %s failed (%s); again in 1 s", self._kv._name, e)
                    await asyncio.sleep(1)

        async def start() -> None:
            asyncio.get_running_loop().create_task(follow(), name=f"watch {self._kv._name}")
        self._run(start())


class Local(Protocol):
    """A node's own store of the records (a SQLite table), as far as a mirror needs it."""

    on_change: Callable[[str], None]  # told the id of each record changed here

    def ids(self) -> list[str]: ...

    def export(self, record_id: str) -> dict[str, Any] | None: ...

    def absorb(self, record_id: str, row: dict[str, Any] | None) -> None: ...


class Mirror:
    """Keeps ``local`` and the bucket equal: what changes here is put there (``local``'s
    ``on_change``), what changes there is taken here (``absorb``, then ``absorbed()``). Keys
    ending in one of ``other_keys``' suffixes are handed to ``other(key, value)`` instead."""

    def __init__(self, local: Local, records: Records, *,
                 absorbed: Callable[[], None] = lambda: None,
                 other: Callable[[str, bytes | None], None] | None = None,
                 suffix: str = "") -> None:
        self._local, self._records, self._absorbed = local, records, absorbed
        self._other, self._suffix = other, suffix
        self._seen: set[str] = set()  # ids the bucket held when the watch began
        local.on_change = self.share
        records.watch(self._absorb, ready=self._share_unknown)

    def share(self, record_id: str) -> None:
        """Put a record as this node has it now (or its deletion) in the bucket."""
        row = self._local.export(record_id)
        if row is None:
            self._records.delete(record_id)
        else:
            self._records.put(record_id, json.dumps(row).encode())

    def _absorb(self, key: str, value: bytes | None) -> None:
        if self._other is not None and self._suffix and key.endswith(self._suffix):
            self._other(key.removesuffix(self._suffix), value)
        else:
            self._seen.add(key)
            self._local.absorb(key, json.loads(value) if value is not None else None)
        self._absorbed()

    def _share_unknown(self) -> None:
        """Records this node has and the bucket never had (made before the nodes shared
        them) are shared now."""
        for record_id in self._local.ids():
            if record_id not in self._seen:
                self.share(record_id)
