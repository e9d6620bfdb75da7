"""The read-only SPARQL tool: a query over the caller's dataset, with row and time limits.

It goes through ``Catalog.sparql.answer``, as /sparql does: the query is checked against the
SPARQL limits, runs over the graphs the caller may read only, with SERVICE and LOAD refused,
and is stopped at its deadline (in a query worker where the catalog runs them). Updates are
refused before anything is evaluated: an agent reads the catalog, it does not change it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from catalog import Catalog
from graph_store.errors import Forbidden, QuerySyntaxError
from graph_store.sparql_guard import blank_non_code
from mcp_server.answer_types import choose

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_FORMS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                "WITH")
# what is evaluated and serialised before rows are cut: this many times the tool's byte budget
SCAN_FACTOR = 64
# the prologue (PREFIX and BASE declarations, IRIs blanked), then the first keyword
_FIRST_KEYWORD = re.compile(r"\s*(?:(?:PREFIX\s+[\w.-]*:|BASE)\s*)*([A-Za-z]+)", re.IGNORECASE)


def query_form(text: str) -> str:
    """The first keyword after the prologue: SELECT, ASK, ..., or an update's INSERT, DROP, ..."""
    found = _FIRST_KEYWORD.match(blank_non_code(text))
    return found.group(1).upper() if found else ""


def refuse_updates(form: str) -> None:
    if form in UPDATE_FORMS:
        raise Forbidden(f"this tool answers read-only queries ({', '.join(QUERY_FORMS)}); "
                        f"{form} begins a SPARQL update, which it refuses. Changes go through "
                        "the REST API or POST /update with a key that may write.",
                        reason="read-only")


def run_query(cat: Catalog, text: str, *, infer: bool, max_rows: int) -> dict[str, Any]:
    """The answer as JSON: ``vars`` and ``rows`` (each a {variable: value} of the SPARQL JSON
    results), ``boolean``, or ``ntriples``; cut to ``max_rows`` (``truncated``).

    A query without a LIMIT of its own is evaluated with one just past ``max_rows``, so an
    agent's unbounded query stops early instead of failing on the size limit; one whose own
    LIMIT (or a trailing VALUES block) refuses the addition runs as written."""
    form = query_form(text)
    refuse_updates(form)
    settings = cat.settings

    def answer(query: str) -> tuple[str, bytes]:
        kind, _, body = cat.sparql.answer(
            query, infer=infer, accept=None, choose=choose,
            timeout_s=settings.mcp_query_timeout_s,
            max_bytes=min(settings.max_result_bytes, SCAN_FACTOR * settings.mcp_max_result_bytes))
        return kind, body

    status = cat.inference_status() if infer else None
    limited = f"{text}\nLIMIT {max_rows + 1}" if form in ("SELECT", "CONSTRUCT", "DESCRIBE") \
        else None
    try:
        kind, body = answer(limited or text)
    except QuerySyntaxError:
        if limited is None:
            raise
        kind, body = answer(text)
    out: dict[str, Any] = {"kind": kind}
    if kind == "graph":
        lines = body.decode().splitlines()
        out["ntriples"] = "\n".join(lines[:max_rows])
        cut = len(lines) > max_rows
    elif kind == "boolean":
        out["boolean"] = bool(json.loads(body)["boolean"])
        cut = False
    else:
        results = json.loads(body)
        rows = results["results"]["bindings"]
        out.update(vars=results["head"].get("vars", []), rows=rows[:max_rows])
        cut = len(rows) > max_rows
    if cut:
        out["truncated"] = (f"the first {max_rows} rows; there are more (SEMCAT_MCP_MAX_ROWS): "
                            "page with ORDER BY, LIMIT and OFFSET")
    if status is not None and status.state != "current":
        out["inference"] = f"{status.state}; behind={status.behind}"
    return out
