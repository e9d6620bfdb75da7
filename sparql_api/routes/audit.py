"""The audit log, for admins: filtered pages as JSON or as PROV-O RDF, and a chain check."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from sparql_api.auth import principal_of, require_admin
from sparql_api.deps import MAX_SEQ, call, catalog_of
from sparql_api.negotiation import choose
from sparql_api.schemas_protocols import AuditCheck, AuditPage, rdf

router = APIRouter(tags=["Audit"])
OFFERED = ("application/json", "text/turtle", "application/ld+json", "application/n-triples")


@router.get("/api/v1/audit", summary="Audit entries (JSON, or PROV-O as Turtle / JSON-LD)",
            response_model=AuditPage, responses={200: {"content": rdf(OFFERED[1:])}})
async def audit_entries(
    request: Request,
    actor: str | None = None,
    action: str | None = Query(default=None, description="write, request, key.create, ..."),
    outcome: str | None = Query(default=None, description="allowed, denied or error"),
    since: str | None = Query(default=None, description="ISO 8601 UTC time, inclusive"),
    until: str | None = Query(default=None, description="ISO 8601 UTC time, exclusive"),
    cursor: int | None = Query(default=None, ge=0, le=MAX_SEQ,
                               description="seq of the previous page's last entry"),
    limit: int = Query(default=100, ge=1, le=1000),
    newest_first: bool = Query(default=False, alias="newestFirst"),
) -> Response:
    require_admin(principal_of(request))
    audit = catalog_of(request).audit
    media = choose(request.headers.get("accept"), OFFERED)
    entries = await call(audit.entries, actor=actor, action=action, outcome=outcome,
                         since=since, until=until, cursor=cursor, limit=limit,
                         newest_first=newest_first)
    headers = {}
    if len(entries) == limit:
        params = {k: v for k, v in request.query_params.items() if k != "cursor"}
        params["cursor"] = str(entries[-1].seq)
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    if media != "application/json":
        body = await call(audit.serialize_prov, entries, media)
        return Response(body, media_type=media, headers=headers)
    return JSONResponse({"items": [e.to_json() for e in entries],
                         "next": entries[-1].seq if "Link" in headers else None}, headers=headers)


@router.get("/api/v1/audit/verify", summary="Check the audit log's hash chain",
            response_model=AuditCheck)
async def audit_verify(request: Request) -> JSONResponse:
    require_admin(principal_of(request))
    check = await call(catalog_of(request).audit.verify)
    return JSONResponse(check.to_json())
