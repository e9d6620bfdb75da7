"""Small request helpers shared by the routes: the catalog, the caller, bounded bodies."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from catalog import Catalog
from graph_store.errors import InputError, PayloadTooLarge, UnsupportedMediaType
from graph_store.formats import check_json_depth

MAX_SEQ = 2**63 - 1  # SQLite integers: versions, change log and audit positions
MAX_JSON_DEPTH = 64  # our documents nest a handful of levels; code walking them recurses
JSON_TYPES = ("application/json", "application/ld+json", "application/merge-patch+json")


def catalog_of(request: Request) -> Catalog:
    return request.app.state.catalog  # type: ignore[no-any-return]


def actor_of(request: Request) -> str:
    """Who is writing, as the change log records it: the authenticated subject."""
    principal = getattr(request.state, "principal", None)
    subject = getattr(principal, "subject", "anonymous")
    return subject if isinstance(subject, str) and subject else "anonymous"


async def read_body(request: Request) -> bytes:
    limit = catalog_of(request).settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, types: tuple[str, ...] = JSON_TYPES) -> Any:
    """The body as JSON, when it says it is JSON (or says nothing, as hand-written curl calls
    often do): a text/plain or form body is refused, not guessed at."""
    kind = media_type(request)
    if kind and kind not in types:
        raise UnsupportedMediaType(f"this endpoint takes {' or '.join(types)}, not {kind!r}; "
                                   "send the body with Content-Type: application/json")
    return parse_json(await read_body(request))


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise InputError("the request body is empty; send a JSON document")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InputError(f"malformed JSON: {e.msg}", line=e.lineno, column=e.colno) from e
    check_json_depth(value, MAX_JSON_DEPTH)
    return value


def parse_ndjson(body: bytes) -> list[Any]:
    items = []
    for n, line in enumerate(body.splitlines(), start=1):
        if line.strip():
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as e:
                raise InputError(f"malformed JSON on line {n}: {e.msg}", line=n,
                                 column=e.colno) from e
            check_json_depth(items[-1], MAX_JSON_DEPTH)
    return items


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run blocking catalog work off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
