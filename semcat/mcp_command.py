"""`semcat mcp`: the catalog's tools for AI agents over MCP on stdin/stdout (mcp_server/)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from access.identity import LOCAL_ADMIN
from catalog import Catalog, Settings, running_server
from graph_store.errors import Conflict
from semcat.console import DEFAULT_DATA, DataDir, err


def mcp(
    data: DataDir = DEFAULT_DATA,
    key: Annotated[str | None, typer.Option(
        "--key", envvar="SEMCAT_API_KEY", show_envvar=True,
        help="Act as this API key's owner (their access, their audit trail) [default: the "
        "local operator, an instance admin; beside a server, the key it leaves for local "
        "commands].")] = None,
) -> None:
    """Serve the catalog's tools to an AI agent over MCP on stdin/stdout (for Claude Desktop
    and other MCP clients; docs/mcp.md).

    Tools: search, describe_asset, lineage, impact, sparql (read-only), glossary_terms,
    classifications, explain; resources: the ontology and the SPARQL prefixes. While `semcat
    serve` holds the data directory, this relays to that server's /mcp instead."""
    from mcp_server.stdio import serve_local, serve_remote

    logging.basicConfig(level=logging.WARNING)  # to stderr: stdout carries the protocol
    try:
        cat = Catalog.open(Settings(data=data), elect=False)  # `semcat serve` does that work
    except Conflict:
        server = running_server.find(data)
        if server is None:
            raise
        err.print(f"the data directory is in use by the server at {server.url}; relaying to "
                  f"{server.url}/mcp")
        serve_remote(f"{server.url}/mcp", key or server.key)
        return
    with cat:
        principal = cat.keys.verify(key) if key else LOCAL_ADMIN
        err.print(f"semcat MCP server on stdio over {data}, as {principal.subject}")
        serve_local(cat, principal)
