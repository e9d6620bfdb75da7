"""Recurring ingestion runs over REST against real servers (issue 14, item 3): a schedule fires
runs at its cron times as the principal who made it, is checked like a run before it is kept,
stops firing when deleted or when its API key is revoked, and outlives a server restart. The
source is a SQLite file made by each test; schedules fire every second (croniter's sixth,
seconds field) so that the tests see firings."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.test_api_keys import bearer, cli_key
from tests.test_ingestion_api import sqlite_source, wait_for
from tests.test_openapi_schemas import conforms

SCHEDULES = "/api/v1/ingestion/schedules"
PROBLEM = "application/problem+json"
EVERY_SECOND = "* * * * * */1"


def eventually(check: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


def fired(c: httpx.Client, schedule_id: str, headers: dict[str, str] | None = None,
          *, after: str = "") -> dict[str, Any]:
    """The schedule once it has fired after ``after`` (an ISO time)."""
    def check() -> dict[str, Any] | None:
        s: dict[str, Any] = c.get(f"{SCHEDULES}/{schedule_id}", headers=headers).json()
        return s if (s["lastFiredAt"] or "") > after else None
    return eventually(check)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30)


def test_a_schedule_runs_its_source_at_its_times_until_it_is_deleted(
        client: httpx.Client, tmp_path: Path) -> None:
    config = sqlite_source(tmp_path / "shop.db")
    r = client.post(SCHEDULES, json={"cron": EVERY_SECOND, "run": config})
    assert r.status_code == 201, r.text
    made = r.json()
    assert r.headers["location"] == f"{SCHEDULES}/{made['id']}"
    spec = client.get("/openapi.json").json()  # the answers are what the document says
    conforms(spec, SCHEDULES, "get", client.get(SCHEDULES))
    conforms(spec, SCHEDULES + "/{schedule_id}", "get", client.get(r.headers["location"]))
    assert made["source"] == "sql:sqlite/shop" and made["actor"] == "anonymous"
    assert made["nextAt"] > made["createdAt"] and made["lastRun"] is None

    first = fired(client, made["id"])
    assert first["lastError"] is None and first["lastRun"], first
    run = wait_for(client, first["lastRun"], {"succeeded", "failed", "cancelled"})
    # the first firing added the source's 14 assets; on a busy machine a second one may have
    # fired before this test looked, and found them unchanged (the sum is checked below)
    assert run["status"] == "succeeded", run
    assert run["counts"]["added"] + run["counts"]["unchanged"] == 14, run
    # later firings run it again: nothing new, all unchanged
    later = eventually(lambda: (s := client.get(f"{SCHEDULES}/{made['id']}").json())[
        "lastRun"] not in (None, first["lastRun"]) and s)
    again = wait_for(client, later["lastRun"], {"succeeded", "failed"})
    assert again["counts"]["unchanged"] == 14 and again["counts"]["added"] == 0
    assert [s["id"] for s in client.get(SCHEDULES).json()["items"]] == [made["id"]]

    assert client.delete(f"{SCHEDULES}/{made['id']}").status_code == 204
    gone = client.get(f"{SCHEDULES}/{made['id']}")
    assert gone.status_code == 404 and gone.headers["content-type"].startswith(PROBLEM)
    assert client.get(SCHEDULES).json()["items"] == []
    items = client.get("/api/v1/ingestion", params={"limit": 1000}).json()["items"]
    assert sum(r["counts"]["added"] for r in items
               if r["source"] == made["source"] and r["counts"]) == 14  # once in all
    time.sleep(2.5)  # two firings it would have had
    assert len(client.get("/api/v1/ingestion", params={"limit": 1000}).json()["items"]) == len(
        items)


@pytest.mark.parametrize(("body", "names"), [
    ({"cron": "61 * * * *", "run": None}, "cron"),
    ({"cron": "* * *", "run": None}, "cron"),
    ({"run": None}, "cron"),
    ({"cron": "@daily"}, "run"),
    ({"cron": "@daily", "run": {"connector": "sql", "workspace": "acme"}}, "config"),
    ({"cron": "@daily", "run": {"connector": "nope", "workspace": "acme", "config": {}}},
     "nope"),
    ({"cron": "@daily", "run": None, "when": "now"}, "when"),
])
def test_a_bad_schedule_is_a_precise_400_and_nothing_is_kept(
        client: httpx.Client, tmp_path: Path, body: dict[str, Any], names: str) -> None:
    if body.get("run", 0) is None:
        body = {**body, "run": sqlite_source(tmp_path / "shop.db")}
    r = client.post(SCHEDULES, json=body)
    assert r.status_code == 400 and r.headers["content-type"].startswith(PROBLEM), r.text
    assert names in r.json()["detail"]
    assert client.get(SCHEDULES).json()["items"] == []


def test_schedules_need_run_ingestion_and_stop_when_their_key_is_revoked(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", env={"SEMCAT_OPEN": "0"}).start()
    try:
        viewer = bearer(cli_key(srv.data, "--user", "user/vera", "--workspace", "acme",
                                "--role", "viewer"))
        owner = bearer(cli_key(srv.data, "--user", "user/olga", "--workspace", "acme",
                               "--role", "workspace-admin"))
        admin = bearer(cli_key(srv.data, "--user", "user/root", "--admin"))
        body = {"cron": EVERY_SECOND, "run": sqlite_source(tmp_path / "shop.db")}
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.post(SCHEDULES, json=body, headers=viewer)
            assert r.status_code == 403 and "run-ingestion" in r.json()["detail"]
            assert c.get(SCHEDULES, headers=admin).json()["items"] == []

            r = c.post(SCHEDULES, json=body, headers=owner)
            assert r.status_code == 201, r.text
            made = r.json()
            assert made["actor"] == "user/olga"
            assert c.get(f"{SCHEDULES}/{made['id']}", headers=viewer).status_code == 404
            assert c.get(SCHEDULES, headers=viewer).json()["items"] == []
            assert c.delete(f"{SCHEDULES}/{made['id']}", headers=viewer).status_code == 404
            ran = fired(c, made["id"], owner)
            assert ran["lastError"] is None and ran["lastRun"]
            with httpx.Client(base_url=srv.url, timeout=30, headers=owner) as as_owner:
                done = wait_for(as_owner, ran["lastRun"], {"succeeded", "failed"})
            assert done["status"] == "succeeded" and done["actor"] == "user/olga"

            key_id = c.get("/api/v1/me", headers=owner).json()["keyId"]
            assert c.delete(f"/api/v1/keys/{key_id}", headers=admin).status_code == 204
            since = c.get(f"{SCHEDULES}/{made['id']}", headers=admin).json()["lastFiredAt"]
            refused = fired(c, made["id"], admin, after=since)
            assert f"API key {key_id} was revoked" in refused["lastError"]
            assert refused["lastRun"] == ran["lastRun"]  # no run started as the revoked key
            assert c.delete(f"{SCHEDULES}/{made['id']}", headers=admin).status_code == 204
    finally:
        srv.stop()


def test_schedules_outlive_a_server_restart(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data").start()
    body = {"cron": EVERY_SECOND, "run": sqlite_source(tmp_path / "shop.db")}
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            made = c.post(SCHEDULES, json=body).json()
            before = fired(c, made["id"])
        srv.stop()
        srv.start()
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert [s["id"] for s in c.get(SCHEDULES).json()["items"]] == [made["id"]]
            after = fired(c, made["id"], after=before["lastFiredAt"])
            assert after["lastRun"] and after["lastError"] is None
    finally:
        srv.stop()
