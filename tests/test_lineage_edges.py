"""Hand-made lineage edges with their kind and transformation (issue 13, item 1), and lineage
as of a past time reading ``derivesInto`` as the walks of the present do."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pyoxigraph import NamedNode

from catalog import Catalog
from graph_store.errors import InputError
from ontology.namespaces import SEMCAT
from tests.conftest import Server

WS = {"workspace": "acme", "platform": "platform/pg"}
A, B = "acme/column/pg/db.s.a.x", "acme/column/pg/db.s.b.y"
EDGE_TERMS = ("derivedFrom", "copiedFrom", "transformedFrom", "aggregatedFrom", "influencedBy")


def scaffold() -> list[dict[str, object]]:
    return [{**WS, "type": "Database", "qualifiedName": "db", "name": "db"},
            {**WS, "type": "Schema", "qualifiedName": "db.s", "name": "s",
             "partOf": "acme/database/pg/db"},
            *({**WS, "type": "Table", "qualifiedName": f"db.s.{t}", "name": t,
               "partOf": "acme/schema/pg/db.s"} for t in "ab"),
            *({**WS, "type": "Column", "qualifiedName": f"db.s.{t}.{c}", "name": c,
               "dataType": "INT", "partOf": f"acme/table/pg/db.s.{t}"} for t, c in ("ax", "by"))]


def stated(cat: Catalog) -> set[str]:
    """The edge statements from B to A."""
    b, a = (NamedNode(cat.layout.iri(k)) for k in (B, A))
    return {p for p in EDGE_TERMS
            if next(iter(cat.store.quads(b, NamedNode(SEMCAT + p), a)), None) is not None}


def down(cat: Catalog, level: str = "column") -> list[str]:
    return [n["id"] for n in cat.lineage.lineage(A, direction="downstream", level=level)["nodes"]]


def test_an_edge_takes_the_kind_given_and_its_transformation(catalog: Catalog) -> None:
    catalog.assets.upsert_many(scaffold(), actor="admin")
    assert catalog.lineage.add_edge(A, B, actor="alice", kind="identity",
                                    transformation="x") is not None
    assert stated(catalog) == {"derivedFrom", "copiedFrom"}
    doc = catalog.assets.get(B)
    assert doc["transformation"] == "x" and doc["copiedFrom"] in (A, [A])
    assert down(catalog) == [A, B]
    # the same again changes nothing; a new kind replaces the old one, and the transformation
    assert catalog.lineage.add_edge(A, B, actor="alice", kind="identity",
                                    transformation="x") is None
    catalog.lineage.add_edge(A, B, actor="alice", kind="aggregation", transformation="sum(x)")
    assert stated(catalog) == {"derivedFrom", "aggregatedFrom"}
    assert catalog.assets.get(B)["transformation"] == "sum(x)"
    catalog.lineage.add_edge(A, B, actor="alice")  # no kind: the one it has stays
    assert stated(catalog) == {"derivedFrom", "aggregatedFrom"}
    # a filter or join key only influences: no derivation, so walks do not follow it
    catalog.lineage.add_edge(A, B, actor="alice", kind="indirect")
    assert stated(catalog) == {"influencedBy"}
    assert down(catalog) == [A]
    catalog.lineage.remove_edge(A, B, actor="alice")
    assert stated(catalog) == set()
    with pytest.raises(InputError, match="kind must be one of"):
        catalog.lineage.add_edge(A, B, actor="alice", kind="copy")
    with pytest.raises(InputError, match="transformation"):
        catalog.lineage.add_edge(A, B, actor="alice", transformation=" ")
    assert stated(catalog) == set()  # the refused ones wrote nothing


def test_lineage_as_of_a_time_reads_derives_into(catalog: Catalog) -> None:
    catalog.assets.upsert_many(scaffold(), actor="admin")
    a, b = (catalog.layout.iri(k) for k in (A, B))
    catalog.sparql.update(f"INSERT DATA {{ <{a}> <{SEMCAT}derivesInto> <{b}> }}", actor="alice")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert down(catalog) == [A, B]
    then = catalog.lineage.lineage(A, direction="downstream", level="column", as_of=now)
    assert [n["id"] for n in then["nodes"]] == [A, B]


def test_kinds_over_http(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.post("/api/v1/assets:bulk", json=scaffold()).status_code == 200
        r = http.post("/api/v1/lineage/edges", json={"source": A, "target": B,
                                                     "kind": "transformation",
                                                     "transformation": "x + 1"})
        assert r.status_code == 201, r.text
        assert r.json() == {"source": A, "target": B, "kind": "transformation",
                            "transformation": "x + 1"}
        doc = http.get(f"/api/v1/assets/{B}").json()
        assert doc["transformedFrom"] in (A, [A]) and doc["transformation"] == "x + 1"
        for bad in ({"kind": "copy"}, {"kind": 3}, {"transformation": ["x"]}, {"why": "x"}):
            r = http.post("/api/v1/lineage/edges", json={"source": A, "target": B, **bad})
            assert r.status_code == 400, (bad, r.text)
            assert r.headers["content-type"] == "application/problem+json"
        assert http.get(f"/api/v1/assets/{B}").json()["version"] == doc["version"]
