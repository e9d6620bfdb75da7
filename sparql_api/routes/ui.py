"""The web UI: ``/`` and every ``/ui/...`` page answer the single-page app's index.html (its
router reads the path), and ``/ui/assets/...`` the hashed scripts and styles it loads.

The pages are public like ``/`` was: they carry no data, and every API call they make is
authenticated with the API key or the OpenID Connect access token the person signs in with.
``/ui/config.json`` tells the sign-in page how: whether the server is open, and which issuer and
client id to use for single sign-on (authorization code + PKCE, in the browser).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from catalog.settings import Settings
from graph_store.errors import NotFound
from sparql_api.deps import catalog_of

router = APIRouter(include_in_schema=False)

# Built from ui/ by `make ui` and shipped as files, so serving the UI needs no Node.js.
STATIC = Path(__file__).resolve().parent.parent / "ui_dist"
INDEX = STATIC / "index.html"
ASSETS = STATIC / "assets"  # hashed file names: cacheable for ever

# Content-hashed names (Vite's `name-HASH.ext`): a new build has new names, so caches keep them.
_ASSET = re.compile(r"^[A-Za-z0-9_.-]+\.(?:js|css|svg|png|woff2?|ttf)\Z")
IMMUTABLE = "public, max-age=31536000, immutable"
# Everything from this origin; inline styles for the graph and editor libraries, no inline script.
# With single sign-on the page also talks to the issuer (discovery, token endpoint).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'{issuer}; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
# What the UI asks the issuer for; the access token's audience comes from the issuer's setup.
SSO_SCOPE = "openid email"


def sso(settings: Settings) -> dict[str, str] | None:
    """The issuer and client the UI signs in with, or None: API keys only."""
    if not (settings.oidc_ui_client_id and settings.oidc_issuer):
        return None
    return {"issuer": settings.oidc_issuer, "clientId": settings.oidc_ui_client_id,
            "scope": SSO_SCOPE}


def csp(settings: Settings) -> str:
    config = sso(settings)
    if config is None:
        return CSP.format(issuer="")
    issuer = urlparse(config["issuer"])
    return CSP.format(issuer=f" {issuer.scheme}://{issuer.netloc}")


def _index(request: Request) -> Response:
    if not INDEX.is_file():
        return Response("The web UI is not built: run `make ui`.\n", status_code=503,
                        media_type="text/plain")
    return FileResponse(INDEX, media_type="text/html", headers={
        "Cache-Control": "no-cache", "Content-Security-Policy": csp(catalog_of(request).settings),
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


@router.get("/")
async def home(request: Request) -> Response:
    return _index(request)


@router.get("/ui/assets/{name}")
async def asset_file(name: str) -> Response:
    path = ASSETS / name
    if not _ASSET.match(name) or not path.is_file():
        raise NotFound(f"no UI asset {name!r}")
    return FileResponse(path, headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"})


@router.get("/ui/config.json")
async def config(request: Request) -> JSONResponse:
    """What the sign-in page needs before anyone signs in: whether anonymous callers are let in
    (``--open``; asking /api/v1/me instead would log a denied request for every visit), and the
    single sign-on issuer and public client id. Nothing secret: anyone may read it."""
    settings = catalog_of(request).settings
    body: dict[str, Any] = {"open": settings.open, "oidc": sso(settings)}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/ui/{page:path}")
async def page(request: Request, page: str) -> Response:
    return _index(request)
