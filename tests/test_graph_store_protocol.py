"""SPARQL 1.1 Graph Store HTTP Protocol at /store against a real server.

Modelled on the W3C Graph Store Protocol tests: PUT creates (201) then replaces (204), GET gives
back what was PUT (compared as graphs, never as text), HEAD has the headers and no body, POST
merges or creates a graph of the server's choosing, DELETE removes; errors are problem+json.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from tests.conftest import Server

BASE = "http://127.0.0.1:8000"
TURTLE = "text/turtle"
RDF_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt",
               "application/ld+json": "json-ld", "application/rdf+xml": "xml"}


def uid() -> str:
    return uuid.uuid4().hex[:12]


def ex(kind: str) -> str:
    return f"http://example.org/{kind}/{uid()}"


def sample(subject: str, n: int = 3, *, blank: bool = True) -> Graph:
    """A small graph with an IRI object, a language-tagged and a typed literal, and a blank node."""
    g = Graph()
    s = URIRef(subject)
    p = "http://example.org/vocab/"
    for i in range(n):
        g.add((s, URIRef(p + f"value{i}"), Literal(i)))
    g.add((s, URIRef(p + "label"), Literal("étiquette", lang="fr")))
    g.add((s, URIRef(p + "seeAlso"), URIRef(subject + "/other")))
    if blank:
        g.parse(data=f'<{subject}> <{p}address> [ <{p}city> "Lyon" ] .', format="turtle")
    return g


def body(g: Graph, media: str = TURTLE) -> bytes:
    return g.serialize(format=RDF_FORMATS[media], encoding="utf-8")


def get_graph(http: httpx.Client, graph: str | None, media: str = TURTLE) -> Graph:
    params = {"graph": graph} if graph is not None else {"default": ""}
    r = http.get("/store", params=params, headers={"Accept": media})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    return Graph().parse(data=r.content, format=RDF_FORMATS[media])


def put(http: httpx.Client, graph: str, g: Graph, media: str = TURTLE) -> httpx.Response:
    return http.put("/store", params={"graph": graph}, content=body(g, media),
                    headers={"Content-Type": media})


def assert_problem(r: httpx.Response, status: int) -> dict[str, object]:
    """RFC 9457 problem+json with type, title, status and detail."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert isinstance(problem, dict)
    assert problem["status"] == status
    assert isinstance(problem["type"], str) and problem["type"].startswith("http")
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    return problem


def count(http: httpx.Client, subject: str) -> int:
    """How many triples mention ``subject`` as subject, in any graph."""
    r = http.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { "
                                             f"<{subject}> ?p ?o }} }}"})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


# -- PUT, GET, HEAD ------------------------------------------------------------------------------
def test_put_new_graph_then_get_it_back(http: httpx.Client) -> None:
    graph, g = ex("g"), sample(ex("s"))
    r = put(http, graph, g)
    assert r.status_code == 201, r.text
    assert r.content == b""
    assert isomorphic(get_graph(http, graph), g)


@pytest.mark.parametrize("media", list(RDF_FORMATS))
def test_get_in_every_format(http: httpx.Client, media: str) -> None:
    graph, g = ex("g"), sample(ex("s"))
    assert put(http, graph, g).status_code == 201
    assert isomorphic(get_graph(http, graph, media), g)


@pytest.mark.parametrize("media", list(RDF_FORMATS))
def test_put_in_every_format(http: httpx.Client, media: str) -> None:
    graph, g = ex("g"), sample(ex("s"))
    r = put(http, graph, g, media)
    assert r.status_code == 201, r.text
    assert isomorphic(get_graph(http, graph), g)


def test_put_existing_graph_replaces_it(http: httpx.Client) -> None:
    graph, s = ex("g"), ex("s")
    assert put(http, graph, sample(s, 5)).status_code == 201
    replacement = Graph()
    replacement.add((URIRef(s), URIRef("http://example.org/vocab/only"), Literal("this")))
    r = put(http, graph, replacement)
    assert r.status_code == 204, r.text
    assert isomorphic(get_graph(http, graph), replacement)
    assert count(http, s) == 1


def test_put_resolves_relative_iris_against_the_graph(http: httpx.Client) -> None:
    graph = ex("g") + "/"
    r = http.put("/store", params={"graph": graph}, content=b'<thing> <name> "relative" .',
                 headers={"Content-Type": TURTLE})
    assert r.status_code == 201, r.text
    got = get_graph(http, graph)
    assert set(got) == {(URIRef(graph + "thing"), URIRef(graph + "name"), Literal("relative"))}


def test_head(http: httpx.Client) -> None:
    graph = ex("g")
    assert put(http, graph, sample(ex("s"))).status_code == 201
    for media in RDF_FORMATS:
        full = http.get("/store", params={"graph": graph}, headers={"Accept": media})
        head = http.head("/store", params={"graph": graph}, headers={"Accept": media})
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"].split(";")[0] == media
        assert int(head.headers["content-length"]) == len(full.content) > 0


