"""OWL 2 RL inconsistencies: disjoint classes (asserted and inferred), the facts behind them,
refusal of writes that introduce them (when configured), and the REST endpoint."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode

from catalog import Catalog, Settings
from reasoning import Finding
from sparql_api import create_app
from tests.conftest import ROOT

BASE = "http://127.0.0.1:8000"
ID = f"{BASE}/id/"
SEMCAT = "https://w3id.org/semcat#"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREFIXES = """PREFIX semcat: <https://w3id.org/semcat#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""
WS = {"workspace": "acme", "platform": "platform/pg"}
TABLE = f"{ID}acme/table/pg/db.s.raw"


def assets() -> list[dict[str, object]]:
    return [
        {"type": "Database", "qualifiedName": "db", "name": "db", **WS},
        {"type": "Schema", "qualifiedName": "db.s", "name": "s", "partOf": "acme/database/pg/db",
         **WS},
        {"type": "Table", "qualifiedName": "db.s.raw", "name": "raw",
         "partOf": "acme/schema/pg/db.s", **WS},
        {"type": "View", "qualifiedName": "db.s.v1", "name": "v1", "partOf": "acme/schema/pg/db.s",
         "derivedFrom": ["acme/table/pg/db.s.raw"], **WS},
    ]


def open_catalog(*, validate_writes: bool = True, refuse_inconsistent_writes: bool = False
                 ) -> Catalog:
    c = Catalog.open(Settings(data=None, validate_writes=validate_writes,
                              refuse_inconsistent_writes=refuse_inconsistent_writes))
    c.assets.upsert_many(assets(), actor="t")
    return c


@pytest.fixture
def cat() -> Iterator[Catalog]:
    """SHACL off, so that clashing writes reach the store (typing a Table also as a Column breaks
    the Column shapes too); refusal of inconsistent writes at its default (off)."""
    with open_catalog(validate_writes=False) as c:
        yield c


@pytest.fixture
def strict() -> Iterator[Catalog]:
    """Refusal on, SHACL off: a refusal can only come from the disjointness check."""
    with open_catalog(validate_writes=False, refuse_inconsistent_writes=True) as c:
        yield c


def facts(finding: Finding) -> set[tuple[str, str, str]]:
    return {(f.subject, f.predicate, f.object) for f in finding.facts}


def type_count(cat: Catalog, node: str) -> int:
    return len(list(cat.store.quads(NamedNode(node), NamedNode(TYPE), None)))


def test_consistent_catalog_has_no_findings(cat: Catalog) -> None:
    assert cat.consistency() == []
    cat.reason()
    assert cat.consistency() == []


def test_demo_is_consistent(demo_catalog: Catalog) -> None:
    assert demo_catalog.consistency() == []


def test_table_and_column_clash_via_all_disjoint_classes(cat: Catalog) -> None:
    cat.sparql.update(f"{PREFIXES} INSERT DATA {{ <{TABLE}> rdf:type semcat:Column }}",
                      actor="t")
    [finding] = cat.consistency()
    assert finding.rule == "cax-adc"
    assert finding.focus == TABLE
    assert "Column" in finding.message and "Table" in finding.message
    got = facts(finding)
    assert (TABLE, TYPE, SEMCAT + "Table") in got
    assert (TABLE, TYPE, SEMCAT + "Column") in got
    assert any(p == "http://www.w3.org/2002/07/owl#members" for _, p, _ in got)
    assert all(f.asserted and f.graph for f in finding.facts)
    json = finding.to_json()
    assert json["rule"] == "cax-adc" and len(json["facts"]) == 3


def test_user_and_team_clash_via_disjoint_with(cat: Catalog) -> None:
    x = f"{ID}people/alice"
    cat.sparql.update(f"{PREFIXES} INSERT DATA {{ <{x}> a semcat:User, semcat:Team }}",
                          actor="t")
    findings = [f for f in cat.consistency() if f.focus == x]
    assert [f.rule for f in findings] == ["cax-dw"]
    got = facts(findings[0])
    assert {(x, TYPE, SEMCAT + "User"), (x, TYPE, SEMCAT + "Team"),
            (SEMCAT + "User", "http://www.w3.org/2002/07/owl#disjointWith",
             SEMCAT + "Team")} <= got


