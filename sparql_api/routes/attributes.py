"""REST /api/v1/attributes: custom attributes with dry runs, forced migrations and retirement."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from catalog.attributes import AttributeSpec
from graph_store.errors import InputError, NotFound
from sparql_api.deps import actor_of, call, catalog_of
from sparql_api.schemas import (
    AttributeDefined,
    AttributeDefinition,
    AttributeDryRun,
    AttributeList,
    AttributeVersions,
)

router = APIRouter(prefix="/api/v1/attributes", tags=["Custom attributes"])
Migration = Literal["none", "drop-invalid", "default"]
_NAME = re.compile(AttributeSpec.model_fields["name"].metadata[0].pattern)


def _known_name(name: str) -> str:
    """A name no attribute can have (``a b``) names no attribute: 404, not a malformed IRI."""
    if not _NAME.match(name):
        raise NotFound(f"no attribute {name!r}; attribute names look like costCenter")
    return name


@router.get("", summary="Every custom attribute", response_model=AttributeList)
async def list_attributes(request: Request) -> JSONResponse:
    cat = catalog_of(request)
    names = await call(cat.attributes.names)
    return JSONResponse({"items": [await call(cat.attributes.get, n) for n in names]})


async def _define(request: Request, spec: AttributeSpec, *, create: bool, dry_run: bool,
                  force: bool, migration: Migration, default: Any) -> JSONResponse:
    cat = catalog_of(request)
    if dry_run:
        impact = await call(cat.attributes.impact, spec)
        return JSONResponse({"dryRun": True, **impact.to_json()})
    impact = await call(cat.attributes.define, spec, actor=actor_of(request), create=create,
                        force=force, migration=migration, default=default)
    body = {**await call(cat.attributes.get, spec.name), "migrated": impact.to_json()}
    return JSONResponse(body, status_code=201 if create else 200,
                        headers={"Location": f"/api/v1/attributes/{spec.name}"})


DryRun = Annotated[bool, Query(alias="dryRun", description="Only report the assets that would "
                                                           "violate the definition")]
Force = Annotated[bool, Query(description="Apply even though existing assets would violate it")]
MigrationQ = Annotated[Migration, Query(description="With force: drop-invalid removes offending "
                                                    "values, default sets `default` on assets "
                                                    "that lack a valid value, none keeps them")]
Default = Annotated[str | None, Query(description="The value the default migration sets")]


@router.post("", summary="Define an attribute (dry run with ?dryRun=true)",
             response_model=AttributeDryRun,
             responses={200: {"description": "The dry run's impact analysis"},
                        201: {"model": AttributeDefined, "description": "Defined"}})
async def create_attribute(request: Request, spec: AttributeSpec, dry_run: DryRun = False,
                           force: Force = False, migration: MigrationQ = "none",
                           default: Default = None) -> JSONResponse:
    return await _define(request, spec, create=True, dry_run=dry_run, force=force,
                         migration=migration, default=default)


@router.get("/{name}", summary="One attribute's definition", response_model=AttributeDefinition)
async def get_attribute(request: Request, name: str) -> JSONResponse:
    return JSONResponse(await call(catalog_of(request).attributes.get, _known_name(name)))


@router.put("/{name}", summary="Change an attribute (impact analysis first)",
            response_model=AttributeDryRun | AttributeDefined,
            responses={200: {"description": "The dry run's impact analysis, or the changed "
                                            "definition"}})
async def change_attribute(request: Request, name: str, spec: AttributeSpec,
                           dry_run: DryRun = False, force: Force = False,
                           migration: MigrationQ = "none", default: Default = None) -> JSONResponse:
    if spec.name != name:
        raise InputError(f"the body's name {spec.name!r} differs from the URL's {name!r}")
    return await _define(request, spec, create=False, dry_run=dry_run, force=force,
                         migration=migration, default=default)


@router.delete("/{name}", summary="Retire an attribute (values stay readable)", status_code=204)
async def retire_attribute(request: Request, name: str) -> Response:
    await call(catalog_of(request).attributes.retire, _known_name(name), actor=actor_of(request))
    return Response(status_code=204)


@router.get("/{name}/versions", summary="An attribute's version history",
            response_model=AttributeVersions)
async def attribute_versions(request: Request, name: str) -> JSONResponse:
    history = await call(catalog_of(request).assets.versions, f"attribute/{name}")
    return JSONResponse({"name": name, "versions": [asdict(v) for v in history]})
