"""The change stream over Server-Sent Events (issue 17, item 2), on a real server with
anonymous access off: writes arrive as events, filters narrow them, a resumed stream has no
gap and no duplicate, and a viewer never hears of an asset it may not read."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.access_scenario import (
    CUSTOMERS,
    EMAIL,
    EXPERIMENTS,
    PAYROLL,
    assets,
    describe_mixed,
    load_over_http,
)
from tests.conftest import Server
from tests.test_api_keys import cli_key

BASE = "http://127.0.0.1:8000"
HIDDEN_FROM_BOB = (EMAIL, PAYROLL, EXPERIMENTS)
HEARTBEAT = object()  # what a Stream yields for an SSE comment


class Stream:
    """An SSE subscription read on a thread of its own: events (id and JSON) and heartbeats
    land in a queue in the order they came."""

    def __init__(self, url: str, token: str, **params: Any) -> None:
        self.items: queue.Queue[Any] = queue.Queue()
        headers = {"X-API-Key": token}
        if "last_event_id" in params:
            headers["Last-Event-ID"] = params.pop("last_event_id")
        self._client = httpx.Client(base_url=url, timeout=httpx.Timeout(30, read=60),
                                    headers=headers)
        self._response = self._client.send(self._client.build_request(
            "GET", "/api/v1/events", params=params), stream=True)
        assert self._response.status_code == 200, self._response.read()
        assert self._response.headers["content-type"].startswith("text/event-stream")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self._response.iter_lines():
                if line.startswith(":"):
                    self.items.put(HEARTBEAT)
                elif line == "":
                    if "data" in fields:
                        self.items.put((fields.get("id"), json.loads(fields["data"])))
                    fields = {}
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass  # closed by the test
        self.items.put(None)

    def events(self, until: Any, timeout: float = 30) -> list[tuple[str, dict[str, Any]]]:
        """Events until ``until(event)`` holds for one (included) or a heartbeat comes
        (``until=HEARTBEAT``)."""
        out: list[tuple[str, dict[str, Any]]] = []
        deadline = time.monotonic() + timeout
        while True:
            item = self.items.get(timeout=max(0.01, deadline - time.monotonic()))
            if item is None:
                raise AssertionError(f"the stream ended after {len(out)} events")
            if item is HEARTBEAT:
                if until is HEARTBEAT:
                    return out
                continue
            out.append(item)
            if until is not HEARTBEAT and until(item[1]):
                return out

    def close(self) -> None:
        self._response.close()
        self._client.close()


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("events"),
                 env={"SEMCAT_OPEN": "0", "SEMCAT_EVENTS_HEARTBEAT_S": "1"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def keys(secure: Server) -> dict[str, str]:
    tokens = {"admin": cli_key(secure.data, "--user", "user/root", "--admin"),
              "bob": cli_key(secure.data, "--user", "user/bob")}  # acme reader, no PII
    with httpx.Client(base_url=secure.url, timeout=60,
                      headers={"X-API-Key": tokens["admin"]}) as admin:
        load_over_http(admin)
    return tokens


@pytest.fixture(scope="module")
def admin(secure: Server, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=secure.url, timeout=60,
                      headers={"X-API-Key": keys["admin"]}) as client:
        yield client


def describe(admin: httpx.Client, key: str, text: str) -> int:
    """PATCH an asset's description; the change log position of the write."""
    r = admin.patch(f"/api/v1/assets/{key}", json={"description": text})
    assert r.status_code == 200, r.text
    return int(r.headers["Semcat-Position"])


def at(position: int) -> Any:
    return lambda e: e["position"] >= position


def test_writes_arrive_as_events_with_what_changed(secure: Server, keys: dict[str, str],
                                                   admin: httpx.Client) -> None:
    stream = Stream(secure.url, keys["admin"], delta="true")
    try:
        updated = describe(admin, CUSTOMERS, "customers, as events see them")
        table = {"type": "Table", "workspace": "acme", "qualifiedName": "db.s.fresh",
                 "name": "fresh", "description": "new", "platform": "platform/pg",
                 "partOf": "acme/schema/pg/db.s"}
        r = admin.post("/api/v1/assets", json=table)
        assert r.status_code == 201, r.text
        created = int(r.headers["Semcat-Position"])
        r = admin.delete("/api/v1/assets/acme/table/pg/db.s.fresh")
        assert r.status_code in (200, 204), r.text
        deleted = int(r.headers["Semcat-Position"])
        got = [e for _, e in stream.events(at(deleted))]
    finally:
        stream.close()
    assert [(e["position"], e["type"], e["workspace"]) for e in got] == [
        (updated, "asset.updated", "acme"), (created, "asset.created", "acme"),
        (deleted, "asset.deleted", "acme")]
    update, create, delete = got
    assert update["id"] == f"{updated}-0" and update["actor"] == "user/root"
    [customers] = update["assets"]
    assert customers["id"] == CUSTOMERS and customers["version"] >= 2
    assert customers["properties"] == ["https://w3id.org/semcat#description"]
    assert customers["types"] == ["https://w3id.org/semcat#Table"]
    assert '"customers, as events see them"' in update["delta"]["added"]
    assert '"customers, as events see them"' not in update["delta"]["removed"]
    assert create["assets"][0]["version"] == 1 and delete["assets"][0]["version"] == 2
    assert delete["delta"]["added"] == "" and "fresh" in delete["delta"]["removed"]


