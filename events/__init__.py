"""The change stream: every applied changeset as an event, for SSE subscribers, brokers and
webhooks."""

from events.model import AssetChange, Event, Position
from events.service import EventService, NatsConfig
from events.visibility import EventFilter
from events.webhook_delivery import WebhookConfig
from events.webhooks import Owners

__all__ = ["AssetChange", "Event", "EventFilter", "EventService", "NatsConfig", "Owners",
           "Position", "WebhookConfig"]
