"""Who may make webhooks and what they carry (issue 17, item 3), on real servers: viewers are
refused; a workspace admin's subscription covers only their workspaces and delivers as them, so
it never names an asset they may not read (a PII column, a restricted table) while an admin's
subscription hears of all of them; and with the default settings a target on loopback, a
private network, link-local (cloud metadata) or outside http(s) is refused before it is kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import test_webhooks
from tests.access_scenario import (
    CUSTOMERS,
    EMAIL,
    EXPERIMENTS,
    PAYROLL,
    describe_mixed,
    load_over_http,
)
from tests.conftest import Server
from tests.test_api_keys import cli_key
from tests.test_webhooks import Receiver, about, describe, settled, subscribe

# the same receiver and server fixtures as the webhook tests (one of each for this module)
receiver = test_webhooks.receiver
served = test_webhooks.served


@pytest.fixture(scope="module")
def keys(served: Server) -> dict[str, str]:
    tokens = {"admin": cli_key(served.data, "--user", "user/root", "--admin"),
              "viewer": cli_key(served.data, "--user", "user/bob"),  # acme reader
              # bob administers acme, yet as a contractor may not read PII, nor the
              # restricted payroll (owners only)
              "ws-admin": cli_key(served.data, "--user", "user/bob", "--workspace", "acme",
                                  "--role", "workspace-admin")}
    with httpx.Client(base_url=served.url, timeout=60,
                      headers={"X-API-Key": tokens["admin"]}) as admin:
        load_over_http(admin)
    return tokens


def client(served: Server, token: str) -> httpx.Client:
    return httpx.Client(base_url=served.url, timeout=60, headers={"X-API-Key": token})


def test_a_viewer_may_not_make_or_list_webhooks(served: Server, keys: dict[str, str],
                                                 receiver: Receiver) -> None:
    with client(served, keys["viewer"]) as viewer:
        r = viewer.post("/api/v1/webhooks", json={"url": receiver.url + "/viewer"})
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "workspace admins" in r.json()["detail"]
        assert viewer.get("/api/v1/webhooks").status_code == 403
    assert receiver.at("/viewer") == []
    assert httpx.post(f"{served.url}/api/v1/webhooks", json={"url": receiver.url}).status_code \
        == 401


def test_a_workspace_admins_webhook_never_names_what_they_may_not_read(
        served: Server, keys: dict[str, str], receiver: Receiver) -> None:
    with client(served, keys["admin"]) as admin, client(served, keys["ws-admin"]) as bob:
        r = bob.post("/api/v1/webhooks", json={"url": receiver.url + "/bob",
                                               "workspaces": ["research"]})
        assert r.status_code == 403 and "'research'" in r.json()["detail"], r.text
        mine = subscribe(bob, receiver.url + "/bob", delta=True)
        assert mine["workspaces"] == ["acme"] and mine["owner"] == "user/bob"
        control = subscribe(admin, receiver.url + "/all")
        # a mixed changeset (visible and hidden assets), hidden ones alone, another workspace
        both = describe_mixed(admin)
        hidden = describe(admin, PAYROLL, "salaries, still secret")
        elsewhere = describe(admin, EXPERIMENTS, "lab notes")
        marker = describe(admin, CUSTOMERS, "the end of this test")
        told = receiver.wait("/all", about(CUSTOMERS, marker))
        heard = receiver.wait("/bob", about(CUSTOMERS, marker))
        # the admin's webhook heard of everything: bob's is narrower, not empty by accident
        by_position = {h.event["position"]: h.event for h in told}
        assert {a["id"] for a in by_position[both]["assets"]} == {CUSTOMERS, EMAIL}
        assert {a["id"] for a in by_position[hidden]["assets"]} == {PAYROLL}
        assert {a["id"] for a in by_position[elsewhere]["assets"]} == {EXPERIMENTS}
        named = {a["id"] for h in heard for a in h.event["assets"]}
        assert named == {CUSTOMERS}
        assert {h.event["position"] for h in heard} == {both, marker}
        for h in heard:  # nor does the delta carry a statement about them
            assert "email" not in h.event["delta"]["added"] + h.event["delta"]["removed"]
            assert all(word not in h.body.decode() for word in ("payroll", "experiments"))
        assert settled(bob, mine["id"], f"{marker}-0")["status"] == "delivered"

        # bob sees and changes only his own; the admin's is not even there for him
        assert [s["id"] for s in bob.get("/api/v1/webhooks").json()["items"]] == [mine["id"]]
        assert bob.get(f"/api/v1/webhooks/{control['id']}").status_code == 404
        assert bob.delete(f"/api/v1/webhooks/{control['id']}").status_code == 404
        r = bob.patch(f"/api/v1/webhooks/{mine['id']}", json={"workspaces": ["research"]})
        assert r.status_code == 403, r.text
        listed = admin.get("/api/v1/webhooks").json()["items"]
        assert {mine["id"], control["id"]} <= {s["id"] for s in listed}


def test_a_webhook_whose_owner_lost_their_key_pauses_instead_of_delivering(
        served: Server, keys: dict[str, str], receiver: Receiver) -> None:
    carol = cli_key(served.data, "--user", "user/carol", "--workspace", "acme", "--role",
                    "workspace-admin")
    with client(served, keys["admin"]) as admin, client(served, carol) as owner:
        sub = subscribe(owner, receiver.url + "/carol", types=["asset.updated"])
        seen = describe(admin, CUSTOMERS, "carol hears this")
        receiver.wait("/carol", about(CUSTOMERS, seen))
        key_id = carol.split("_")[1]
        assert admin.delete(f"/api/v1/keys/{key_id}").status_code == 204
        unseen = describe(admin, CUSTOMERS, "carol's key is gone")
        for _ in range(100):
            got = admin.get(f"/api/v1/webhooks/{sub['id']}").json()
            if got["paused"]:
                break
            time.sleep(0.1)
        assert got["paused"] and "revoked" in got["pausedReason"], got
        assert not [h for h in receiver.at("/carol") if h.event["position"] == unseen]
        r = admin.patch(f"/api/v1/webhooks/{sub['id']}", json={"paused": False})
        assert r.status_code == 403 and "revoked" in r.json()["detail"], r.text


REFUSED = [("http://127.0.0.1:9/hook", "loopback"), ("http://localhost:9/hook", "loopback"),
           ("http://10.0.0.1/hook", "private"), ("http://192.168.1.20/hook", "private"),
           ("http://169.254.169.254/latest/meta-data/", "link-local"),
           ("http://[::1]/hook", "loopback"), ("http://[::ffff:10.0.0.1]/hook", "private"),
           ("http://0.0.0.0/hook", "unspecified"), ("file:///etc/passwd", "scheme"),
           ("gopher://127.0.0.1/x", "scheme")]


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Default settings: private targets are not allowed."""
    srv = Server(tmp_path_factory.mktemp("webhook-egress")).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_private_and_non_http_targets_are_refused_by_default(default_server: Server, url: str,
                                                             why: str) -> None:
    r = httpx.post(f"{default_server.url}/api/v1/webhooks", json={"url": url}, timeout=60)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = r.json()
    assert problem["field"] == "url" and problem["refused"] == why, problem
    assert ("SEMCAT_WEBHOOKS_ALLOW_PRIVATE" in problem["detail"]) == (why != "scheme")
    listed = httpx.get(f"{default_server.url}/api/v1/webhooks", timeout=60).json()["items"]
    assert url not in {s["url"] for s in listed}


def test_a_change_of_target_is_checked_like_a_new_one(default_server: Server) -> None:
    with httpx.Client(base_url=default_server.url, timeout=60) as admin:
        public = subscribe(admin, "https://8.8.8.8/hook",
                           types=["shapes.changed"])  # no event of that type comes here
        r = admin.patch(f"/api/v1/webhooks/{public['id']}",
                        json={"url": "http://169.254.169.254/latest/meta-data/"})
        assert r.status_code == 400 and r.json()["refused"] == "link-local", r.text
        assert admin.get(f"/api/v1/webhooks/{public['id']}").json()["url"] == \
            "https://8.8.8.8/hook"
        assert admin.delete(f"/api/v1/webhooks/{public['id']}").status_code == 204
