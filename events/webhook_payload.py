"""What a webhook request carries: the event JSON (or a Slack-compatible ``{"text": ...}``) and
the Standard Webhooks headers (https://www.standardwebhooks.com/): ``webhook-id`` (the event
id, the same on every retry, so receivers de-duplicate by it), ``webhook-timestamp`` (unix
seconds of this attempt) and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">`` keyed with the secret's decoded bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from typing import Any

import orjson

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(keys: Sequence[str], msg_id: str, body: bytes, now: float | None = None
            ) -> dict[str, str]:
    """With several secrets (one rotated out, still in its grace period), one signature for
    each, space-separated, as the Standard Webhooks spec has it: a receiver checking either
    secret accepts the delivery."""
    timestamp = int(now if now is not None else time.time())
    return {"content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signature(k, msg_id, timestamp, body) for k in keys),
            "user-agent": "semcat-webhooks"}


def body(event: dict[str, Any], fmt: str) -> bytes:
    return orjson.dumps({"text": slack_text(event)} if fmt == "slack" else event)


def slack_text(event: dict[str, Any]) -> str:
    """One line a person reads in a channel: what happened, where, by whom, to what."""
    where = f" in {event['workspace']}" if event.get("workspace") else ""
    head = f"*{event['type']}*{where} by {event.get('actor') or 'someone'}"
    if event.get("message"):
        head += f": {event['message']}"
    lines = [head]
    for asset in event.get("assets", [])[:10]:
        version = f" v{asset['version']}" if asset.get("version") is not None else ""
        changed = [p.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for p in asset.get("properties", [])]
        lines.append(f"• `{asset['id']}`{version}"
                     + (f" ({', '.join(changed)})" if changed else ""))
    more = len(event.get("assets", [])) - 10
    if more > 0:
        lines.append(f"… and {more} more")
    lines += [f"• graph {g}" for g in event.get("graphs", [])[:10]]
    return "\n".join(lines)
