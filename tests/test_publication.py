"""The publication policy on a real server with anonymous access off: published assets (and
their parts) dereference and appear in DCAT without credentials, restricted and unpublished
ones answer exactly like unknown IRIs, and only admins or a workspace's stewards may publish."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
import rdflib

from tests.access_scenario import (
    CUSTOMERS,
    EMAIL,
    EXPERIMENTS,
    HASH,
    PAYROLL,
    load_over_http,
)
from tests.conftest import Server
from tests.test_api_keys import cli_key

BASE = "http://127.0.0.1:8000"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
TTL = {"Accept": "text/turtle"}


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("publication"), env={"SEMCAT_OPEN": "0"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def as_(secure: Server) -> Iterator[dict[str, httpx.Client]]:
    tokens = {
        "admin": cli_key(secure.data, "--user", "user/root", "--admin"),
        "viewer": cli_key(secure.data, "--user", "user/alice", "--workspace", "acme", "--role",
                          "viewer"),
        "steward": cli_key(secure.data, "--user", "user/dave", "--workspace", "acme", "--role",
                           "steward"),
        "other": cli_key(secure.data, "--user", "user/carol", "--workspace", "research",
                         "--role", "workspace-admin"),
    }
    clients = {who: httpx.Client(base_url=secure.url, timeout=60, headers={"X-API-Key": t})
               for who, t in tokens.items()}
    clients["anonymous"] = httpx.Client(base_url=secure.url, timeout=60)
    load_over_http(clients["admin"])
    yield clients
    for c in clients.values():
        c.close()


def deref(client: httpx.Client, key: str) -> httpx.Response:
    return client.get(f"/id/{quote(key, safe='/')}", headers=TTL)


def dcat_datasets(client: httpx.Client) -> set[str]:
    r = client.get("/api/v1/export/dcat", headers=TTL)
    assert r.status_code == 200, r.text
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    return {str(s) for s in g.subjects(rdflib.RDF.type, DCAT.Dataset)}


def assert_unknown(r: httpx.Response) -> None:
    """A 404 problem, as for an IRI nobody ever minted."""
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["title"] == "Not found"


def test_nothing_is_public_before_publication(as_: dict[str, httpx.Client]) -> None:
    anon = as_["anonymous"]
    for key in (CUSTOMERS, EMAIL, "acme/table/pg/db.s.never-made"):
        assert_unknown(deref(anon, key))
    assert dcat_datasets(anon) == set()
    assert anon.get("/api/v1/assets").status_code == 401  # the API stays private
    assert anon.get("/api/v1/export").status_code == 401   # and so do full dumps
    # an authenticated viewer dereferences what they may read
    assert deref(as_["viewer"], CUSTOMERS).status_code == 200
    assert_unknown(deref(as_["viewer"], EXPERIMENTS))  # another workspace: as if unknown


def test_publishing_needs_an_admin_or_the_workspace_steward(
        as_: dict[str, httpx.Client]) -> None:
    before = as_["admin"].get("/api/v1/publications").json()
    for who, target in (("viewer", CUSTOMERS), ("viewer", "acme"), ("other", "acme")):
        r = as_[who].put(f"/api/v1/publications/{target}")
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert as_["anonymous"].put("/api/v1/publications/acme").status_code == 401
    assert as_["admin"].put("/api/v1/publications/acme", json={"bogus": 1}).status_code == 400
    assert as_["admin"].get("/api/v1/publications").json() == before
    assert_unknown(deref(as_["anonymous"], CUSTOMERS))
    # naming an asset one may not see is a 404, like one that does not exist
    assert as_["other"].put(f"/api/v1/publications/{PAYROLL}").status_code == 404
    assert as_["admin"].put("/api/v1/publications/nowhere").status_code == 400  # InputError


def test_a_published_table_and_its_parts_are_public_and_nothing_else(
        as_: dict[str, httpx.Client]) -> None:
    anon, steward = as_["anonymous"], as_["steward"]
    r = steward.put(f"/api/v1/publications/{CUSTOMERS}")
    assert r.status_code == 201, r.text
    assert r.json() == {"id": CUSTOMERS, "kind": "asset"}
    assert steward.put(f"/api/v1/publications/{CUSTOMERS}").status_code == 200  # idempotent
    try:
        r = deref(anon, CUSTOMERS)
        assert r.status_code == 200, r.text
        g = rdflib.Graph().parse(data=r.text, format="turtle")
        table = rdflib.URIRef(f"{BASE}/id/{CUSTOMERS}")
        assert str(g.value(table, rdflib.URIRef("https://w3id.org/semcat#name"))) == "customers"
        assert deref(anon, HASH).status_code == 200  # a column of the published table
        assert_unknown(deref(anon, EMAIL))  # its PII column stays hidden
        assert_unknown(deref(anon, PAYROLL))  # same workspace, not published
        assert_unknown(deref(anon, "acme/schema/pg/db.s"))  # the table's parent is not
        assert dcat_datasets(anon) == {str(table)}
        # who edited it is not public
        assert not list(g.triples((None, rdflib.URIRef("https://w3id.org/semcat#createdBy"),
                                   None)))
        listed = steward.get("/api/v1/publications").json()["items"]
        assert {"id": CUSTOMERS, "kind": "asset"} in listed
    finally:
        assert steward.delete(f"/api/v1/publications/{CUSTOMERS}").status_code == 204
    assert_unknown(deref(anon, CUSTOMERS))  # unpublished: hidden again
    assert_unknown(deref(anon, HASH))
    assert dcat_datasets(anon) == set()
    assert steward.delete(f"/api/v1/publications/{CUSTOMERS}").status_code == 404


def test_a_published_workspace_keeps_restricted_and_pii_assets_private(
        as_: dict[str, httpx.Client]) -> None:
    anon, admin = as_["anonymous"], as_["admin"]
    assert admin.put("/api/v1/publications/acme").status_code == 201
    try:
        for key in (CUSTOMERS, HASH, "acme/schema/pg/db.s", "acme/database/pg/db"):
            assert deref(anon, key).status_code == 200, key
        for key in (EMAIL, PAYROLL, EXPERIMENTS):
            assert_unknown(deref(anon, key))
        datasets = dcat_datasets(anon)
        assert datasets == {f"{BASE}/id/{CUSTOMERS}"}  # payroll is Restricted
        # a reader's own DCAT export has what they may read, beyond what is published: alice
        # is in the team owning Restricted payroll, but sees nothing of another workspace
        mine = dcat_datasets(as_["viewer"])
        assert f"{BASE}/id/{PAYROLL}" in mine and f"{BASE}/id/{EXPERIMENTS}" not in mine
        assert dcat_datasets(admin) >= {f"{BASE}/id/{PAYROLL}", f"{BASE}/id/{EXPERIMENTS}"}
        r = anon.get("/.well-known/void", headers=TTL)
        assert r.status_code == 200, r.text
        assert f"{BASE}/id/{CUSTOMERS}" in r.text and PAYROLL not in r.text
    finally:
        assert admin.delete("/api/v1/publications/acme").status_code == 204
    assert_unknown(deref(anon, CUSTOMERS))


def test_publications_are_audited_writes(as_: dict[str, httpx.Client]) -> None:
    steward = as_["steward"]
    assert steward.put(f"/api/v1/publications/{CUSTOMERS}").status_code == 201
    assert steward.delete(f"/api/v1/publications/{CUSTOMERS}").status_code == 204
    entries = as_["admin"].get("/api/v1/audit", params={"limit": 1000}).json()["items"]
    messages = [(e.get("actor"), (e.get("detail") or {}).get("message")) for e in entries]
    assert ("user/dave", f"publish {CUSTOMERS}") in messages
    assert ("user/dave", f"unpublish {CUSTOMERS}") in messages


def test_full_dumps_hold_only_what_the_caller_may_read(as_: dict[str, httpx.Client]) -> None:
    """GET /api/v1/export is a full dump for admins only: anyone else gets what they may
    read, and nobody gets one without credentials, published data or not."""
    def dump(who: str) -> set[str]:
        r = as_[who].get("/api/v1/export", headers={"Accept": "application/n-quads"})
        assert r.status_code == 200, r.text
        return {line.split(" ", 1)[0] for line in r.text.splitlines() if line}
    everything = dump("admin")
    assert {f"<{BASE}/id/{k}>" for k in (CUSTOMERS, EMAIL, PAYROLL, EXPERIMENTS)} <= everything
    theirs = dump("other")  # a workspace admin of research only
    assert f"<{BASE}/id/{EXPERIMENTS}>" in theirs
    assert not {f"<{BASE}/id/{k}>" for k in (CUSTOMERS, EMAIL, PAYROLL, HASH)} & theirs
    assert as_["anonymous"].get("/api/v1/export").status_code == 401
