"""The one place semcat errors become HTTP: RFC 9457 problem+json on REST, and the SPARQL
protocol's plain-text error bodies on /sparql, /query and /update."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response

from graph_store.errors import InputError, SemcatError

log = logging.getLogger(__name__)
PROBLEM_TYPE = "https://w3id.org/semcat/problems/"
SPARQL_PATHS = ("/sparql", "/query", "/update")


def problem(request: Request, status: int, code: str, title: str, detail: str,
            **extra: Any) -> Response:
    if request.url.path in SPARQL_PATHS:
        lines = [f"{title}: {detail}"] + [
            " ".join(str(e.get(k, "")) for k in ("severity", "focusNode", "path", "constraint"))
            + f": {e.get('message', '')}" for e in extra.get("errors", [])]
        return PlainTextResponse("\n".join(lines) + "\n", status_code=status)
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


async def _semcat_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SemcatError)
    if exc.status >= 500:
        log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc.detail)
    return problem(request, exc.status, exc.code, exc.title, exc.detail, **exc.extra)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
              for e in exc.errors()]
    detail = "; ".join(f"{e['where']}: {e['message']}" for e in errors)
    return problem(request, 400, InputError.code, InputError.title, detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http")
    response = problem(request, exc.status_code, code, titles.get(exc.status_code, "Error"),
                       str(exc.detail))
    for k, v in (exc.headers or {}).items():
        response.headers[k] = v
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(SemcatError, _semcat_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
