"""Dereferencing catalog IRIs on a real server (W3C Cool URIs, Best Practices for Publishing
Linked Data): 303 to the page for browsers, RDF by content negotiation with Content-Location,
Vary and Link headers, HEAD, 404 for unknown IRIs; ontology terms; VoID and the service
description; and JSON-LD documents that point at the server answering them."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
import rdflib
from pydantic import ValidationError
from rdflib.compare import isomorphic

from catalog import Settings
from tests.conftest import Server

BASE = "http://127.0.0.1:8000"
SC = rdflib.Namespace("https://w3id.org/semcat#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = {"text/turtle": "turtle", "application/ld+json": "json-ld",
           "application/n-triples": "nt", "application/rdf+xml": "xml"}
COLUMN_NAME = "eg Agree/Objectives Ü"  # a space, a slash and a non-ASCII letter
ASSETS = [
    {"id": "platform/pg", "type": "DataPlatform", "name": "Postgres", "description": "pg"},
    {"type": "Database", "workspace": "acme", "platform": "platform/pg", "qualifiedName": "ld",
     "name": "ld", "description": "Linked data test database"},
    {"type": "Schema", "workspace": "acme", "platform": "platform/pg", "qualifiedName": "ld.s",
     "name": "s", "partOf": "acme/database/pg/ld", "description": "A schema"},
    {"type": "Table", "workspace": "acme", "platform": "platform/pg",
     "qualifiedName": "ld.s.orders", "name": "orders", "partOf": "acme/schema/pg/ld.s",
     "description": "Orders, one row per order", "derivedFrom": []},
    {"type": "Column", "workspace": "acme", "platform": "platform/pg",
     "qualifiedName": f"ld.s.orders.{COLUMN_NAME}", "name": COLUMN_NAME,
     "partOf": "acme/table/pg/ld.s.orders", "dataType": "TEXT"},
]
TABLE = "acme/table/pg/ld.s.orders"
COLUMN = "acme/column/pg/ld.s.orders.eg%20Agree%2FObjectives%20Ü"


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = client.post("/api/v1/assets:bulk", json=ASSETS)
        assert r.status_code == 200, r.text
        yield client


def path(key: str) -> str:
    return f"/id/{quote(key, safe='/%')}"


def test_rdf_clients_get_the_description_in_every_format(http: httpx.Client) -> None:
    graphs = []
    for media, fmt in FORMATS.items():
        r = http.get(path(TABLE), headers={"Accept": media})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(media)
        assert r.headers["vary"] == "Accept"
        ext = {"turtle": "ttl", "json-ld": "jsonld", "nt": "nt", "xml": "rdf"}[fmt]
        assert r.headers["content-location"] == f"/id/{TABLE}?format={ext}"
        links = r.headers["link"]
        assert f'</ui/asset/{TABLE}>; rel="alternate"; type="text/html"' in links
        assert all(f'type="{m}"' in links for m in FORMATS)
        g = rdflib.Graph().parse(data=r.content, format=fmt)
        table = rdflib.URIRef(f"{BASE}/id/{TABLE}")  # the IRI is data: base, not the port
        assert (table, SC.name, rdflib.Literal("orders")) in g
        assert (table, rdflib.RDF.type, SC.Table) in g
        assert {s for s in g.subjects()} == {table}  # its own statements, nothing else's
        graphs.append(g)
        # the Content-Location names that representation: fetching it gives the same
        again = http.get(r.headers["content-location"])
        assert again.status_code == 200 and again.headers["content-type"].startswith(media)
    assert all(isomorphic(graphs[0], g) for g in graphs[1:])


def test_browsers_are_sent_to_the_asset_page(http: httpx.Client) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = http.get(path(TABLE), headers={"Accept": browser}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/ui/asset/{TABLE}"
    assert r.headers["vary"] == "Accept"
    # a client that states no preference gets data
    assert http.get(path(TABLE), headers={"Accept": "*/*"}).headers[
        "content-type"].startswith("text/turtle")


def test_encoded_names_dereference_under_any_spelling(http: httpx.Client) -> None:
    iri = rdflib.URIRef(f"{BASE}/id/{COLUMN}")
    for spelling in (COLUMN, COLUMN.replace("Ü", "%C3%9C")):
        r = http.get(path(spelling), headers={"Accept": "text/turtle"})
        assert r.status_code == 200, (spelling, r.text)
        g = rdflib.Graph().parse(data=r.text, format="turtle")
        assert (iri, SC.name, rdflib.Literal(COLUMN_NAME)) in g
    # the slash inside the name must stay encoded: decoded, it names nothing
    r = http.get(path(COLUMN.replace("%2F", "/")), headers={"Accept": "text/turtle"})
    assert r.status_code == 404


def test_head_answers_like_get_without_a_body(http: httpx.Client) -> None:
    get = http.get(path(TABLE), headers={"Accept": "text/turtle"})
    head = http.head(path(TABLE), headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.content == b""
    for h in ("content-type", "content-location", "vary", "link"):
        assert head.headers[h] == get.headers[h]
    assert http.head("/id/acme/table/pg/ld.s.nothing").status_code == 404


def test_unknown_iris_and_bad_requests(http: httpx.Client) -> None:
    for unknown in ("/id/acme/table/pg/ld.s.nothing", "/id/nobody", "/id/"):
        r = http.get(unknown, headers={"Accept": "text/turtle"})
        assert r.status_code == 404, unknown
        assert r.headers["content-type"].startswith("application/problem+json")
    r = http.get("/id/acme/table/pg/ld.s.nothing", headers={"Accept": "text/html"},
                 follow_redirects=False)
    assert r.status_code == 404  # no redirect to a page of nothing
    assert http.get(path(TABLE), headers={"Accept": "application/pdf"}).status_code == 406
    assert http.get(path(TABLE), params={"format": "pdf"}).status_code == 400
    for hostile in ("/id/%00", "/id/%", "/id/acme/%FF%FE", "/id/a%2F..%2F..", "/id/<x>",
                    "/id/http://example.org/x", "/id/" + "a/" * 500):
        r = http.get(hostile, headers={"Accept": "text/turtle"})
        assert r.status_code in (400, 404), (hostile, r.status_code, r.text[:200])
        r = http.put(f"/api/v1/publications{hostile[3:]}")
        assert r.status_code in (400, 404, 422), (hostile, r.status_code, r.text[:200])


def test_directory_resources_dereference_too(http: httpx.Client) -> None:
    r = http.get("/id/platform/pg", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200, r.text
    g = rdflib.Graph().parse(data=r.text, format="nt")
    assert (rdflib.URIRef(f"{BASE}/id/platform/pg"), rdflib.RDF.type, SC.DataPlatform) in g


def test_ontology_terms_dereference_at_the_ontology_document(http: httpx.Client) -> None:
    """semcat's terms live at https://w3id.org/semcat#, which this server does not answer
    for; /ontology serves them (and the catalog's own terms, {base}/ontology#...)."""
    r = http.get("/ontology", headers={"Accept": "text/turtle"})
    assert r.status_code == 200, r.text
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert (SC.Table, rdflib.RDF.type, rdflib.OWL.Class) in g
    assert (SC.partOf, rdflib.RDF.type, rdflib.OWL.ObjectProperty) in g
    html = http.get("/ontology", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Table" in html.text


def test_void_links_the_sparql_service_description(server: Server,
                                                   http: httpx.Client) -> None:
    r = http.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200, r.text
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    ds = next(g.subjects(rdflib.RDF.type, VOID.Dataset))
    assert int(g.value(ds, VOID.triples)) >= 40
    endpoint = g.value(ds, VOID.sparqlEndpoint)
    assert str(endpoint) == f"{server.url}/sparql"  # this server, not base
    assert str(g.value(ds, VOID.uriSpace)) == f"{BASE}/id/"
    assert rdflib.URIRef(f"{BASE}/id/{TABLE}") in set(g.objects(ds, VOID.exampleResource))
    assert rdflib.URIRef("http://www.w3.org/ns/dcat#") in set(g.objects(ds, VOID.vocabulary))
    sd = http.get(str(endpoint), headers={"Accept": "text/turtle"})
    assert sd.status_code == 200
    assert (endpoint, rdflib.RDF.type, SD.Service) in rdflib.Graph().parse(
        data=sd.text, format="turtle")


def test_jsonld_context_points_at_the_answering_server(server: Server,
                                                       http: httpx.Client) -> None:
    assert server.port != 8000
    body = http.get(f"/api/v1/assets/{TABLE}").json()
    url, local = body["@context"]
    assert url == f"{server.url}/api/v1/context.jsonld"
    assert local["@base"] == f"{BASE}/id/"  # ids stay data
    assert http.get(url).status_code == 200
    # the body goes back as it came, under either context URL
    for ctx in (body["@context"], f"{BASE}/api/v1/context.jsonld"):
        r = http.put(f"/api/v1/assets/{TABLE}", json={**body, "@context": ctx})
        assert r.status_code in (200, 201), r.text
    page = http.get("/api/v1/assets", params={"workspace": "acme"}).json()
    assert page["@context"][0] == url


def test_public_url_setting_behind_a_proxy(tmp_path_factory: pytest.TempPathFactory) -> None:
    public = "https://catalog.example.org/semcat"
    srv = Server(tmp_path_factory.mktemp("proxied"),
                 env={"SEMCAT_PUBLIC_URL": public + "/"}).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as client:
            assert client.post("/api/v1/assets:bulk", json=ASSETS[:2]).status_code == 200
            body = client.get("/api/v1/assets/acme/database/pg/ld").json()
            assert body["@context"][0] == f"{public}/api/v1/context.jsonld"
            assert body["@context"][1]["@base"] == f"{BASE}/id/"
            void = rdflib.Graph().parse(data=client.get(
                "/.well-known/void", headers={"Accept": "text/turtle"}).text, format="turtle")
            assert rdflib.URIRef(f"{public}/sparql") in set(void.objects(None,
                                                                         VOID.sparqlEndpoint))
    finally:
        srv.stop()
    for bad in ("ftp://catalog.example.org", "catalog.example.org", "https://"):
        with pytest.raises(ValidationError, match="SEMCAT_PUBLIC_URL must be an http"):
            Settings(data=None, public_url=bad)
