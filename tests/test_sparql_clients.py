"""Off-the-shelf SPARQL clients, used unchanged, against a real server: SPARQLWrapper and
rdflib's SPARQLStore / SPARQLUpdateStore."""

from __future__ import annotations

import uuid
from typing import Any
from xml.dom.minidom import Document

import httpx
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.graph import ConjunctiveGraph
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import GET, JSON, POST, POSTDIRECTLY, RDFXML, TURTLE, URLENCODED, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from tests.conftest import Server

BASE = "http://127.0.0.1:8000"
P = URIRef("http://example.org/vocab/p")
NAME = URIRef("http://example.org/vocab/name")


def ex(kind: str) -> str:
    return f"http://example.org/{kind}/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def loaded(http: httpx.Client) -> tuple[str, Graph]:
    """A named graph with two subjects, PUT through the Graph Store protocol."""
    graph, s1, s2 = ex("g"), ex("s"), ex("s")
    g = Graph()
    g.add((URIRef(s1), NAME, Literal("first")))
    g.add((URIRef(s2), NAME, Literal("second", lang="en")))
    g.add((URIRef(s1), P, URIRef(s2)))
    r = http.put("/store", params={"graph": graph}, content=g.serialize(format="nt"),
                 headers={"Content-Type": "application/n-triples"})
    assert r.status_code == 201, r.text
    return graph, g


def as_json(w: SPARQLWrapper) -> dict[str, Any]:
    result = w.queryAndConvert()
    assert isinstance(result, dict), type(result)
    return result


def names_query(graph: str) -> str:
    return f"SELECT ?s ?name WHERE {{ GRAPH <{graph}> {{ ?s <{NAME}> ?name }} }} ORDER BY ?name"


# -- SPARQLWrapper -------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [GET, POST])
def test_sparqlwrapper_select_json(server: Server, loaded: tuple[str, Graph], method: str) -> None:
    graph, _ = loaded
    w = SPARQLWrapper(server.url + "/query")
    w.setMethod(method)
    w.setQuery(names_query(graph))
    w.setReturnFormat(JSON)
    result = as_json(w)
    assert result["head"]["vars"] == ["s", "name"]
    got = [(b["name"]["value"], b["name"].get("xml:lang")) for b in result["results"]["bindings"]]
    assert got == [("first", None), ("second", "en")]


def test_sparqlwrapper_select_xml(server: Server, loaded: tuple[str, Graph]) -> None:
    graph, _ = loaded
    w = SPARQLWrapper(server.url + "/sparql")
    w.setQuery(names_query(graph))
    w.setReturnFormat(XML)
    doc = w.queryAndConvert()
    assert isinstance(doc, Document)
    literals = [n.firstChild.nodeValue for n in doc.getElementsByTagName("literal")]  # type: ignore[union-attr]
    assert literals == ["first", "second"]
    assert [n.getAttribute("name") for n in doc.getElementsByTagName("variable")] == ["s", "name"]


@pytest.mark.parametrize("request_method", [URLENCODED, POSTDIRECTLY])
def test_sparqlwrapper_ask(server: Server, loaded: tuple[str, Graph], request_method: str) -> None:
    graph, g = loaded
    w = SPARQLWrapper(server.url + "/query")
    w.setMethod(POST)
    w.setRequestMethod(request_method)
    w.setReturnFormat(JSON)
    s1 = next(iter(g.subjects(P, None)))
    w.setQuery(f"ASK {{ GRAPH <{graph}> {{ <{s1}> <{P}> ?o }} }}")
    assert as_json(w)["boolean"] is True
    w.setQuery(f"ASK {{ GRAPH <{graph}> {{ <{s1}> <{NAME}> 'second' }} }}")
    assert as_json(w)["boolean"] is False