def test_get_and_head_of_a_missing_graph(http: httpx.Client) -> None:
    graph = ex("missing")
    problem = assert_problem(http.get("/store", params={"graph": graph}), 404)
    assert graph in str(problem["detail"])
    head = http.head("/store", params={"graph": graph})
    assert head.status_code == 404
    assert head.content == b""


def test_get_refuses_unservable_types(http: httpx.Client) -> None:
    graph = ex("g")
    assert put(http, graph, sample(ex("s"))).status_code == 201
    for accept in ("application/sparql-results+json", "image/png", "application/n-quads"):
        assert_problem(http.get("/store", params={"graph": graph}, headers={"Accept": accept}),
                       406)


# -- POST ----------------------------------------------------------------------------------------
def test_post_merges(http: httpx.Client) -> None:
    graph, s1, s2 = ex("g"), ex("s"), ex("s")
    first, second = sample(s1), sample(s2, 2)
    r = http.post("/store", params={"graph": graph}, content=body(first),
                  headers={"Content-Type": TURTLE})
    assert r.status_code == 201, r.text  # POST to a graph that did not exist creates it
    r = http.post("/store", params={"graph": graph}, content=body(second, "application/n-triples"),
                  headers={"Content-Type": "application/n-triples"})
    assert r.status_code == 204, r.text
    union = Graph()
    for t in (*first, *second):
        union.add(t)
    assert isomorphic(get_graph(http, graph), union)
    # merging ground triples that are already there changes nothing
    r = http.post("/store", params={"graph": graph}, content=body(sample(s1, blank=False)),
                  headers={"Content-Type": TURTLE})
    assert r.status_code == 204
    assert isomorphic(get_graph(http, graph), union)


def test_post_to_the_store_creates_a_new_graph(http: httpx.Client) -> None:
    g1, g2 = sample(ex("s")), sample(ex("s"), 1)
    r1 = http.post("/store", content=body(g1), headers={"Content-Type": TURTLE})
    assert r1.status_code == 201, r1.text
    r2 = http.post("/store", content=body(g2), headers={"Content-Type": TURTLE})
    assert r2.status_code == 201, r2.text
    loc1, loc2 = r1.headers["location"], r2.headers["location"]
    assert loc1 != loc2
    got = http.get(loc1, headers={"Accept": TURTLE})
    assert got.status_code == 200, got.text
    assert isomorphic(Graph().parse(data=got.text, format="turtle"), g1)
    got = http.get(loc2, headers={"Accept": "application/n-triples"})
    assert isomorphic(Graph().parse(data=got.text, format="nt"), g2)
    # the new graph is a named graph like any other: SPARQL sees it under its IRI
    graph = httpx.URL(loc1).params["graph"]
    r = http.get("/sparql", params={"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    assert r.json()["boolean"] is True


# -- DELETE --------------------------------------------------------------------------------------
def test_delete(http: httpx.Client) -> None:
    graph, s = ex("g"), ex("s")
    assert put(http, graph, sample(s)).status_code == 201
    r = http.delete("/store", params={"graph": graph})
    assert r.status_code == 204, r.text
    assert_problem(http.get("/store", params={"graph": graph}), 404)
    assert count(http, s) == 0
    assert_problem(http.delete("/store", params={"graph": graph}), 404)


def test_delete_missing_graph(http: httpx.Client) -> None:
    assert_problem(http.delete("/store", params={"graph": ex("missing")}), 404)


# -- bad requests write nothing ------------------------------------------------------------------
def test_malformed_turtle_is_refused_and_writes_nothing(http: httpx.Client) -> None:
    graph, s = ex("g"), ex("s")
    original = sample(s)
    assert put(http, graph, original).status_code == 201
    bad = f'<{s}> <http://example.org/p> "fine" .\n<{s}> <http://example.org/p> .\n'.encode()
    for method in ("PUT", "POST"):
        r = http.request(method, "/store", params={"graph": graph}, content=bad,
                         headers={"Content-Type": TURTLE})
        problem = assert_problem(r, 400)
        assert problem["line"] == 2
        assert isinstance(problem["column"], int) and problem["column"] > 1
    assert isomorphic(get_graph(http, graph), original)
    new = ex("g")
    assert_problem(http.put("/store", params={"graph": new}, content=bad,
                            headers={"Content-Type": TURTLE}), 400)
    assert_problem(http.get("/store", params={"graph": new}), 404)


def test_malformed_turtle_reports_column_of_a_token_error(http: httpx.Client) -> None:
    r = http.put("/store", params={"graph": ex("g")}, content=b'<http://example.org/s> <p> "x .',
                 headers={"Content-Type": TURTLE})
    problem = assert_problem(r, 400)
    assert problem["line"] == 1
    assert problem["column"] == 28  # the unterminated string starts there


@pytest.mark.parametrize("content_type", ["text/foo", "application/json", "image/png"])
def test_unsupported_content_type(http: httpx.Client, content_type: str) -> None:
    graph, s = ex("g"), ex("s")
    for method in ("PUT", "POST"):
        r = http.request(method, "/store", params={"graph": graph}, content=body(sample(s)),
                         headers={"Content-Type": content_type})
        assert_problem(r, 415)
    assert_problem(http.get("/store", params={"graph": graph}), 404)
    assert count(http, s) == 0


def test_body_naming_graphs_is_refused(http: httpx.Client) -> None:
    graph, s = ex("g"), ex("s")
    trig = f"<{ex('other')}> {{ <{s}> <http://example.org/p> 1 }}".encode()
    r = http.put("/store", params={"graph": graph}, content=trig,
                 headers={"Content-Type": "application/trig"})
    assert_problem(r, 400)
    assert count(http, s) == 0


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "POST", "DELETE"])
def test_graph_and_default_together(http: httpx.Client, method: str) -> None:
    graph, s = ex("g"), ex("s")
    r = http.request(method, "/store", params={"graph": graph, "default": ""},
                     content=body(sample(s)) if method in ("PUT", "POST") else None,
                     headers={"Content-Type": TURTLE})
    assert r.status_code == 400
    if method != "HEAD":
        assert_problem(r, 400)
    r = http.request(method, "/store", params=[("graph", graph), ("graph", ex("g"))],
                     content=body(sample(s)) if method in ("PUT", "POST") else None,
                     headers={"Content-Type": TURTLE})
    assert r.status_code == 400
    assert count(http, s) == 0


