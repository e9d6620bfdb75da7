"""SPARQL 1.1 Protocol against a real server: /sparql, /query and /update.

Modelled on the W3C SPARQL 1.1 Protocol test suite (query_get, query_post_form, ...,
bad_update_dataset_conflict), plus semcat's own rules: updates go through the change log, outbound
fetches (SERVICE, LOAD, USING of a remote IRI) are refused, and
queries are bounded by a deadline and a result size.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from tests.conftest import Server

BASE = "http://127.0.0.1:8000"
SRX = "{http://www.w3.org/2005/sparql-results#}"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORM = "application/x-www-form-urlencoded"


# -- helpers ---------------------------------------------------------------------------------------
def uid() -> str:
    return uuid.uuid4().hex[:12]


def ex(kind: str) -> str:
    """A fresh IRI: the module shares one server, so every test writes its own resources."""
    return f"http://example.org/{kind}/{uid()}"


def put(http: httpx.Client, graph: str, turtle: str) -> None:
    r = http.put("/store", params={"graph": graph}, content=turtle.encode(),
                 headers={"Content-Type": "text/turtle"})
    assert r.status_code == 201, r.text


def update(http: httpx.Client, text: str, endpoint: str = "/update", **params: str | list[str]
           ) -> httpx.Response:
    return http.post(endpoint, data={"update": text, **params})


def updated(http: httpx.Client, text: str, endpoint: str = "/update") -> None:
    r = update(http, text, endpoint)
    assert r.status_code == 204, r.text


def ask(http: httpx.Client, query: str) -> bool:
    r = http.get("/sparql", params={"query": query},
                 headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    value = r.json()["boolean"]
    assert isinstance(value, bool)
    return value


def rows(response: httpx.Response) -> list[dict[str, str]]:
    """SPARQL JSON bindings as {variable: value}."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def select(http: httpx.Client, query: str, **params: str | list[str]) -> list[dict[str, str]]:
    return rows(http.get("/sparql", params={"query": query, **params}))


def values(http: httpx.Client, query: str, var: str, **params: str | list[str]) -> set[str]:
    return {r[var] for r in select(http, query, **params) if var in r}


def assert_text_error(r: httpx.Response, status: int | tuple[int, ...]) -> str:
    """The SPARQL protocol's error form: a status and a plain-text message (never JSON)."""
    expected = status if isinstance(status, tuple) else (status,)
    assert r.status_code in expected, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("text/plain"), r.headers["content-type"]
    assert r.text.strip(), "the error has a message"
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    return r.text


@dataclass
class Listener:
    """A local HTTP server standing in for the outside world: it counts who calls it."""

    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    body = b'<http://example.org/remote/s> <http://example.org/remote/p> "fetched" .\n'
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            hits.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield Listener(f"http://127.0.0.1:{srv.server_address[1]}", hits)
    srv.shutdown()
    srv.server_close()


# -- queries: GET, form POST, direct POST ----------------------------------------------------------
def test_query_get(http: httpx.Client) -> None:
    g, s = ex("g"), ex("s")
    put(http, g, f'<{s}> <http://example.org/p> "get" .')
    r = http.get("/sparql", params={"query": f"SELECT ?o WHERE {{ <{s}> ?p ?o }}"})
    assert [row["o"] for row in rows(r)] == ["get"]
    assert "Accept" in r.headers.get("vary", "")


def test_query_post_form(http: httpx.Client) -> None:
    g, s = ex("g"), ex("s")
    put(http, g, f'<{s}> <http://example.org/p> "form" .')
    r = http.post("/sparql", data={"query": f"SELECT ?o WHERE {{ <{s}> ?p ?o }}"})
    assert [row["o"] for row in rows(r)] == ["form"]
    r = http.post("/sparql", data={"query": f"ASK {{ <{s}> ?p 'nope' }}"})
    assert r.status_code == 200 and r.json()["boolean"] is False


@pytest.mark.parametrize("endpoint", ["/sparql", "/query"])
def test_query_post_direct(http: httpx.Client, endpoint: str) -> None:
    g, s = ex("g"), ex("s")
    put(http, g, f'<{s}> <http://example.org/p> "direct" .')
    r = http.post(endpoint, content=f"SELECT ?o WHERE {{ <{s}> ?p ?o }}".encode(),
                  headers={"Content-Type": "application/sparql-query"})
    assert [row["o"] for row in rows(r)] == ["direct"]


