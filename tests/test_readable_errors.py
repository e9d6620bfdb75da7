"""Readable errors (issue 11, item 4): SPARQL syntax errors give line, column, what was found
and a short expectation, not the parser's dump; a browser gets HTML from /sparql."""

from __future__ import annotations

import httpx
import pytest

from catalog import Catalog
from graph_store.errors import QuerySyntaxError
from tests.conftest import Server

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("text,line,column,found", [
    ("SELECT * WHERE { ?s ?p ?o", 1, 26, "the end of the text"),
    ("PREFIX ex: <http://e/>\nSELECT * WHERE { ?s ex:p ?o } LIMIT x", 2, 37, "'x'"),
    ("SELECT * WHERE {\n  ?s ?p ?o .\n} ORDER ?s", 3, 11, "the end of the text; expected BY"),
])
def test_syntax_errors_name_line_column_and_what_was_found(catalog: Catalog, text: str,
                                                           line: int, column: int,
                                                           found: str) -> None:
    with pytest.raises(QuerySyntaxError) as e:
        catalog.sparql.query(text)
    detail = e.value.detail
    assert detail.startswith(f"line {line}, column {column}: found {found}"), detail
    assert e.value.extra["line"] == line and e.value.extra["column"] == column
    assert "\\u{" not in detail and "..=" not in detail and len(detail) < 200, detail


def test_update_syntax_errors_are_readable_too(catalog: Catalog) -> None:
    with pytest.raises(QuerySyntaxError) as e:
        catalog.sparql.update("INSERT DATA { <http://a> <http://b> }", actor="t")
    assert e.value.detail.startswith("line 1, column 37: found '}'"), e.value.detail


def test_a_browser_gets_an_html_table_and_clients_keep_their_formats(server: Server) -> None:
    query = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p LIMIT 3"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        page = http.get("/sparql", params={"query": query}, headers={"Accept": BROWSER})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<table>" in page.text and "<th>p</th><th>n</th>" in page.text
        assert page.text.count("<tr>") == 4  # the head and three rows
        xml = http.get("/sparql", params={"query": query},
                       headers={"Accept": "application/sparql-results+xml"})
        assert xml.headers["content-type"].startswith("application/sparql-results+xml")
        assert http.get("/sparql", params={"query": query}).headers["content-type"] \
            .startswith("application/sparql-results+json")  # no Accept: the protocol default
        ask = http.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/html"})
        assert ask.status_code == 200 and "ASK: <strong>true</strong>" in ask.text
        graph = http.get("/sparql", headers={"Accept": "text/html"}, params={
            "query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 2"})
        assert graph.status_code == 200 and "<th>subject</th>" in graph.text
        assert graph.text.count("<tr>") == 3
        described = http.get("/sparql", headers={"Accept": "text/html"})
        assert described.status_code == 200 and "sd:Service" in described.text
        bad = http.get("/sparql", params={"query": "SELECT * WHERE {"},
                       headers={"Accept": "text/html"})
        assert bad.status_code == 400 and "line 1, column 17" in bad.text
