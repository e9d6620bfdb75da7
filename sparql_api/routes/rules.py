"""REST /api/v1/rules: classification rules (SPARQL CONSTRUCT about ?this), versioned resources.

Bodies are JSON: ``{"id": "rule/email-columns", "name": ..., "description": ...,
"construct": "CONSTRUCT { ?this ... } WHERE { ... }", "enabled": true}``. A rule whose text does
not parse, is not a CONSTRUCT about ``?this`` or reaches out (SERVICE, LOAD) is refused with a
problem+json 4xx and nothing is written.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sparql_api.deps import actor_of, call, catalog_of, read_json
from sparql_api.schemas_protocols import RULE_BODY, Rule, RuleList

router = APIRouter(prefix="/api/v1/rules", tags=["Classification rules"])


def _location(rule_id: str) -> dict[str, str]:
    return {"Location": f"/api/v1/rules/{rule_id.removeprefix('rule/')}"}


@router.get("", summary="Every classification rule", response_model=RuleList)
async def list_rules(request: Request) -> JSONResponse:
    return JSONResponse({"items": await call(catalog_of(request).rules.list_all)})


@router.post("", summary="Create a rule (its id from the body's id, else from its name)",
             status_code=201, response_model=Rule, openapi_extra=RULE_BODY)
async def create_rule(request: Request) -> JSONResponse:
    body = await read_json(request)
    rule = await call(catalog_of(request).rules.create, body, actor=actor_of(request))
    return JSONResponse(rule, status_code=201, headers=_location(rule["id"]))


@router.get("/{name}", summary="One rule, with how many statements it concludes now",
            response_model=Rule)
async def get_rule(request: Request, name: str) -> JSONResponse:
    return JSONResponse(await call(catalog_of(request).rules.get, name, conclusions=True))


@router.put("/{name}", summary="Create or replace a rule", response_model=Rule,
            openapi_extra=RULE_BODY, responses={200: {"description": "Replaced"},
                                                201: {"model": Rule, "description": "Created"}})
async def put_rule(request: Request, name: str) -> JSONResponse:
    body = await read_json(request)
    rule, created = await call(catalog_of(request).rules.put, name, body,
                               actor=actor_of(request))
    return JSONResponse(rule, status_code=201 if created else 200, headers=_location(rule["id"]))


@router.delete("/{name}", status_code=204, summary="Delete a rule (retracts its conclusions)")
async def delete_rule(request: Request, name: str) -> Response:
    await call(catalog_of(request).rules.delete, name, actor=actor_of(request))
    return Response(status_code=204)