# -- the dataset: default-graph-uri, named-graph-uri, FROM, FROM NAMED ----------------------------
@pytest.fixture
def three_graphs(http: httpx.Client) -> tuple[str, str, str, str]:
    """(g1, g2, g3, subject): the same subject has a different value in each graph."""
    g1, g2, g3, s = ex("g1"), ex("g2"), ex("g3"), ex("s")
    for g, v in ((g1, "one"), (g2, "two"), (g3, "three")):
        put(http, g, f'<{s}> <http://example.org/p> "{v}" .')
    return g1, g2, g3, s


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_query_dataset_default_graphs(http: httpx.Client, three_graphs: tuple[str, ...],
                                      method: str) -> None:
    g1, g2, _, s = three_graphs
    query = f"SELECT ?o WHERE {{ <{s}> <http://example.org/p> ?o }}"

    def run(graphs: list[str]) -> set[str]:
        params = {"query": query, "default-graph-uri": graphs}
        r = http.get("/sparql", params=params) if method == "GET" else http.post("/sparql",
                                                                                   data=params)
        return {row["o"] for row in rows(r)}

    assert run([g1]) == {"one"}
    assert run([g1, g2]) == {"one", "two"}
    assert values(http, query, "o") == {"one", "two", "three"}  # no dataset: the union


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_query_dataset_named_graphs(http: httpx.Client, three_graphs: tuple[str, ...],
                                    method: str) -> None:
    g1, g2, _, s = three_graphs
    query = f"SELECT ?g ?o WHERE {{ GRAPH ?g {{ <{s}> ?p ?o }} }}"
    params = {"query": query, "named-graph-uri": [g1, g2]}
    r = http.get("/sparql", params=params) if method == "GET" else http.post("/sparql", data=params)
    assert {(row["g"], row["o"]) for row in rows(r)} == {(g1, "one"), (g2, "two")}
    # named graphs only: the default graph is empty
    r = http.get("/sparql", params={"query": f"ASK {{ <{s}> ?p ?o }}", "named-graph-uri": g1})
    assert r.json()["boolean"] is False


def test_query_dataset_full(http: httpx.Client, three_graphs: tuple[str, ...]) -> None:
    g1, g2, g3, s = three_graphs
    r = http.post("/sparql", params={"default-graph-uri": g3, "named-graph-uri": [g1, g2]},
                  content=f"SELECT ?g ?x ?o WHERE {{ <{s}> ?p ?x . GRAPH ?g {{ <{s}> ?p ?o }} }}"
                  .encode(), headers={"Content-Type": "application/sparql-query"})
    assert {(row["g"], row["x"], row["o"]) for row in rows(r)} == {
        (g1, "three", "one"), (g2, "three", "two")}


def test_query_multiple_dataset(http: httpx.Client, three_graphs: tuple[str, ...]) -> None:
    """FROM / FROM NAMED choose the dataset; protocol parameters, when given, override them."""
    g1, g2, _, s = three_graphs
    query = f"SELECT ?o FROM <{g1}> WHERE {{ <{s}> ?p ?o }}"
    assert values(http, query, "o") == {"one"}
    assert values(http, query, "o", **{"default-graph-uri": g2}) == {"two"}
    named = f"SELECT ?g WHERE {{ GRAPH ?g {{ <{s}> ?p ?o }} }}"
    assert values(http, named.replace("WHERE", f"FROM NAMED <{g2}> WHERE"), "g") == {g2}
    assert values(http, named.replace("WHERE", f"FROM NAMED <{g2}> WHERE"), "g",
                  **{"named-graph-uri": g1}) == {g1}
    # a FROM inside a string is not a dataset clause
    assert values(http, f"SELECT ?o WHERE {{ <{s}> ?p ?o FILTER(?o != 'FROM <{g1}>') }}",
                  "o") == {"one", "two", "three"}


def test_query_relative_iris_resolve_against_the_service_base(http: httpx.Client) -> None:
    g, s = ex("g"), ex("s")
    name = f"rel-{uid()}"
    updated(http, f"INSERT DATA {{ GRAPH <{g}> {{ <{s}> <http://example.org/p> <{name}> }} }}")
    (obj,) = values(http, f"SELECT ?o WHERE {{ <{s}> ?p ?o }}", "o")
    assert obj.startswith("http") and obj.endswith("/" + name)  # made absolute by the service
    assert values(http, f"SELECT ?s WHERE {{ ?s ?p <{name}> }}", "s") == {s}  # same base


# -- results in every format -----------------------------------------------------------------------
@pytest.fixture
def typed_data(http: httpx.Client) -> tuple[str, str, str]:
    g, s1, s2 = ex("g"), ex("s"), ex("s")
    put(http, g, f'<{s1}> <http://example.org/label> "chat"@fr .\n'
                 f'<{s2}> <http://example.org/label> "plain, with comma" .')
    return g, s1, s2


