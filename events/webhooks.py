"""Webhook subscriptions as the catalog offers them (``cat.events.webhooks``): who may make
them, what they may ask for, and their deliveries (docs/events.md, "Webhooks").

Instance admins and workspace admins (``manage-access`` in a workspace) make subscriptions; a
workspace admin's are limited to the workspaces they administer, and they see and change only
their own. Every event is delivered *as the subscription's owner*: what that principal may read
when the event is sent, so a webhook never names an asset its owner could not read. An owner
whose API key is revoked or expires, or who no longer administers the subscription's
workspaces, gets the subscription paused (with the reason) instead of deliveries.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from events import egress
from events.feed import EventFeed
from events.model import Event, Position
from events.visibility import EventFilter
from events.webhook_delivery import Dispatcher, WebhookConfig, now_iso
from events.webhook_mirror import WebhookMirror
from events.webhook_payload import new_secret
from events.webhook_store import FILE, Delivery, Subscription, WebhookStore
from graph_store.errors import Forbidden, InputError, NotFound
from graph_store.nats_records import Records

log = logging.getLogger(__name__)
FORMATS = ("json", "slack")
MANAGE = "manage-access"  # what makes a workspace admin
EVERY_WORKSPACE = "*"
ROTATION_GRACE_S = 86_400.0  # how long a replaced secret still signs, by default (a day)
MAX_ROTATION_GRACE_S = 7 * 86_400.0


class Caller(Protocol):
    """access.model.Caller, as far as webhooks ask it."""

    @property
    def admin(self) -> bool: ...

    @property
    def permissions(self) -> dict[str, frozenset[str]]: ...

    @property
    def principal(self) -> Any: ...

    def can(self, action: str, workspace: str) -> bool: ...


class Access(Protocol):
    """access.service.AccessService, as far as webhooks ask it."""

    def caller(self) -> Any: ...

    def principal(self) -> Any: ...

    def acting_as(self, principal: Any) -> AbstractContextManager[Any]: ...


@dataclass(frozen=True)
class Owners:
    """How an owner is stored and checked again (access/identity.py): from its JSON, and why
    it may no longer act (a revoked or expired key), or None."""

    from_json: Callable[[dict[str, Any]], Any]
    revoked: Callable[[Any], str | None] = lambda principal: None


Visible = Callable[[Sequence[Event], EventFilter, bool], list[dict[str, Any]]]


class WebhookService:
    def __init__(self, feed: EventFeed, data: Path | None, config: WebhookConfig, *,
                 access: Access, owners: Owners, visible: Visible,
                 shared: Records | None = None) -> None:
        self._feed = feed
        self._access = access
        self._owners = owners
        self._visible = visible
        self.config = config
        self.store = WebhookStore(data / FILE if data is not None else None)
        self.dispatcher: Dispatcher | None = None  # while this node delivers (``deliver``)
        # several nodes: every one knows every subscription (events/webhook_mirror.py)
        self.mirror = WebhookMirror(self.store, shared, absorbed=self._refresh) \
            if shared is not None else None

    # -- delivering: on the elected node (catalog/leadership.py) -------------------------------
    def deliver(self) -> Callable[[], None]:
        """Deliver every subscription from its position until the returned function is
        called (what was not confirmed then, the next node to deliver sends again)."""
        dispatcher = Dispatcher(self._feed, self.store, self.config, view=self._as_owner,
                                owner_problem=self._owner_problem)
        self.dispatcher = dispatcher
        if any(not s.paused for s in self.store.all()):
            dispatcher.refresh()
        end_pushing = self.mirror.pushing() if self.mirror is not None else None

        def stop() -> None:
            if self.dispatcher is dispatcher:
                self.dispatcher = None
            dispatcher.close()
            if end_pushing is not None:
                end_pushing()
        return stop

    def _refresh(self) -> None:
        dispatcher = self.dispatcher
        if dispatcher is not None:
            dispatcher.refresh()

    # -- subscriptions -------------------------------------------------------------------------
    def create(self, url: str, wanted: EventFilter, *, format: str = "json",
               delta: bool = False, description: str = "") -> tuple[Subscription, str]:
        """A new subscription delivering from now on, and its secret (shown this once)."""
        wanted = self._scope(wanted)
        self._check(url, format)
        owner = self._access.principal()
        stamp = now_iso()
        sub = Subscription("wh_" + secrets.token_hex(8), url, wanted, format, delta,
                           description, False, None, owner.to_json(), stamp, stamp,
                           Position(self._feed.position))
        secret = new_secret()
        self.store.add(sub, secret)
        log.info("webhook %s created for %s to %s", sub.id, sub.owner_subject,
                 egress.origin(url))
        self._refresh()
        return sub, secret

    def page(self, *, cursor: str | None = None, limit: int = 50) -> tuple[list[Subscription],
                                                                            str | None]:
        """A page of the subscriptions the caller may manage, oldest first, and the next
        page's cursor."""
        caller = self._manager()
        mine = [s for s in self.store.all() if self._manages(caller, s)]
        if cursor is not None:
            ids = [s.id for s in mine]
            mine = mine[ids.index(cursor) + 1:] if cursor in ids else []
        page = mine[:limit]
        return page, page[-1].id if len(mine) > limit else None

    def get(self, sub_id: str) -> Subscription:
        """NotFound also for a subscription the caller may not manage: its existence is not
        revealed."""
        caller = self._manager()
        sub = self.store.get(sub_id)
        if sub is None or not self._manages(caller, sub):
            raise NotFound(f"no webhook {sub_id!r}; GET /api/v1/webhooks lists yours")
        return sub

    def update(self, sub_id: str, *, url: str | None = None, wanted: EventFilter | None = None,
               format: str | None = None, delta: bool | None = None,
               description: str | None = None, paused: bool | None = None) -> Subscription:
        """Change what is given; resuming a paused subscription checks its owner again."""
        sub = self.get(sub_id)
        new = replace(sub, url=url if url is not None else sub.url,
                      filter=self._scope(wanted) if wanted is not None else sub.filter,
                      format=format if format is not None else sub.format,
                      delta=delta if delta is not None else sub.delta,
                      description=description if description is not None else sub.description,
                      updated=now_iso())
        if url is not None or format is not None:
            self._check(new.url, new.format)
        if paused is not None:
            new = replace(new, paused=paused, paused_reason=None)
        if not new.paused:
            problem = self._owner_problem(new)
            if problem is not None:
                raise Forbidden(f"webhook {sub_id} cannot deliver: {problem}; delete it and "
                                "create a new one", reason=problem)
        self.store.replace(new)
        self._refresh()
        return new

    def delete(self, sub_id: str) -> None:
        self.get(sub_id)
        self.store.delete(sub_id)
        self._refresh()

    def rotate_secret(self, sub_id: str, grace_s: float = ROTATION_GRACE_S) -> str:
        """A new secret, signing from the next attempt on. The old one signs beside it for
        ``grace_s`` (the ``webhook-signature`` header carries both), so a receiver can switch
        to the new one without dropping a delivery; 0 ends it at once (a leaked secret)."""
        if not 0 <= grace_s <= MAX_ROTATION_GRACE_S:
            raise InputError(f"graceSeconds: between 0 and {MAX_ROTATION_GRACE_S:g}")
        self.get(sub_id)
        secret = new_secret()
        self.store.set_secret(sub_id, secret, now_iso(), grace_s)
        self._refresh()
        return secret

    # -- deliveries ----------------------------------------------------------------------------
    def deliveries(self, sub_id: str, *, status: str | None = None, cursor: int | None = None,
                   limit: int = 50) -> tuple[list[Delivery], int | None]:
        """A page of the subscription's deliveries, newest first, and the next cursor."""
        self.get(sub_id)
        found = self.store.deliveries(sub_id, status=status, cursor=cursor, limit=limit + 1)
        return found[:limit], found[limit - 1].n if len(found) > limit else None

    def replay(self, sub_id: str, n: int | None = None) -> int:
        """Queue one dead letter (or all) for delivery again; how many were queued."""
        sub = self.get(sub_id)
        if n is not None:
            found = self.store.delivery(sub_id, n)
            if found is None or found.status != "dead-lettered":
                raise NotFound(f"webhook {sub_id} has no dead letter {n}; GET "
                               f"/api/v1/webhooks/{sub_id}/dead-letters lists them")
        queued = self.store.queue_replays(sub_id, n)
        if sub.paused:
            log.info("webhook %s: %d dead letters queued; delivered once it is resumed", sub_id,
                     queued)
        self._refresh()
        return queued

    def close(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.close()
        self.store.close()

    # -- who may -------------------------------------------------------------------------------
    def _manager(self) -> Caller:
        caller: Caller = self._access.caller()
        if not caller.admin and not _administered(caller):
            raise Forbidden(f"{caller.principal.subject} may not manage webhooks: they are for "
                            "instance admins and workspace admins", reason=f"missing {MANAGE}")
        return caller

    def _manages(self, caller: Caller, sub: Subscription) -> bool:
        """Admins manage every subscription; workspace admins their own, while they still
        administer its workspaces."""
        if caller.admin:
            return True
        return sub.owner_subject == caller.principal.subject and all(
            caller.can(MANAGE, ws) for ws in sub.filter.workspaces or (EVERY_WORKSPACE,))

    def _scope(self, wanted: EventFilter) -> EventFilter:
        """The filter a caller may have: a workspace admin's is limited to their workspaces
        (all of them when it names none)."""
        caller = self._manager()
        if caller.admin or caller.can(MANAGE, EVERY_WORKSPACE):
            return wanted
        if wanted.workspaces:
            refused = [ws for ws in wanted.workspaces if not caller.can(MANAGE, ws)]
            if refused:
                raise Forbidden(f"{caller.principal.subject} does not administer workspace "
                                f"{refused[0]!r}; a workspace admin's webhooks cover only "
                                "their own workspaces", reason=f"missing {MANAGE}")
            return wanted
        return replace(wanted, workspaces=tuple(sorted(_administered(caller))))

    def _check(self, url: str, format: str) -> None:
        if format not in FORMATS:
            raise InputError(f"format: {format!r} is not one of {', '.join(FORMATS)}",
                             field="format")
        egress.check(url, allow_private=self.config.allow_private)

    # -- delivery, as the owner ----------------------------------------------------------------
    def _as_owner(self, sub: Subscription, events: Sequence[Event]) -> list[dict[str, Any]]:
        with self._access.acting_as(self._owners.from_json(sub.owner)):
            return self._visible(events, sub.filter, sub.delta and sub.format != "slack")

    def _owner_problem(self, sub: Subscription) -> str | None:
        principal = self._owners.from_json(sub.owner)
        why = self._owners.revoked(principal)
        if why is not None or principal.admin:
            return why
        with self._access.acting_as(principal) as caller:
            lost = [ws for ws in sub.filter.workspaces or (EVERY_WORKSPACE,)
                    if not caller.can(MANAGE, ws)]
        return f"{sub.owner_subject} no longer administers workspace {lost[0]!r}" if lost \
            else None


def _administered(caller: Caller) -> set[str]:
    return {ws for ws, actions in caller.permissions.items() if MANAGE in actions}
