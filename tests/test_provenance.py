"""Statement-level provenance (issue 14, item 4): SPARQL answers which person or source asserted
a fact and when, for the statements the caller may read, and it survives moves and upgrades."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from access.identity import Principal
from catalog import Catalog, Settings
from graph_store.errors import InputError
from sparql_api import create_app
from tests.access_scenario import EMAIL, assets, directory, policies

BASE = "http://127.0.0.1:8000"
BOB = Principal("user/bob", "api-key")  # an acme reader and a contractor: no PII for him
WHO = """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX semcat: <https://w3id.org/semcat#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?who ?when ?source ?value WHERE {
  ?c rdf:reifies <<( <%s> semcat:%s ?value )>> ; prov:wasAttributedTo ?who ;
     prov:generatedAtTime ?when .
  OPTIONAL { ?c semcat:ingestionSource ?source } }"""
TABLE = "acme/table/pg/db.s.orders"


def who(cat: Catalog, key: str, prop: str) -> list[dict[str, str]]:
    rows = cat.sparql.query(WHO % (f"{BASE}/id/{key}", prop)).rows()
    return [{k: v.value for k, v in row.items()} for row in rows]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def data(**extra: Any) -> dict[str, Any]:
    return {"type": "Table", "workspace": "acme", "platform": "platform/pg", "name": "orders",
            "qualifiedName": "db.s.orders", "partOf": "acme/schema/pg/db.s", **extra}


@pytest.fixture
def cat() -> Any:
    with Catalog.open(Settings(data=None, provenance=True)) as c:
        c.assets.upsert_many(directory(), actor="admin")
        c.assets.upsert_many(assets(), actor="admin")
        c.assets.upsert_many(policies(), actor="admin")
        yield c


def test_each_statement_names_who_asserted_it_and_when(cat: Catalog) -> None:
    cat.assets.upsert(data(description="Orders"), actor="user/ann")
    [first] = who(cat, TABLE, "description")
    assert first["who"] == f"{BASE}/id/user/ann" and first["value"] == "Orders"
    assert "source" not in first
    cat.assets.patch(TABLE, {"description": "All orders"}, actor="user/bob")
    [now] = who(cat, TABLE, "description")  # the replaced value's provenance went with it
    assert now["who"] == f"{BASE}/id/user/bob" and now["value"] == "All orders"
    # compared as times: the store writes xsd:dateTime canonically, so "…35.9Z" follows "…35.934Z"
    assert instant(now["when"]) >= instant(first["when"])
    [name] = who(cat, TABLE, "name")  # what bob did not change is still ann's
    assert name["who"] == f"{BASE}/id/user/ann"
    assert who(cat, TABLE, "version") == []  # version stamps are provenance already
    cat.assets.delete(TABLE, actor="admin")
    assert who(cat, TABLE, "name") == []


def test_an_ingestion_run_is_named_as_the_source(cat: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "orders.ndjson"
    path.write_text(json.dumps(data(description="From the warehouse")) + "\n")
    report = cat.ingestion.run({"connector": "ndjson", "workspace": "acme",
                                "config": {"path": str(path)}}, actor="user/ann")
    assert report.ok and report.added == 1, report.to_json()
    [row] = who(cat, TABLE, "description")
    assert row["source"] == report.source and row["who"] == f"{BASE}/id/user/ann"
    cat.assets.patch(TABLE, {"description": "Curated"}, actor="user/steward")
    [row] = who(cat, TABLE, "description")
    assert row["who"] == f"{BASE}/id/user/steward" and "source" not in row


def test_a_caller_sees_the_provenance_of_what_it_may_read_only(cat: Catalog) -> None:
    assert who(cat, EMAIL, "name")  # the admin sees who named the PII column
    with cat.access.acting_as(BOB):
        assert who(cat, EMAIL, "name") == []
        assert who(cat, "acme/table/pg/db.s.customers", "name")


def test_a_statement_moved_to_another_partition_keeps_its_author(cat: Catalog) -> None:
    cat.assets.upsert(data(description="Orders"), actor="user/ann")
    graphs = {q.graph_name for q in cat.store.quads(None, None, None, None)
              if q.subject.value == f"{BASE}/id/{TABLE}"}
    cat.assets.patch(TABLE, {"classifications": ["classification/pii/email"]}, actor="admin")
    moved = {q.graph_name for q in cat.store.quads(None, None, None, None)
             if q.subject.value == f"{BASE}/id/{TABLE}"}
    assert moved != graphs  # the asset now lives in the PII partition
    [row] = who(cat, TABLE, "description")
    assert row["who"] == f"{BASE}/id/user/ann"
    with cat.access.acting_as(BOB):  # and its provenance moved with it
        assert who(cat, TABLE, "description") == []


def test_a_catalog_made_without_provenance_catches_up_on_open(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path / "data", provenance=False, query_workers=0)
    with Catalog.open(settings) as c:
        c.assets.upsert_many(directory(), actor="admin")
        c.assets.upsert_many(assets(), actor="admin")
        c.assets.upsert(data(description="Orders"), actor="user/ann")
        c.projector.wait()
        assert who(c, TABLE, "description") == []
    with Catalog.open(settings.model_copy(update={"provenance": True})) as c:
        [row] = who(c, TABLE, "description")
        assert row["who"] == f"{BASE}/id/user/ann"
        assert c.provenance.up_to() == c.journal.applied_seq


PROVENANCE = ("CONSTRUCT { ?c ?p ?o } WHERE { GRAPH ?g { ?c ?p ?o } "
              f"FILTER(STRSTARTS(STR(?g), \"{BASE}/graph/inferred/provenance/\")) }}")


def test_json_ld_cannot_carry_triple_terms_and_says_so(cat: Catalog) -> None:
    cat.assets.upsert(data(description="Orders"), actor="user/ann")
    with pytest.raises(InputError, match=r"RDF 1\.2"):
        cat.sparql.query(PROVENANCE).serialize("application/ld+json", timeout_s=5,
                                               max_bytes=10_000_000)
    turtle = cat.sparql.query(PROVENANCE).serialize("text/turtle", timeout_s=5,
                                                    max_bytes=10_000_000)
    assert b"<<(" in turtle and b"wasAttributedTo" in turtle


def test_the_graph_store_serves_provenance_graphs_as_turtle_not_json_ld(cat: Catalog) -> None:
    cat.assets.upsert(data(description="Orders"), actor="user/ann")
    graph = f"{BASE}/graph/inferred/provenance/acme/general"
    with TestClient(create_app(cat)) as client:
        turtle = client.get("/store", params={"graph": graph}, headers={"Accept": "text/turtle"})
        assert turtle.status_code == 200 and "<<(" in turtle.text, turtle.text[:300]
        ld = client.get("/store", params={"graph": graph},
                        headers={"Accept": "application/ld+json"})
        assert ld.status_code == 400 and "Turtle" in ld.text, ld.text[:300]