def _parse_solutions(media: str, body: str) -> set[tuple[str | None, str | None]]:
    if media == "application/sparql-results+json":
        data = json.loads(body)
        assert data["head"]["vars"] == ["s", "label"]
        return {(b["s"]["value"], b["label"]["value"]) for b in data["results"]["bindings"]}
    if media == "application/sparql-results+xml":
        root = ET.fromstring(body)
        assert [v.get("name") for v in root.iter(SRX + "variable")] == ["s", "label"]
        out = set()
        for result in root.iter(SRX + "result"):
            cells = {b.get("name"): next(iter(b)).text for b in result.iter(SRX + "binding")}
            out.add((cells["s"], cells["label"]))
        return out
    if media == "text/csv":
        table = list(csv.reader(io.StringIO(body)))
        assert table[0] == ["s", "label"]
        return {(a, b) for a, b in table[1:]}
    assert media == "text/tab-separated-values"
    lines = body.splitlines()
    assert lines[0].split("\t") == ["?s", "?label"]
    out = set()
    for line in lines[1:]:
        subject, label = line.split("\t")
        assert subject.startswith("<") and subject.endswith(">")
        out.add((subject[1:-1], label))
    return out


@pytest.mark.parametrize("media", ["application/sparql-results+json",
                                   "application/sparql-results+xml", "text/csv",
                                   "text/tab-separated-values"])
def test_query_content_type_select(http: httpx.Client, typed_data: tuple[str, str, str],
                                   media: str) -> None:
    g, s1, s2 = typed_data
    query = f"SELECT ?s ?label WHERE {{ GRAPH <{g}> {{ ?s <http://example.org/label> ?label }} }}"
    r = http.post("/sparql", data={"query": query}, headers={"Accept": media})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    got = _parse_solutions(media, r.text)
    if media == "text/tab-separated-values":  # TSV keeps the RDF term syntax
        assert got == {(s1, '"chat"@fr'), (s2, '"plain, with comma"')}
    else:
        assert got == {(s1, "chat"), (s2, "plain, with comma")}


def _parse_boolean(media: str, body: str) -> bool:
    if media == "application/sparql-results+json":
        value = json.loads(body)["boolean"]
    elif media == "application/sparql-results+xml":
        value = ET.fromstring(body).find(SRX + "boolean").text  # type: ignore[union-attr]
    else:
        value = body.strip()
    assert value in (True, False, "true", "false"), value
    return value in (True, "true")


@pytest.mark.parametrize("media", ["application/sparql-results+json",
                                   "application/sparql-results+xml", "text/csv",
                                   "text/tab-separated-values"])
def test_query_content_type_ask(http: httpx.Client, typed_data: tuple[str, str, str],
                                media: str) -> None:
    _, s1, _ = typed_data
    for pattern, expected in ((f"<{s1}> ?p 'chat'@fr", True), (f"<{s1}> ?p 'chat'@de", False)):
        r = http.post("/sparql", content=f"ASK {{ {pattern} }}".encode(),
                      headers={"Content-Type": "application/sparql-query", "Accept": media})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].split(";")[0] == media
        assert _parse_boolean(media, r.text) is expected


RDF_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt",
               "application/ld+json": "json-ld", "application/rdf+xml": "xml"}


@pytest.mark.parametrize("media", list(RDF_FORMATS))
def test_query_content_type_construct(http: httpx.Client, typed_data: tuple[str, str, str],
                                      media: str) -> None:
    g, s1, s2 = typed_data
    query = (f"CONSTRUCT {{ ?s a <http://example.org/Labelled> ; <http://example.org/name> ?l }} "
             f"WHERE {{ GRAPH <{g}> {{ ?s <http://example.org/label> ?l }} }}")
    r = http.get("/sparql", params={"query": query}, headers={"Accept": media})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    got = Graph().parse(data=r.content, format=RDF_FORMATS[media])
    expected = Graph()
    for s, label in ((s1, Literal("chat", lang="fr")), (s2, Literal("plain, with comma"))):
        expected.add((URIRef(s), RDF.type, URIRef("http://example.org/Labelled")))
        expected.add((URIRef(s), URIRef("http://example.org/name"), label))
    assert isomorphic(got, expected)


@pytest.mark.parametrize("media", list(RDF_FORMATS))
def test_query_content_type_describe(http: httpx.Client, typed_data: tuple[str, str, str],
                                     media: str) -> None:
    _, s1, _ = typed_data
    r = http.post("/query", content=f"DESCRIBE <{s1}>".encode(),
                  headers={"Content-Type": "application/sparql-query", "Accept": media})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    got = Graph().parse(data=r.content, format=RDF_FORMATS[media])
    expected = Graph()
    expected.add((URIRef(s1), URIRef("http://example.org/label"), Literal("chat", lang="fr")))
    assert isomorphic(got, expected)


def test_default_result_formats(http: httpx.Client, typed_data: tuple[str, str, str]) -> None:
    g, s1, _ = typed_data
    r = http.get("/sparql", params={"query": f"SELECT * WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"})
    assert r.headers["content-type"].startswith("application/sparql-results+json")
    r = http.get("/sparql", params={"query": f"CONSTRUCT WHERE {{ <{s1}> ?p ?o }}"})
    assert r.headers["content-type"].startswith("text/turtle")
    assert len(Graph().parse(data=r.text, format="turtle")) == 1


