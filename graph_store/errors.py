"""semcat errors — this docstring is the source of truth.

SemcatError
├── NotFound            unknown asset, version, graph
├── Conflict            stale version, duplicate key
│   └── PreconditionFailed  If-Match did not match the current version
├── InputError          unusable input (.line .column where known)
│   ├── QuerySyntaxError    SPARQL that does not parse
│   ├── PayloadTooLarge     a body over the configured limit
│   └── UnsupportedMediaType  a body in a format we do not read
├── ValidationFailed    a changeset was refused (.report: per-item problems)
├── Unauthenticated     no credential, or one that is unknown, revoked, expired or forged
├── Forbidden           the caller may not (.reason)
├── QueryTimeout        a query ran past its deadline
├── TooManyRequests     over the caller's rate or concurrency limit (.retry_after seconds)
└── BackendError        store, log or index I/O failed

They live in the bottom layer so every layer can raise them; `sparql_api/problems.py` alone maps
them to HTTP and `semcat/cli.py` alone to exit codes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SemcatError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(SemcatError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(SemcatError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(Conflict):
    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class InputError(SemcatError):
    status = 400
    code = "bad-input"
    title = "Bad input"

    def __init__(
        self, detail: str, *, line: int | None = None, column: int | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        self.line = line
        self.column = column
        if line is not None:
            self.extra["line"] = line
        if column is not None:
            self.extra["column"] = column


class QuerySyntaxError(InputError):
    code = "query-syntax"
    title = "SPARQL syntax error"


class PayloadTooLarge(InputError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(InputError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


class ValidationFailed(SemcatError):
    status = 422
    code = "validation-failed"
    title = "Validation failed"

    def __init__(self, detail: str, *, report: list[dict[str, Any]], **extra: Any) -> None:
        super().__init__(detail, errors=report, **extra)
        self.report = report

    def __str__(self) -> str:
        """The detail and what was wrong, for Python callers who only see the exception."""
        lines = [" ".join(str(e[k]) for k in ("severity", "item", "focusNode", "path")
                          if e.get(k) is not None)
                 + f": {e.get('message', '')}" for e in self.report[:10]]
        more = [f"... and {len(self.report) - 10} more"] if len(self.report) > 10 else []
        return "\n  ".join([self.detail, *lines, *more])


class Unauthenticated(SemcatError):
    """401. ``challenge_error`` is the RFC 6750 error code ("invalid_token") when a credential
    was presented; empty when none was."""

    status = 401
    code = "unauthenticated"
    title = "Unauthenticated"

    def __init__(self, detail: str, *, challenge_error: str = "invalid_token",
                 **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.challenge_error = challenge_error


class Forbidden(SemcatError):
    status = 403
    code = "forbidden"
    title = "Forbidden"

    def __init__(self, detail: str, *, reason: str = "", **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.reason = reason or detail


class QueryTimeout(SemcatError):
    status = 503
    code = "query-timeout"
    title = "Query timed out"


class TooManyRequests(SemcatError):
    status = 429
    code = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class BackendError(SemcatError):
    status = 500
    code = "backend"
    title = "Backend error"


ALL_ERRORS: tuple[type[SemcatError], ...] = (
    SemcatError, NotFound, Conflict, PreconditionFailed, InputError, QuerySyntaxError,
    PayloadTooLarge, UnsupportedMediaType, ValidationFailed, Unauthenticated, Forbidden,
    QueryTimeout, BackendError,
)
