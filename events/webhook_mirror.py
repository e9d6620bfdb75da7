"""Webhook subscriptions shared by the nodes of a cluster, so that whichever node is elected
delivers them (catalog/leadership.py).

Each node keeps the subscriptions in its own ``webhooks.sqlite`` (events/webhook_store.py).
With a shared change log, a subscription made, changed, paused or deleted on any node is also
put in a NATS key-value bucket, which every node follows into its own file: every node knows
every subscription. The delivering node puts each subscription's position beside it (a key of
its own, ``{id}.position``, so a position never overwrites a change made elsewhere) at most
every PUSH_S, and every node moves its copy forward to it: a node that takes over delivers
from there, so what was delivered after the last push is delivered again (at least once).
The history of deliveries (attempts, dead letters, replays) stays on the node that made them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Protocol

from events.model import Position
from events.webhook_store import WebhookStore

log = logging.getLogger(__name__)
PUSH_S = 1.0
_POSITION = ".position"


class Records(Protocol):
    """graph_store/nats_lease.py's ``Records``: a bucket every node follows."""

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def watch(self, apply: Callable[[str, bytes | None], None],
              ready: Callable[[], None] = ...) -> None: ...


class WebhookMirror:
    def __init__(self, store: WebhookStore, records: Records,
                 absorbed: Callable[[], None]) -> None:
        self._store, self._records, self._absorbed = store, records, absorbed
        self._pushed: dict[str, Position] = {}
        self._seen: set[str] = set()  # ids the bucket held when the watch began
        store.on_change = self.share
        records.watch(self._absorb, ready=self._share_unknown)

    def share(self, sub_id: str) -> None:
        """Put a subscription as this node has it now (or its deletion) in the bucket."""
        row = self._store.export(sub_id)
        if row is None:
            self._records.delete(sub_id)
            self._records.delete(sub_id + _POSITION)
        else:
            self._records.put(sub_id, json.dumps(row).encode())

    def pushing(self) -> Callable[[], None]:
        """Put the positions as they move, until the returned function is called (it pushes
        once more): on the node that delivers."""
        stop = threading.Event()

        def push() -> None:
            while not stop.wait(PUSH_S):
                self.push_positions()
            self.push_positions()

        thread = threading.Thread(target=push, name="semcat-webhook-positions", daemon=True)
        thread.start()

        def end() -> None:
            stop.set()
            thread.join(10)
        return end

    def push_positions(self) -> None:
        try:
            for sub_id, position in self._store.positions().items():
                if self._pushed.get(sub_id) != position:
                    self._records.put(sub_id + _POSITION, str(position).encode())
                    self._pushed[sub_id] = position
        except Exception as e:  # the servers away: the next push catches up
            log.warning("webhook positions could not be shared: %s", e)

    def _absorb(self, key: str, value: bytes | None) -> None:
        if key.endswith(_POSITION):
            if value is not None:
                self._store.save_position(key.removesuffix(_POSITION),
                                          Position.parse(value.decode()))
        else:
            self._seen.add(key)
            self._store.absorb(key, json.loads(value) if value is not None else None)
        self._absorbed()

    def _share_unknown(self) -> None:
        """Subscriptions this node has and the bucket never had (made before the nodes
        shared them) are shared now."""
        for sub in self._store.all():
            if sub.id not in self._seen:
                self.share(sub.id)
