"""/mcp: the MCP server over streamable HTTP, inside the API's ASGI app.

Stateless with JSON responses: every POST carries its own credential, which the API's
authentication middleware checks before it reaches this endpoint (401 otherwise), and no
session lives on the server, so the API tier stays stateless and any replica can answer.
The SDK's DNS-rebinding protection is on while the server binds loopback only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from catalog import Catalog
from mcp_server.server import build_server


class McpEndpoint:
    """An ASGI app for one route; ``running()`` belongs in the app's lifespan."""

    def __init__(self, catalog: Callable[[], Catalog], *, host: str) -> None:
        self.server = build_server(catalog)
        self.host = host
        self.sessions: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """A session manager runs once: each lifespan of the app (tests enter one app's
        lifespan more than once) gets its own."""
        self.server.streamable_http_app(stateless_http=True, json_response=True, host=self.host)
        sessions = self.server.session_manager
        async with sessions.run():
            self.sessions = sessions
            try:
                yield
            finally:
                self.sessions = None

    def route(self, path: str) -> Route:
        """Every method at ``path`` exactly (a mount would redirect ``/mcp`` to ``/mcp/``),
        out of the OpenAPI document: MCP describes its own tools."""
        return Route(path, self, include_in_schema=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.sessions is None:  # an app used without its lifespan
            await JSONResponse({"error": "the MCP endpoint is not running (the app's lifespan "
                                "has not started)"}, status_code=503)(scope, receive, send)
            return
        await self.sessions.handle_request(scope, receive, send)
