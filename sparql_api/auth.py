"""Authentication of every request, as ASGI middleware so that nothing mounted later escapes it.

Credentials: ``Authorization: Bearer <token>`` (an API key when it starts with ``sck_``, else an
OIDC JWT when OIDC is configured) or ``X-API-Key: <token>``. Without one the caller gets 401,
unless the server runs open (``semcat serve --open``), where anonymous callers act as admin.
The principal lands on ``request.state.principal``, and the request's origin in
``access.audit.ORIGIN`` for the catalog layer (the audit log) to read.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from access.audit import ORIGIN, Origin
from access.identity import OPEN_ANONYMOUS, TOKEN_PREFIX, Principal
from access.oidc import OidcVerifier
from access.service import PRINCIPAL
from graph_store.errors import Forbidden, Unauthenticated
from sparql_api import problems
from sparql_api.deps import catalog_of

PUBLIC_PATHS = frozenset({"/", "/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc",
                          "/openapi.json", "/api/v1/context.jsonld", "/favicon.ico"})
# the docs' own scripts and styles; the web UI's pages and assets (they carry no data)
PUBLIC_PREFIXES = ("/static/", "/static-offline-docs/", "/ui/")


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def principal_of(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise Unauthenticated("authentication required: send Authorization: Bearer <token> "
                              "or X-API-Key: <key>", challenge_error="")
    return principal


def require_admin(principal: Principal) -> Principal:
    if not principal.admin:
        raise Forbidden(f"{principal.subject} is not an instance admin; this needs an admin key",
                        reason="admin only")
    return principal


class AuthMiddleware:
    def __init__(self, app: ASGIApp,
                 anonymous: Callable[[Request], Principal | None] | None = None) -> None:
        """``anonymous`` may let a request without credentials in as a principal of its
        choosing (published linked data, sparql_api/routes/linked_data.py); None: 401."""
        self.app = app
        self._anonymous = anonymous
        self._oidc: tuple[OidcVerifier | None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        principal: Principal | None = None
        if is_public(scope["path"]):
            if catalog_of(request).settings.open:
                principal = OPEN_ANONYMOUS
        else:
            try:
                principal = await self._authenticate(request)
            except Unauthenticated as e:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008, "reason": e.detail})
                    return
                response = await problems.error_response(request, e)
                await response(scope, receive, send)
                return
        if principal is not None:
            scope.setdefault("state", {})["principal"] = principal
        client = scope.get("client")
        origin = Origin(principal or Principal("anonymous", "none"),
                        client[0] if client else "", request.headers.get("user-agent", ""))
        token = ORIGIN.set(origin)
        acting = PRINCIPAL.set(origin.principal)  # what access.service checks every read against
        try:
            await self.app(scope, receive, send)
        finally:
            PRINCIPAL.reset(acting)
            ORIGIN.reset(token)

    async def _authenticate(self, request: Request) -> Principal:
        catalog = catalog_of(request)
        authorization = request.headers.get("authorization")
        api_key = request.headers.get("x-api-key")
        if not (authorization or api_key) and self._anonymous is not None:
            reader = self._anonymous(request)
            if reader is not None:
                return reader
        if authorization:
            scheme, _, token = authorization.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise Unauthenticated(f"unsupported Authorization scheme {scheme!r}; send "
                                      "Authorization: Bearer <token>")
            if token.startswith(TOKEN_PREFIX):
                return await run_in_threadpool(catalog.keys.verify, token)
            oidc = self._verifier(request)
            if oidc is None:
                raise Unauthenticated("the bearer token is not an API key (sck_...) and this "
                                      "server has no OpenID Connect issuer configured")
            return await run_in_threadpool(oidc.verify, token)
        if api_key:
            return await run_in_threadpool(catalog.keys.verify, api_key.strip())
        if catalog.settings.open:
            return OPEN_ANONYMOUS
        raise Unauthenticated("authentication required: send Authorization: Bearer <token> or "
                              "X-API-Key: <key>", challenge_error="")

    def _verifier(self, request: Request) -> OidcVerifier | None:
        """One verifier per app (it caches the JWKS), built on first use from the settings."""
        if self._oidc is None:
            self._oidc = (OidcVerifier.from_settings(catalog_of(request).settings),)
        return self._oidc[0]