@pytest.mark.parametrize(("accept", "expected"), [
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("application/sparql-results+json;q=0.1, text/tab-separated-values;q=0.9",
     "text/tab-separated-values"),
    ("text/*", "text/csv"),
    ("*/*", "application/sparql-results+json"),
])
def test_accept_preferences(http: httpx.Client, accept: str, expected: str) -> None:
    r = http.get("/sparql", params={"query": "SELECT (1 AS ?value) {}"}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize(("query", "accept"), [
    ("SELECT (1 AS ?value) {}", "image/png"),
    ("ASK {}", "text/turtle"),
    ("CONSTRUCT { <http://example.org/s> <http://example.org/p> 1 } {}",
     "application/sparql-results+json"),
    ("SELECT (1 AS ?value) {}", "application/sparql-results+json;q=0, image/png"),
])
def test_not_acceptable(http: httpx.Client, query: str, accept: str) -> None:
    r = http.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert_text_error(r, 406)


# -- updates ---------------------------------------------------------------------------------------
def test_update_post_form(http: httpx.Client) -> None:
    s = ex("s")
    r = http.post("/sparql", data={"update": f"INSERT DATA {{ <{s}> <http://example.org/p> 1 }}"},
                  headers={"Content-Type": FORM})
    assert r.status_code == 204 and r.content == b""
    assert ask(http, f"ASK {{ <{s}> <http://example.org/p> 1 }}")


@pytest.mark.parametrize("endpoint", ["/sparql", "/update"])
def test_update_post_direct(http: httpx.Client, endpoint: str) -> None:
    s = ex("s")
    r = http.post(endpoint, content=f"INSERT DATA {{ <{s}> <http://example.org/p> 2 }}".encode(),
                  headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 204, r.text
    assert ask(http, f"ASK {{ <{s}> <http://example.org/p> 2 }}")


def test_update_dataset_default_graph(http: httpx.Client) -> None:
    """using-graph-uri makes the named graph the WHERE clause's default graph."""
    data1, data2, target, doc1, doc2 = ex("data1"), ex("data2"), ex("target"), ex("d"), ex("d")
    foaf, dc = "http://xmlns.com/foaf/0.1/", "http://purl.org/dc/terms/"
    updated(http, f"INSERT DATA {{ GRAPH <{data1}> {{ <{doc1}> a <{foaf}Document> }} "
                  f"GRAPH <{data2}> {{ <{doc2}> a <{foaf}Document> }} }}")
    r = http.post("/update", params={"using-graph-uri": data1},
                  content=(f"INSERT {{ GRAPH <{target}> {{ ?s a <{dc}BibliographicResource> }} }} "
                           f"WHERE {{ ?s a <{foaf}Document> }}").encode(),
                  headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 204, r.text
    assert values(http, f"SELECT ?s WHERE {{ GRAPH <{target}> {{ ?s a ?t }} }}", "s") == {doc1}


def test_update_base_uri(http: httpx.Client) -> None:
    g, s = ex("g"), ex("s")
    r = http.post("/update", content=(f"CLEAR SILENT GRAPH <{g}> ; INSERT DATA {{ GRAPH <{g}> "
                                      f"{{ <{s}> <http://example.org/p> <test> }} }}").encode(),
                  headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 204, r.text
    (obj,) = values(http, f"SELECT ?o WHERE {{ GRAPH <{g}> {{ <{s}> ?p ?o }} }}", "o")
    assert obj.startswith("http://") and obj.endswith("/test")
    updated(http, f"BASE <http://example.org/base/> INSERT DATA {{ GRAPH <{g}> {{ <{s}> <p> <o> }} }}")
    assert ask(http, f"ASK {{ <{s}> <http://example.org/base/p> <http://example.org/base/o> }}")


def test_graph_management_operations(http: httpx.Client) -> None:
    """CREATE, CLEAR, DROP and ADD as clients like rdflib's SPARQLUpdateStore send them."""
    g, h, s = ex("g"), ex("h"), ex("s")
    updated(http, f"CREATE GRAPH <{g}>")  # graphs exist while they hold triples: a no-op
    updated(http, f"INSERT DATA {{ GRAPH <{g}> {{ <{s}> <http://example.org/p> 1 }} }}")
    assert_text_error(update(http, f"CREATE GRAPH <{g}>"), 400)
    updated(http, f"CREATE SILENT GRAPH <{g}>")
    updated(http, f"ADD <{g}> TO <{h}>")
    assert values(http, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{s}> ?p ?o }} }}", "g") == {g, h}
    updated(http, f"CLEAR GRAPH <{g}>")
    updated(http, f"DROP GRAPH <{h}>")
    assert not ask(http, f"ASK {{ <{s}> ?p ?o }}")


def test_multi_operation_update_sees_earlier_operations(http: httpx.Client) -> None:
    s, g = ex("s"), ex("g")
    p, q = "http://example.org/p", "http://example.org/q"
    updated(http, f"INSERT DATA {{ <{s}> <{p}> 1 }} ; "
                  f"INSERT {{ <{s}> <{q}> ?o }} WHERE {{ <{s}> <{p}> ?o }} ; "
                  f"DELETE WHERE {{ <{s}> <{p}> ?x }} ; "
                  f"INSERT DATA {{ GRAPH <{g}> {{ <{s}> <{p}> 2 }} }} ; "
                  f"INSERT {{ <{s}> <{q}> ?n }} WHERE {{ GRAPH ?graph {{ <{s}> <{p}> ?n }} }}")
    got = {(r["p"], r["o"]) for r in select(http, f"SELECT ?p ?o WHERE {{ <{s}> ?p ?o }}")}
    assert got == {(q, "1"), (q, "2"), (p, "2")}


def _versions(http: httpx.Client, key: str) -> list[dict[str, object]]:
    r = http.get(f"/api/v1/assets/{key}/versions")
    assert r.status_code == 200, r.text
    return r.json()["versions"]  # type: ignore[no-any-return]


def test_updates_go_through_the_change_log(http: httpx.Client) -> None:
    key = f"default/dataset/postgres/sales.orders_{uid()}"
    iri = f"{BASE}/id/{key}"
    name = "http://example.org/name"
    assert http.get(f"/api/v1/assets/{key}/versions").status_code == 404
    r = update(http, f'INSERT DATA {{ <{iri}> <{name}> "orders" }}')
    assert r.status_code == 204, r.text
    (v1,) = _versions(http, key)
    assert v1["version"] == 1 and v1["actor"] == "anonymous" and v1["message"]
    # once the reasoner has typed the asset (in an inferred graph), the next update about it
    # is still routed to the asserted graph
    inferred = http.get("/sparql", params={
        "query": f"ASK {{ GRAPH ?g {{ <{iri}> a ?type }} FILTER(CONTAINS(STR(?g), 'inferred')) }}",
        "after": r.headers["Semcat-Position"]}, headers={"Accept": "application/sparql-results+json"})
    assert inferred.json()["boolean"] is True
    assert ask(http, f"ASK {{ <{iri}> <https://w3id.org/semcat#version> 1 }}")

    updated(http, f'DELETE {{ <{iri}> <{name}> ?n }} INSERT {{ <{iri}> <{name}> "orders v2" }} '
                  f"WHERE {{ <{iri}> <{name}> ?n }}")
    history = _versions(http, key)
    assert [v["version"] for v in history] == [1, 2]
    assert values(http, f"SELECT ?n WHERE {{ <{iri}> <{name}> ?n }}", "n") == {"orders v2"}

    # changes nothing: no new version
    updated(http, f'INSERT DATA {{ <{iri}> <{name}> "orders v2" }}')
    updated(http, f"DELETE WHERE {{ <{iri}> <http://example.org/absent> ?x }}")
    updated(http, f'DELETE {{ <{iri}> <{name}> "never" }} WHERE {{ <{iri}> <{name}> ?n }}')
    assert [v["version"] for v in _versions(http, key)] == [1, 2]


def test_bad_update_writes_nothing(http: httpx.Client) -> None:
    s = ex("s")
    r = update(http, f"INSERT DATA {{ <{s}> <http://example.org/p> 1 }} ; INSERT DATA {{ <{s}> }}")
    assert "syntax" in assert_text_error(r, 400).lower()
    # fails while evaluating the second operation: the first is not written either
    r = update(http, f"INSERT DATA {{ GRAPH <{s}> {{ <{s}> <http://example.org/p> 1 }} }} ; "
                     f"CREATE GRAPH <{s}>")
    assert_text_error(r, 400)
    assert not ask(http, f"ASK {{ {{ <{s}> ?p ?o }} UNION {{ GRAPH ?g {{ <{s}> ?p ?o }} }} }}")


# -- negative protocol tests -----------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["/sparql", "/query", "/update"])
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_bad_query_method(http: httpx.Client, endpoint: str, method: str) -> None:
    r = http.request(method, endpoint, params={"query": "ASK {}"})
    assert_text_error(r, 405)


def test_bad_multiple_queries(http: httpx.Client) -> None:
    r = http.get("/sparql", params=[("query", "ASK {}"), ("query", "SELECT * {}")])
    assert_text_error(r, 400)
    r = http.post("/sparql", params={"query": "ASK {}"}, content=b"SELECT * {}",
                  headers={"Content-Type": "application/sparql-query"})
    assert_text_error(r, 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "text/turtle"])
