"""Three users, two policies, every interface (issue 10, items 3 to 5, against a real server
with anonymous access off): what is hidden from a caller, whether asserted, derived by a rule,
along lineage or from its container, is absent from REST, SPARQL (SELECT, ASK, aggregates,
GRAPH ?g), search (hits, totals, facets, suggestions, the natural-language reading) and the Graph
Store; and writing about it answers exactly as writing about an absent asset does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.access_scenario import CUSTOMERS, EMAIL, PAYROLL, assets, directory, policies
from tests.conftest import Server
from tests.test_api_keys import cli_key

BASE = "http://127.0.0.1:8000"
SC = "https://w3id.org/semcat#"
RULE = {"id": "rule/ssn", "name": "Social security numbers",
        "construct": "CONSTRUCT { ?this semcat:classification <classification/pii> } WHERE "
                     "{ ?this a semcat:Column ; semcat:name ?n . FILTER(CONTAINS(?n, \"ssn\")) }"}


def _column(table: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Column", "workspace": "acme", "platform": "platform/pg",
            "qualifiedName": f"db.s.{table}.{name}", "name": name, "dataType": "TEXT",
            "partOf": f"acme/table/pg/db.s.{table}", "description": f"{name} of {table}", **extra}


SSN = "acme/column/pg/db.s.customers.zebra_ssn"          # PII by a rule
COPY = "acme/column/pg/db.s.customers.walrus_copy"      # PII along lineage from EMAIL
SALARY = "acme/column/pg/db.s.payroll.quokka_salary"     # in a Restricted table
HIDDEN = (EMAIL, SSN, COPY, PAYROLL, SALARY)
ABSENT = "acme/column/pg/db.s.customers.never_was"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("security"), env={"SEMCAT_OPEN": "0"}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def users(srv: Server) -> dict[str, httpx.Client]:
    admin_key = cli_key(srv.data, "--user", "user/alice", "--admin")
    admin = httpx.Client(base_url=srv.url, timeout=60, headers={"X-API-Key": admin_key})
    erin = {"id": "user/erin", "type": "User", "name": "Erin", "memberOf": ["team/contractors"]}
    for batch in ([*directory(), erin], assets(), policies(), [
            _column("customers", "zebra_ssn"), _column("customers", "walrus_copy",
                                                       derivedFrom=[EMAIL]),
            _column("payroll", "quokka_salary")]):
        r = admin.post("/api/v1/assets:bulk", json=batch)
        assert r.status_code == 200, r.text
    assert admin.post("/api/v1/rules", json=RULE).status_code in (200, 201)
    keys = {"alice": cli_key(srv.data, "--user", "user/alice", "--workspace", "acme", "--role",
                             "viewer"),   # finance: owns payroll, may read PII
            "bob": cli_key(srv.data, "--user", "user/bob"),  # acme reader, contractor
            "erin": cli_key(srv.data, "--user", "user/erin", "--workspace", "acme", "--role",
                            "editor")}    # an acme editor, and a contractor
    clients = {name: httpx.Client(base_url=srv.url, timeout=60, headers={"X-API-Key": key})
               for name, key in keys.items()}
    return {"admin": admin, **clients}


def sparql(client: httpx.Client, query: str) -> dict[str, Any]:
    r = client.post("/sparql", data={"query": query},
                    headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def values(result: dict[str, Any]) -> set[str]:
    return {v["value"].removeprefix(f"{BASE}/id/") for row in result["results"]["bindings"]
            for v in row.values()}


def search(client: httpx.Client, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/search", params={"mode": "keyword", "wait": "true", **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_the_owner_team_reads_what_contractors_may_not(users: dict[str, httpx.Client]) -> None:
    for key in HIDDEN:
        assert users["alice"].get(f"/api/v1/assets/{key}").status_code == 200, key
        assert users["bob"].get(f"/api/v1/assets/{key}").status_code == 404, key


def test_rest_lists_and_histories(users: dict[str, httpx.Client]) -> None:
    bob = users["bob"]
    listed = {i["id"] for i in bob.get("/api/v1/assets", params={"limit": 500}).json()["items"]}
    assert CUSTOMERS in listed and not listed & set(HIDDEN)
    for key in HIDDEN:
        assert bob.get(f"/api/v1/assets/{key}/versions").status_code == 404


def test_sparql_select_ask_aggregates_and_graphs(users: dict[str, httpx.Client]) -> None:
    bob, alice = users["bob"], users["alice"]
    seen = values(sparql(bob, "SELECT DISTINCT ?s WHERE { ?s ?p ?o }"))
    assert CUSTOMERS in seen and not seen & set(HIDDEN)
    for key in HIDDEN:
        assert sparql(bob, f"ASK {{ <{BASE}/id/{key}> ?p ?o }}")["boolean"] is False
        assert sparql(bob, f"ASK {{ ?s ?p <{BASE}/id/{key}> }}")["boolean"] is False
    count = f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a <{SC}Column> }}"
    n_bob = int(sparql(bob, count)["results"]["bindings"][0]["n"]["value"])
    n_alice = int(sparql(alice, count)["results"]["bindings"][0]["n"]["value"])
    assert n_alice - n_bob == 4  # email, zebra_ssn, walrus_copy, quokka_salary
    graphs = values(sparql(bob, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"))
    assert not any("pii" in g or "restricted" in g for g in graphs)
    via_graph = values(sparql(bob, "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }"))
    assert not via_graph & set(HIDDEN)


def test_search_hits_totals_facets_suggestions_and_nl(users: dict[str, httpx.Client]) -> None:
    bob, alice = users["bob"], users["alice"]
    for word in ("zebra", "quokka", "walrus"):
        assert search(alice, q=word)["total"] >= 1, word
        found = search(bob, q=word)
        assert found["total"] == 0 and found["hits"] == [], (word, found["hits"])
    facets = search(bob, q="", facets="classification")["facets"].get("classification", [])
    assert not any(f["value"].startswith("classification/pii") for f in facets), facets
    suggested = bob.get("/api/v1/search/suggest", params={"q": "quokka"}).json()
    assert suggested["suggestions"] == []
    suggested = bob.get("/api/v1/search/suggest", params={"q": "zebra"}).json()
    assert suggested["suggestions"] == []
    # the natural-language reading knows no value only hidden assets carry
    reading = search(bob, q="tables in workspace research", nl="true")["interpretation"]
    assert "research" not in str(reading.get("filters", {}))
    assert "research" in str(search(users["admin"], q="tables in workspace research",
                                     nl="true")["interpretation"].get("filters", {}))


def test_graph_store_reads(users: dict[str, httpx.Client]) -> None:
    bob = users["bob"]
    pii_graph = f"{BASE}/graph/acme/classification%2Fpii"
    assert users["alice"].get("/store", params={"graph": pii_graph}).status_code == 200
    hidden = bob.get("/store", params={"graph": pii_graph})
    absent = bob.get("/store", params={"graph": f"{BASE}/graph/acme/never"})
    assert hidden.status_code == absent.status_code == 404
    dump = bob.get("/store", headers={"Accept": "application/n-quads"}).text
    assert not any(f"<{BASE}/id/{key}>" in dump for key in HIDDEN)


def _same(hidden: httpx.Response, absent: httpx.Response) -> None:
    """Two answers that differ only in the id the caller gave."""
    assert hidden.status_code == absent.status_code, (hidden.text, absent.text)
    def norm(r: httpx.Response) -> str:
        return re.sub(r"[\w./%-]*(never_was|walrus_copy|zebra_ssn|email)\b", "X", r.text)
    assert norm(hidden) == norm(absent)


def test_hidden_and_absent_are_indistinguishable_to_a_writer(
        users: dict[str, httpx.Client]) -> None:
    erin = users["erin"]
    for hidden in (SSN, COPY):
        _same(erin.patch(f"/api/v1/assets/{hidden}", json={"description": "x"},
                         headers={"Content-Type": "application/merge-patch+json"}),
              erin.patch(f"/api/v1/assets/{ABSENT}", json={"description": "x"},
                         headers={"Content-Type": "application/merge-patch+json"}))
        _same(erin.delete(f"/api/v1/assets/{hidden}"),
              erin.delete(f"/api/v1/assets/{ABSENT}"))
        _same(erin.get(f"/api/v1/assets/{hidden}/versions"),
              erin.get(f"/api/v1/assets/{ABSENT}/versions"))
        _same(erin.put(f"/api/v1/assets/{hidden}", headers={"If-Match": '"1"'},
                       json=_column("customers", hidden.rsplit(".", 1)[-1])),
              erin.put(f"/api/v1/assets/{ABSENT}", headers={"If-Match": '"1"'},
                       json=_column("customers", "never_was")))
        # a reference to it is judged as a reference to nothing
        _same(erin.post("/api/v1/assets", json=_column("customers", "linked",
                                                       derivedFrom=[hidden])),
              erin.post("/api/v1/assets", json=_column("customers", "linked",
                                                       derivedFrom=[ABSENT])))
        update = (f"PREFIX semcat: <{SC}> INSERT DATA {{ <{BASE}/id/acme/column/pg/db.s."
                  f"customers.linked> semcat:derivedFrom <{BASE}/id/%s> }}")
        _same(erin.post("/update", content=update % hidden,
                        headers={"Content-Type": "application/sparql-update"}),
              erin.post("/update", content=update % ABSENT,
                        headers={"Content-Type": "application/sparql-update"}))
        deleting = f"DELETE WHERE {{ <{BASE}/id/%s> ?p ?o }}"
        _same(erin.post("/update", content=deleting % hidden,
                        headers={"Content-Type": "application/sparql-update"}),
              erin.post("/update", content=deleting % ABSENT,
                        headers={"Content-Type": "application/sparql-update"}))
    assert users["alice"].get(f"/api/v1/assets/{SSN}").json()["name"] == "zebra_ssn"
