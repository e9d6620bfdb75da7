"""API keys (made by admins, or by workspace admins for roles in their workspace) and
``/api/v1/me``: who the server thinks you are."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from access.identity import MAX_KEY_DAYS
from sparql_api.auth import principal_of, require_admin
from sparql_api.deps import call, catalog_of
from sparql_api.schemas_protocols import ApiKey, ApiKeyList, NewApiKey, Principal

router = APIRouter(tags=["Identity"])


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(description="The user the key authenticates, e.g. user/alice.")
    workspace: str | None = Field(default=None, description="Workspace the role applies to.")
    role: str | None = Field(default=None, description="Role granted in that workspace.")
    admin: bool = Field(default=False, description="An instance admin key.")
    label: str = Field(default="", description="What the key is for.")
    expires_days: float | None = Field(default=None, gt=0, le=MAX_KEY_DAYS,
                                       description="Lifetime in days (at most 100 years).")


@router.get("/api/v1/me", summary="The authenticated principal", response_model=Principal)
async def me(request: Request) -> JSONResponse:
    return JSONResponse(principal_of(request).to_json())


@router.post("/api/v1/keys", status_code=201, summary="Create an API key (shown once)",
             response_model=NewApiKey)
async def create_key(request: Request, body: KeyRequest) -> JSONResponse:
    catalog = catalog_of(request)
    principal = principal_of(request)
    if body.admin or body.workspace is None or body.role is None:
        require_admin(principal)
    else:  # workspace admins hand out roles in their workspace
        await call(catalog.access.require, "manage-access", body.workspace)
        await call(catalog.access.check_role, body.workspace, body.role)
    # A key acts as its subject: one made by a workspace admin for someone else carries only
    # the role it hands out, or its maker would borrow the subject's rights everywhere
    delegated = not principal.admin and body.subject != principal.subject
    info, token = await call(catalog.keys.create, body.subject,
                             workspace=body.workspace, role=body.role, admin=body.admin,
                             label=body.label, expires_days=body.expires_days,
                             delegated=delegated)
    return JSONResponse({**info.to_json(), "token": token}, status_code=201,
                        headers={"Location": f"/api/v1/keys/{info.id}", "Cache-Control": "no-store"})


@router.get("/api/v1/keys", summary="List API keys (never their secrets)",
            response_model=ApiKeyList)
async def list_keys(request: Request, subject: str | None = None) -> JSONResponse:
    require_admin(principal_of(request))
    keys = await call(catalog_of(request).keys.list, subject)
    return JSONResponse({"items": [k.to_json() for k in keys]})


@router.get("/api/v1/keys/{key_id}", summary="One API key (never its secret): the caller's "
            "own, or any for an instance admin", response_model=ApiKey)
async def get_key(request: Request, key_id: str) -> JSONResponse:
    principal = principal_of(request)
    if principal.key_id != key_id:
        require_admin(principal)
    return JSONResponse((await call(catalog_of(request).keys.get, key_id)).to_json())


@router.delete("/api/v1/keys/{key_id}", status_code=204, summary="Revoke an API key at once")
async def revoke_key(request: Request, key_id: str) -> Response:
    require_admin(principal_of(request))
    await call(catalog_of(request).keys.revoke, key_id)
    return Response(status_code=204)