def test_bad_query_wrong_media_type(http: httpx.Client, content_type: str) -> None:
    r = http.post("/sparql", content=b"ASK {}", headers={"Content-Type": content_type})
    assert_text_error(r, 415)


@pytest.mark.parametrize("body", [b"query=ASK%20%7B%7D", b"ASK {}"])
def test_bad_query_missing_type(http: httpx.Client, body: bytes) -> None:
    """bad_query_missing_form_type and bad_query_missing_direct_type."""
    r = http.post("/sparql", content=body)
    assert "content-type" not in r.request.headers
    assert_text_error(r, (400, 415))


@pytest.mark.parametrize("kind", ["query", "update"])
def test_bad_non_utf8(http: httpx.Client, kind: str) -> None:
    s = ex("s")
    text = {"query": "ASK { ?s ?p 'é' }", "update": f"INSERT DATA {{ <{s}> <http://example.org/p> 'é' }}"}
    r = http.post("/sparql", content=text[kind].encode("utf-16"),
                  headers={"Content-Type": f"application/sparql-{kind}; charset=UTF-16"})
    assert_text_error(r, 400)
    r = http.post("/sparql", content=f"{kind}=".encode() + text[kind].encode("latin-1"),
                  headers={"Content-Type": FORM})
    assert_text_error(r, 400)
    assert not ask(http, f"ASK {{ <{s}> ?p ?o }}")


