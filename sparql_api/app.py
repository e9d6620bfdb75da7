"""The ASGI application: ``create_app`` (no module-level app), so tests and the CLI own the
Catalog's lifetime."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

import graphql_api
import property_graph
from catalog import Catalog, Settings, running_server
from graph_store.sparql_limits import ENGINE_STACK_BYTES
from mcp_server.http import McpEndpoint
from sparql_api import problems
from sparql_api.auth import AuthMiddleware
from sparql_api.deps import catalog_of
from sparql_api.head import HeadAsGet
from sparql_api.metrics import Metrics
from sparql_api.positions import Positions
from sparql_api.rate_limits import RateLimits
from sparql_api.request_log import RequestIds
from sparql_api.routes import (
    assets,
    attributes,
    audit,
    consistency,
    dataset,
    events,
    home,
    ingestion,
    jobs,
    keys,
    lineage,
    linked_data,
    ontology,
    operations,
    rules,
    search,
    sparql,
    store,
    ui,
    webhooks,
)
from sparql_api.tracing import setup_tracing

log = logging.getLogger(__name__)


def create_app(catalog: Catalog | None = None, *, settings: Settings | None = None) -> FastAPI:
    """An app over ``catalog``, or over one it opens (and closes) from ``settings``."""
    # Requests run on worker threads made from here on: give them room for the engine's
    # recursion well beyond the SPARQL limits (graph_store/sparql_limits.py).
    threading.stack_size(ENGINE_STACK_BYTES)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = catalog is None
        cat = app.state.catalog = catalog or Catalog.open(settings or Settings())
        data = cat.settings.data
        graph = note = None
        try:  # a start that fails half way stops what it started, as a stop does
            app.state.metrics.watch(cat)
            cat.jobs.start()  # jobs a stopped or killed server left behind resume (jobs/service.py)
            if cat.settings.vectors_on_start:
                cat.search.start_vectors()  # semantic search is ready from the first write on
            config = cat.settings.property_graph()  # SEMCAT_NEO4J_URL, projected by the leader
            graph = cat.leadership.singleton(
                "property graph", lambda: property_graph.follow(cat, config),
                lambda projection: projection.close() if projection is not None else None) \
                if config is not None else None
            # commands on the same data directory ask this server (catalog/running_server.py)
            note = running_server.announce(data, running_server.client_url(
                cat.settings.host, cat.settings.port), cat.keys) if owned and data else None
            # What the catalog loaded to serve (ontology, shapes, models, indexes' readers)
            # lives as long as the process: kept out of the collector's full passes, each of
            # which would otherwise walk it with every thread stopped (130-300 ms each in the
            # 8-client mix of bench/write_path.py)
            gc.collect()
            gc.freeze()
            async with mcp.running():  # /mcp (mcp_server/http.py)
                yield
        finally:
            gc.unfreeze()
            if graph is not None:
                graph()
            if note is not None and data is not None:
                running_server.withdraw(data, note, cat.keys)
            if owned:
                cat.close()

    # FastAPI's docs pages load Swagger UI and ReDoc from a CDN; fastapi-offline serves the
    # same pages with the scripts shipped in the package, so /docs works air-gapped.
    app = FastAPIOffline(
        generate_unique_id_function=operation_id,
        title="semcat",
        summary="A graph-native knowledge catalog: SPARQL 1.1, Graph Store protocol and "
        "JSON-LD REST over one RDF store.",
        version="0.1.0",
        lifespan=lifespan,
    )
    if catalog is not None:
        app.state.catalog = catalog
    app.state.metrics = Metrics()
    problems.install(app)
    app.add_middleware(Positions)  # Semcat-Position on writes; after= and wait=true
    app.add_middleware(RateLimits)  # inside authentication: it limits each principal
    # AuthMiddleware, but GETs of published data without credentials act as the anonymous
    # reader (sparql_api/routes/linked_data.py); inside it, the URL this server answers at
    app.add_middleware(linked_data.PublicUrl)
    app.add_middleware(AuthMiddleware, anonymous=linked_data.published_reader)
    app.add_middleware(HeadAsGet)
    tracing = (catalog.settings if catalog is not None else settings or Settings()).tracing
    if tracing != "off":
        setup_tracing(tracing)
        app.add_middleware(OpenTelemetryMiddleware)
    # outermost: every log record of a request carries its id; it also counts for /metrics
    app.add_middleware(RequestIds, metrics=app.state.metrics)
    for module in (home, assets, attributes, consistency, dataset, ontology, search, sparql,
                   store):
        app.include_router(module.router)
    for module in (keys, audit, rules, operations, lineage, ingestion, events, jobs, webhooks):
        app.include_router(module.router)
    app.include_router(ui.router)  # / and /ui/...: the web UI (built from ui/)
    app.include_router(linked_data.router)  # /id/..., publications, VoID, DCAT (publishing/)
    graphql_api.mount(app, catalog_of=catalog_of,  # the caller comes from AuthMiddleware
                      principal_of=lambda r: getattr(r.state, "principal", None))
    # MCP for AI agents, behind AuthMiddleware like every API route (mcp_server/http.py)
    mcp = McpEndpoint(lambda: app.state.catalog, host=(
        catalog.settings if catalog is not None else settings or Settings()).host)
    app.router.routes.append(mcp.route("/mcp"))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def operation_id(route: APIRoute) -> str:
    """Stable, unique and camelCase: the route function's name (``list_assets`` →
    ``listAssets``), so generated clients get readable method names."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus how to authenticate, so /docs has an Authorize button."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                             routes=app.routes)
        schemes: dict[str, Any] = {
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                       "description": "An API key from `semcat keys create` or POST /api/v1/keys"},
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "An API key, or an OpenID Connect access token (JWT)"},
        }
        catalog = getattr(app.state, "catalog", None)  # set before the first request
        issuer = catalog.settings.oidc_issuer if catalog is not None else None
        if issuer:
            schemes["oidc"] = {"type": "openIdConnect", "openIdConnectUrl":
                               issuer.rstrip("/") + "/.well-known/openid-configuration"}
        schema.setdefault("components", {})["securitySchemes"] = schemes
        # any one of them; none at all where anonymous access is open
        schema["security"] = [{name: []} for name in schemes] + [{}]
        app.openapi_schema = schema
    return app.openapi_schema


def factory() -> FastAPI:
    """For ``uvicorn --factory sparql_api.app:factory``: settings from the environment."""
    return create_app(settings=Settings())
