"""The MCP server's tools and resources, one definition for stdio and streamable HTTP.

Who the caller is comes from the transport: over HTTP, the principal the API's authentication
middleware put on the request carrying the call (so each call is authorised on its own, as a
REST request is); over stdio, the one principal the process was started as. Each tool runs on a
worker thread acting as that principal, so the catalog's access control applies to it as to
the REST API, and a catalog error becomes a tool error with the REST API's message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from access.audit import ORIGIN, Origin
from access.identity import Principal
from catalog import Catalog
from graph_store.errors import QueryTimeout, SemcatError
from mcp_server.bounded import bounded
from mcp_server.resources import ONTOLOGY_URI, PREFIXES_URI, ontology_turtle, prefixes_text
from mcp_server.sparql_tool import run_query
from mcp_server.tools import CatalogTools

Json = dict[str, Any]
# past a query's own deadline, before the tool gives up on it: the query worker stops it at its
# deadline, but may first have to start; a catalog without workers cannot stop it at all
SLACK_S = 5.0
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
AssetId = Annotated[str, Field(description="Asset id (e.g. acme/table/pg/shop.public.orders) "
                                           "or its IRI")]
Cursor = Annotated[str | None, Field(description="The `next` of the previous page")]
INSTRUCTIONS = (
    "semcat is a knowledge catalog of data assets (databases, tables, columns, pipelines, "
    "dashboards, ML models), their owners, lineage, glossary terms and classifications, all "
    "RDF. Start with `search`, then `describe_asset` on the ids it returns; `lineage` and "
    "`impact` follow data flow; `sparql` answers anything else (read the semcat://ontology "
    "and semcat://sparql-prefixes resources first). You see only what your key may read.")


class Tools:
    """Runs tool bodies as the caller, bounded and with catalog errors made tool errors."""

    def __init__(self, catalog: Callable[[], Catalog], principal: Principal | None) -> None:
        self.catalog = catalog
        self.principal = principal  # None: over HTTP, from each request

    def origin(self, ctx: Context | None) -> Origin:
        request = ctx.request_context.request if ctx is not None else None
        if request is None:
            if self.principal is None:
                raise ToolError("Unauthenticated: this server takes calls over HTTP only")
            return Origin(self.principal, "", "semcat mcp (stdio)")
        principal = getattr(request.state, "principal", None)
        if not isinstance(principal, Principal):  # the API's middleware answers 401 before
            raise ToolError("Unauthenticated: authentication required: send Authorization: "
                            "Bearer <token> or X-API-Key: <key>")
        client = request.client
        return Origin(principal, client.host if client else "",
                      request.headers.get("user-agent", ""))

    @contextmanager
    def acting(self, cat: Catalog, origin: Origin) -> Iterator[None]:
        token = ORIGIN.set(origin)
        try:
            with cat.access.acting_as(origin.principal):
                yield
        finally:
            ORIGIN.reset(token)

    async def run(self, ctx: Context | None, body: Callable[[CatalogTools], Json],
                  deadline_s: float | None = None) -> Json:
        origin = self.origin(ctx)
        cat = self.catalog()

        def work() -> Json | str:
            """The answer, or a catalog error's message: the error is turned into text on
            this thread, where its traceback (holding the engine's results, which must be
            dropped on the thread that made them) is freed."""
            with self.acting(cat, origin):
                try:
                    return bounded(body(CatalogTools(cat)), cat.settings.mcp_max_result_bytes)
                except SemcatError as e:
                    return f"{e.title}: {e.detail}"

        try:
            if deadline_s is None:
                answer = await anyio.to_thread.run_sync(work)
            else:
                with anyio.fail_after(deadline_s + SLACK_S):
                    answer = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError as e:
            raise ToolError(f"{QueryTimeout.title}: the query ran past the {deadline_s:g} s "
                            "deadline; narrow it or add LIMIT") from e
        if isinstance(answer, str):
            raise ToolError(answer)
        return answer


def build_server(catalog: Callable[[], Catalog], *, principal: Principal | None = None
                 ) -> MCPServer:
    """The server over ``catalog`` (a callable: the web app opens its catalog after routes are
    made). ``principal``: the stdio caller; None takes each HTTP request's."""
    mcp: MCPServer = MCPServer("semcat", title="semcat knowledge catalog",
                               instructions=INSTRUCTIONS, version="0.1.0",
                               log_level="WARNING")  # the CLI and the server configure logs
    tools = Tools(catalog, principal)

    @mcp.tool(annotations=READ_ONLY)
    async def search(
        ctx: Context,
        query: Annotated[str, Field(description="Words, names, identifiers or a question")],
        mode: Literal["keyword", "semantic", "hybrid"] = "hybrid",
        types: Annotated[list[str], Field(description="Only these classes, e.g. Table, "
                                                      "View, Dashboard, GlossaryTerm")] = [],  # noqa: B006
        filters: Annotated[dict[str, list[str]], Field(description="Facet → allowed values: "
                           "platform, tag, owner, workspace, classification, term, domain, "
                           "attr.<key>; values are ids, e.g. {\"tag\": [\"tag/tier-1\"]}")] = {},  # noqa: B006
        natural_language: Annotated[bool, Field(description="Read the query as natural "
                                    "language ('PII tables owned by finance changed last "
                                    "week' becomes filters, shown under interpretation.nl)")]
        = False,
        limit: Annotated[int, Field(ge=1, le=200)] = 10,
    ) -> Json:
        """Search the catalog: full text and semantic, with facets; each hit says why."""
        return await tools.run(ctx, lambda t: t.search(query, mode=mode, types=types,
                                                       filters=filters, nl=natural_language,
                                                       limit=limit))

    @mcp.tool(annotations=READ_ONLY)
    async def describe_asset(ctx: Context, asset: AssetId) -> Json:
        """One asset: its JSON-LD document, owners, classifications (asserted and inferred)
        and, for a table or view, its columns."""
        return await tools.run(ctx, lambda t: t.describe(asset))

    @mcp.tool(annotations=READ_ONLY)
    async def lineage(
        ctx: Context, asset: AssetId,
        direction: Literal["upstream", "downstream", "both"] = "both",
        depth: Annotated[int, Field(ge=1, le=50, description="Edges away at most")] = 3,
        level: Annotated[Literal["table", "column"], Field(
            description="table (column edges lifted to tables) or column")] = "table",
        cursor: Cursor = None,
    ) -> Json:
        """The lineage graph around an asset: nodes nearest first and the edges among them."""
        return await tools.run(ctx, lambda t: t.lineage(asset, direction=direction,
                                                        depth=depth, level=level,
                                                        cursor=cursor))

    @mcp.tool(annotations=READ_ONLY)
    async def impact(ctx: Context, asset: AssetId,
                     depth: Annotated[int, Field(ge=1, le=50)] = 10,
                     cursor: Cursor = None) -> Json:
        """Everything downstream of an asset, with the owners to notify of a change to it."""
        return await tools.run(ctx, lambda t: t.impact(asset, depth=depth, cursor=cursor))

    @mcp.tool(annotations=READ_ONLY)
    async def sparql(
        ctx: Context,
        query: Annotated[str, Field(description="A SPARQL 1.1 SELECT, ASK, CONSTRUCT or "
                                                "DESCRIBE query; updates are refused")],
        infer: Annotated[bool, Field(description="Include inferred triples (OWL 2 RL, "
                                                 "classification rules)")] = True,
    ) -> Json:
        """Run a read-only SPARQL query over the graphs you may read, with row and time
        limits: rows as SPARQL JSON bindings, a boolean, or N-Triples."""
        cat = catalog()
        return await tools.run(ctx, lambda t: run_query(t.cat, query, infer=infer,
                                                        max_rows=t.rows),
                               deadline_s=cat.settings.mcp_query_timeout_s)

    @mcp.tool(annotations=READ_ONLY)
    async def glossary_terms(
        ctx: Context,
        prefix: Annotated[str, Field(description="Only terms whose name starts so")] = "",
        cursor: Cursor = None,
    ) -> Json:
        """The business glossary's terms, by name."""
        return await tools.run(ctx, lambda t: t.glossary_terms(prefix, cursor))

    @mcp.tool(annotations=READ_ONLY)
    async def classifications(
        ctx: Context,
        asset: Annotated[str | None, Field(description="An asset id: its classifications "
                                                       "and why each inferred one holds")]
        = None,
    ) -> Json:
        """Classification schemes and their values (PII, sensitivity, ...), or one asset's
        classifications with explanations."""
        return await tools.run(ctx, lambda t: t.classifications(asset))

    @mcp.tool(annotations=READ_ONLY)
    async def explain(
        ctx: Context, asset: AssetId,
        predicate: Annotated[str | None, Field(description="Only this property, e.g. "
                                                           "semcat:upstream or rdf:type")] = None,
        object: Annotated[str | None, Field(description="Only this object (IRI, prefixed name "
                                                        "or asset id); needs a predicate")]
        = None,
    ) -> Json:
        """Why inferred statements about an asset hold: the rule and its premises, down to
        asserted facts."""
        return await tools.run(ctx, lambda t: t.explain(asset, predicate, object))

    @mcp.resource(ONTOLOGY_URI, name="ontology", mime_type="text/turtle",
                  description="The semcat OWL ontology (with custom classes and properties)")
    async def ontology() -> str:
        return await anyio.to_thread.run_sync(lambda: ontology_turtle(catalog()))

    @mcp.resource(PREFIXES_URI, name="sparql-prefixes", mime_type="application/sparql-query",
                  description="PREFIX declarations to paste before a SPARQL query")
    def sparql_prefixes() -> str:
        return prefixes_text()

    return mcp