@pytest.mark.parametrize("query", ["ASK {", "SELEKT * WHERE { ?s ?p ?o }",
                                   "SELECT ?s WHERE { ?s ?p }", "INSERT DATA { <a:b> <a:c> 1 }"])
def test_bad_query_syntax(http: httpx.Client, query: str) -> None:
    assert_text_error(http.get("/sparql", params={"query": query}), 400)


def test_bad_update_get(http: httpx.Client) -> None:
    s = ex("s")
    text = f"INSERT DATA {{ <{s}> <http://example.org/p> 1 }}"
    assert_text_error(http.get("/sparql", params={"update": text}), 400)
    assert_text_error(http.get("/update", params={"update": text}), 405)
    assert not ask(http, f"ASK {{ <{s}> ?p ?o }}")


def test_bad_multiple_updates(http: httpx.Client) -> None:
    s1, s2 = ex("s"), ex("s")
    r = http.post("/update", data={"update": [f"INSERT DATA {{ <{s1}> <http://example.org/p> 1 }}",
                                              f"INSERT DATA {{ <{s2}> <http://example.org/p> 1 }}"]})
    assert_text_error(r, 400)
    assert not ask(http, f"ASK {{ {{ <{s1}> ?p ?o }} UNION {{ <{s2}> ?p ?o }} }}")


@pytest.mark.parametrize("content_type", ["text/plain", "application/sparql-query", None])
def test_bad_update_wrong_or_missing_media_type(http: httpx.Client, content_type: str | None
                                                ) -> None:
    s = ex("s")
    text = f"INSERT DATA {{ <{s}> <http://example.org/p> 1 }}"
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post("/update", content=text.encode(), headers=headers)
    assert_text_error(r, (400, 415))
    r = http.post("/update", content=b"update=" + text.encode(), headers=headers)
    assert_text_error(r, (400, 415))
    assert not ask(http, f"ASK {{ <{s}> ?p ?o }}")


@pytest.mark.parametrize("text", ["CLEAR XYZ", "INSERT DATA { <http://example.org/s> }",
                                  "DELETE WHERE { ?s ?p }", "INSERT DATA { ?s <http://x/p> 1 }"])
def test_bad_update_syntax(http: httpx.Client, text: str) -> None:
    assert_text_error(update(http, text), 400)


@pytest.mark.parametrize("param", ["using-graph-uri", "using-named-graph-uri"])
def test_bad_update_dataset_conflict(http: httpx.Client, param: str) -> None:
    g, s = ex("g"), ex("s")
    put(http, g, f"<{s}> <http://xmlns.com/foaf/0.1/givenName> 'Bill' .")
    text = (f"PREFIX foaf: <http://xmlns.com/foaf/0.1/> WITH <{g}> "
            "DELETE { ?person foaf:givenName 'Bill' } INSERT { ?person foaf:givenName 'William' } "
            "WHERE { ?person foaf:givenName 'Bill' }")
    assert_text_error(update(http, text, **{param: g}), 400)
    assert values(http, f"SELECT ?n WHERE {{ <{s}> ?p ?n }}", "n") == {"Bill"}
    updated(http, text)  # the same update without the parameter is fine
    assert values(http, f"SELECT ?n WHERE {{ <{s}> ?p ?n }}", "n") == {"William"}


