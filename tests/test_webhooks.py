"""Webhooks (issue 17, item 3) against a real server and a real HTTP receiver on 127.0.0.1:
deliveries signed per Standard Webhooks (checked with the spec's own library and by hand),
retried with backoff on 500s, dead-lettered after the last attempt and replayed, a Slack
payload, secret rotation, and deliveries that survive a server restart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from events.webhook_store import SCHEMA, WebhookStore
from tests.access_scenario import CUSTOMERS, assets, directory, load_over_http
from tests.conftest import Server
from tests.test_api_keys import cli_key

FAST_RETRIES = {"SEMCAT_WEBHOOKS_ALLOW_PRIVATE": "true", "SEMCAT_WEBHOOKS_MAX_ATTEMPTS": "3",
                "SEMCAT_WEBHOOKS_BACKOFF_S": "0.2", "SEMCAT_WEBHOOKS_MAX_BACKOFF_S": "0.4"}


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers each path with the
    statuses it was told, in turn (the last one repeats; 200 for paths it was not told of)."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.plans: dict[str, list[int]] = {}
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    plan = receiver.plans.get(self.path, [200])
                    status = plan.pop(0) if len(plan) > 1 else plan[0]
                    receiver.hits.append(Hit(self.path, {k.lower(): v for k, v in
                                                         self.headers.items()}, body,
                                             time.monotonic(), status))
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def at(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def wait(self, path: str, until: Callable[[list[Hit]], bool], timeout: float = 30
             ) -> list[Hit]:
        """The hits at ``path`` once ``until`` holds for them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                hits = [h for h in self.hits if h.path == path]
                if until(hits):
                    return hits
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{path}: {len(hits)} requests, condition not met: "
                                         f"{[h.body[:120] for h in hits]}")
                self._lock.wait(left)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def about(key: str, position: int | None = None) -> Callable[[list[Hit]], bool]:
    """Until a hit's event names ``key`` (at ``position``, if given)."""
    return lambda hits: any(key in {a["id"] for a in h.event.get("assets", [])}
                            and (position is None or h.event["position"] == position)
                            for h in hits if h.answered == 200)


def describe(admin: httpx.Client, key: str, text: str) -> int:
    r = admin.patch(f"/api/v1/assets/{key}", json={"description": text})
    assert r.status_code == 200, r.text
    return int(r.headers["Semcat-Position"])


