"""SPARQL results as an HTML table, for a browser that asks for text/html (the home page's
"Run query"); every other client negotiates one of the standard formats."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import orjson

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SPARQL results</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}
th{{background:#f3f3f3}}</style></head><body><p><a href="/">semcat</a> · {summary}</p>
{table}</body></html>"""
_NTRIPLE = re.compile(r"^(\S+) (\S+) (.*) \.$")


def solutions_html(sparql_json: bytes) -> bytes:
    """From the SPARQL 1.1 JSON results of a SELECT or an ASK."""
    doc: dict[str, Any] = orjson.loads(sparql_json)
    if "boolean" in doc:
        return _page(f"ASK: <strong>{str(doc['boolean']).lower()}</strong>", "")
    names = doc["head"]["vars"]
    rows = [[_term(b.get(n)) for n in names] for b in doc["results"]["bindings"]]
    return _page(f"{len(rows)} rows", _table(names, rows))


def triples_html(ntriples: bytes) -> bytes:
    """From the N-Triples of a CONSTRUCT or a DESCRIBE."""
    rows = [[escape(part) for part in m.groups()] for line in ntriples.decode().splitlines()
            if (m := _NTRIPLE.match(line))]
    return _page(f"{len(rows)} triples", _table(["subject", "predicate", "object"], rows))


def description_html(turtle: bytes) -> bytes:
    """The endpoint's service description, for a browser that opens /sparql."""
    return _page("SPARQL 1.1 service description (ask with a <code>query</code> parameter)",
                 f"<pre>{escape(turtle.decode())}</pre>")


def _term(binding: dict[str, Any] | None) -> str:
    if binding is None:
        return ""
    value = escape(binding["value"])
    if binding["type"] == "uri":
        return f'<a href="{value}">{value}</a>'
    if binding["type"] == "bnode":
        return f"_:{value}"
    tag = binding.get("xml:lang") or binding.get("datatype", "").rsplit("#", 1)[-1]
    return f"{value} <small>{escape(tag)}</small>" if tag and tag != "string" else value


def _table(names: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(summary: str, table: str) -> bytes:
    return _PAGE.format(summary=summary, table=table).encode()