def test_query_endpoint_refuses_updates(http: httpx.Client) -> None:
    s = ex("s")
    text = f"INSERT DATA {{ <{s}> <http://example.org/p> 1 }}"
    assert_text_error(http.post("/query", data={"update": text}), 400)
    assert_text_error(http.post("/query", content=text.encode(),
                                headers={"Content-Type": "application/sparql-update"}), 400)
    assert_text_error(http.get("/query", params={"query": text}), 400)  # not a query
    assert not ask(http, f"ASK {{ <{s}> ?p ?o }}")


def test_update_endpoint_refuses_queries(http: httpx.Client) -> None:
    assert_text_error(http.post("/update", data={"query": "ASK {}"}), 400)
    assert_text_error(http.post("/update", content=b"ASK {}",
                                headers={"Content-Type": "application/sparql-query"}), 400)
    assert_text_error(http.post("/update", data={"update": "ASK {}"}), 400)
    assert_text_error(http.post("/update", data={"using-graph-uri": "http://example.org/g"}), 400)


def test_query_and_update_together(http: httpx.Client) -> None:
    s = ex("s")
    r = http.post("/sparql", data={"query": "ASK {}",
                                   "update": f"INSERT DATA {{ <{s}> <http://example.org/p> 1 }}"})
    assert_text_error(r, 400)
    assert not ask(http, f"ASK {{ <{s}> ?p ?o }}")


# -- outbound fetches ------------------------------------------------------------------------------
def test_service_is_refused(http: httpx.Client, listener: Listener) -> None:
    before = len(listener.hits)
    for text in (f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}",
                 f"select * where {{ service silent <{listener.url}/sparql> {{ ?s ?p ?o }} }}",
                 f"ASK {{ ?s ?p ?o OPTIONAL {{ SERVICE\n<{listener.url}/x> {{ ?s ?q ?r }} }} }}",
                 f"PREFIX : <{listener.url}/> SELECT * WHERE {{ ?s ?p ?o .SERVICE:ep {{ }} }}"):
        assert "SERVICE" in assert_text_error(http.get("/sparql", params={"query": text}), 403)
    s = ex("s")
    r = update(http, f"INSERT {{ <{s}> <http://example.org/p> ?o }} "
                     f"WHERE {{ SERVICE <{listener.url}/sparql> {{ ?x ?y ?o }} }}")
    assert_text_error(r, 403)
    assert not ask(http, f"ASK {{ <{s}> ?p ?o }}")
    assert listener.hits[before:] == []


def test_load_is_refused(http: httpx.Client, listener: Listener) -> None:
    before = len(listener.hits)
    g = ex("g")
    for text in (f"LOAD <{listener.url}/data.ttl>", f"LOAD SILENT <{listener.url}/data.ttl> INTO "
                 f"GRAPH <{g}>", f"INSERT DATA {{ <{g}> <http://example.org/p> 1 }} ; "
                 f"load <{listener.url}/data.ttl>", f"PREFIX : <{listener.url}/> LOAD:data.ttl"):
        assert "LOAD" in assert_text_error(update(http, text), 403)
    assert not ask(http, "ASK { ?s <http://example.org/remote/p> ?o }")
    assert not ask(http, f"ASK {{ <{g}> ?p ?o }}")
    assert listener.hits[before:] == []


def test_using_never_fetches(http: httpx.Client, listener: Listener) -> None:
    """rdflib loads USING / USING NAMED IRIs over HTTP by default; the server must not."""
    before = len(listener.hits)
    s1, s2 = ex("s"), ex("s")
    updated(http, f"INSERT {{ <{s1}> <http://example.org/copy> ?o }} "
                  f"USING <{listener.url}/a.ttl> WHERE {{ ?s ?p ?o }}")
    updated(http, f"INSERT {{ <{s2}> <http://example.org/copy> ?o }} "
                  f"USING NAMED <{listener.url}/b.ttl> WHERE {{ GRAPH ?g {{ ?s "
                  "<http://example.org/remote/p> ?o } }")
    assert listener.hits[before:] == []
    assert not ask(http, "ASK { { ?s <http://example.org/remote/p> ?o } UNION "
                         "{ GRAPH ?g { ?s <http://example.org/remote/p> ?o } } }")
    assert not ask(http, f"ASK {{ VALUES ?s {{ <{s1}> <{s2}> }} ?s ?p ?o }}")


