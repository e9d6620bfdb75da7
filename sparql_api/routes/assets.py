"""REST /api/v1/assets: JSON-LD resources with versions, diffs, bulk upsert and paging."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from catalog.assets import warning_summary
from graph_store.errors import InputError, PreconditionFailed, UnsupportedMediaType
from sparql_api.deps import (
    MAX_SEQ,
    actor_of,
    call,
    catalog_of,
    media_type,
    parse_json,
    parse_ndjson,
    read_body,
    read_json,
)
from sparql_api.schemas import (
    AssetDiff,
    AssetDocument,
    AssetPage,
    AssetVersions,
    AssetWrite,
    BulkWrite,
    ContextDocument,
    Explanations,
    JSONLDResponse,
)
from sparql_api.schemas_protocols import ASSET_BODY, ASSET_PATCH_BODY, BULK_BODY

router = APIRouter(prefix="/api/v1", tags=["Assets"])
JSONLD = "application/ld+json"
_ASSETS = "/api/v1/assets/"


def _key(request: Request, key: str, suffix: str = "") -> str:
    """The id as the URL spells it. The server decodes the path before routing, which would
    turn an encoded id's ``%2F`` (a slash inside a name) into a segment separator; read from
    the raw path, each segment is decoded on its own and such a slash stays part of its name.
    The catalog takes the id from there in either spelling (README, "Ids and names")."""
    raw = request.scope.get("raw_path", b"").decode("latin-1").partition("?")[0]
    start = raw.find(_ASSETS)
    if "%2f" not in raw.lower() or start < 0 or not raw.endswith(suffix):
        return key
    segments = raw[start + len(_ASSETS):len(raw) - len(suffix)].split("/")
    return "/".join(unquote(s).replace("/", "%2F") for s in segments)


def _ld(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=JSONLD, headers=headers)


def _if_match(value: str | None) -> int | None:
    """If-Match compares strongly (RFC 9110, 13.1.1): a weak ETag never matches."""
    if value is None or value.strip() == "*":
        return None
    if value.strip().startswith("W/"):
        raise PreconditionFailed(f"If-Match compares strong ETags; the weak {value.strip()} "
                                 "never matches. Send the ETag as this API returned it")
    tag = value.strip().strip('"')
    if not tag.isdigit() or len(tag) > 18:
        raise InputError(f"If-Match must be an ETag this API returned, like \"3\"; got {value!r}")
    return int(tag)


def _not_modified(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match compares weakly: any listed tag, W/ or not, or *."""
    if if_none_match is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _write(result: Any, request: Request, created_status: int = 201) -> JSONResponse:
    status = created_status if result.status == "created" else 200
    # the id percent-encoded once more as a URL path: its own escapes (%20, %2F) survive the
    # server's decoding of the path, and a header holds only ASCII
    return _ld(asdict(result), status, {
        "Location": f"/api/v1/assets/{quote(result.id, safe='/')}",  # a path, as everywhere
        "ETag": f'"{result.version}"'})


@router.get("/context.jsonld", summary="The JSON-LD @context of every REST body",
            tags=["JSON-LD"], response_model=ContextDocument, response_class=JSONLDResponse)
async def jsonld_context(request: Request) -> JSONResponse:
    return _ld(catalog_of(request).jsonld_context())


@router.get("/assets", summary="List assets: filter, sort, page with a cursor",
            response_model=AssetPage, response_class=JSONLDResponse)
async def list_assets(
    request: Request,
    type: Annotated[str | None, Query(description="Class, e.g. Table (subclasses included)")] = None,
    platform: Annotated[str | None, Query(description="Platform id, e.g. platform/snowflake")] = None,
    tag: Annotated[str | None, Query(description="Tag id, e.g. tag/tier-1")] = None,
    owner: Annotated[str | None, Query(description="User or team id")] = None,
    workspace: Annotated[str | None, Query(description="Workspace id, e.g. acme")] = None,
    partOf: Annotated[str | None, Query(description="Parent id: a table's columns")] = None,
    classification: Annotated[str | None, Query(description="Classification id")] = None,
    term: Annotated[str | None, Query(description="Glossary term id")] = None,
    q: Annotated[str | None, Query(description="Name prefix, case-insensitive")] = None,
    sort: Annotated[str, Query(description="name, qualifiedName, updatedAt or createdAt; "
                                           "prefix - for descending")] = "name",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(description="The `next` of the previous page")] = None,
    infer: Annotated[bool, Query(description="Filters match inferred statements too (entailed "
                                             "types, classifications)")] = False,
) -> JSONResponse:
    """Custom attributes filter as `attr.<name>=<value>`, e.g. `attr.costCenter=CC-12`."""
    cat = catalog_of(request)
    custom = {k.removeprefix("attr."): v for k, v in request.query_params.items()
              if k.startswith("attr.")}
    page = await call(cat.assets.page, type=type, q=q, sort=sort, limit=limit, cursor=cursor,
                      attributes=custom, infer=infer,
                      platform=platform, tag=tag, owner=owner, workspace=workspace, partOf=partOf,
                      classification=classification, term=term)
    # "items" is the page's @graph, so the whole body is one JSON-LD document.
    body: dict[str, Any] = {"@context": cat.assets.context(items="@graph"), "items": page.items,
                            "next": None}
    headers = {}
    if page.next_cursor:
        params = {k: v for k, v in request.query_params.items() if k != "cursor"}
        body["next"] = page.next_cursor
        link = f"{request.url.path}?{urlencode({**params, 'cursor': page.next_cursor})}"
        headers["Link"] = f'<{link}>; rel="next"'
    return _ld(body, headers=headers)


