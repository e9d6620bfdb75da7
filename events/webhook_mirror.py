"""Webhook subscriptions shared by the nodes of a cluster, so that whichever node is elected
delivers them (catalog/leadership.py).

Each node keeps the subscriptions in its own ``webhooks.sqlite`` (events/webhook_store.py).
With a shared change log, a subscription made, changed, paused or deleted on any node is also
put in a NATS key-value bucket, which every node follows into its own file
(graph_store/nats_records.py): every node knows every subscription. The delivering node puts
each subscription's position beside it (a key of its own, ``{id}.position``, so a position
never overwrites a change made elsewhere) at most every PUSH_S, and every node moves its copy
forward to it: a node that takes over delivers from there, so what was delivered after the
last push is delivered again (at least once). The history of deliveries (attempts, dead
letters, replays) stays on the node that made them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from events.model import Position
from events.webhook_store import WebhookStore
from graph_store.nats_records import Mirror, Records

log = logging.getLogger(__name__)
PUSH_S = 1.0
_POSITION = ".position"


class WebhookMirror:
    def __init__(self, store: WebhookStore, records: Records,
                 absorbed: Callable[[], None]) -> None:
        self._store, self._records = store, records
        self._pushed: dict[str, Position] = {}
        self._mirror = Mirror(store, records, absorbed=absorbed, other=self._position,
                              suffix=_POSITION)

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

    def _position(self, sub_id: str, value: bytes | None) -> None:
        if value is not None:  # only forwards (WebhookStore.save_position)
            self._store.save_position(sub_id, Position.parse(value.decode()))
