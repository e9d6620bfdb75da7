"""Per-caller limits, as the design's API gateway asks: a request rate (the `limits` library's
moving window, in memory) and a cap on SPARQL queries running at once. Instance admins are not
limited; everyone else, keyed by principal, gets 429 with Retry-After beyond them."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from access.identity import Principal
from graph_store.errors import TooManyRequests
from sparql_api import problems
from sparql_api.deps import catalog_of

QUERY_PATHS = ("/sparql", "/query")


class RateLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items: list[RateLimitItem] | None = None
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal") if scope["type"] == "http" else None
        if not isinstance(principal, Principal) or principal.admin:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings = catalog_of(request).settings
        key = f"{principal.subject}|{principal.key_id or ''}"
        try:
            self._check_rate(key, settings.rate_limit)
            query = scope["path"] in QUERY_PATHS and scope["method"] in ("GET", "POST")
            if query:
                self._start_query(key, settings.max_concurrent_queries)
        except TooManyRequests as e:
            response = await problems.error_response(request, e)
            response.headers["Retry-After"] = str(e.retry_after)
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            if query:
                with self._lock:
                    self._running[key] -= 1

    def _check_rate(self, key: str, rate: str) -> None:
        if not rate:
            return
        if self._items is None:
            self._items = parse_many(rate)
        for item in self._items:
            if not self._limiter.hit(item, key):
                reset = self._limiter.get_window_stats(item, key).reset_time
                raise TooManyRequests(f"over the rate limit of {item}; retry later",
                                      retry_after=max(1, math.ceil(reset - time.time())))

    def _start_query(self, key: str, most: int) -> None:
        with self._lock:
            if self._running[key] >= most:
                raise TooManyRequests(f"{most} queries of yours are running; wait for one to "
                                      "finish", retry_after=1)
            self._running[key] += 1
