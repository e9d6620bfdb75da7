"""What every resolver gets: the catalog, the caller, and this request's batch loaders.

The web layer builds a ``Context`` per request from the authenticated principal, so nothing
here imports it. Catalog calls run on worker threads as that principal (access/service.py's
``PRINCIPAL``), so a resolver sees exactly what the same caller would see over REST.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from access.identity import Principal
from access.service import PRINCIPAL
from catalog import Catalog
from graphql_api.loaders import Loaders

T = TypeVar("T")


@dataclass
class Context:
    catalog: Catalog
    principal: Principal | None = None  # None: whoever is acting already (in-process: admin)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.catalog, self.run)

    @property
    def actor(self) -> str:
        """Who writes, as the change log records it (the same as REST's ``actor_of``)."""
        subject = self.principal.subject if self.principal is not None else "anonymous"
        return subject or "anonymous"

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn`` on a worker thread, as this context's principal: the catalog is synchronous
        and must not block the event loop."""
        return await run_in_threadpool(functools.partial(self._as_caller, fn, *args, **kwargs))

    def _as_caller(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        if self.principal is None:
            return fn(*args, **kwargs)
        token = PRINCIPAL.set(self.principal)
        try:
            return fn(*args, **kwargs)
        finally:
            PRINCIPAL.reset(token)
