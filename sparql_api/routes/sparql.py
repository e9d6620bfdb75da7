"""SPARQL 1.1 Protocol: /sparql (query and update), /query and /update as Oxigraph names them."""

from __future__ import annotations

from urllib.parse import parse_qsl

import anyio
from fastapi import APIRouter, Request, Response

from graph_store.errors import InputError, QueryTimeout, UnsupportedMediaType
from graph_store.formats import GRAPH_RESULT_TYPES
from sparql_api.deps import actor_of, call, catalog_of, media_type, read_body
from sparql_api.negotiation import choose
from sparql_api.results_html import description_html, solutions_html, triples_html
from sparql_api.schemas_protocols import QUERY_BODY, SPARQL_ANSWER, SPARQL_BODY, UPDATE_BODY

router = APIRouter(tags=["SPARQL 1.1 Protocol"])
HTML = "text/html"
_TEXT_TYPES = ("text/", "application/n-triples", "application/n-quads", "application/trig")


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"the {what} is not UTF-8: {e}") from e


async def _params(request: Request) -> tuple[list[tuple[str, str]], str | None, str | None]:
    """(parameters, query from the body, update from the body)."""
    params = list(request.query_params.multi_items())
    if request.method == "GET":
        return params, None, None
    body = await read_body(request)
    kind = media_type(request)
    if kind == "application/x-www-form-urlencoded":
        try:
            form = parse_qsl(_decode(body, "form"), keep_blank_values=True, strict_parsing=False,
                             errors="strict")
        except UnicodeDecodeError as e:
            raise InputError(f"the form is not UTF-8: {e}") from e
        return params + form, None, None
    if kind == "application/sparql-query":
        return params, _decode(body, "query"), None
    if kind == "application/sparql-update":
        return params, None, _decode(body, "update")
    raise UnsupportedMediaType(
        f"a SPARQL POST must be application/x-www-form-urlencoded, application/sparql-query or "
        f"application/sparql-update, not {kind or 'missing'!r}")


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _infer(params: list[tuple[str, str]]) -> bool:
    """GraphDB's ``infer``: entailed answers (asserted + inferred graphs) unless ``false``."""
    value = _one(params, "infer", None)
    if value is None:
        return True
    if value.strip().lower() not in _BOOLEANS:
        raise InputError(f"infer must be true or false, not {value!r}")
    return _BOOLEANS[value.strip().lower()]


def _one(params: list[tuple[str, str]], name: str, direct: str | None) -> str | None:
    values = [v for k, v in params if k == name] + ([direct] if direct is not None else [])
    if len(values) > 1:
        raise InputError(f"give one '{name}', not {len(values)}")
    return values[0] if values else None


async def _serve(request: Request, *, queries: bool, updates: bool) -> Response:
    cat = catalog_of(request)
    params, direct_query, direct_update = await _params(request)
    query = _one(params, "query", direct_query)
    update = _one(params, "update", direct_update)
    if query is not None and update is not None:
        raise InputError("a request carries a query or an update, not both")
    if update is not None:
        if not updates:
            raise InputError("this endpoint answers queries; send updates to /update or /sparql")
        if request.method == "GET":
            raise InputError("updates must be sent with POST")
        using = [v for k, v in params if k == "using-graph-uri"]
        using_named = [v for k, v in params if k == "using-named-graph-uri"]
        await call(cat.sparql.update, update, actor=actor_of(request), using_graph_uris=using,
                   using_named_graph_uris=using_named)
        return Response(status_code=204)
    if query is None:
        if not queries:
            raise InputError("no 'update' given")
        return await _service_description(request)
    if not queries:
        raise InputError("this endpoint takes updates; send queries to /query or /sparql")
    default = [v for k, v in params if k == "default-graph-uri"]
    named = [v for k, v in params if k == "named-graph-uri"]
    infer = _infer(params)
    accept = request.headers.get("accept")
    timeout = cat.settings.query_timeout_s

    def run() -> tuple[str, bytes, dict[str, str]]:
        # Entailed answers say whether the inferred graphs reflect every write (README).
        status = cat.inference_status() if infer else None
        kind, chosen, body = cat.sparql.answer(
            query, default_graph_uris=default, named_graph_uris=named, infer=infer,
            accept=accept, choose=choose, extra_types=(HTML,),  # HTML only when asked by name
            timeout_s=timeout, max_bytes=cat.settings.max_result_bytes)
        if chosen == HTML:  # a browser: a table from the standard format beneath
            body = triples_html(body) if kind == "graph" else solutions_html(body)
        if status is None:
            return chosen, body, {}
        behind = "" if status.state == "current" else f"; behind={status.behind}"
        return chosen, body, {"Semcat-Inference": status.state + behind}

    try:
        with anyio.fail_after(timeout + 1):
            chosen, body, inference = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
    except TimeoutError as e:
        raise QueryTimeout(f"the query ran past the {timeout:g} s deadline; narrow it or add "
                           "LIMIT") from e
    if chosen.startswith(_TEXT_TYPES) or chosen.endswith(("json", "xml")):
        chosen += "; charset=utf-8"
    return Response(body, media_type=chosen, headers={"Vary": "Accept", **inference})


async def _service_description(request: Request) -> Response:
    cat = catalog_of(request)
    chosen = choose(request.headers.get("accept"), (*GRAPH_RESULT_TYPES, HTML))
    endpoint = str(request.url).split("?")[0]
    if chosen == HTML:  # a browser: the description as Turtle on a page
        turtle = await call(cat.sparql.service_description, endpoint, "text/turtle")
        return Response(description_html(turtle), media_type=HTML)
    body = await call(cat.sparql.service_description, endpoint, chosen)
    return Response(body, media_type=chosen)


@router.get("/sparql", summary="SPARQL 1.1 query (query=...), or the service description",
            response_class=Response, responses=SPARQL_ANSWER)
async def sparql_get(request: Request) -> Response:
    return await _serve(request, queries=True, updates=True)


@router.post("/sparql", summary="SPARQL 1.1 query or update (form, sparql-query or "
             "sparql-update body)", response_class=Response, openapi_extra=SPARQL_BODY,
             responses={**SPARQL_ANSWER, 204: {"description": "The update was applied"}})
async def sparql_post(request: Request) -> Response:
    return await _serve(request, queries=True, updates=True)


@router.get("/query", summary="SPARQL 1.1 query", response_class=Response,
            responses=SPARQL_ANSWER)
async def query_get(request: Request) -> Response:
    return await _serve(request, queries=True, updates=False)


@router.post("/query", summary="SPARQL 1.1 query (form or sparql-query body)",
             response_class=Response, responses=SPARQL_ANSWER, openapi_extra=QUERY_BODY)
async def query_post(request: Request) -> Response:
    return await _serve(request, queries=True, updates=False)


@router.post("/update", summary="SPARQL 1.1 update", status_code=204,
             response_class=Response, openapi_extra=UPDATE_BODY)
async def sparql_update(request: Request) -> Response:
    return await _serve(request, queries=False, updates=True)
