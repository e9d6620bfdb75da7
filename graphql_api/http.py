"""/graphql over HTTP (GraphQL over HTTP: POST a JSON body, or GET with query parameters for
queries) and GraphiQL for browsers, with its scripts served from this package, so it works
air-gapped. The web layer mounts it and says how to find a request's caller."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles

from access.identity import Principal
from catalog import Catalog
from graph_store.errors import InputError, SemcatError, UnsupportedMediaType
from graphql_api.context import Context
from graphql_api.errors import request_error
from graphql_api.schema import GraphQL

PATH = "/graphql"
STATIC = "/static/graphiql"  # under /static/: loaded by browsers without credentials
MAX_BODY = 1 << 20
GRAPHQL_JSON = "application/graphql-response+json"


def graphiql_page() -> str:
    """GraphiQL's page: the stylesheet and scripts come from ``STATIC``, never a CDN."""
    return (files("graphql_api") / "static" / "graphiql.html").read_text(encoding="utf-8") \
        .replace("{{STATIC}}", STATIC).replace("{{ENDPOINT}}", PATH)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


def _variables(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value:
        try:
            value = json.loads(value)
        except ValueError as e:
            raise InputError("variables must be a JSON object") from e
    if value is None or isinstance(value, dict):
        return value
    raise InputError("variables must be a JSON object")


async def _request(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    if request.method == "GET":
        params: Any = request.query_params
    else:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ("application/json", ""):
            raise UnsupportedMediaType(f"POST /graphql takes application/json, not {kind!r}")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise InputError(f"the body is larger than {MAX_BODY} bytes")
        try:
            params = json.loads(body or b"null")
        except ValueError as e:
            raise InputError(f"malformed JSON: {e}") from e
        if not isinstance(params, dict):
            raise InputError('send {"query": "...", "variables": {...}}')
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise InputError('no query: send {"query": "{ assets { items { id } } }"}')
    operation = params.get("operationName") or None
    if operation is not None and not isinstance(operation, str):
        raise InputError("operationName must be a string")
    return query, _variables(params.get("variables")), operation


def endpoint(catalog_of: Callable[[Request], Catalog],
             principal_of: Callable[[Request], Principal | None]
             ) -> Callable[[Request], Any]:
    """The /graphql handler: one ``GraphQL`` runner per catalog, one ``Context`` per request."""
    runners: dict[int, GraphQL] = {}

    async def graphql(request: Request) -> Response:
        if request.method == "GET" and _wants_html(request):
            return HTMLResponse(graphiql_page())
        catalog = catalog_of(request)
        runner = runners.get(id(catalog))
        if runner is None or runner.catalog is not catalog:
            runner = runners[id(catalog)] = GraphQL(catalog)
        try:
            query, variables, operation = await _request(request)
        except SemcatError as e:
            return JSONResponse(request_error(e), status_code=e.status)
        context = Context(catalog, principal_of(request))
        response = await runner.execute(query, context=context, variables=variables,
                                        operation=operation, read_only=request.method == "GET")
        # orjson: a page of 50 assets with their lineage is a few hundred objects to encode
        return Response(orjson.dumps(response.body), status_code=response.status,
                        media_type="application/json",
                        headers={"Allow": "POST"} if response.status == 405 else None)

    return graphql


def mount(app: Starlette, *, catalog_of: Callable[[Request], Catalog],
          principal_of: Callable[[Request], Principal | None]) -> None:
    """Add /graphql (GET and POST) and GraphiQL's files to ``app``."""
    app.add_route(PATH, endpoint(catalog_of, principal_of), methods=["GET", "POST"],
                  include_in_schema=False)
    app.mount(STATIC, StaticFiles(packages=[("graphql_api", "static")]), name="graphiql")


__all__ = ["PATH", "STATIC", "endpoint", "graphiql_page", "mount"]