def test_sparqlwrapper_construct(server: Server, loaded: tuple[str, Graph]) -> None:
    graph, g = loaded
    w = SPARQLWrapper(server.url + "/sparql")
    w.setQuery(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    w.setReturnFormat(RDFXML)
    got = w.queryAndConvert()
    assert isinstance(got, Graph)
    assert isomorphic(got, g)
    w.setReturnFormat(TURTLE)
    turtle = w.queryAndConvert()
    assert isinstance(turtle, bytes)
    assert isomorphic(Graph().parse(data=turtle, format="turtle"), g)


def test_sparqlwrapper_update(server: Server, http: httpx.Client) -> None:
    key = f"default/dataset/postgres/crm.contacts_{uuid.uuid4().hex[:8]}"
    iri = f"{BASE}/id/{key}"
    w = SPARQLWrapper(server.url + "/update")
    w.setMethod(POST)
    w.setQuery(f'INSERT DATA {{ <{iri}> <{NAME}> "contacts" }}')
    assert w.isSparqlUpdateRequest()
    response = w.query().response
    assert response.status == 204
    w.setQuery(f'DELETE {{ <{iri}> <{NAME}> ?n }} INSERT {{ <{iri}> <{NAME}> "contacts v2" }} '
               f"WHERE {{ <{iri}> <{NAME}> ?n }}")
    assert w.query().response.status == 204

    r = SPARQLWrapper(server.url + "/query")
    r.setQuery(f"SELECT ?n WHERE {{ <{iri}> <{NAME}> ?n }}")
    r.setReturnFormat(JSON)
    bindings = as_json(r)["results"]["bindings"]
    assert [b["n"]["value"] for b in bindings] == ["contacts v2"]
    versions = http.get(f"/api/v1/assets/{key}/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]


def test_sparqlwrapper_sees_protocol_errors(server: Server) -> None:
    w = SPARQLWrapper(server.url + "/query")
    w.setQuery("SELECT * WHERE { ?s ?p }")
    with pytest.raises(QueryBadFormed):
        w.query()


# -- rdflib SPARQLStore --------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore(server: Server, loaded: tuple[str, Graph], method: str) -> None:
    graph, g = loaded
    remote = Graph(store=SPARQLStore(server.url + "/query", method=method))
    rows = list(remote.query(names_query(graph)))
    assert [(str(r[0]), r[1]) for r in rows] == [  # type: ignore[index]
        (str(s), o) for s, o in sorted(g.subject_objects(NAME), key=lambda t: str(t[1]))]
    assert rows[1][1] == Literal("second", lang="en")  # type: ignore[index]
    s1 = next(iter(g.subjects(P, None)))
    assert remote.query(f"ASK {{ GRAPH <{graph}> {{ <{s1}> ?p ?o }} }}").askAnswer is True
    constructed = remote.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").graph
    assert constructed is not None and isomorphic(constructed, g)
    # triple patterns are queries too
    assert set(remote.triples((s1, None, None))) == set(g.triples((s1, None, None)))


def test_rdflib_sparqlstore_is_read_only(server: Server) -> None:
    remote = Graph(store=SPARQLStore(server.url + "/query"))
    with pytest.raises(TypeError):
        remote.add((URIRef(ex("s")), P, Literal(1)))


# -- rdflib SPARQLUpdateStore --------------------------------------------------------------------
def _update_store(server: Server) -> SPARQLUpdateStore:
    return SPARQLUpdateStore(query_endpoint=server.url + "/query",
                             update_endpoint=server.url + "/update")


def test_rdflib_sparqlupdatestore_dataset(server: Server, http: httpx.Client) -> None:
    graph, s = URIRef(ex("g")), URIRef(ex("s"))
    ds = Dataset(store=_update_store(server), default_union=True)
    named = ds.graph(graph)  # sends CREATE GRAPH
    named.add((s, NAME, Literal("remote")))
    named.addN([(s, P, URIRef(ex("o")), named), (s, P, Literal(2), named)])
    assert len(named) == 3
    assert {o for o in named.objects(s, P)} >= {Literal(2)}
    rows = list(ds.query(f"SELECT ?g ?o WHERE {{ GRAPH ?g {{ <{s}> <{NAME}> ?o }} }}"))
    assert [(r[0], r[1]) for r in rows] == [(graph, Literal("remote"))]  # type: ignore[index]
    # what the client wrote is what the Graph Store protocol reads back
    r = http.get("/store", params={"graph": str(graph)}, headers={"Accept": "text/turtle"})
    assert isomorphic(Graph().parse(data=r.text, format="turtle"), Graph() + named)

    named.remove((s, P, None))
    assert set(named) == {(s, NAME, Literal("remote"))}
    named.remove((None, None, None))
    assert len(named) == 0
    assert http.get("/store", params={"graph": str(graph)}).status_code == 404


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_rdflib_sparqlupdatestore_conjunctive_graph(server: Server) -> None:
    graph, s = URIRef(ex("g")), URIRef(ex("s"))
    cg = ConjunctiveGraph(store=_update_store(server))
    ctx = cg.get_context(graph)
    ctx.add((s, NAME, Literal("conjunctive")))
    assert list(ctx.objects(s, NAME)) == [Literal("conjunctive")]
    ask = cg.query(f"ASK {{ GRAPH <{graph}> {{ <{s}> ?p 'conjunctive' }} }}")
    assert ask.askAnswer is True
    ctx.remove((s, None, None))
    assert len(ctx) == 0


def test_rdflib_sparqlupdatestore_update_call(server: Server) -> None:
    graph, s = ex("g"), ex("s")
    store = _update_store(server)
    store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{s}> <{P}> 1, 2, 3 }} }}")
    store.update(f"DELETE {{ GRAPH <{graph}> {{ <{s}> <{P}> ?n }} }} "
                 f"WHERE {{ GRAPH <{graph}> {{ <{s}> <{P}> ?n FILTER(?n > 1) }} }}")
    remote = Graph(store=SPARQLStore(server.url + "/query"))
    assert list(remote.query(f"SELECT ?n WHERE {{ GRAPH <{graph}> {{ <{s}> <{P}> ?n }} }}")) == [
        (Literal(1),)]
