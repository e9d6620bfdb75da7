"""The audit log: writes and denials are recorded with who and from where, the hash chain
verifies, editing the SQLite file behind its back is detected (by the API and by
`semcat audit verify`), the PROV export is RDF, and only admins may read it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Namespace, URIRef

from access.audit import ORIGIN, AuditLog, Origin
from access.identity import Principal
from catalog import Catalog, Settings
from tests.conftest import Server
from tests.test_api_keys import bearer, cli_key, semcat

PROV = Namespace("http://www.w3.org/ns/prov#")
SEMCAT = Namespace("https://w3id.org/semcat#")
DATABASE = {"type": "Database", "workspace": "acme", "platform": "platform/postgres",
            "qualifiedName": "audited", "name": "audited", "description": "An audited database"}


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("audited"), env={"SEMCAT_OPEN": "0"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(secure: Server) -> httpx.Client:
    token = cli_key(secure.data, "--user", "user/root", "--admin")
    return httpx.Client(base_url=secure.url, timeout=30, headers={
        **bearer(token), "User-Agent": "audit-test/1.0"})


def audit(admin: httpx.Client, **params: str | int) -> list[dict[str, object]]:
    r = admin.get("/api/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def test_writes_are_recorded_with_actor_assets_changeset_and_origin(admin: httpx.Client) -> None:
    r = admin.post("/api/v1/assets", json=DATABASE)
    assert r.status_code in (200, 201), r.text
    writes = audit(admin, action="write", newestFirst="true", limit=1)
    entry = writes[0]
    assert entry["outcome"] == "allowed" and entry["via"] == "api-key"
    assert entry["targets"] == ["http://127.0.0.1:8000/id/acme/database/postgres/audited"]
    assert isinstance(entry["changeset"], int) and entry["changeset"] > 0
    assert entry["ip"] == "127.0.0.1" and entry["userAgent"] == "audit-test/1.0"
    assert entry["detail"]["principal"] == "user/root"  # type: ignore[index]


def test_denials_are_recorded(admin: httpx.Client, secure: Server) -> None:
    anonymous = httpx.get(secure.url + "/api/v1/assets", headers={"User-Agent": "nobody/0.1"})
    assert anonymous.status_code == 401
    viewer = cli_key(secure.data, "--user", "user/vera", "--workspace", "acme", "--role",
                     "viewer")
    assert httpx.get(secure.url + "/api/v1/audit", headers=bearer(viewer)).status_code == 403
    denied = audit(admin, outcome="denied", newestFirst="true", limit=2)
    forbidden, unauthenticated = denied
    assert forbidden["actor"] == "user/vera" and forbidden["via"] == "api-key"
    assert forbidden["targets"] == ["/api/v1/audit"]
    assert forbidden["detail"]["status"] == 403  # type: ignore[index]
    assert unauthenticated["actor"] == "anonymous" and unauthenticated["ip"] == "127.0.0.1"
    assert unauthenticated["userAgent"] == "nobody/0.1"
    assert "authentication required" in unauthenticated["detail"]["reason"]  # type: ignore[index]


def test_key_management_is_recorded(admin: httpx.Client) -> None:
    made = admin.post("/api/v1/keys", json={"subject": "user/kim"}).json()
    assert admin.delete(f"/api/v1/keys/{made['id']}").status_code == 204
    revoke, create = audit(admin, newestFirst="true", limit=2)
    assert create["action"] == "key.create" and create["targets"] == [f"key/{made['id']}"]
    assert create["detail"]["subject"] == "user/kim"  # type: ignore[index]
    assert revoke["action"] == "key.revoke" and revoke["actor"] == "user/root"


def test_paging_follows_link_next(admin: httpx.Client) -> None:
    seen, url = [], "/api/v1/audit?limit=2"
    for _ in range(100):
        r = admin.get(url)
        seen += [e["seq"] for e in r.json()["items"]]
        if "link" not in r.headers:
            break
        url = r.headers["link"].split(";")[0].strip("<>")
        assert 'rel="next"' in r.headers["link"]
    assert seen == list(range(1, len(seen) + 1)) and len(seen) > 4


def test_prov_export_is_rdf(admin: httpx.Client) -> None:
    for media, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld")):
        r = admin.get("/api/v1/audit", params={"action": "write"}, headers={"Accept": media})
        assert r.status_code == 200 and r.headers["content-type"].startswith(media)
        g = Graph().parse(data=r.text, format=fmt)
        activities = set(g.subjects(predicate=None, object=PROV.Activity))
        assert activities, r.text[:500]
        generated = set(g.objects(predicate=PROV.generated))
        assert URIRef("http://127.0.0.1:8000/id/acme/database/postgres/audited") in generated
        assert all((a, SEMCAT.outcome, None) in g and (a, PROV.startedAtTime, None) in g
                   and (a, PROV.wasAssociatedWith, None) in g for a in activities)


def test_non_admins_may_not_read_the_audit_log(secure: Server) -> None:
    editor = cli_key(secure.data, "--user", "user/ed", "--workspace", "acme", "--role", "editor")
    for path in ("/api/v1/audit", "/api/v1/audit/verify"):
        r = httpx.get(secure.url + path, headers=bearer(editor))
        assert r.status_code == 403 and "not an instance admin" in r.json()["detail"]


def test_the_sqlite_file_refuses_updates_and_deletes(secure: Server) -> None:
    db = sqlite3.connect(secure.data / "audit.sqlite")
    try:
        for sql in ("UPDATE audit SET outcome = 'allowed'", "DELETE FROM audit WHERE seq = 1"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(sql)
    finally:
        db.close()


def test_tampering_is_detected_by_the_api_and_the_cli(admin: httpx.Client,
                                                      secure: Server) -> None:
    """Runs last in this module: it breaks the chain."""
    assert admin.get("/api/v1/audit/verify").json()["ok"] is True
    ok = semcat("audit", "verify", "--data", str(secure.data), check=False)
    assert ok.returncode == 0 and "intact" in ok.stderr
    victim = audit(admin, outcome="denied", limit=1)[0]["seq"]
    db = sqlite3.connect(secure.data / "audit.sqlite")
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET outcome = 'allowed' WHERE seq = ?", (victim,))
    db.commit()
    db.close()
    check = admin.get("/api/v1/audit/verify").json()
    assert check["ok"] is False and check["firstBadSeq"] == victim
    assert "edited" in check["reason"]
    broken = semcat("audit", "verify", "--data", str(secure.data), check=False)
    assert broken.returncode == 1 and f"entry {victim}" in broken.stderr


def test_chain_unit_checks(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite")
    token = ORIGIN.set(Origin(Principal("user/u", "oidc"), "10.0.0.9", "ua"))
    try:
        for i in range(5):
            log.record(action="request", targets=[f"/x/{i}"], outcome="denied")
    finally:
        ORIGIN.reset(token)
    first = log.entries(limit=1)[0]
    assert first.actor == "user/u" and first.via == "oidc" and first.ip == "10.0.0.9"
    assert log.verify().ok and log.verify().checked == 5
    log.close()
    db = sqlite3.connect(tmp_path / "audit.sqlite")
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute("DELETE FROM audit WHERE seq = 3")
    db.commit()
    db.close()
    check = AuditLog(tmp_path / "audit.sqlite").verify()
    assert not check.ok and check.first_bad_seq == 4 and "missing" in check.reason


def test_in_process_writes_are_audited_as_local(tmp_path: Path) -> None:
    with Catalog.open(Settings(data=tmp_path)) as cat:
        cat.assets.upsert_many([DATABASE], actor="loader")
        entry = cat.audit.entries(action="write", newest_first=True, limit=1)[0]
        assert entry.actor == "loader" and entry.via == "local" and entry.changeset
        assert cat.audit.verify().ok


def test_write_entries_a_power_cut_lost_are_recorded_again_from_the_change_log(
        tmp_path: Path) -> None:
    """A write's entry is not fsynced on its own (the change log's is): if a power cut takes
    it, the next open records it from the change log, and the chain still verifies."""
    data = tmp_path / "cat"
    with Catalog.open(Settings(data=data)) as cat:
        cat.assets.upsert_many([DATABASE], actor="loader")
    before = sqlite3.connect(data / "audit.sqlite")
    before.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before.close()
    saved = (data / "audit.sqlite").read_bytes()  # the audit log as a power cut would leave it
    with Catalog.open(Settings(data=data)) as cat:
        lost = cat.assets.upsert_many([{**DATABASE, "description": "changed"}], actor="loader")
    for suffix in ("-wal", "-shm"):
        (data / f"audit.sqlite{suffix}").unlink(missing_ok=True)
    (data / "audit.sqlite").write_bytes(saved)
    with Catalog.open(Settings(data=data)) as cat:
        entry = cat.audit.entries(action="write", newest_first=True, limit=1)[0]
        assert entry.via == "recovered" and entry.actor == "loader"
        assert entry.targets == (cat.layout.iri(lost[0].id),)
        assert cat.audit.verify().ok