def test_codepoint_escapes_hide_no_service_or_load(http: httpx.Client,
                                                  listener: Listener) -> None:
    """Engines replace \\uXXXX escapes before they parse: an escaped IRI whose '#' looked like
    a comment to the guard hid the rest of the line, and an escaped keyword is a keyword."""
    before = len(listener.hits)
    escaped_iri = "<http://a\\u0041#>"
    for text in (f"SELECT * WHERE {{ VALUES ?v {{ {escaped_iri} }} SERVICE <{listener.url}/x> "
                 "{ ?x ?y ?z } }",
                 f"SELECT * WHERE {{ \\u0053ERVICE <{listener.url}/x> {{ ?x ?y ?z }} }}"):
        assert "SERVICE" in assert_text_error(http.get("/sparql", params={"query": text}), 403)
    g = ex("g")
    r = update(http, f'INSERT DATA {{ {escaped_iri} <http://example.org/p> "1" }} ; '
                     f"LOAD <{listener.url}/load> INTO GRAPH <{g}>")
    assert "LOAD" in assert_text_error(r, 403)
    assert not ask(http, "ASK { <http://aA#> ?p ?o }")
    assert listener.hits[before:] == []


@pytest.mark.parametrize("text", [
    'SELECT ?x WHERE { BIND("SERVICE <http://example.org/>" AS ?x) }',
    "SELECT ?x WHERE { BIND('''LOAD\n<http://example.org/>''' AS ?x) }",
    "SELECT ?x WHERE { BIND(<http://example.org/SERVICE/LOAD> AS ?x) }",
    "SELECT ?x WHERE { BIND(1 AS ?x) } # SERVICE <http://example.org/>",
    "SELECT ?service WHERE { BIND(<http://example.org/s> AS ?service) }",
    "SELECT $load WHERE { VALUES $load { 1 } }",
    "PREFIX ex: <http://example.org/> SELECT ?x WHERE { BIND(ex:service AS ?x) }",
    "SELECT ?x WHERE { BIND(1 AS ?x) OPTIONAL { _:load <http://example.org/never> ?x } }",
])
def test_service_and_load_as_words_are_allowed(http: httpx.Client, text: str) -> None:
    assert len(select(http, text)) == 1


def test_load_as_a_literal_in_an_update_is_allowed(http: httpx.Client) -> None:
    s = ex("s")
    updated(http, f'INSERT DATA {{ <{s}> <http://example.org/note> "LOAD <http://x/> ; SERVICE" }}')
    assert values(http, f"SELECT ?o WHERE {{ <{s}> ?p ?o }}", "o") == {"LOAD <http://x/> ; SERVICE"}


# -- service description and error forms ----------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["/sparql", "/query"])
def test_service_description(http: httpx.Client, endpoint: str) -> None:
    r = http.get(endpoint, headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    (service,) = g.subjects(RDF.type, SD.Service)
    assert str(g.value(service, SD.endpoint)).endswith(endpoint)
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) in g
    formats = {str(o) for o in g.objects(service, SD.resultFormat)}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    r = http.get(endpoint, headers={"Accept": "application/n-triples"})
    assert isomorphic(Graph().parse(data=r.text, format="nt"), g)


def test_errors_are_plain_text_on_every_sparql_endpoint(http: httpx.Client) -> None:
    for endpoint in ("/sparql", "/query"):
        text = assert_text_error(http.get(endpoint, params={"query": "ASK {"}), 400)
        assert "problem" not in text
    assert_text_error(update(http, "INSERT DATA {", endpoint="/update"), 400)
    assert_text_error(update(http, "INSERT DATA {", endpoint="/sparql"), 400)


# -- limits: a second server with a short deadline and a small result limit ----------------------
@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data: Path = tmp_path_factory.mktemp("limited")
    srv = Server(data, env={"SEMCAT_QUERY_TIMEOUT_S": "2",
                            "SEMCAT_MAX_RESULT_BYTES": "2000"}).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as client:
            triples = "".join(f"<http://example.org/big/s{i}> <http://example.org/big/p> {i} .\n"
                              for i in range(20_000))
            r = client.put("/store", params={"graph": "http://example.org/big"},
                           content=triples.encode(), headers={"Content-Type": "text/turtle"})
            assert r.status_code == 201, r.text
            yield client
    finally:
        srv.stop()


def test_result_size_limit(limited: httpx.Client) -> None:
    r = limited.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert "LIMIT" in assert_text_error(r, 400)
    r = limited.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert "LIMIT" in assert_text_error(r, 400)
    r = limited.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"})
    assert len(rows(r)) == 5
    r = limited.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH "
                                                "<http://example.org/big> { ?s ?p ?o } }"})
    assert rows(r) == [{"n": "20000"}]


def test_query_timeout_then_server_still_answers(limited: httpx.Client) -> None:
    slow = ("SELECT ?a WHERE { GRAPH <http://example.org/big> { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z } "
            "FILTER(?x + ?y + ?z < 0) }")
    r = limited.get("/sparql", params={"query": slow})
    assert "deadline" in assert_text_error(r, 503)
    r = limited.get("/sparql", params={"query": "ASK { <http://example.org/big/s7> ?p 7 }"})
    assert r.status_code == 200 and r.json()["boolean"] is True