@router.post("/assets", summary="Create or update an asset by its natural key (idempotent)",
             response_model=AssetWrite, response_class=JSONLDResponse, openapi_extra=ASSET_BODY,
             responses={200: {"description": "Updated or unchanged"},
                        201: {"model": AssetWrite, "description": "Created"}})
async def upsert_asset(request: Request) -> JSONResponse:
    item = await read_json(request)
    result = await call(catalog_of(request).assets.upsert, item, actor=actor_of(request))
    return _write(result, request)


@router.post("/assets:bulk", summary="Upsert many assets: all or nothing",
             response_model=BulkWrite, response_class=JSONLDResponse, openapi_extra=BULK_BODY)
async def bulk_upsert(
    request: Request,
    warnings: Annotated[Literal["summary", "all"], Query(
        description="summary: SHACL warnings counted per kind with a few examples; all: "
                    "also every warning on its item")] = "summary",
) -> JSONResponse:
    body = await read_body(request)
    kind = media_type(request)
    if kind in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        items = parse_ndjson(body)
    elif kind in ("application/json", JSONLD, ""):
        items = parse_json(body)
        if isinstance(items, dict) and isinstance(items.get("@graph"), list):
            items = items["@graph"]
        if not isinstance(items, list):
            raise InputError("a bulk body is a JSON array of assets (or NDJSON, one per line)")
    else:
        raise UnsupportedMediaType(f"bulk bodies are application/json, application/ld+json or "
                                   f"application/x-ndjson, not {kind!r}")
    results = await call(catalog_of(request).assets.upsert_many, items, actor=actor_of(request))
    counts = {s: sum(r.status == s for r in results) for s in ("created", "updated", "unchanged")}
    items = [asdict(r) if warnings == "all" else
             {k: v for k, v in asdict(r).items() if k != "warnings"} for r in results]
    return _ld({**counts, "items": items, "warnings": warning_summary(results)})


@router.get("/assets/{key:path}/versions", summary="An asset's version history",
            response_model=AssetVersions, response_class=JSONLDResponse)
async def asset_versions(request: Request, key: str) -> JSONResponse:
    key = await call(catalog_of(request).assets.key, _key(request, key, "/versions"))
    history = await call(catalog_of(request).assets.versions, key)
    return _ld({"id": key, "versions": [asdict(v) for v in history]})


@router.get("/assets/{key:path}/diff", summary="What changed between two versions",
            response_model=AssetDiff, response_class=JSONLDResponse)
async def asset_diff(
    request: Request, key: str,
    from_: Annotated[int | None, Query(alias="from", ge=1, le=MAX_SEQ)] = None,
    to: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
) -> JSONResponse:
    cat = catalog_of(request)
    key = await call(cat.assets.key, _key(request, key, "/diff"))
    history = await call(cat.assets.versions, key)
    to_v = to if to is not None else history[-1].version
    from_v = from_ if from_ is not None else max(1, to_v - 1)
    return _ld(await call(cat.assets.diff, key, from_v, to_v))


@router.get("/assets/{key:path}/explain", summary="Why inferred statements about an asset hold",
            response_model=Explanations)
async def explain_asset(
    request: Request, key: str,
    predicate: Annotated[str | None, Query(description="Property IRI or prefixed name, e.g. "
                                                       "semcat:upstream")] = None,
    object: Annotated[str | None, Query(description="Object IRI, prefixed name or asset id; "
                                                    "needs a predicate")] = None,
) -> JSONResponse:
    """Each statement with the OWL 2 RL rule or axiom that gives it and its premises,
    recursively, down to asserted facts. Without a predicate: every inferred statement."""
    key = _key(request, key, "/explain")
    found = await call(catalog_of(request).explain, key, predicate, object)
    return JSONResponse({"id": key, "explanations": [e.to_json() for e in found]})


@router.get("/assets/{key:path}", summary="Read an asset (optionally an old version)",
            response_model=AssetDocument, response_class=JSONLDResponse)
async def get_asset(
    request: Request, key: str,
    version: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="Read this version")] = None,
    infer: Annotated[bool, Query(description="Add the asset's inferred statements, under "
                                             "`inferred`")] = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    doc = await call(catalog_of(request).assets.get, _key(request, key), version, infer=infer)
    if infer:  # inferences change without a new version: no validator for them
        return _ld(doc)
    etag = f'"{doc.get("version", 0)}"'
    if _not_modified(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return _ld(doc, headers={"ETag": etag})


@router.put("/assets/{key:path}", summary="Replace an asset",
            response_model=AssetWrite, response_class=JSONLDResponse, openapi_extra=ASSET_BODY,
            responses={200: {"description": "Updated or unchanged"},
                       201: {"model": AssetWrite, "description": "Created"}})
async def replace_asset(
    request: Request, key: str, if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    item = await read_json(request)
    result = await call(catalog_of(request).assets.upsert, item, actor=actor_of(request),
                        key=_key(request, key), if_match=_if_match(if_match))
    return _write(result, request)


@router.patch("/assets/{key:path}", summary="Change some properties (JSON Merge Patch)",
              response_model=AssetWrite, response_class=JSONLDResponse,
              openapi_extra=ASSET_PATCH_BODY)
async def patch_asset(
    request: Request, key: str, if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    patch = await read_json(request)
    result = await call(catalog_of(request).assets.patch, _key(request, key), patch,
                        actor=actor_of(request), if_match=_if_match(if_match))
    return _write(result, request, created_status=200)


@router.delete("/assets/{key:path}", summary="Delete an asset (its history stays readable)",
               status_code=204)
async def delete_asset(
    request: Request, key: str, if_match: Annotated[str | None, Header()] = None,
) -> Response:
    await call(catalog_of(request).assets.delete, _key(request, key), actor=actor_of(request),
               if_match=_if_match(if_match))
    return Response(status_code=204)
