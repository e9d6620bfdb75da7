"""``GET /api/v1/events``: the change stream as Server-Sent Events (docs/events.md).

Each subscriber reads the feed from its own position and is told only of assets it may read
when the event is delivered; resuming with ``Last-Event-ID`` (or ``from=``) gives what came
after, from memory or from the change log. Heartbeats are SSE comments.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from catalog import Catalog
from events import EventFilter, Position
from graph_store.errors import InputError
from sparql_api.auth import principal_of
from sparql_api.deps import call, catalog_of

router = APIRouter(tags=["Events"])
BATCH = 500

EVENT_EXAMPLE = {
    "id": "42-0", "position": 42, "type": "asset.updated", "time": "2026-12-06T22:02:47.497Z",
    "actor": "user/alice", "message": "patch", "workspace": "acme",
    "assets": [{"id": "acme/table/pg/shop.public.orders",
                "iri": "http://127.0.0.1:8000/id/acme/table/pg/shop.public.orders",
                "version": 7, "types": ["https://w3id.org/semcat#Table"],
                "classifications": ["classification/pii/email"],
                "properties": ["https://w3id.org/semcat#description"]}]}
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["id", "position", "type", "time", "actor", "assets"],
    "properties": {
        "id": {"type": "string", "description": "{position}-{index}: the SSE id, the NATS "
               "Nats-Msg-Id; give it back as Last-Event-ID to resume after it"},
        "position": {"type": "integer", "description": "The change log position (seq) of "
                     "the changeset; monotonic"},
        "type": {"type": "string", "description": "asset.created | asset.updated | "
                 "asset.deleted | ontology.changed | shapes.changed | graph.changed"},
        "time": {"type": "string", "format": "date-time"},
        "actor": {"type": "string"}, "message": {"type": "string"},
        "workspace": {"type": ["string", "null"]},
        "assets": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "iri": {"type": "string"},
            "version": {"type": ["integer", "null"]},
            "types": {"type": "array", "items": {"type": "string"}},
            "classifications": {"type": "array", "items": {"type": "string"}},
            "properties": {"type": "array", "items": {"type": "string"},
                           "description": "predicates whose values changed"}}}},
        "graphs": {"type": "array", "items": {"type": "string"},
                   "description": "for changes to statements about no asset"},
        "delta": {"type": "object", "description": "with delta=true: N-Quads",
                  "properties": {"removed": {"type": "string"}, "added": {"type": "string"}}}}}
DESCRIPTION = (
    "A `text/event-stream` of change events, one per kind of change a changeset made (per "
    "type and workspace). Each SSE message has `id: {position}-{index}` and `data:` one JSON "
    "object:\n\n```json\n" + orjson.dumps(EVENT_EXAMPLE, option=orjson.OPT_INDENT_2).decode()
    + "\n```\n\nSchema of `data`: `" + orjson.dumps(EVENT_SCHEMA).decode() + "`.\n\n"
    "Without `from` or `Last-Event-ID` the stream starts now; `from=0` replays the whole log. "
    "A subscriber is told only of assets it may read when the event is delivered: an event "
    "about several assets is trimmed to the readable ones, or dropped. Idle streams get a "
    "comment line every SEMCAT_EVENTS_HEARTBEAT_S seconds.")


def _values(given: Sequence[str] | None) -> tuple[str, ...]:
    """Repeated parameters and comma-separated lists alike."""
    return tuple(v.strip() for item in given or () for v in item.split(",") if v.strip())


@router.get("/api/v1/events", summary="The change stream as Server-Sent Events",
            description=DESCRIPTION, response_class=EventSourceResponse,
            responses={200: {"description": "An endless stream of events",
                             "content": {"text/event-stream": {"schema": {"type": "string"},
                                                               "example": "id: 42-0\ndata: "
                                                               + orjson.dumps(EVENT_EXAMPLE)
                                                               .decode() + "\n\n"}}}})
async def stream_events(
    request: Request,
    type: Annotated[list[str] | None, Query(
        description="Event types, or families (`asset` is every asset.*)")] = None,
    workspace: Annotated[list[str] | None, Query(description="Workspaces")] = None,
    assetType: Annotated[list[str] | None, Query(
        description="Asset classes, by local name (`Table`) or IRI")] = None,
    classification: Annotated[list[str] | None, Query(
        description="Classification ids; narrower ones included")] = None,
    from_: Annotated[str | None, Query(alias="from", description="Start after this position "
                                       "(a change log position, or an event id)")] = None,
    delta: Annotated[bool, Query(description="Add the RDF delta (N-Quads)")] = False,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID",
                                                include_in_schema=False)] = None,
) -> EventSourceResponse:
    cat = catalog_of(request)
    principal = principal_of(request)
    given = last_event_id or from_
    try:
        start = Position.parse(given) if given else cat.events.position
    except ValueError as e:
        raise InputError(str(e)) from e
    wanted = EventFilter(_values(type), _values(workspace), _values(assetType),
                         _values(classification))

    def after(position: Position, *, live: bool = False) -> tuple[Position,
                                                                  list[dict[str, Any]]] | None:
        """The next events, as far as they go, and what the caller may see of them, decided
        now; ``live``: only if they are in memory (None if not), so that the event loop
        may call this itself and spare the trip to a worker thread."""
        batch = cat.events.read_live(position, BATCH) if live else cat.events.read(position,
                                                                                    BATCH)
        if batch is None:
            return None
        if not batch:
            return position, []
        with cat.access.acting_as(principal):
            return batch[-1].position, cat.events.visible(batch, wanted, delta=delta)

    return EventSourceResponse(_messages(cat, start, after),
                               ping=cat.settings.events_heartbeat_s)


Next = Callable[..., tuple[Position, list[dict[str, Any]]] | None]


async def _messages(cat: Catalog, position: Position, after: Next) -> AsyncIterator[
        ServerSentEvent]:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def woken() -> None:  # on the feed's thread
        with contextlib.suppress(RuntimeError):  # this stream's loop is gone
            loop.call_soon_threadsafe(wake.set)

    stop = cat.events.listen(woken)
    try:
        while True:
            wake.clear()
            found = after(position, live=True) or await call(after, position)
            reached, shown = found
            if reached == position:
                await wake.wait()
                continue
            position = reached
            for item in shown:
                yield ServerSentEvent(data=orjson.dumps(item).decode(), id=item["id"])
    finally:
        stop()
