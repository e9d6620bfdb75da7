"""The one place semcat errors become HTTP: RFC 9457 problem+json on REST, and the SPARQL
protocol's plain-text error bodies on /sparql, /query and /update."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response

from access.audit import Origin
from access.identity import Principal
from graph_store.errors import InputError, SemcatError, Unauthenticated

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


async def error_response(request: Request, exc: SemcatError) -> Response:
    """The problem for ``exc``; a 401 carries the Bearer challenge (RFC 6750), and every 401
    and 403 is recorded in the audit log as a denied decision."""
    if exc.status >= 500:
        log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc.detail)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.problems.labels(exc.code).inc()
    response = problem(request, exc.status, exc.code, exc.title, exc.detail, **exc.extra)
    if isinstance(exc, Unauthenticated):
        challenge = 'Bearer realm="semcat"'
        if exc.challenge_error:
            description = exc.detail.replace("\\", "").replace('"', "'")
            challenge += f', error="{exc.challenge_error}", error_description="{description}"'
        response.headers["WWW-Authenticate"] = challenge
    if exc.status in (401, 403):
        await _record_denial(request, exc)
    return response


async def _record_denial(request: Request, exc: SemcatError) -> None:
    audit = getattr(getattr(request.app.state, "catalog", None), "audit", None)
    if audit is None:
        return
    principal = getattr(request.state, "principal", None)
    client = request.client
    detail = {"method": request.method, "status": exc.status, "reason": exc.detail}
    kwargs: dict[str, Any] = {"action": "request", "targets": [request.url.path],
                              "outcome": "denied", "detail": detail}
    if principal is None:  # a 401: nobody was authenticated, the origin is the connection's
        kwargs["origin"] = Origin(Principal("anonymous", "none"), client.host if client else "",
                                  request.headers.get("user-agent", ""))
    try:
        await run_in_threadpool(lambda: audit.record(**kwargs))
    except Exception:  # the denial stands even if it could not be logged
        log.exception("could not record a denied request in the audit log")


async def _semcat_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SemcatError)
    return await error_response(request, exc)


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


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug: a 500 in the endpoint's own error form, never a stack trace (logged here)."""
    log.error("unexpected %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
    return problem(request, 500, "internal", "Internal error",
                   "the server failed unexpectedly; the failure is logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(SemcatError, _semcat_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