def test_inferred_data_asset_that_is_a_user(cat: Catalog) -> None:
    """bob derivedFrom the table: derivedFrom's domain makes him a DataAsset, yet he is a User."""
    bob = f"{ID}people/bob"
    cat.sparql.update(f"{PREFIXES} INSERT DATA {{ <{bob}> a semcat:User ; "
                      f"semcat:derivedFrom <{TABLE}> }}", actor="t")
    findings = [f for f in cat.consistency() if f.focus == bob]  # inferred by the write
    assert findings and findings[0].rule == "cax-dw"
    assert "DataAsset" in findings[0].message and "User" in findings[0].message
    got = facts(findings[0])
    assert (bob, TYPE, SEMCAT + "User") in got
    assert (bob, SEMCAT + "derivedFrom", TABLE) in got  # the inference traced to its premise
    assert all(f.asserted for f in findings[0].facts)
    [derivation] = findings[0].derivations
    assert derivation.rule.startswith("prp-dom") and "DataAsset" in derivation.rule
    assert findings[0].to_json()["derivations"][0]["premises"]


def test_other_rl_rules(cat: Catalog) -> None:
    a, b = f"{ID}x/a", f"{ID}x/b"
    cat.sparql.update(
        f"{PREFIXES} INSERT DATA {{ <{a}> owl:sameAs <{b}> ; owl:differentFrom <{b}> . "
        f"<{a}> a owl:Nothing }}", actor="t")
    rules = {f.rule for f in cat.consistency()}
    assert {"eq-diff1", "cls-nothing2"} <= rules


def test_refused_when_configured(strict: Catalog) -> None:
    before = type_count(strict, TABLE)
    client = TestClient(create_app(strict))
    r = client.post("/sparql", content=f"{PREFIXES} INSERT DATA {{ <{TABLE}> rdf:type "
                    "semcat:Column }", headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 422, r.text
    assert "Column" in r.text and "cax-adc" in r.text
    assert type_count(strict, TABLE) == before
    assert strict.consistency() == []
    # a harmless write still goes through
    r = client.post("/sparql", content=f"{PREFIXES} INSERT DATA {{ <{TABLE}> "
                    "semcat:description \"raw data\" }",
                    headers={"Content-Type": "application/sparql-update"})
    assert r.status_code < 300, r.text


def test_refusal_reported_beside_shacl() -> None:
    with open_catalog(refuse_inconsistent_writes=True) as c:
        r = TestClient(create_app(c)).post(
            "/sparql", content=f"{PREFIXES} INSERT DATA {{ <{TABLE}> rdf:type semcat:Column }}",
            headers={"Content-Type": "application/sparql-update"})
        assert r.status_code == 422
        assert "cax-adc" in r.text
        assert c.consistency() == []


def test_accepted_by_default_then_reported(cat: Catalog) -> None:
    client = TestClient(create_app(cat))
    r = client.post("/sparql", content=f"{PREFIXES} INSERT DATA {{ <{TABLE}> rdf:type "
                    "semcat:Column }", headers={"Content-Type": "application/sparql-update"})
    assert r.status_code < 300, r.text
    assert [f.rule for f in cat.consistency()] == ["cax-adc"]


def test_rest_endpoint(http: httpx.Client) -> None:
    r = http.get("/api/v1/consistency")
    assert r.status_code == 200
    assert r.json() == {"consistent": True, "findings": []}
    x = f"{ID}people/carol"
    r = http.post("/sparql", content=f"{PREFIXES} INSERT DATA {{ <{x}> a semcat:User, "
                  "semcat:Team ; semcat:name \"carol\" }",
                  headers={"Content-Type": "application/sparql-update"})
    assert r.status_code < 300, r.text
    body = http.get("/api/v1/consistency").json()
    assert body["consistent"] is False
    [finding] = body["findings"]
    assert finding["rule"] == "cax-dw" and finding["focusNode"] == x
    assert len(finding["facts"]) == 3


def test_reasoned_demo_is_consistent() -> None:
    with Catalog.open(Settings(data=None)) as c:
        c.load_demo()
        c.reason()
        assert c.consistency() == []


def test_cli_reason_prints_findings(tmp_path: Path) -> None:
    data = tmp_path / "cat"
    with Catalog.open(Settings(data=data, validate_writes=False)) as c:
        c.assets.upsert_many(assets(), actor="t")
        c.sparql.update(f"{PREFIXES} INSERT DATA {{ <{TABLE}> rdf:type semcat:Column }}",
                        actor="t")
    r = subprocess.run([sys.executable, "-m", "semcat", "reason", "--data", str(data)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={"COLUMNS": "300", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert "cax-adc" in r.stdout and f"{TABLE} {TYPE} {SEMCAT}Column" in r.stdout
