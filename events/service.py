"""The change stream as the catalog offers it: the feed, what one caller may see of it, the
broker publishers configured and the webhook subscriptions. The catalog hands in who may read
what (``access.readable``, evaluated for the current caller at delivery, and for a webhook's
owner when it is sent), as it does to the lineage service."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from pyoxigraph import NamedNode

from events.derive import TYPE, events_of
from events.feed import EventFeed
from events.model import Event, Position
from events.nats_publisher import NatsPublisher
from events.publisher import ConfirmedPosition, LogPublisher, SharedPositions
from events.visibility import EventFilter, visible
from events.webhook_delivery import WebhookConfig
from events.webhooks import Access, Owners, WebhookService
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.nats_records import Records
from graph_store.protocol import GraphStore


@dataclass(frozen=True)
class NatsConfig:
    url: str
    stream: str
    prefix: str
    start: str = "now"  # "now" | "start": where a publisher with no position yet begins


class Readers(Access, Protocol):
    """access.service.AccessService, as far as the change stream asks it."""

    def readable(self) -> frozenset[str] | None: ...


class EventService:
    def __init__(self, store: GraphStore, layout: GraphLayout, journal: Journal, *,
                 access: Readers, data: Path | None, nats: NatsConfig | None = None,
                 webhooks: WebhookConfig | None = None, owners: Owners | None = None,
                 shared: Records | None = None) -> None:
        self._store = store
        self._layout = layout
        self._readable = access.readable
        with journal.lock:  # no changeset between the start position and the hook
            self.feed = EventFeed(journal.changelog, partial(events_of, layout=layout,
                                                             store=store),
                                  start=journal.applied_seq,
                                  # group commit: the log is fsynced as writers let go
                                  durable=journal.changelog.sync)
            journal.on_applied.append(self.feed.on_applied)
        self.publishers: list[LogPublisher] = []  # while publishing (on the elected node)
        self.nats, self._data, self._journal = nats, data, journal
        self.webhooks = WebhookService(
            self.feed, data, webhooks or WebhookConfig(), access=access,
            owners=owners or Owners(lambda owner: owner),
            visible=lambda events, wanted, delta: self.visible(events, wanted, delta=delta),
            shared=shared)  # several nodes: the subscriptions every node knows

    def publish(self, shared: SharedPositions | None = None) -> LogPublisher | None:
        """Start publishing to the NATS stream configured (None: none is), from the position
        it confirmed last: in ``shared`` when several nodes take turns, else in the data
        directory. The catalog calls this on the elected node only (catalog/leadership.py)."""
        if self.nats is None:
            return None
        where = self._data / "events" / "nats.position" if self._data is not None else None
        confirmed = ConfirmedPosition(where, shared, "nats-events")
        if confirmed.new and self.nats.start == "now":  # not the history, unless asked
            confirmed.save(self._journal.applied_seq)
        publisher = NatsPublisher(self.feed, confirmed, url=self.nats.url,
                                  stream=self.nats.stream, prefix=self.nats.prefix).start()
        self.publishers.append(publisher)
        return publisher

    def stop_publishing(self, publisher: LogPublisher | None) -> None:
        """Stop one publisher (what it had not confirmed, the next one sends again)."""
        if publisher is not None:
            publisher.close()
            self.publishers.remove(publisher)

    @property
    def position(self) -> Position:
        """Every event up to here has been made: where a new live subscriber starts."""
        return Position(self.feed.position)

    def read(self, after: Position, limit: int = 1000) -> list[Event]:
        return self.feed.read(after, limit) or []

    def read_live(self, after: Position, limit: int = 1000) -> list[Event] | None:
        """Like ``read`` when the events are in memory; None when they are older (read them
        with ``read``, off the event loop: that reads the change log)."""
        return self.feed.read(after, limit, memory_only=True)

    def visible(self, events: Sequence[Event], wanted: EventFilter, *,
                delta: bool = False) -> list[dict[str, Any]]:
        """What the current caller may see of ``events``, as JSON, decided now."""
        return visible(events, wanted, readable=self._readable(), home=self._home,
                       delta=delta)

    def _home(self, iri: str) -> str | None:
        for q in self._store.quads(NamedNode(iri), TYPE, None, None):
            g = q.graph_name
            if isinstance(g, NamedNode) and not self._layout.is_inferred(g):
                return g.value
        return None

    def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        return self.feed.listen(callback)

    def close(self) -> None:
        """Publishers and webhooks first (the next start sends what they had not confirmed)."""
        for publisher in list(self.publishers):
            self.stop_publishing(publisher)
        self.webhooks.close()
        self.feed.close()
