"""Refuse outbound fetches (SERVICE, LOAD) before a query or update reaches an engine.

pyoxigraph and rdflib both fetch over HTTP for SERVICE and LOAD, and neither offers a parse-only
call that could tell us, so we look for the keywords after blanking out comments, strings and
IRIs, where they cannot be keywords. False positives are impossible to exploit: they only refuse.
``query_dataset`` reads a query's FROM / FROM NAMED, which the engines' dataset argument replaces.
"""

from __future__ import annotations

import re

from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from graph_store.errors import Forbidden, QuerySyntaxError

_NOT_CODE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*",
    re.DOTALL,
)
# ?service and $load are variables, never keywords; "SERVICE:x" is SERVICE then :x
_OUTBOUND = re.compile(r"(?<![\w:?$])(SERVICE|LOAD)\b", re.IGNORECASE)


def blank_non_code(text: str) -> str:
    """``text`` with strings, IRIs and comments blanked out, offsets kept: what is left can
    only be keywords, names, variables and punctuation."""
    return _NOT_CODE.sub(lambda m: " " * len(m.group()), text)


def refuse_outbound(text: str) -> None:
    found = _OUTBOUND.search(blank_non_code(text))
    if found:
        keyword = found.group(1).upper()
        raise Forbidden(
            f"{keyword} is disabled: this server does not fetch remote data from queries or "
            "updates (an admin may enable it for admins with SEMCAT_ALLOW_OUTBOUND=1). Load the "
            "data with the Graph Store protocol or `semcat load` instead.",
            reason="outbound fetch",
        )


_FROM = re.compile(r"(?<![\w:?$])FROM\b", re.IGNORECASE)


def query_dataset(text: str, base_iri: str | None = None) -> tuple[list[str], list[str]]:
    """The IRIs of a query's FROM and FROM NAMED clauses (both empty when it has none).

    Engines take a dataset argument *instead of* these clauses, so whoever builds the dataset
    must read them; rdflib parses only queries that mention FROM outside strings and IRIs."""
    if not _FROM.search(blank_non_code(text)):
        return [], []
    try:
        algebra = translateQuery(parseQuery(text), base=base_iri).algebra
    except Exception as e:  # pyparsing's and rdflib's errors: all are the client's input
        raise QuerySyntaxError(f"the query's FROM clauses could not be read: {e}") from e
    clauses = algebra.get("datasetClause") or []
    return ([str(c.default) for c in clauses if c.default is not None],
            [str(c.named) for c in clauses if c.named is not None])