def test_invalid_graph_iri(http: httpx.Client) -> None:
    assert_problem(http.get("/store", params={"graph": "not an iri"}), 400)


# -- through the change log ----------------------------------------------------------------------
def test_writes_go_through_the_change_log(http: httpx.Client) -> None:
    key = f"default/note/orders_{uid()}"  # versioned, but no data asset (those live in
    # their workspace's partition graphs: tests/test_tenancy.py)
    iri, graph = f"{BASE}/id/{key}", ex("g")
    g = Graph()
    g.add((URIRef(iri), URIRef("http://example.org/vocab/name"), Literal("orders")))
    assert put(http, graph, g).status_code == 201
    r = http.get(f"/api/v1/assets/{key}/versions")
    assert r.status_code == 200, r.text
    (v1,) = r.json()["versions"]
    assert v1["version"] == 1 and v1["actor"] == "anonymous" and "PUT" in v1["message"]
    assert put(http, graph, g).status_code == 204  # the same content: no new version
    assert len(http.get(f"/api/v1/assets/{key}/versions").json()["versions"]) == 1
    assert http.delete("/store", params={"graph": graph}).status_code == 204
    history = http.get(f"/api/v1/assets/{key}/versions").json()["versions"]
    assert [v["version"] for v in history] == [1, 2]
    assert "DELETE" in history[-1]["message"]


# -- the default graph ---------------------------------------------------------------------------
def test_get_default_graph_is_the_union_of_the_data(http: httpx.Client) -> None:
    g1, g2 = sample(ex("s"), blank=False), sample(ex("s"), 1, blank=False)
    assert put(http, ex("g"), g1).status_code == 201
    assert put(http, ex("g"), g2).status_code == 201
    default = set(get_graph(http, None, "application/n-triples"))
    assert set(g1) | set(g2) <= default


@pytest.fixture
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server of its own: writing the default graph rewrites every data graph."""
    srv = Server(tmp_path_factory.mktemp("gsp-default")).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as client:
            yield client
    finally:
        srv.stop()


def test_default_graph_put_post_get_delete(fresh: httpx.Client) -> None:
    named, s1, s2, s3 = ex("g"), ex("s"), ex("s"), ex("s")
    assert put(fresh, named, sample(s1)).status_code == 201

    posted = sample(s2, 2)
    r = fresh.post("/store", params={"default": ""}, content=body(posted),
                   headers={"Content-Type": TURTLE})
    assert r.status_code in (201, 204), r.text
    assert isomorphic(get_graph(fresh, None), sample(s1) + posted)

    replacement = sample(s3, 1)
    r = fresh.put("/store", params={"default": ""}, content=body(replacement),
                  headers={"Content-Type": TURTLE})
    assert r.status_code in (201, 204), r.text
    assert isomorphic(get_graph(fresh, None), replacement)
    assert_problem(fresh.get("/store", params={"graph": named}), 404)  # replaced as well

    assert fresh.delete("/store", params={"default": ""}).status_code == 204
    assert len(get_graph(fresh, None)) == 0
    r = fresh.get("/sparql", params={"query": "ASK { GRAPH ?g { ?s ?p ?o } FILTER(?g != "
                                              f"<{BASE}/graph/ontology> && ?g != "
                                              f"<{BASE}/graph/shapes> && !STRSTARTS(STR(?g), "
                                              f"'{BASE}/graph/inferred')) }}",
                                     "infer": "false"})
    assert r.json()["boolean"] is False
