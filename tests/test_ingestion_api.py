"""REST /api/v1/ingestion against real servers (issue 14, item 3): runs start in the background,
are followed, listed, cancelled, refused before anything runs, and survive a server restart as
failed (interrupted) instead of vanishing. The source is a SQLite file made by each test."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingestion.runs import INTERRUPTED
from tests.conftest import Server
from tests.test_api_keys import bearer, cli_key
from tests.test_openapi_schemas import conforms

API = "/api/v1/ingestion"
PROBLEM = "application/problem+json"
BIG = 300  # tables of 3 columns: 1,200 assets, a few seconds of work to cancel or kill


def sqlite_source(path: Path, tables: int = 3) -> dict[str, Any]:
    with sqlite3.connect(path) as db:
        for i in range(tables):
            db.execute(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT, amount REAL)")
    return {"connector": "sql", "workspace": "acme", "config": {"url": f"sqlite:///{path}"}}


def wait_for(client: httpx.Client, run_id: str, statuses: set[str],
             timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"{API}/{run_id}")
        assert r.status_code == 200, r.text
        run: dict[str, Any] = r.json()
        if run["status"] in statuses:
            return run
        assert time.monotonic() < deadline, f"run still {run['status']}: {run}"
        time.sleep(0.05)


def start(client: httpx.Client, config: dict[str, Any]) -> dict[str, Any]:
    r = client.post(API, json=config)
    assert r.status_code == 202, r.text
    run: dict[str, Any] = r.json()
    assert r.headers["location"] == f"{API}/{run['id']}"
    return run


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def test_a_run_starts_in_the_background_and_a_rerun_finds_everything_unchanged(
        client: httpx.Client, tmp_path: Path) -> None:
    config = sqlite_source(tmp_path / "shop.db")
    run = start(client, config)
    assert run["status"] in ("queued", "running") and len(run["id"]) == 32
    assert run["connector"] == "sql" and run["workspace"] == "acme"
    assert run["source"] == "sql:sqlite/shop" and run["actor"] == "anonymous"
    done = wait_for(client, run["id"], {"succeeded", "failed", "cancelled"})
    assert done["status"] == "succeeded", done
    # database, schema, 3 tables of 3 columns
    assert done["counts"] == {"added": 14, "updated": 0, "unchanged": 0, "removed": 0,
                              "failed": 0}
    assert done["complete"] is True and done["progress"]["read"] == 14
    assert done["startedAt"] >= done["createdAt"] and done["endedAt"] >= done["startedAt"]
    assert client.get("/api/v1/assets/acme/table/sqlite/shop.main.t0").status_code == 200

    again = wait_for(client, start(client, config)["id"], {"succeeded", "failed"})
    assert again["counts"] == {"added": 0, "updated": 0, "unchanged": 14, "removed": 0,
                               "failed": 0}

    spec = client.get("/openapi.json").json()  # the answers are what the document says
    conforms(spec, API + "/{run_id}", "get", client.get(f"{API}/{run['id']}"))
    conforms(spec, API, "get", client.get(API))
    conforms(spec, API + "/connectors", "get", client.get(f"{API}/connectors"))
    listed = client.get(API, params={"limit": 1}).json()
    assert [r["id"] for r in listed["items"]] == [again["id"]]  # newest first
    older = client.get(API, params={"limit": 1, "cursor": listed["next"]}).json()
    assert [r["id"] for r in older["items"]] == [run["id"]]
    succeeded = client.get(API, params={"status": "succeeded", "limit": 1000}).json()["items"]
    assert {run["id"], again["id"]} <= {r["id"] for r in succeeded}
    assert all(r["status"] == "succeeded" for r in succeeded)


def test_a_bad_config_is_refused_naming_the_field_and_nothing_is_recorded(
        client: httpx.Client, tmp_path: Path) -> None:
    before = len(client.get(API, params={"limit": 1000}).json()["items"])
    good = sqlite_source(tmp_path / "bad.db")
    cases = [({**good, "config": {"url": "sqlite:///x.db", "colour": "red"}}, "config.colour"),
             ({k: v for k, v in good.items() if k != "workspace"}, "workspace"),
             ({**good, "config": {"url": "postgresql://u:hunter2@h/db"}}, "config.url"),
             ({**good, "connector": "nope"}, "no connector 'nope'")]
    for body, named in cases:
        r = client.post(API, json=body)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert named in r.json()["detail"] and "hunter2" not in r.text
    assert len(client.get(API, params={"limit": 1000}).json()["items"]) == before
    assert client.get(API, params={"status": "bogus"}).status_code in (400, 422)


def test_secrets_stay_references_in_every_response_and_the_log(
        client: httpx.Client, server: Server, tmp_path: Path) -> None:
    secret = f"s3cret-{uuid.uuid4().hex}"
    (tmp_path / "pw").write_text(secret + "\n")
    config = sqlite_source(tmp_path / "secret.db")
    config["config"]["password"] = {"file": str(tmp_path / "pw")}
    run = start(client, config)
    done = wait_for(client, run["id"], {"succeeded", "failed"})
    # SQLite takes no password: the run fails once it resolves it, saying why, not what
    assert done["status"] == "failed" and "no SQLAlchemy driver" in done["error"], done
    assert done["config"]["config"]["password"] == {"file": str(tmp_path / "pw")}
    for text in (client.get(f"{API}/{run['id']}").text, client.get(API).text,
                 server.output()):
        assert secret not in text


def test_unknown_runs_are_404_and_connectors_are_listed(client: httpx.Client) -> None:
    for r in (client.get(f"{API}/{uuid.uuid4().hex}"),
              client.post(f"{API}/{uuid.uuid4().hex}:cancel")):
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    connectors = client.get(f"{API}/connectors").json()["items"]
    sql = next(c for c in connectors if c["name"] == "sql")
    assert sql["enabled"] and sql["error"] is None and sql["target"] == "ingestion.sql:SqlConnector"


def test_cancel_stops_a_queued_run_at_once_and_a_running_one_keeping_what_it_wrote(
        client: httpx.Client, tmp_path: Path) -> None:
    config = {**sqlite_source(tmp_path / "big.db", BIG), "name": "big", "batch_size": 50}
    first = start(client, config)
    second = start(client, config)  # one worker: it waits behind the first
    r = client.post(f"{API}/{second['id']}:cancel")
    conforms(client.get("/openapi.json").json(), API + "/{run_id}:cancel", "post", r)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert r.json()["startedAt"] is None

    wait_for(client, first["id"], {"running"})
    r = client.post(f"{API}/{first['id']}:cancel")
    assert r.status_code in (200, 202), r.text
    assert r.json()["cancelRequested"] is True
    done = wait_for(client, first["id"], {"succeeded", "failed", "cancelled"})
    assert done["status"] == "cancelled", done
    assert done["complete"] is False and done["error"] is None
    assert 0 < done["counts"]["added"] < 1 + 1 + BIG * 4  # what it read before it stopped
    assert done["counts"]["removed"] == 0
    assert wait_for(client, second["id"], {"cancelled"})["counts"] is None  # it never ran
    # cancelling what has ended changes nothing
    assert client.post(f"{API}/{first['id']}:cancel").json()["status"] == "cancelled"


def test_a_run_the_server_dies_during_is_failed_interrupted_after_restart(
        tmp_path: Path) -> None:
    config = {**sqlite_source(tmp_path / "big.db", BIG), "batch_size": 50}
    srv = Server(tmp_path / "data").start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            running = start(c, config)
            queued = start(c, config)
            wait_for(c, running["id"], {"running"})
        srv.kill()
        srv.start()
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            for run_id in (running["id"], queued["id"]):
                run = c.get(f"{API}/{run_id}").json()
                assert run["status"] == "failed" and run["error"] == INTERRUPTED, run
                assert run["endedAt"] is not None
    finally:
        srv.stop()


def test_starting_a_run_needs_run_ingestion_and_write_in_the_workspace(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", env={"SEMCAT_OPEN": "0"}).start()
    try:
        viewer = cli_key(srv.data, "--user", "user/vera", "--workspace", "acme", "--role",
                         "viewer")
        admin = cli_key(srv.data, "--user", "user/root", "--admin")
        config = sqlite_source(tmp_path / "shop.db")
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.post(API, json=config, headers=bearer(viewer))
            assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
            assert "run-ingestion" in r.json()["detail"]
            assert c.get(API, headers=bearer(viewer)).json()["items"] == []
            assert c.get(API, headers=bearer(admin)).json()["items"] == []  # nothing recorded
            assert c.get("/api/v1/assets/acme/table/sqlite/shop.main.t0",
                         headers=bearer(admin)).status_code == 404
            run = c.post(API, json=config, headers=bearer(admin))
            assert run.status_code == 202, run.text
            assert c.get(f"{API}/{run.json()['id']}", headers=bearer(viewer)).status_code == 404
    finally:
        srv.stop()
