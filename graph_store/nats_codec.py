"""How a changeset travels as one JetStream message: JSON with its quads as N-Quads, deflated
when large, and an id that is a hash of the content, so the same changeset sent twice (a retry)
carries the same ``Nats-Msg-Id`` and the stream keeps one copy."""

from __future__ import annotations

import hashlib
import re
import zlib

import orjson

from graph_store.changelog import from_nquads, to_nquads
from graph_store.changeset import Changeset

HEADER = "Semcat-Encoding"
DEFLATE_ABOVE = 16_384  # bytes: N-Quads deflate about 5-10x; small ones are not worth it
_NOT_IN_A_TOKEN = re.compile(r"[\s.*>%]")  # what a NATS subject token may not hold (and %)


def subject_token(text: str) -> str:
    """``text`` (a workspace) as one subject token: whitespace, ``.``, ``*``, ``>`` and ``%``
    percent-encoded."""
    return _NOT_IN_A_TOKEN.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()),
                               text) or "_"


def encode(cs: Changeset) -> tuple[bytes, dict[str, str]]:
    """The message body and headers of ``cs`` (its ``seq`` is the stream's to give)."""
    body = orjson.dumps({
        "time": cs.time, "actor": cs.actor, "workspace": cs.workspace, "message": cs.message,
        "versions": cs.versions, "removed": to_nquads(list(cs.removed)),
        "added": to_nquads(list(cs.added)),
    }, option=orjson.OPT_SORT_KEYS)
    headers = {"Nats-Msg-Id": "cs-" + hashlib.sha256(body).hexdigest()[:40]}
    if len(body) > DEFLATE_ABOVE:
        body = zlib.compress(body, 1)
        headers[HEADER] = "deflate"
    return body, headers


def decode(data: bytes, headers: dict[str, str]) -> Changeset:
    if headers.get(HEADER) == "deflate":
        data = zlib.decompress(data)
    doc = orjson.loads(data)
    return Changeset(doc["actor"], doc["message"], doc["time"],
                     tuple(from_nquads(doc["removed"])), tuple(from_nquads(doc["added"])),
                     {str(k): int(v) for k, v in doc["versions"].items()}, doc["workspace"])
