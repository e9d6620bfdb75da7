"""The Catalog facade on an in-memory store: layout, versions from every write path, history."""

from __future__ import annotations

from typing import Any

import pytest

from catalog import Catalog
from graph_store.errors import NotFound, QuerySyntaxError

SEMCAT = "https://w3id.org/semcat#"
BASE = "http://127.0.0.1:8000"


def column(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Column", "workspace": "acme", "platform": "platform/pg",
            "qualifiedName": f"db.s.t.{name}", "name": name, "dataType": "TEXT",
            "partOf": "acme/table/pg/db.s.t", **extra}


@pytest.fixture
def catalog(catalog: Catalog) -> Catalog:
    """The in-memory catalog with the database, schema and table the columns belong to."""
    ws = {"workspace": "acme", "platform": "platform/pg"}
    catalog.assets.upsert_many([
        {"type": "Database", "qualifiedName": "db", "name": "db", **ws},
        {"type": "Schema", "qualifiedName": "db.s", "name": "s", "partOf": "acme/database/pg/db",
         **ws},
        {"type": "Table", "qualifiedName": "db.s.t", "name": "t", "partOf": "acme/schema/pg/db.s",
         **ws}], actor="setup")
    return catalog


def graphs_of(cat: Catalog, key: str) -> set[str]:
    rows = cat.sparql.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{BASE}/id/{key}> ?p ?o }} }}",
                            infer=False)  # where the asserted statements are
    return {r["g"].value for r in rows.rows()}


def test_assets_live_in_partition_graphs_and_move_in_one_changeset(catalog: Catalog) -> None:
    catalog.assets.upsert(column("email"), actor="t")
    key = "acme/column/pg/db.s.t.email"
    assert graphs_of(catalog, key) == {f"{BASE}/graph/acme/general"}
    catalog.assets.patch(key, {"classifications": ["classification/pii/email"]}, actor="t")
    # its statement naming the (general) table sits in the link graph of the two partitions
    assert graphs_of(catalog, key) == {f"{BASE}/graph/acme/classification%2Fpii",
                                       f"{BASE}/graph/acme/classification%2Fpii%7Cacme%7Cgeneral"}
    history = catalog.assets.versions(key)
    assert [v.version for v in history] == [1, 2] and history[1].seq == history[0].seq + 1
    catalog.assets.upsert({"type": "Tag", "id": "tag/pii", "name": "PII"}, actor="t")
    assert graphs_of(catalog, "tag/pii") == {f"{BASE}/graph/directory"}


def test_sparql_update_versions_each_touched_asset_once(catalog: Catalog) -> None:
    catalog.assets.upsert_many([column("a"), column("b"), column("c")], actor="t")
    cs = catalog.sparql.update(
        f"PREFIX semcat: <{SEMCAT}> DELETE {{ ?c semcat:dataType 'TEXT' }} "
        "INSERT { ?c semcat:dataType 'VARCHAR' } WHERE { ?c semcat:dataType 'TEXT' ; "
        "semcat:name ?n FILTER(?n != 'c') }", actor="analyst")
    assert cs is not None and sorted(cs.versions.values()) == [2, 2]
    doc = catalog.assets.get("acme/column/pg/db.s.t.a")
    assert doc["dataType"] == "VARCHAR" and doc["version"] == 2 and doc["updatedBy"] == "user/analyst"
    assert catalog.assets.get("acme/column/pg/db.s.t.c")["version"] == 1
    assert catalog.sparql.update(f"INSERT DATA {{ <{BASE}/id/acme/column/pg/db.s.t.a> "
                                 f"<{SEMCAT}dataType> 'VARCHAR' }}", actor="x") is None


def test_system_properties_cannot_be_forged(catalog: Catalog) -> None:
    catalog.assets.upsert(column("v"), actor="t")
    key = "acme/column/pg/db.s.t.v"
    catalog.sparql.update(f"INSERT DATA {{ <{BASE}/id/{key}> <{SEMCAT}version> 99 ; "
                          f"<{SEMCAT}description> 'hi' }}", actor="t")
    doc = catalog.assets.get(key)
    assert doc["version"] == 2 and doc["description"] == "hi"
    doc = catalog.assets.upsert({**column("v"), "version": 50, "createdBy": "user/mallory"},
                                actor="t")
    assert catalog.assets.get(key)["createdBy"] == "user/t"


def test_delete_through_sparql_records_the_deletion(catalog: Catalog) -> None:
    catalog.assets.upsert(column("gone"), actor="t")
    key = "acme/column/pg/db.s.t.gone"
    catalog.sparql.update(f"DELETE WHERE {{ <{BASE}/id/{key}> ?p ?o }}", actor="t")
    with pytest.raises(NotFound, match="deleted in version 2"):
        catalog.assets.get(key)
    assert catalog.assets.get(key, version=1)["name"] == "gone"
    diff = catalog.assets.diff(key, 1, 2)
    assert diff["added"] == {} and diff["removed"]["name"] == "gone"


def test_default_dataset_is_every_graph_and_bad_queries_fail(catalog: Catalog) -> None:
    catalog.assets.upsert(column("x"), actor="t")
    names = {r["g"].value for r in catalog.sparql.query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows()}
    asserted = {g for g in names if not g.startswith(f"{BASE}/graph/inferred")}
    assert asserted == {f"{BASE}/graph/ontology", f"{BASE}/graph/shapes",
                        f"{BASE}/graph/acme/general"}
    n = catalog.sparql.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows()[0]["n"]
    assert int(n.value) > 400  # the ontology's triples are in the default graph too
    with pytest.raises(QuerySyntaxError):
        catalog.sparql.query("SELECT ?x WHERE { ?x }")


def test_demo_lineage_is_queryable_transitively(demo_catalog: Catalog) -> None:
    """Table-level lineage from the raw orders table to a marts table and on to a dashboard."""
    q = (f"PREFIX semcat: <{SEMCAT}> SELECT (COUNT(DISTINCT ?down) AS ?n) WHERE {{ "
         f"?down semcat:derivedFrom+ <{BASE}/id/acme/table/postgres/shop.public.orders> }}")
    assert int(demo_catalog.sparql.query(q).rows()[0]["n"].value) >= 3
    pii = (f"PREFIX semcat: <{SEMCAT}> SELECT (COUNT(?c) AS ?n) WHERE {{ ?c a semcat:Column ; "
           "semcat:classification ?k . FILTER(STRSTARTS(STR(?k), "
           f"'{BASE}/id/classification/pii/')) }}")
    assert int(demo_catalog.sparql.query(pii).rows()[0]["n"].value) >= 40


def test_ontology_is_loaded_once_and_queryable(demo_catalog: Catalog) -> None:
    q = (f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?label WHERE {{ "
         f"<{SEMCAT}Table> rdfs:label ?label }}")
    assert [r["label"].value for r in demo_catalog.sparql.query(q).rows()] == ["Table"]
    versions = [v for v in demo_catalog.changelog.since(0) if v.message.startswith("ontology")]
    assert len(versions) == 1
