"""Read-your-writes across requests: every successful write answers with ``Semcat-Position``,
the change-log position its effects are at; a read given ``after=POSITION`` first waits (up to
30 s) until the store and every projection of the log (text index, vectors, inference, rules)
have reached it, and ``wait=true`` on a write does the same before answering."""

from __future__ import annotations

from urllib.parse import parse_qs

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_store.errors import InputError
from sparql_api import problems
from sparql_api.deps import catalog_of

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WAIT_S = 30.0
HEADER = b"semcat-position"


class Positions:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        write = scope["method"] in WRITES and scope["path"] not in ("/query",)
        try:
            after = _position(params.get("after", [None])[-1])
        except InputError as e:
            await (await problems.error_response(request, e))(scope, receive, send)
            return
        if after is not None and not write:
            await _wait(request, after)
        wait = write and params.get("wait", [""])[-1].lower() == "true"

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and write and \
                    200 <= message["status"] < 300:
                position = catalog_of(request).journal.applied_seq
                if wait:
                    await _wait(request, position)
                message["headers"] = [*message.get("headers", []),
                                      (HEADER, str(position).encode())]
            await send(message)

        await self.app(scope, receive, sending)


def _position(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        raise InputError(f"after must be a change-log position (a Semcat-Position header's "
                         f"value), not {value!r}")
    return int(value)


async def _wait(request: Request, position: int) -> None:
    """Until everything reflects ``position``, or WAIT_S have passed (then the answer may lag;
    /readyz and the Semcat-Inference header say by how much)."""
    cat = catalog_of(request)
    with anyio.move_on_after(WAIT_S):
        while not cat.reached(position):
            await anyio.sleep(0.01)
