"""Access control over HTTP on a real server with anonymous access off: for each interface a
reader without rights sees nothing of the hidden assets, and writes without rights change
nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.access_scenario import (
    CUSTOMERS,
    EMAIL,
    EXPERIMENTS,
    HASH,
    PAYROLL,
    assets,
    load_over_http,
    policies,
)
from tests.conftest import Server
from tests.test_api_keys import cli_key

BASE = "http://127.0.0.1:8000"
SC = "https://w3id.org/semcat#"
HIDDEN_IRIS = {f"{BASE}/id/{k}" for k in (EMAIL, PAYROLL, EXPERIMENTS)}
PII_GRAPH = f"{BASE}/graph/acme/classification%2Fpii"


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("access"), env={"SEMCAT_OPEN": "0"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def keys(secure: Server) -> dict[str, str]:
    data: Path = secure.data
    tokens = {
        "admin": cli_key(data, "--user", "user/root", "--admin"),
        "alice": cli_key(data, "--user", "user/alice", "--workspace", "acme", "--role", "viewer"),
        "bob": cli_key(data, "--user", "user/bob"),   # acme reader through his directory role
        "carol": cli_key(data, "--user", "user/carol", "--workspace", "research", "--role",
                         "editor"),
        "dave": cli_key(data, "--user", "user/dave"),
    }
    with httpx.Client(base_url=secure.url, timeout=60,
                      headers={"X-API-Key": tokens["admin"]}) as admin:
        load_over_http(admin)
    return tokens


@pytest.fixture(scope="module")
def as_(secure: Server, keys: dict[str, str]) -> Iterator[dict[str, httpx.Client]]:
    clients = {who: httpx.Client(base_url=secure.url, timeout=60, headers={"X-API-Key": token})
               for who, token in keys.items()}
    yield clients
    for c in clients.values():
        c.close()


def select(client: httpx.Client, query: str, **params: Any) -> set[str]:
    r = client.get("/sparql", params={"query": query, **params},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return {b["value"] for row in r.json()["results"]["bindings"] for b in row.values()}


def test_rest_reads_hide_what_the_caller_may_not_read(as_: dict[str, httpx.Client]) -> None:
    bob, alice = as_["bob"], as_["alice"]
    for key in (EMAIL, PAYROLL, EXPERIMENTS):
        r = bob.get(f"/api/v1/assets/{key}")
        assert r.status_code == 404 and r.headers["content-type"].startswith(
            "application/problem+json")
        assert bob.get(f"/api/v1/assets/{key}/versions").status_code == 404
    assert alice.get(f"/api/v1/assets/{EMAIL}").status_code == 200
    listed = {i["id"] for i in bob.get("/api/v1/assets", params={"limit": 500}).json()["items"]}
    assert {CUSTOMERS, HASH} <= listed and not listed & {EMAIL, PAYROLL, EXPERIMENTS}
    columns = bob.get("/api/v1/assets", params={"type": "Column"}).json()["items"]
    assert [c["id"] for c in columns] == [HASH]
    assert "derivedFrom" not in bob.get(f"/api/v1/assets/{HASH}").json()
    assert alice.get(f"/api/v1/assets/{HASH}").json()["derivedFrom"] == [EMAIL]


def test_sparql_datasets_contain_only_readable_graphs(as_: dict[str, httpx.Client]) -> None:
    bob = as_["bob"]
    queries = [
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o }",
        "SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER(isIRI(?o)) }",
        "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
        f"SELECT ?s FROM <{PII_GRAPH}> WHERE {{ ?s ?p ?o }}",
        f"SELECT ?s FROM NAMED <{PII_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT ?s WHERE {{ GRAPH <{PII_GRAPH}> {{ ?s ?p ?o }} }}",
        f"SELECT ?x WHERE {{ ?c <{SC}derivedFrom>+ ?x }}",
        f"SELECT ?x WHERE {{ ?x (<{SC}partOf>|^<{SC}partOf>)* <{BASE}/id/{CUSTOMERS}> }}",
    ]
    for q in queries:
        assert not select(bob, q) & HIDDEN_IRIS, q
    graphs = select(bob, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert not any("pii" in g or "restricted" in g or "/research/" in g for g in graphs)
    assert select(bob, "SELECT ?s WHERE { ?s ?p ?o }", **{"default-graph-uri": PII_GRAPH}) \
        == set()
    assert select(bob, "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
                  **{"named-graph-uri": PII_GRAPH}) == set()
    count = f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a <{SC}Column> }}"
    assert select(bob, count) == {"1"} and select(as_["alice"], count) == {"2"}
    ask = bob.get("/sparql", params={"query": f"ASK {{ <{BASE}/id/{EMAIL}> ?p ?o }}"},
                  headers={"Accept": "application/sparql-results+json"})
    assert ask.json()["boolean"] is False
    construct = bob.get("/sparql", params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"},
                        headers={"Accept": "application/n-triples"})
    assert construct.status_code == 200 and not any(i in construct.text for i in
                                                    (f"<{x}>" for x in HIDDEN_IRIS))
    # no role in any workspace: the asset data is gone, the vocabulary stays
    assert not select(as_["dave"], f"SELECT ?s WHERE {{ ?s a <{SC}Table> }}")


def test_graph_store_and_explain_hide_graphs_and_assets(as_: dict[str, httpx.Client]) -> None:
    bob = as_["bob"]
    assert bob.get("/store", params={"graph": PII_GRAPH}).status_code == 404
    assert as_["alice"].get("/store", params={"graph": PII_GRAPH}).status_code == 200
    dump = bob.get("/store", params={"default": ""}, headers={"Accept": "application/n-triples"})
    assert dump.status_code == 200 and HASH in dump.text
    assert not any(f"<{x}>" in dump.text for x in HIDDEN_IRIS)
    assert bob.get(f"/api/v1/assets/{EMAIL}/explain").status_code == 404


def test_writes_without_rights_are_refused_and_change_nothing(
        as_: dict[str, httpx.Client]) -> None:
    admin, bob, carol, dave = as_["admin"], as_["bob"], as_["carol"], as_["dave"]
    before = admin.get(f"/api/v1/assets/{CUSTOMERS}/versions").json()
    customers = admin.get(f"/api/v1/assets/{CUSTOMERS}").json()
    changed = {**customers, "description": "vandalised"}
    changed.pop("@context", None)
    attempts = [
        bob.put(f"/api/v1/assets/{CUSTOMERS}", json=changed),
        bob.patch(f"/api/v1/assets/{CUSTOMERS}", json={"description": "x"},
                  headers={"Content-Type": "application/merge-patch+json"}),
        dave.post("/api/v1/assets:bulk", json=[changed]),
        carol.post("/api/v1/assets:bulk", json=[
            {**assets()[8], "description": "fine"}, changed]),   # one item outside research
        carol.delete(f"/api/v1/assets/{EXPERIMENTS}"),            # editors may not delete
        bob.post("/api/v1/assets", json={**policies()[1], "effect": "allow"}),
        bob.post("/sparql", data={"update": f"INSERT DATA {{ GRAPH <{BASE}/graph/acme/general> "
                                            f"{{ <{BASE}/id/{CUSTOMERS}> <{SC}description> 'x' }} }}"}),
        bob.post("/sparql", data={"update": "DELETE WHERE { ?s ?p ?o }"}),
        dave.put("/store", params={"graph": f"{BASE}/graph/acme/general"},
                 content=b"<urn:a> <urn:b> <urn:c> .", headers={"Content-Type": "text/turtle"}),
        bob.delete("/store", params={"graph": f"{BASE}/graph/acme/general"}),
    ]
    for n, r in enumerate(attempts):
        assert r.status_code == 403, (n, r.status_code, r.text)
    after = admin.get(f"/api/v1/assets/{CUSTOMERS}/versions").json()
    assert after == before
    assert admin.get(f"/api/v1/assets/{CUSTOMERS}").json()["description"] == \
        customers["description"]
    assert admin.get(f"/api/v1/assets/{EXPERIMENTS}").json()["description"] == \
        assets()[8]["description"]
    ok = carol.patch(f"/api/v1/assets/{EXPERIMENTS}", json={"description": "carol's"},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert ok.status_code == 200, ok.text
    assert admin.get(f"/api/v1/assets/{EXPERIMENTS}").json()["updatedBy"] == "user/carol"


def test_denied_writes_are_in_the_audit_log(as_: dict[str, httpx.Client]) -> None:
    as_["dave"].post("/api/v1/assets:bulk", json=[{**assets()[2], "description": "x"}])
    r = as_["admin"].get("/api/v1/audit", params={"outcome": "denied", "limit": 200})
    assert r.status_code == 200, r.text
    entries = r.json()["items"] if isinstance(r.json(), dict) else r.json()
    assert any(e.get("actor") in ("user/dave", "dave") for e in entries), json.dumps(entries)[:500]


def test_search_hits_totals_facets_and_suggestions_cover_readable_assets_only(
        as_: dict[str, httpx.Client]) -> None:
    def search(who: str, **params: Any) -> dict[str, Any]:
        r = as_[who].get("/api/v1/search", params={"mode": "keyword", "limit": 50, **params})
        assert r.status_code == 200, r.text
        return dict(r.json())
    bob, alice = search("bob", q="email"), search("alice", q="email")
    assert {h["id"] for h in alice["hits"]} >= {EMAIL, HASH}
    seen = {h["id"] for h in bob["hits"]}
    assert HASH in seen and not seen & {EMAIL, PAYROLL, EXPERIMENTS}
    assert bob["total"] == len(seen) < alice["total"]
    everything = search("bob", q="")
    ids = {h["id"] for h in everything["hits"]}
    assert not ids & {EMAIL, PAYROLL, EXPERIMENTS}
    facets = json.dumps(everything.get("facets", {}))
    assert "classification/pii" not in facets and "research" not in facets
    assert sum(v["count"] for v in everything["facets"]["type"]) == everything["total"]
    suggest = as_["bob"].get("/api/v1/search/suggest", params={"q": "pay"})
    assert suggest.status_code == 200, suggest.text
    assert "payroll" not in suggest.text
    assert "payroll" in as_["alice"].get("/api/v1/search/suggest", params={"q": "pay"}).text


def test_workspace_admins_hand_out_roles_in_their_workspace_only(
        secure: Server, as_: dict[str, httpx.Client]) -> None:
    made = as_["admin"].post("/api/v1/keys", json={"subject": "user/dave", "workspace": "acme",
                                                   "role": "workspace-admin"})
    assert made.status_code == 201, made.text
    with httpx.Client(base_url=secure.url, timeout=60,
                      headers={"X-API-Key": made.json()["token"]}) as ws_admin:
        ok = ws_admin.post("/api/v1/keys", json={"subject": "user/erin", "workspace": "acme",
                                                 "role": "editor"})
        assert ok.status_code == 201, ok.text
        assert ws_admin.post("/api/v1/keys", json={"subject": "user/erin",
                                                   "workspace": "research",
                                                   "role": "editor"}).status_code == 403
        assert ws_admin.post("/api/v1/keys", json={"subject": "user/erin", "admin": True}
                             ).status_code == 403
        typo = ws_admin.post("/api/v1/keys", json={"subject": "user/erin", "workspace": "acme",
                                                   "role": "editr"})
        assert typo.status_code == 400 and "no role 'editr'" in typo.text
        assert ws_admin.get("/api/v1/audit").status_code == 403
        # alice's team owns the restricted payroll table: a key made for her by a workspace
        # admin carries the role it hands out, not her team's rights (its maker holds it)
        for_alice = ws_admin.post("/api/v1/keys", json={"subject": "user/alice",
                                                        "workspace": "acme", "role": "viewer"})
        assert for_alice.status_code == 201 and for_alice.json()["delegated"] is True
        own = ws_admin.post("/api/v1/keys", json={"subject": "user/dave", "workspace": "acme",
                                                  "role": "viewer"})
        assert own.status_code == 201 and own.json()["delegated"] is False
    erin = httpx.get(f"{secure.url}/api/v1/assets/{CUSTOMERS}",
                     headers={"X-API-Key": ok.json()["token"]})
    assert erin.status_code == 200
    lent = {"X-API-Key": for_alice.json()["token"]}
    assert httpx.get(f"{secure.url}/api/v1/assets/{CUSTOMERS}", headers=lent).status_code == 200
    assert httpx.get(f"{secure.url}/api/v1/assets/{PAYROLL}", headers=lent).status_code == 404
    assert as_["alice"].get(f"/api/v1/assets/{PAYROLL}").status_code == 200
    assert httpx.get(f"{secure.url}/api/v1/assets/{PAYROLL}",
                     headers={"X-API-Key": made.json()["token"]}).status_code == 404
