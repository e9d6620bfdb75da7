"""Where the catalog is served from, as opposed to what its IRIs say.

Asset IRIs (``{base}/id/...``) are data: they never change with the server's address. The
documents a server hands out (the JSON-LD ``@context``, VoID's endpoints, DCAT's access URLs)
must point at that server, though, or a catalog served on another port or behind a proxy sends
clients to ``base``. The web layer records the public URL of each request here; code below it
asks ``served`` to move a URL under ``base`` to that server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# (base, public URL) of the request being answered; unset outside a request (CLI, scripts).
SERVED_AT: ContextVar[tuple[str, str] | None] = ContextVar("semcat_served_at", default=None)


def served(url: str) -> str:
    """``url`` (under the catalog's base) as the current server answers it."""
    at = SERVED_AT.get()
    if at is None:
        return url
    base, public = at
    if url == base or url.startswith(base + "/"):
        return public + url[len(base):]
    return url


def public_root(base: str) -> str:
    """The URL of the server answering now; ``base`` where none is."""
    at = SERVED_AT.get()
    return at[1] if at is not None else base.rstrip("/")


@contextmanager
def serving(base: str, public: str) -> Iterator[None]:
    """Answer the block as the server at ``public`` (the web layer's middleware, tests)."""
    token = SERVED_AT.set((base.rstrip("/"), public.rstrip("/")))
    try:
        yield
    finally:
        SERVED_AT.reset(token)
