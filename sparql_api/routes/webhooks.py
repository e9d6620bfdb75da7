"""``/api/v1/webhooks``: subscriptions that POST change events to a URL, signed per Standard
Webhooks, at least once, with retries, dead letters and replay (events/webhooks.py,
docs/events.md). For instance admins and workspace admins; secrets are shown once, on create
and on rotation, and never again (not in lists, logs, errors or the audit log)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from events import EventFilter
from events.egress import origin
from events.webhooks import MAX_ROTATION_GRACE_S, ROTATION_GRACE_S
from sparql_api.deps import MAX_SEQ, call, catalog_of
from sparql_api.schemas import Closed

router = APIRouter(prefix="/api/v1/webhooks", tags=["Webhooks"])
WebhookId = Annotated[str, Path(description="The subscription's id (wh_...)")]
NO_BODY: dict[str, Any] = {"requestBody": {
    "required": False, "description": "None needed",
    "content": {"application/json": {"schema": {"type": "object", "maxProperties": 0}}}}}
STATUSES = "^(retrying|delivered|dead-lettered|replay-pending|withheld)$"


class Filters(Closed):
    types: list[str] = Field(default=[], description="Event types, or families (`asset`)")
    workspaces: list[str] = Field(default=[], description="Workspaces (a workspace admin's "
                                  "default: the workspaces they administer)")
    assetTypes: list[str] = Field(default=[], description="Asset classes: local name or IRI")
    classifications: list[str] = Field(default=[], description="Classification ids; narrower "
                                       "ones included")


class WebhookIn(Filters):
    url: str = Field(description="http(s) URL the events are POSTed to; public addresses only "
                     "unless SEMCAT_WEBHOOKS_ALLOW_PRIVATE", examples=["https://hooks.example.com/semcat"])
    format: Literal["json", "slack"] = Field(default="json", description="`json`: the event; "
                                             "`slack`: a Slack-compatible {\"text\": ...}")
    delta: bool = Field(default=False, description="Add the RDF delta (N-Quads) to the event")
    description: str = Field(default="", max_length=500, description="What it is for")


class WebhookPatch(Closed):
    url: str | None = None
    format: Literal["json", "slack"] | None = None
    delta: bool | None = None
    description: str | None = Field(default=None, max_length=500)
    paused: bool | None = Field(default=None, description="Pause (true) or resume (false)")
    types: list[str] | None = None
    workspaces: list[str] | None = None
    assetTypes: list[str] | None = None
    classifications: list[str] | None = None


class Webhook(Closed):
    id: str
    url: str
    types: list[str]
    workspaces: list[str]
    assetTypes: list[str]
    classifications: list[str]
    format: Literal["json", "slack"]
    delta: bool
    description: str
    paused: bool
    pausedReason: str | None = Field(description="Why the catalog paused it, if it did")
    owner: str = Field(description="Whom events are delivered as: what they may read")
    createdAt: str
    updatedAt: str
    position: str = Field(description="The last event it is done with")


class NewWebhook(Webhook):
    secret: str = Field(description="whsec_...: the signing key, shown this once")


class Secret(Closed):
    secret: str = Field(description="whsec_...: the new signing key, shown this once")


class Webhooks(Closed):
    items: list[Webhook]
    next: str | None = Field(description="Cursor of the next page; null on the last")


class WebhookDelivery(Closed):
    n: int = Field(description="The delivery's number (a dead letter's, to replay it)")
    event: str = Field(description="The event id, sent as webhook-id")
    type: str
    status: str = Field(description="retrying | delivered | dead-lettered | replay-pending | "
                        "withheld (its owner may no longer read it)")
    attempts: int
    statusCode: int | None = Field(description="The last attempt's HTTP status")
    latencyMs: float | None = Field(description="The last attempt's duration")
    lastError: str | None
    firstAttemptAt: str
    lastAttemptAt: str
    replays: int


class WebhookDeliveries(Closed):
    items: list[WebhookDelivery] = Field(description="Newest first")
    next: int | None = Field(description="Cursor of the next page; null on the last")


class Replayed(Closed):
    queued: int = Field(description="Dead letters queued for delivery again")


def _filter(body: Filters | WebhookPatch) -> EventFilter:
    return EventFilter(tuple(body.types or ()), tuple(body.workspaces or ()),
                       tuple(body.assetTypes or ()), tuple(body.classifications or ()))


async def _audit(request: Request, action: str, sub_id: str, **detail: Any) -> None:
    """What was done to which subscription; a target's origin only, never its path (Slack's
    URLs are credentials) and never a secret."""
    await call(catalog_of(request).audit.record, action=f"webhook.{action}",
               targets=[f"webhook/{sub_id}"], detail=detail)


@router.post("", status_code=201, summary="Subscribe a URL to change events (the secret is "
             "shown once)", response_model=NewWebhook)
async def create_webhook(request: Request, body: WebhookIn) -> JSONResponse:
    """400 for a target that is not http(s) or resolves to a loopback, link-local or private
    address (`refused` says which); 403 for callers who are not admins, or workspace admins of
    the workspaces asked for."""
    hooks = catalog_of(request).events.webhooks
    sub, secret = await call(hooks.create, body.url, _filter(body), format=body.format,
                             delta=body.delta, description=body.description)
    await _audit(request, "create", sub.id, target=origin(sub.url), format=sub.format)
    return JSONResponse({**sub.to_json(), "secret": secret}, status_code=201,
                        headers={"Location": f"/api/v1/webhooks/{sub.id}",
                                 "Cache-Control": "no-store"})


@router.get("", summary="The webhooks you manage, oldest first", response_model=Webhooks)
async def list_webhooks(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=1000, description="Per page")] = 50,
        cursor: Annotated[str | None, Query(description="The previous page's next")] = None,
) -> JSONResponse:
    page, nxt = await call(catalog_of(request).events.webhooks.page, cursor=cursor, limit=limit)
    return JSONResponse({"items": [s.to_json() for s in page], "next": nxt})


@router.get("/{webhook_id}", summary="One webhook (never its secret)", response_model=Webhook)
async def get_webhook(request: Request, webhook_id: WebhookId) -> JSONResponse:
    sub = await call(catalog_of(request).events.webhooks.get, webhook_id)
    return JSONResponse(sub.to_json())


@router.patch("/{webhook_id}", summary="Change, pause or resume a webhook",
              response_model=Webhook)
async def update_webhook(request: Request, webhook_id: WebhookId,
                         body: WebhookPatch) -> JSONResponse:
    filters = ("types", "workspaces", "assetTypes", "classifications")
    wanted = _filter(body) if any(getattr(body, f) is not None for f in filters) else None
    sub = await call(catalog_of(request).events.webhooks.update, webhook_id, url=body.url,
                     wanted=wanted, format=body.format, delta=body.delta,
                     description=body.description, paused=body.paused)
    await _audit(request, "update", sub.id, target=origin(sub.url), paused=sub.paused,
                 fields=sorted(body.model_fields_set))
    return JSONResponse(sub.to_json())


@router.delete("/{webhook_id}", status_code=204, summary="Delete a webhook and its history")
async def delete_webhook(request: Request, webhook_id: WebhookId) -> Response:
    await call(catalog_of(request).events.webhooks.delete, webhook_id)
    await _audit(request, "delete", webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}:rotate-secret", summary="A new signing secret (shown once); the "
             "old one signs beside it for graceSeconds", response_model=Secret,
             openapi_extra=NO_BODY)
async def rotate_webhook_secret(
        request: Request, webhook_id: WebhookId,
        grace: Annotated[float, Query(
            alias="graceSeconds", ge=0, le=MAX_ROTATION_GRACE_S,
            description="How long the old secret still signs deliveries beside the new one "
                        "(each delivery then carries both signatures); 0 ends it at once, "
                        "for a leaked secret")] = ROTATION_GRACE_S) -> JSONResponse:
    secret = await call(catalog_of(request).events.webhooks.rotate_secret, webhook_id, grace)
    await _audit(request, "rotate-secret", webhook_id, graceSeconds=grace)
    return JSONResponse({"secret": secret}, headers={"Cache-Control": "no-store"})


async def _deliveries(request: Request, webhook_id: str, status: str | None, limit: int,
                      cursor: int | None) -> JSONResponse:
    found, nxt = await call(catalog_of(request).events.webhooks.deliveries, webhook_id,
                            status=status, cursor=cursor, limit=limit)
    return JSONResponse({"items": [d.to_json() for d in found], "next": nxt})


Limit = Annotated[int, Query(ge=1, le=1000, description="Per page")]
Cursor = Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="The previous page's next")]


@router.get("/{webhook_id}/deliveries", summary="Delivery history: status codes, attempts, "
            "latency, last error; newest first", response_model=WebhookDeliveries)
async def list_webhook_deliveries(
        request: Request, webhook_id: WebhookId,
        status: Annotated[str | None, Query(pattern=STATUSES, description="Only these")] = None,
        limit: Limit = 50, cursor: Cursor = None) -> JSONResponse:
    return await _deliveries(request, webhook_id, status, limit, cursor)


@router.get("/{webhook_id}/dead-letters", summary="Events given up on after the last attempt, "
            "newest first", response_model=WebhookDeliveries)
async def list_webhook_dead_letters(request: Request, webhook_id: WebhookId,
                                    limit: Limit = 50, cursor: Cursor = None) -> JSONResponse:
    return await _deliveries(request, webhook_id, "dead-lettered", limit, cursor)


@router.post("/{webhook_id}/dead-letters:replay", status_code=202, summary="Deliver every "
             "dead letter again", response_model=Replayed, openapi_extra=NO_BODY)
async def replay_webhook_dead_letters(request: Request, webhook_id: WebhookId) -> JSONResponse:
    queued = await call(catalog_of(request).events.webhooks.replay, webhook_id)
    await _audit(request, "replay", webhook_id, queued=queued)
    return JSONResponse({"queued": queued}, status_code=202)


@router.post("/{webhook_id}/dead-letters/{n}:replay", status_code=202, summary="Deliver one "
             "dead letter again", response_model=Replayed, openapi_extra=NO_BODY)
async def replay_webhook_dead_letter(request: Request, webhook_id: WebhookId,
                                     n: Annotated[int, Path(ge=1, le=MAX_SEQ)]) -> JSONResponse:
    queued = await call(catalog_of(request).events.webhooks.replay, webhook_id, n)
    await _audit(request, "replay", webhook_id, queued=queued, delivery=n)
    return JSONResponse({"queued": queued}, status_code=202)
