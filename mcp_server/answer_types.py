"""The SPARQL tool's answer types, apart: a query worker process unpickles ``choose`` by
module name, and this module imports nothing, so the worker loads nothing more for it."""

from __future__ import annotations

SOLUTIONS = "application/sparql-results+json"
TRIPLES = "application/n-triples"


def choose(accept: str | None, offered: tuple[str, ...]) -> str:
    """JSON results for solutions, N-Triples for graphs (each line one triple, so rows can be
    counted and cut)."""
    return next((t for t in (SOLUTIONS, TRIPLES) if t in offered), offered[0])
