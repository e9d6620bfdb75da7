"""The one place semcat errors become GraphQL errors: ``extensions.code`` is the error's code
(``not-found``, ``validation-failed``, ...), ``extensions.status`` the HTTP status REST would
answer with, and the rest of the error's detail (a SHACL report) rides along.
Anything else is a bug: its message is not shown (it is logged)."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from graph_store.errors import SemcatError

log = logging.getLogger(__name__)
# errors about the request itself, before anything ran
REQUEST_CODES = {"query-too-deep": 400, "query-too-costly": 400, "bad-query": 400}


def format_error(error: GraphQLError) -> dict[str, Any]:
    """``error`` as the response lists it, with ``extensions.code`` and ``extensions.status``."""
    body: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    extensions = dict(body.get("extensions") or {})
    if isinstance(original, SemcatError):
        if original.status >= 500:  # the store or an index failed: the operator's to see
            log.error("%s in a GraphQL resolver: %s", type(original).__name__, original.detail)
        extensions.update(extensions_of(original))
        body["message"] = original.detail
    elif original is not None:
        log.error("unexpected %s in a GraphQL resolver", type(original).__name__,
                  exc_info=original)
        body["message"] = "the server failed unexpectedly; the failure is logged"
        extensions.update(code="internal", status=500)
    else:  # parsing, validation, the depth and cost limits
        extensions.setdefault("code", "bad-query")
        extensions.setdefault("status", REQUEST_CODES.get(extensions["code"], 400))
    body["extensions"] = extensions
    return body


def extensions_of(error: SemcatError) -> dict[str, Any]:
    """The error's code and HTTP status, and its detail (a SHACL report) where it is JSON."""
    return {**{k: v for k, v in error.extra.items() if _plain(v)}, "code": error.code,
            "status": error.status}


def request_error(error: SemcatError) -> dict[str, Any]:
    """A response refusing an unusable request (no query, malformed JSON) before it runs."""
    return {"errors": [{"message": error.detail, "extensions": extensions_of(error)}]}


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)
