"""Refuse outbound fetches (SERVICE, LOAD) before a query or update reaches an engine.

pyoxigraph and rdflib both fetch over HTTP for SERVICE and LOAD, and neither offers a parse-only
call that could tell us, so we look for the keywords after blanking out comments, strings and
IRIs, where they cannot be keywords. False positives are impossible to exploit: they only refuse.
Engines read codepoint escapes (``\u0053ERVICE``, ``<a\u0041#>``) before they parse, so every
check reads the text both as written and with its escapes replaced (``readings``).
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
    r"|<(?:[^<>\"{}|^`\\\s]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"
    r"|#[^\n]*",
    re.DOTALL,
)
# ?service and $load are variables, never keywords; "SERVICE:x" is SERVICE then :x
_OUTBOUND = re.compile(r"(?<![\w:?$])(SERVICE|LOAD)\b", re.IGNORECASE)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def readings(text: str) -> tuple[str, ...]:
    """``text`` as written and, if it has codepoint escapes, as an engine reads it once they
    are replaced (SPARQL 1.1, 19.2; rdflib does so for the whole text, pyoxigraph in IRIs): a
    check must hold for both, or an escape could hide a keyword or start a false comment."""
    if "\\" not in text:
        return (text,)

    def char(m: re.Match[str]) -> str:
        point = int(m.group(1) or m.group(2), 16)
        return chr(point) if point <= 0x10FFFF and not 0xD800 <= point <= 0xDFFF else "\ufffd"

    decoded = _CODEPOINT.sub(char, text)
    return (text,) if decoded == text else (text, decoded)


def blank_non_code(text: str) -> str:
    """``text`` with strings, IRIs and comments blanked out, offsets kept: what is left can
    only be keywords, names, variables and punctuation."""
    return _NOT_CODE.sub(lambda m: " " * len(m.group()), text)


def refuse_outbound(text: str) -> None:
    found = next((m for t in readings(text) if (m := _OUTBOUND.search(blank_non_code(t)))),
                 None)
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
    if not any(_FROM.search(blank_non_code(t)) for t in readings(text)):
        return [], []
    try:
        algebra = translateQuery(parseQuery(text), base=base_iri).algebra
    except Exception as e:  # pyparsing's and rdflib's errors: all are the client's input
        raise QuerySyntaxError(f"the query's FROM clauses could not be read: {e}") from e
    clauses = algebra.get("datasetClause") or []
    return ([str(c.default) for c in clauses if c.default is not None],
            [str(c.named) for c in clauses if c.named is not None])
