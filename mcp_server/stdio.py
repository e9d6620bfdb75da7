"""`semcat mcp`: the MCP server on stdin/stdout, for agents that start it as a subprocess.

The store admits one process, so there are two ways to serve:

- the data directory is free: this process opens the catalog and answers as one principal,
  the key's owner (``--key`` / ``SEMCAT_API_KEY``, checked against the key store) or, with no
  key, the local operator (an instance admin, as every other local command is);
- a server holds it (``semcat serve``): this process bridges stdio to that server's ``/mcp``,
  sending the key given, else the admin key the server left for local commands beside it
  (catalog/running_server.py). The server answers, with its own authentication and access
  control, so the agent sees exactly what that key sees over HTTP.

Nothing but the protocol may reach stdout: messages go to stderr.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    ListResourcesResult,
    ListToolsResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
)

from access.identity import Principal
from catalog import Catalog
from mcp_server.server import build_server

BRIDGE_TIMEOUT_S = 300.0  # a tool call's answer; the server bounds its own work


def serve_local(cat: Catalog, principal: Principal) -> None:
    """Answer on stdio from ``cat``, as ``principal``, until the client closes stdin."""
    anyio.run(build_server(lambda: cat, principal=principal).run_stdio_async)


def serve_remote(url: str, token: str) -> None:
    """Relay stdio to the MCP endpoint at ``url``, authenticated with ``token``."""
    anyio.run(_bridge, url, token)


async def _bridge(url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "semcat mcp (bridge)"}
    async with httpx2.AsyncClient(headers=headers, timeout=BRIDGE_TIMEOUT_S) as http, \
            Client(streamable_http_client(url, http_client=http)) as remote:

        async def list_tools(ctx: ServerRequestContext[Any],
                             params: PaginatedRequestParams | None) -> ListToolsResult:
            return await remote.list_tools()

        async def call_tool(ctx: ServerRequestContext[Any],
                            params: CallToolRequestParams) -> CallToolResult:
            return await remote.call_tool(params.name, params.arguments or {})

        async def list_resources(ctx: ServerRequestContext[Any],
                                 params: PaginatedRequestParams | None) -> ListResourcesResult:
            return await remote.list_resources()

        async def read_resource(ctx: ServerRequestContext[Any],
                                params: ReadResourceRequestParams) -> ReadResourceResult:
            return await remote.read_resource(str(params.uri))

        info = remote.server_info
        bridge: Server[Any] = Server(
            info.name if info else "semcat", version=info.version if info else "",
            instructions=remote.instructions, on_list_tools=list_tools, on_call_tool=call_tool,
            on_list_resources=list_resources, on_read_resource=read_resource)
        async with stdio_server() as (read, write):
            await bridge.run(read, write, bridge.create_initialization_options())