def subscribe(client: httpx.Client, url: str, **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/webhooks", json={"url": url, **body})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    assert r.headers["location"] == f"/api/v1/webhooks/{created['id']}"
    return created


def deliveries(client: httpx.Client, sub_id: str, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/webhooks/{sub_id}/deliveries", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def settled(client: httpx.Client, sub_id: str, event: str, timeout: float = 30
            ) -> dict[str, Any]:
    """The delivery of ``event`` once it is delivered or dead-lettered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [d for d in deliveries(client, sub_id) if d["event"] == event]
        if found and found[0]["status"] in ("delivered", "dead-lettered"):
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{event} was not settled: {deliveries(client, sub_id)}")


def hand_verified(secret: str, hit: Hit) -> bool:
    """The signature, checked without the library: HMAC-SHA256 of id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{hit.headers['webhook-id']}.{hit.headers['webhook-timestamp']}.".encode() + hit.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in hit.headers["webhook-signature"].split(" ")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("webhooks"), env={"SEMCAT_OPEN": "0", **FAST_RETRIES})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(served: Server) -> Iterator[httpx.Client]:
    token = cli_key(served.data, "--user", "user/root", "--admin")
    with httpx.Client(base_url=served.url, timeout=60, headers={"X-API-Key": token}) as client:
        load_over_http(client)
        yield client


def test_deliveries_are_signed_per_standard_webhooks_and_secrets_stay_secret(
        served: Server, admin: httpx.Client, receiver: Receiver) -> None:
    sub = subscribe(admin, receiver.url + "/signed", workspaces=["acme"], assetTypes=["Table"])
    secret = sub["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert sub["workspaces"] == ["acme"] and sub["owner"] == "user/root"
    position = describe(admin, CUSTOMERS, "signed and sealed")
    [hit] = receiver.wait("/signed", about(CUSTOMERS, position))
    event = Webhook(secret).verify(hit.body, hit.headers)  # raises unless the signature holds
    assert hand_verified(secret, hit)
    assert hit.headers["webhook-id"] == event["id"] == f"{position}-0"
    assert abs(int(hit.headers["webhook-timestamp"]) - time.time()) < 60
    assert event["type"] == "asset.updated" and event["actor"] == "user/root"
    assert "delta" not in event
    with pytest.raises(WebhookVerificationError):  # another secret does not verify it
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(hit.body, hit.headers)
    with pytest.raises(WebhookVerificationError):  # nor does a tampered body
        Webhook(secret).verify(hit.body.replace(b"updated", b"deleted"), hit.headers)
    done = settled(admin, sub["id"], event["id"])
    assert (done["attempts"], done["statusCode"], done["lastError"]) == (1, 200, None)
    assert done["latencyMs"] is not None and done["latencyMs"] >= 0

    # the secret is never shown again: not in get, list, the audit log or the server's log
    got = admin.get(f"/api/v1/webhooks/{sub['id']}")
    listed = admin.get("/api/v1/webhooks")
    audit = admin.get("/api/v1/audit", params={"limit": 1000})
    assert got.status_code == listed.status_code == audit.status_code == 200
    assert "secret" not in got.json() and got.json()["id"] == sub["id"]
    assert sub["id"] in {s["id"] for s in listed.json()["items"]}
    assert any(e["action"] == "webhook.create" for e in audit.json()["items"])
    for text in (got.text, listed.text, audit.text, served.output()):
        assert secret not in text and secret[6:] not in text

    # a rotated secret signs the next delivery, and the old one beside it for its grace
    # period, so a receiver still checking the old one misses nothing
    r = admin.post(f"/api/v1/webhooks/{sub['id']}:rotate-secret")
    assert r.status_code == 200, r.text
    rotated = r.json()["secret"]
    assert rotated != secret and rotated.startswith("whsec_")
    position = describe(admin, CUSTOMERS, "signed anew")
    hit = receiver.wait("/signed", about(CUSTOMERS, position))[-1]
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    Webhook(rotated).verify(hit.body, hit.headers)
    Webhook(secret).verify(hit.body, hit.headers)

    # rotated again with no grace (a leaked secret): only the newest verifies
    for bad in ("-1", "604801", "soon"):
        r = admin.post(f"/api/v1/webhooks/{sub['id']}:rotate-secret", params={"graceSeconds": bad})
        assert r.status_code in (400, 422), r.text
    r = admin.post(f"/api/v1/webhooks/{sub['id']}:rotate-secret", params={"graceSeconds": 0})
    assert r.status_code == 200, r.text
    newest = r.json()["secret"]
    position = describe(admin, CUSTOMERS, "signed once more")
    hit = receiver.wait("/signed", about(CUSTOMERS, position))[-1]
    assert len(hit.headers["webhook-signature"].split(" ")) == 1
    Webhook(newest).verify(hit.body, hit.headers)
    for old in (secret, rotated):
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(hit.body, hit.headers)


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(
        admin: httpx.Client, receiver: Receiver) -> None:
    receiver.plans["/flaky"] = [500, 500, 200]
    sub = subscribe(admin, receiver.url + "/flaky", types=["asset.updated"], delta=True)
    position = describe(admin, CUSTOMERS, "third time lucky")
    hits = receiver.wait("/flaky", about(CUSTOMERS, position))
    assert [h.answered for h in hits] == [500, 500, 200]
    assert len({h.headers["webhook-id"] for h in hits}) == 1  # one event, three attempts
    assert hits[1].at - hits[0].at >= 0.19 and hits[2].at - hits[1].at >= 0.39  # backoff
    assert '"third time lucky"' in hits[-1].event["delta"]["added"]
    done = settled(admin, sub["id"], f"{position}-0")
    assert (done["status"], done["attempts"], done["statusCode"]) == ("delivered", 3, 200)


def test_an_event_is_dead_lettered_after_the_last_attempt_and_replayed(
        admin: httpx.Client, receiver: Receiver) -> None:
    receiver.plans["/broken"] = [500]
    sub = subscribe(admin, receiver.url + "/broken", types=["asset.updated"], format="slack")
    lost = describe(admin, CUSTOMERS, "nobody hears this")
    dead = settled(admin, sub["id"], f"{lost}-0")
    assert (dead["status"], dead["attempts"], dead["statusCode"]) == ("dead-lettered", 3, 500)
    assert dead["lastError"].startswith("HTTP 500")
    assert len([h for h in receiver.at("/broken") if h.headers["webhook-id"] == f"{lost}-0"]) == 3
    r = admin.get(f"/api/v1/webhooks/{sub['id']}/dead-letters")
    assert [d["event"] for d in r.json()["items"]] == [f"{lost}-0"]

    receiver.plans["/broken"] = [200]  # the receiver is fixed; the subscription moved on
    later = describe(admin, CUSTOMERS, "heard at once")
    assert settled(admin, sub["id"], f"{later}-0")["status"] == "delivered"
    r = admin.post(f"/api/v1/webhooks/{sub['id']}/dead-letters/{dead['n']}:replay")
    assert r.status_code == 202 and r.json() == {"queued": 1}, r.text
    replayed = settled(admin, sub["id"], f"{lost}-0")
    assert (replayed["status"], replayed["replays"], replayed["n"]) == (
        "delivered", 1, dead["n"]), replayed
    ids = [h.headers["webhook-id"] for h in receiver.at("/broken") if h.answered == 200]
    assert ids == [f"{later}-0", f"{lost}-0"]
    # the Slack format: a {"text": ...} a channel shows, naming the change and the asset
    text = receiver.at("/broken")[-1].event["text"]
    assert text.startswith("*asset.updated* in acme by user/root") and CUSTOMERS in text
    assert admin.get(f"/api/v1/webhooks/{sub['id']}/dead-letters").json()["items"] == []
    r = admin.post(f"/api/v1/webhooks/{sub['id']}/dead-letters/{dead['n']}:replay")
    assert r.status_code == 404  # delivered now: no dead letter to replay


def test_undelivered_events_arrive_after_a_restart(served: Server, admin: httpx.Client,
                                                   receiver: Receiver) -> None:
    sub = subscribe(admin, receiver.url + "/restart", types=["asset.updated"])
    first = describe(admin, CUSTOMERS, "before the restart")
    receiver.wait("/restart", about(CUSTOMERS, first))
    settled(admin, sub["id"], f"{first}-0")
    r = admin.patch(f"/api/v1/webhooks/{sub['id']}", json={"paused": True})
    assert r.status_code == 200 and r.json()["paused"] is True, r.text
    pending = [describe(admin, CUSTOMERS, f"while paused {i}") for i in range(3)]
    time.sleep(0.5)
    assert not [h for h in receiver.at("/restart") if h.event["position"] in pending]
    served.stop()
    served.start()
    r = admin.patch(f"/api/v1/webhooks/{sub['id']}", json={"paused": False})
    assert r.status_code == 200 and r.json()["paused"] is False, r.text
    hits = receiver.wait("/restart", about(CUSTOMERS, pending[-1]))
    assert [h.event["position"] for h in hits] == [first, *pending]  # in order, none twice
    settled(admin, sub["id"], f"{pending[-1]}-0")
    assert admin.get(f"/api/v1/webhooks/{sub['id']}").json()["position"] in (
        str(pending[-1]), f"{pending[-1]}-0")


def test_subscriptions_page_update_and_delete(admin: httpx.Client, receiver: Receiver) -> None:
    made = [subscribe(admin, receiver.url + f"/page{i}", types=["shapes.changed"])["id"]
            for i in range(3)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        r = admin.get("/api/v1/webhooks", params={"limit": 2, **({"cursor": cursor}
                                                                  if cursor else {})})
        assert r.status_code == 200 and len(r.json()["items"]) <= 2, r.text
        seen += [s["id"] for s in r.json()["items"]]
        cursor = r.json()["next"]
        if cursor is None:
            break
    assert seen[-3:] == made and len(seen) == len(set(seen))
    r = admin.patch(f"/api/v1/webhooks/{made[0]}", json={"types": ["asset.deleted"],
                                                         "description": "deletions"})
    assert r.status_code == 200 and r.json()["types"] == ["asset.deleted"], r.text
    assert r.json()["description"] == "deletions"
    assert admin.patch(f"/api/v1/webhooks/{made[0]}", json={"colour": "red"}).status_code == 400
    assert admin.delete(f"/api/v1/webhooks/{made[1]}").status_code == 204
    assert admin.get(f"/api/v1/webhooks/{made[1]}").status_code == 404
    assert admin.get(f"/api/v1/webhooks/{made[1]}/deliveries").status_code == 404


def test_the_data_directory_keeps_the_secrets_to_the_server(served: Server) -> None:
    path = Path(served.data) / "webhooks.sqlite"
    assert path.exists() and path.stat().st_mode & 0o077 == 0


def test_a_position_inside_a_changeset_resumes_with_its_rest_from_the_log(
        tmp_path: Path) -> None:
    """Regression: a subscription whose position is an event inside a changeset (``7-0``)
    read the log from the next changeset after a restart, skipping the rest of its own."""
    from catalog import Catalog, Settings
    from events import Position

    with Catalog.open(Settings(data=tmp_path / "catalog")) as cat:
        for batch in (directory(), assets()):
            cat.assets.upsert_many(batch, actor="admin")
        touched = [{**a, "description": "both workspaces"} for a in assets()
                   if a["qualifiedName"] in ("db.s.customers", "db.s.experiments")]
        cat.assets.upsert_many(touched, actor="admin")
        seq = cat.journal.applied_seq
    with Catalog.open(Settings(data=tmp_path / "catalog")) as cat:  # nothing in memory now
        rest = cat.events.read(Position(seq, 0))
        assert [(e.id, e.workspace) for e in rest] == [(f"{seq}-1", "research")]
        assert [e.id for e in cat.events.read(Position(seq - 1), limit=1)] == [f"{seq}-0",
                                                                                f"{seq}-1"]


def test_a_subscriptions_file_from_before_grace_periods_gains_them(tmp_path: Path) -> None:
    """A webhooks file written before secrets had a grace period opens, keeps its secret, and
    then signs with the old secret beside the new one until the grace period ends."""
    path = tmp_path / "webhooks.sqlite"
    old_schema = SCHEMA.replace(",\n    previous_secret TEXT,\n    previous_until REAL", "")
    assert "previous_secret" not in old_schema
    with closing(sqlite3.connect(path)) as db:
        db.executescript(old_schema)
        db.execute("INSERT INTO subscriptions (id, url, filter, format, delta, description, "
                   "owner, created, updated, secret, position_seq, position_index) VALUES "
                   "('wh_1', 'https://example.org/hook', '{}', 'json', 0, '', '{}', 't', 't', "
                   "'whsec_old', 0, 0)")
        db.commit()
    store = WebhookStore(path)
    assert store.secrets("wh_1") == ("whsec_old",)
    store.set_secret("wh_1", "whsec_new", "t2", grace_s=60)
    assert store.secrets("wh_1") == ("whsec_new", "whsec_old")
    assert store.secrets("wh_1", now=time.time() + 61) == ("whsec_new",)
    store.set_secret("wh_1", "whsec_newest", "t3", grace_s=0)
    assert store.secrets("wh_1") == ("whsec_newest",)
    assert store.secrets("wh_gone") == ()
