"""The ASGI application: ``create_app`` (no module-level app), so tests and the CLI own the
Catalog's lifetime."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from catalog import Catalog, Settings
from graph_store.sparql_limits import ENGINE_STACK_BYTES
from sparql_api import problems
from sparql_api.auth import AuthMiddleware
from sparql_api.routes import (
    assets,
    attributes,
    audit,
    consistency,
    home,
    keys,
    ontology,
    rules,
    search,
    sparql,
    store,
)

log = logging.getLogger(__name__)


def create_app(catalog: Catalog | None = None, *, settings: Settings | None = None) -> FastAPI:
    """An app over ``catalog``, or over one it opens (and closes) from ``settings``."""
    # Requests run on worker threads made from here on: give them room for the engine's
    # recursion well beyond the SPARQL limits (graph_store/sparql_limits.py).
    threading.stack_size(ENGINE_STACK_BYTES)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = catalog is None
        app.state.catalog = catalog or Catalog.open(settings or Settings())
        try:
            yield
        finally:
            if owned:
                app.state.catalog.close()

    app = FastAPI(
        title="semcat",
        summary="A graph-native knowledge catalog: SPARQL 1.1, Graph Store protocol and "
        "JSON-LD REST over one RDF store.",
        version="0.1.0",
        lifespan=lifespan,
    )
    if catalog is not None:
        app.state.catalog = catalog
    problems.install(app)
    app.add_middleware(AuthMiddleware)
    for module in (home, assets, attributes, consistency, ontology, search, sparql, store):
        app.include_router(module.router)
    for module in (keys, audit, rules):
        app.include_router(module.router)
    return app


def factory() -> FastAPI:
    """For ``uvicorn --factory sparql_api.app:factory``: settings from the environment."""
    return create_app(settings=Settings())
