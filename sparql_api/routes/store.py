"""SPARQL 1.1 Graph Store HTTP Protocol at /store (?graph=IRI or ?default), via the change log."""

from __future__ import annotations

import io
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from catalog import Catalog
from graph_store.errors import InputError, NotFound
from graph_store.formats import GRAPH_RESULT_TYPES
from sparql_api.deps import actor_of, call, catalog_of, media_type, read_body
from sparql_api.negotiation import choose
from sparql_api.schemas_protocols import GRAPH_BODY, rdf

router = APIRouter(tags=["Graph Store Protocol"])
_TRIPLE_TYPES = tuple(t for t in GRAPH_RESULT_TYPES if t not in ("application/n-quads",
                                                                 "application/trig"))


def _graph(request: Request) -> tuple[str | None, bool]:
    """(graph IRI or None for the default graph, whether a graph was named at all)."""
    graphs = request.query_params.getlist("graph")
    default = "default" in request.query_params
    if len(graphs) > 1 or (graphs and default):
        raise InputError("name one graph: ?graph=IRI or ?default")
    if graphs:
        return graphs[0], True
    return None, default


@router.get("/store", summary="Read a graph (HEAD: its headers only)", response_class=Response,
            responses={200: {"content": rdf(GRAPH_RESULT_TYPES), "description": "The graph; "
                             "the whole store (N-Quads or TriG) without ?graph or ?default"}})
async def get_graph(request: Request) -> Response:
    cat = catalog_of(request)
    graph, named = _graph(request)
    if not named:
        chosen = choose(request.headers.get("accept"), ("application/n-quads", "application/trig"))
        body = await call(_dump, cat, chosen)
    else:
        chosen = choose(request.headers.get("accept"), _TRIPLE_TYPES)
        body = await call(cat.sparql.serialize_graph, graph, chosen)
    return Response(body, media_type=chosen, headers={"Vary": "Accept"})


def _dump(cat: Catalog, chosen: str) -> bytes:
    out = io.BytesIO()
    cat.export(out, chosen)
    return out.getvalue()


@router.put("/store", summary="Replace a graph", status_code=204, openapi_extra=GRAPH_BODY)
async def put_graph(request: Request) -> Response:
    cat = catalog_of(request)
    graph, named = _graph(request)
    if not named:
        raise InputError("PUT needs ?graph=IRI or ?default")
    body = await read_body(request)
    write = await call(cat.sparql.put_graph, graph, body, media_type(request),
                       actor=actor_of(request), base_iri=graph)
    return Response(status_code=201 if write.created else 204)


@router.post("/store", summary="Add to a graph, or create a new one", status_code=204,
             openapi_extra=GRAPH_BODY)
async def post_graph(request: Request) -> Response:
    cat = catalog_of(request)
    graph, named = _graph(request)
    body = await read_body(request)
    if not named:  # POST to the store itself: a new graph with an IRI of our choosing
        graph = cat.sparql.new_graph_iri()
        await call(cat.sparql.post_graph, graph, body, media_type(request),
                   actor=actor_of(request), base_iri=graph)
        return Response(status_code=201, headers={"Location": f"/store?graph={quote(graph)}"})
    write = await call(cat.sparql.post_graph, graph, body, media_type(request),
                       actor=actor_of(request), base_iri=graph)
    return Response(status_code=201 if write.created else 204)


@router.delete("/store", summary="Delete a graph", status_code=204)
async def delete_graph(request: Request) -> Response:
    cat = catalog_of(request)
    graph, named = _graph(request)
    if not named:
        raise InputError("DELETE needs ?graph=IRI or ?default")
    if graph is not None and not await call(cat.sparql.graph_exists, graph):
        raise NotFound(f"no graph {graph}")
    await call(cat.sparql.delete_graph, graph, actor=actor_of(request))
    return Response(status_code=204)