def test_filters_narrow_the_stream_and_idle_streams_get_heartbeats(
        secure: Server, keys: dict[str, str], admin: httpx.Client) -> None:
    def replay(**params: str) -> list[dict[str, Any]]:
        stream = Stream(secure.url, keys["admin"], **{"from": "0", **params})
        try:  # the log replays at once; the first heartbeat comes when the stream is idle
            return [e for _, e in stream.events(HEARTBEAT)]
        finally:
            stream.close()

    everything = replay()
    assert {e["type"] for e in everything} >= {"ontology.changed", "shapes.changed",
                                                "asset.created"}
    research = replay(workspace="research")
    assert research and {e["workspace"] for e in research} == {"research"}
    assert {a["id"] for e in research for a in e["assets"]} == {
        "research/database/pg/db", "research/schema/pg/db.s", EXPERIMENTS}
    columns = replay(assetType="Column", type="asset.created")
    assert {e["type"] for e in columns} == {"asset.created"}
    assert {a["id"] for e in columns for a in e["assets"]} == {
        EMAIL, "acme/column/pg/db.s.customers.email_hash"}
    pii = replay(classification="classification/pii")
    assert {a["id"] for e in pii for a in e["assets"]} == {EMAIL}
    vocabulary = replay(type="ontology,shapes")
    assert [e["type"] for e in vocabulary][:2] == ["ontology.changed", "shapes.changed"]
    assert all(not e["assets"] for e in vocabulary)
    # the filtered streams are the unfiltered one, narrowed: same ids, same order
    ids = [e["id"] for e in everything]
    for narrowed in (research, columns, pii, vocabulary):
        kept = [e["id"] for e in narrowed]
        assert kept == [i for i in ids if i in set(kept)]


def test_a_resumed_stream_has_no_gap_and_no_duplicate(secure: Server, keys: dict[str, str],
                                                     admin: httpx.Client) -> None:
    first = Stream(secure.url, keys["admin"], type="asset.updated", workspace="acme")
    written = [describe(admin, CUSTOMERS, f"take {i}") for i in range(6)]
    try:
        seen = first.events(at(written[2]))
    finally:
        first.close()  # the subscriber goes away with three events unread, and more come
    written += [describe(admin, CUSTOMERS, f"take {i}") for i in range(6, 12)]
    second = Stream(secure.url, keys["admin"], type="asset.updated", workspace="acme",
                    last_event_id=seen[-1][0])
    try:
        seen += second.events(at(written[-1]))
    finally:
        second.close()
    assert [e["position"] for _, e in seen] == written
    assert [i for i, _ in seen] == [f"{p}-0" for p in written]
    again = Stream(secure.url, keys["admin"], **{"from": str(written[5]),
                                                  "type": "asset.updated"})
    try:
        assert [e["position"] for _, e in again.events(at(written[-1]))] == written[6:]
    finally:
        again.close()


def test_resuming_inside_a_changeset_gives_its_remaining_events(
        secure: Server, keys: dict[str, str], admin: httpx.Client) -> None:
    both = [{**a, "description": "touched in both workspaces"} for a in assets()
            if a["qualifiedName"] == "db.s.customers" or a["name"] == "experiments"]
    r = admin.post("/api/v1/assets:bulk", json=both)
    assert r.status_code == 200, r.text
    seq = int(r.headers["Semcat-Position"])
    stream = Stream(secure.url, keys["admin"], last_event_id=f"{seq}-0")
    try:
        [(event_id, event)] = stream.events(at(seq))
    finally:
        stream.close()
    assert event_id == f"{seq}-1" and event["workspace"] == "research"
    r = httpx.get(f"{secure.url}/api/v1/events", params={"from": "soon"},
                  headers={"X-API-Key": keys["admin"]})
    assert r.status_code == 400 and "event position" in r.json()["detail"]
    assert httpx.get(f"{secure.url}/api/v1/events").status_code == 401


def test_a_viewer_never_hears_of_an_asset_it_may_not_read(
        secure: Server, keys: dict[str, str], admin: httpx.Client) -> None:
    bob = Stream(secure.url, keys["bob"], **{"from": "0", "delta": "true"})
    watcher = Stream(secure.url, keys["admin"])
    try:
        # one changeset about a visible and a hidden asset, then one about hidden ones only
        both = describe_mixed(admin)
        hidden_only = describe(admin, PAYROLL, "salaries, still secret")
        marker = describe(admin, CUSTOMERS, "the end of this test")
        heard = [e for _, e in bob.events(at(marker))]
        told = {e["position"]: e for _, e in watcher.events(at(marker))}
    finally:
        bob.close()
        watcher.close()
    # the admin hears of every asset: the viewer's stream is narrower, not empty by accident
    assert {a["id"] for a in told[both]["assets"]} == {CUSTOMERS, EMAIL}
    assert {a["id"] for a in told[hidden_only]["assets"]} == {PAYROLL}
    named = {a["id"] for e in heard for a in e["assets"]}
    assert CUSTOMERS in named and "acme/column/pg/db.s.customers.email_hash" in named
    assert not named & set(HIDDEN_FROM_BOB), named & set(HIDDEN_FROM_BOB)
    [trimmed] = [e for e in heard if e["position"] == both]
    assert [a["id"] for a in trimmed["assets"]] == [CUSTOMERS]
    assert hidden_only not in {e["position"] for e in heard}
    text = json.dumps(heard)
    for key in HIDDEN_FROM_BOB:  # nor in a delta, nor as the object of a lineage statement
        assert f"<{BASE}/id/{key}>" not in text and f'"{key}"' not in text
