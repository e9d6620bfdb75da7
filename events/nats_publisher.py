"""The feed on NATS JetStream: one subject per workspace and event type
(``{prefix}.{workspace}.{type}``, e.g. ``semcat.events.acme.asset.updated``; ``_`` for
events of no workspace), each message's ``Nats-Msg-Id`` its event id, so the stream drops what
a publisher sends twice after a restart or an outage (within its duplicate window)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

import nats
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from events.feed import EventFeed
from events.model import Event
from events.publisher import ConfirmedPosition, LogPublisher

log = logging.getLogger(__name__)
ACK_TIMEOUT_S = 5.0
_NOT_IN_A_TOKEN = re.compile(r"[\s.*>%]")  # what a NATS subject token may not hold (and %)


def subject_token(text: str) -> str:
    """A workspace name as one subject token: whitespace, ``.``, ``*``, ``>`` and ``%``
    percent-encoded."""
    return _NOT_IN_A_TOKEN.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()),
                               text) or "_"


class NatsPublisher(LogPublisher):
    name = "nats"

    def __init__(self, feed: EventFeed, confirmed: ConfirmedPosition, *, url: str,
                 stream: str, prefix: str) -> None:
        super().__init__(feed, confirmed)
        self.url, self.stream, self.prefix = url, stream, prefix.rstrip(".")
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None

    def subject(self, event: Event) -> str:
        return f"{self.prefix}.{subject_token(event.workspace or '_')}.{event.type}"

    async def connect(self) -> None:
        async def quiet(e: Exception) -> None:  # the loop logs one line per failed attempt
            log.debug("nats: %s", e)

        # reconnection is ours (LogPublisher's backoff), so a lost broker fails the batch
        self._nc = await nats.connect(self.url, allow_reconnect=False, connect_timeout=2,
                                      max_reconnect_attempts=0, error_cb=quiet)
        self._js = self._nc.jetstream(timeout=ACK_TIMEOUT_S)
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"])

    async def send(self, events: Sequence[Event]) -> None:
        js = self._js
        if js is None:
            raise ConnectionError("not connected to NATS")
        await asyncio.gather(*(js.publish(self.subject(e), orjson.dumps(e.to_json()),
                                          headers={"Nats-Msg-Id": e.id}) for e in events))

    async def disconnect(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                await asyncio.wait_for(nc.close(), 2)
            except Exception as e:  # a broker already gone
                log.debug("nats: closing: %s", e)
