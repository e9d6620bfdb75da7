"""Linked data on the web: catalog IRIs that dereference, the publication policy, VoID.

``GET /id/{key}`` follows the W3C's Cool URIs and Best Practices for Publishing Linked Data: a
browser (HTML preferred) gets 303 See Other to the asset's page; an RDF client gets the
description itself, 200 with ``Content-Location`` naming the representation served, ``Vary:
Accept``, and ``Link`` headers to every alternate. Unknown, hidden and unpublished IRIs are one
404. Without credentials on a server that is not ``--open``, these reads (and the DCAT export)
act as the anonymous reader of published data (publishing/publications.py) instead of 401.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from access.identity import Principal
from graph_store.errors import InputError, NotFound
from publishing import PUBLIC_READER, Publishing, serving
from sparql_api.auth import principal_of
from sparql_api.deps import actor_of, call, catalog_of
from sparql_api.negotiation import choose
from sparql_api.schemas_protocols import rdf

router = APIRouter(tags=["Linked data"])
HTML = "text/html"
# a client that says nothing (*/*) gets data; browsers ask for HTML by name
RDF_TYPES = ("text/turtle", "application/ld+json", "application/n-triples",
             "application/rdf+xml")
FORMATS = {"ttl": "text/turtle", "jsonld": "application/ld+json",
           "nt": "application/n-triples", "rdf": "application/rdf+xml"}
# reads that answer without credentials (published data only) instead of 401
PUBLIC_READ_PREFIXES = ("/id/",)
PUBLIC_READ_PATHS = frozenset({"/.well-known/void", "/api/v1/export/dcat"})


def published_reader(request: Request) -> Principal | None:
    """The anonymous reader for a GET of published data without credentials, where it would
    otherwise be refused with 401 (AuthMiddleware's ``anonymous``)."""
    path = request.url.path
    if request.method in ("GET", "HEAD") and (
            path in PUBLIC_READ_PATHS or path.startswith(PUBLIC_READ_PREFIXES)) and \
            not catalog_of(request).settings.open:
        # one rate-limit bucket per client address, not one for the whole public
        client = request.client.host if request.client else ""
        return replace(PUBLIC_READER, key_id=f"anonymous@{client}")
    return None


class PublicUrl:
    """Records, per request, the URL this server answers at (``public_url``, or the request's
    own), for the documents that name the server (publishing/urls.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings = catalog_of(request).settings  # type: ignore[arg-type]
        public = settings.public_url or str(request.base_url)
        with serving(settings.base, public):
            await self.app(scope, receive, send)


def publishing_of(request: Request) -> Publishing:
    """One per app, made on first use from the catalog's parts."""
    state = request.app.state
    pub = getattr(state, "publishing", None)
    if pub is None:
        cat = catalog_of(request)
        pub = state.publishing = Publishing(cat.store, cat.layout, cat.access, cat.journal)
    return pub  # type: ignore[no-any-return]


def _key(request: Request) -> str:
    """The id as the client spelled it: from the raw path, so that an encoded ``/`` (``%2F``)
    in a name stays part of that name."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    root = request.scope.get("root_path", "")
    path = path[len(root):] if root and path.startswith(root) else path
    key = path.removeprefix("/id/")
    if not key.strip("/"):
        raise NotFound("no resource at /id/: append an id, e.g. /id/acme/table/pg/shop.orders")
    return key  # percent-encoded as sent; layout.iri decodes and re-encodes it canonically


@router.get("/id/{key:path}", summary="Dereference a catalog IRI: 303 to its page for "
            "browsers, its RDF description by content negotiation",
            response_class=Response,
            responses={200: {"content": rdf(RDF_TYPES), "description": "The description"},
                       303: {"description": "See Other: the resource's HTML page"}})
async def dereference(
    request: Request,
    key: Annotated[str, Path(description="The resource's id, e.g. acme/table/pg/shop.orders")],
    format: Annotated[str | None, Query(description="ttl, jsonld, nt or rdf: this "
                                                    "representation, whatever Accept says")] = None,
) -> Response:
    key = _key(request)
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    chosen = FORMATS[format] if format else choose(request.headers.get("accept"),
                                                   (*RDF_TYPES, HTML))
    pub = publishing_of(request)
    scope = await call(pub.scope, principal_of(request))
    body = await call(pub.describe, key, "text/turtle" if chosen == HTML else chosen, scope)
    if body is None:
        raise NotFound(f"nothing is known at /id/{key}: no such resource, or you may not read "
                       "it")
    canonical = pub.layout.key(pub.layout.iri(key))
    here = f"/id/{quote(canonical, safe='/')}"
    page = f"/ui/asset/{quote(canonical, safe='/')}"
    links = [f'<{page}>; rel="alternate"; type="{HTML}"'] + [
        f'<{here}?format={ext}>; rel="alternate"; type="{media}"'
        for ext, media in FORMATS.items()]
    headers = {"Vary": "Accept", "Link": ", ".join(links)}
    if chosen == HTML:
        return RedirectResponse(page, status_code=303, headers=headers)
    ext = next(e for e, m in FORMATS.items() if m == chosen)
    return Response(body, media_type=chosen,
                    headers={**headers, "Content-Location": f"{here}?format={ext}"})


@router.get("/.well-known/void", summary="VoID description of the dataset the caller may read",
            response_class=Response, responses={200: {"content": rdf(RDF_TYPES),
                                                      "description": "A void:Dataset"}})
async def void(request: Request) -> Response:
    chosen = choose(request.headers.get("accept"), RDF_TYPES)
    pub = publishing_of(request)
    scope = await call(pub.scope, principal_of(request))
    return Response(await call(pub.void, chosen, scope), media_type=chosen,
                    headers={"Vary": "Accept"})


@router.get("/api/v1/export/dcat", summary="DCAT-AP 3 catalog of the data assets the caller "
            "may read (without credentials: the published ones)", tags=["Catalog"],
            response_class=Response, responses={200: {"content": rdf(RDF_TYPES),
                                                      "description": "A dcat:Catalog"}})
async def export_dcat(request: Request) -> Response:
    chosen = choose(request.headers.get("accept"), RDF_TYPES)
    pub = publishing_of(request)
    scope = await call(pub.scope, principal_of(request))
    return Response(await call(pub.dcat, chosen, scope), media_type=chosen,
                    headers={"Vary": "Accept"})


class PublicationOut(BaseModel):
    id: str = Field(description="The workspace or asset id")
    kind: Literal["workspace", "asset"]


class PublicationList(BaseModel):
    items: list[PublicationOut]


class PublicationIn(BaseModel):
    """Nothing to say yet: the target is in the path (an empty object, or no body)."""

    model_config = ConfigDict(extra="forbid")


@router.get("/api/v1/publications", summary="What is published (that the caller may read)",
            tags=["Publication"], response_model=PublicationList)
async def list_publications(request: Request) -> JSONResponse:
    items = await call(publishing_of(request).publications.visible)
    return JSONResponse({"items": [p.to_json() for p in items]})


Target = Annotated[str, Path(description="A workspace (acme) or an asset id "
                                         "(acme/table/pg/shop.orders)")]


@router.put("/api/v1/publications/{target:path}", summary="Publish a workspace or an asset: "
            "its linked data and DCAT entry become readable without credentials",
            tags=["Publication"], status_code=201, response_model=PublicationOut,
            responses={200: {"model": PublicationOut, "description": "Published already"}})
async def publish(request: Request, target: Target, body: PublicationIn | None = None) -> JSONResponse:
    pub, created = await call(publishing_of(request).publications.publish, target,
                              actor=actor_of(request))
    return JSONResponse(pub.to_json(), status_code=201 if created else 200)


@router.delete("/api/v1/publications/{target:path}", summary="Unpublish a workspace or an "
               "asset", tags=["Publication"], status_code=204, response_class=Response)
async def unpublish(request: Request, target: Target) -> Response:
    await call(publishing_of(request).publications.unpublish, target, actor=actor_of(request))
    return Response(status_code=204)
