"""A query's result and its serialisation under a deadline and a size limit.

pyoxigraph cannot cancel a query, but it streams solutions into the writer we give it, so the
writer is where the deadline and the size limit are enforced: raising from it stops evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyoxigraph import QueryBoolean, QuerySolutions, QueryTriples

from graph_store.errors import BackendError, InputError, QueryTimeout
from graph_store.formats import (
    GRAPH_RESULT_TYPES,
    RDF_MEDIA_TYPES,
    RESULTS_MEDIA_TYPES,
    SOLUTION_RESULT_TYPES,
)


class _Stop(Exception):
    pass


class _LimitedBuffer:
    def __init__(self, deadline: float, max_bytes: int) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.reason = ""

    def write(self, b: bytes) -> int:
        self.size += len(b)
        if self.size > self.max_bytes:
            self.reason = "size"
            raise _Stop()
        if time.monotonic() > self.deadline:
            self.reason = "time"
            raise _Stop()
        self.chunks.append(bytes(b))
        return len(b)

    def flush(self) -> None:
        pass


@dataclass(frozen=True)
class QueryResult:
    raw: Any  # QuerySolutions | QueryBoolean | QueryTriples

    @property
    def kind(self) -> str:
        if isinstance(self.raw, QueryBoolean):
            return "boolean"
        return "graph" if isinstance(self.raw, QueryTriples) else "solutions"

    @property
    def media_types(self) -> tuple[str, ...]:
        """What this result can be served as, the default first."""
        return GRAPH_RESULT_TYPES if self.kind == "graph" else SOLUTION_RESULT_TYPES

    @property
    def variables(self) -> list[str]:
        return [v.value for v in self.raw.variables] if isinstance(self.raw, QuerySolutions) \
            else []

    def serialize(self, media_type: str, *, timeout_s: float, max_bytes: int) -> bytes:
        fmt = (RDF_MEDIA_TYPES if self.kind == "graph" else RESULTS_MEDIA_TYPES)[media_type]
        out = _LimitedBuffer(time.monotonic() + timeout_s, max_bytes)
        try:
            self.raw.serialize(out, format=fmt)
        except _Stop:
            pass
        except OSError as e:
            if "RDF 1.2" in str(e):  # JSON-LD and triple terms (graph_store/provenance.py)
                raise InputError(f"{media_type} cannot carry the result's RDF 1.2 triple terms "
                                 "(statement provenance); ask for Turtle or N-Triples") from e
            if not out.reason:
                raise BackendError(f"query evaluation failed: {e}") from e
        except Exception as e:  # the writer's exception may come back wrapped
            if not out.reason:
                raise BackendError(f"query evaluation failed: {e}") from e
        if out.reason == "time":
            raise QueryTimeout(f"the query ran past the {timeout_s:g} s deadline; narrow it or "
                               "add LIMIT")
        if out.reason == "size":
            raise InputError(f"the result is larger than the {max_bytes} byte limit; add LIMIT "
                             "or page with OFFSET")
        return b"".join(out.chunks)

    def answer(self, accept: str | None, choose: Callable[[str | None, tuple[str, ...]], str],
               extra_types: tuple[str, ...], *, timeout_s: float,
               max_bytes: int) -> tuple[str, str, bytes]:
        """(kind, the type ``choose`` picks, body). For a pick from ``extra_types`` (HTML, say)
        the body is the standard format beneath: SPARQL JSON results or N-Triples."""
        chosen = choose(accept, (*self.media_types, *extra_types))
        media = chosen if chosen not in extra_types else (
            "application/n-triples" if self.kind == "graph" else "application/sparql-results+json")
        return self.kind, chosen, self.serialize(media, timeout_s=timeout_s, max_bytes=max_bytes)

    def rows(self) -> list[dict[str, Any]]:
        """Solutions as {variable: pyoxigraph term} (for the CLI's table and tests)."""
        names = self.variables
        return [{n: s[n] for n in names if s[n] is not None} for s in self.raw]
