"""One elected node runs the work done once per cluster (catalog/leadership.py): three `semcat
serve` processes on one shared log, each configured to publish events to NATS, with a webhook
and an ingestion schedule made on nodes that do not lead. Exactly one node leads; each change
is published and delivered once, not once per node, and the schedule fires on the leader only;
when the leader is killed (SIGKILL) another takes over within a bound and resumes from the
cluster's positions, with nothing lost (at least once: what the dead leader sent but had not
confirmed is sent again; the events stream drops those copies by id, a webhook receiver sees
them twice), and the schedule fires there."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from catalog import Catalog, Settings
from events.webhook_mirror import PUSH_S
from graph_store.nats_loop import BackgroundLoop
from tests.conftest import Server
from tests.test_ingestion_api import sqlite_source
from tests.test_multi_node import cluster, eventually, table, uniq
from tests.test_nats_changelog import Node, running, stream_state
from tests.test_webhooks import Receiver

TTL = 2.0  # the lease: a dead leader is replaced within about 1.3 ttl
TAKEOVER_BOUND_S = 15.0  # generous: three servers and a broker share two busy cores here
EVENTS = "LEAD_EVENTS"
SCHEDULES = "/api/v1/ingestion/schedules"
PREFIX = "lead.events"


class Tap:
    """Every publication on the events' subjects, as a plain NATS subscriber sees them: each
    one sent, including copies the JetStream stream drops by id."""

    def __init__(self, url: str) -> None:
        self.seen: Counter[str] = Counter()
        self._loop = BackgroundLoop("tap")

        async def subscribe() -> Any:
            nc = await nats.connect(url)

            async def count(msg: Any) -> None:
                self.seen[(msg.headers or {}).get("Nats-Msg-Id", "?")] += 1
            await nc.subscribe(f"{PREFIX}.>", cb=count)
            await nc.flush()
            return nc
        self._nc = self._loop.run(subscribe(), timeout=10)

    def close(self) -> None:
        self._loop.run(self._nc.close(), timeout=10)
        self._loop.stop()


def health(srv: Server) -> dict[str, Any]:
    return httpx.get(srv.url + "/healthz", timeout=10).json()  # type: ignore[no-any-return]


def leaders(nodes: list[Server]) -> list[Server]:
    return [srv for srv in nodes if health(srv)["role"] == "leader"]


def write(srv: Server) -> int:
    """One new table through ``srv``; the changeset's position (its events' ids are
    ``{position}-{n}``)."""
    r = httpx.post(srv.url + "/api/v1/assets", json=table(uniq()), timeout=30)
    assert r.status_code in (200, 201), r.text
    return int(r.headers["Semcat-Position"].split()[-1])


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with running(tmp_path_factory.mktemp("nats"), "lead") as node:
        yield node


@pytest.fixture(scope="module")
def tap(broker: Node) -> Iterator[Tap]:
    t = Tap(broker.url)
    yield t
    t.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def delivered(receiver: Receiver) -> Counter[str]:
    """How often each event reached the webhook's receiver."""
    return Counter(h.headers["webhook-id"] for h in receiver.at("/hook"))


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, broker: Node,
          tap: Tap) -> Iterator[list[Server]]:
    with cluster(tmp_path_factory.mktemp("nodes"), [({
            "SEMCAT_LOG_URL": broker.url, "SEMCAT_QUERY_WORKERS": "1",
            "SEMCAT_LOG_NODE": f"node{i}", "SEMCAT_LEADER_LEASE_TTL_S": str(TTL),
            "SEMCAT_EVENTS_NATS_URL": broker.url, "SEMCAT_EVENTS_NATS_STREAM": EVENTS,
            "SEMCAT_EVENTS_NATS_SUBJECT_PREFIX": PREFIX, "SEMCAT_EVENTS_NATS_FROM": "start",
            "SEMCAT_WEBHOOKS_ALLOW_PRIVATE": "true"}, ()) for i in range(3)]) as started:
        yield started


def test_exactly_one_node_leads_and_the_others_name_it(nodes: list[Server]) -> None:
    [leader] = eventually(lambda: len(found := leaders(nodes)) == 1 and found,
                          "one leader", TAKEOVER_BOUND_S)
    name = f"node{nodes.index(leader)}"
    for srv in nodes:
        assert eventually(lambda srv=srv: health(srv)["leader"] == name, f"{srv.url} names it")
        metrics = httpx.get(srv.url + "/metrics", timeout=10).text
        assert f"semcat_leader {1.0 if srv is leader else 0.0}" in metrics


def a_follower(nodes: list[Server]) -> Server:
    [leader] = eventually(lambda: len(found := leaders(nodes)) == 1 and found, "one leader",
                          TAKEOVER_BOUND_S)
    return next(srv for srv in nodes if srv is not leader)


@pytest.fixture(scope="module")
def webhook(nodes: list[Server], receiver: Receiver) -> str:
    """A webhook made on a node that does not lead (the leader delivers it)."""
    r = httpx.post(a_follower(nodes).url + "/api/v1/webhooks",
                   json={"url": receiver.url + "/hook", "types": ["asset.created"]}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def schedule(nodes: list[Server], tmp_path_factory: pytest.TempPathFactory) -> str:
    """An ingestion schedule firing every two seconds, made on a node that does not lead."""
    source = sqlite_source(tmp_path_factory.mktemp("source") / "shop.db", tables=1)
    r = httpx.post(a_follower(nodes).url + SCHEDULES,
                   json={"cron": "* * * * * */2", "run": source}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]  # type: ignore[no-any-return]


def test_a_webhook_made_on_any_node_is_known_to_every_node(nodes: list[Server],
                                                          webhook: str) -> None:
    for srv in nodes:
        eventually(lambda srv=srv: httpx.get(f"{srv.url}/api/v1/webhooks/{webhook}",
                                             timeout=10).status_code == 200,
                   f"{srv.url} knows the webhook")


def test_each_change_is_published_and_delivered_once_not_once_per_node(
        nodes: list[Server], tap: Tap, receiver: Receiver, webhook: str) -> None:
    eventually(lambda: len(leaders(nodes)) == 1, "one leader", TAKEOVER_BOUND_S)
    positions = [write(nodes[i % 3]) for i in range(9)]  # through every node
    ids = [f"{p}-0" for p in positions]
    eventually(lambda: all(tap.seen[i] for i in ids), "every change published")
    eventually(lambda: all(delivered(receiver)[i] for i in ids), "every change delivered")
    time.sleep(2)  # time for copies from the other nodes, were there any
    assert [tap.seen[i] for i in ids] == [1] * 9
    assert max(tap.seen.values()) == 1, "an event was published more than once"
    assert [delivered(receiver)[i] for i in ids] == [1] * 9
    assert max(delivered(receiver).values()) == 1, "an event was delivered more than once"


def runs(srv: Server) -> int:
    """Ingestion runs a node has made (each node knows its own)."""
    r = httpx.get(srv.url + "/api/v1/ingestion", params={"limit": 1000}, timeout=10)
    return len(r.json()["items"])


def test_a_schedule_made_on_any_node_fires_on_the_leader_only(nodes: list[Server],
                                                              schedule: str) -> None:
    [leader] = eventually(lambda: len(found := leaders(nodes)) == 1 and found, "one leader",
                          TAKEOVER_BOUND_S)
    for srv in nodes:  # it fired on the leader, and every node hears of it
        eventually(lambda srv=srv: httpx.get(f"{srv.url}{SCHEDULES}/{schedule}",
                                             timeout=10).json()["lastRun"], "a firing")
    assert runs(leader) >= 1
    assert [runs(srv) for srv in nodes if srv is not leader] == [0, 0]


def test_a_killed_leader_is_replaced_and_its_work_resumes_with_nothing_lost(
        nodes: list[Server], tap: Tap, broker: Node, receiver: Receiver, webhook: str,
        schedule: str) -> None:
    [leader] = eventually(lambda: len(found := leaders(nodes)) == 1 and found, "one leader",
                          TAKEOVER_BOUND_S)
    others = [srv for srv in nodes if srv is not leader]
    old = f"{write(others[0])}-0"
    eventually(lambda: tap.seen[old] and delivered(receiver)[old], "an older change sent")
    time.sleep(PUSH_S * 1.5)  # its position is shared (webhooks push theirs every PUSH_S)
    before = [write(srv) for srv in (leader, *others)]
    eventually(lambda: all(tap.seen[f"{p}-0"] and delivered(receiver)[f"{p}-0"]
                           for p in before), "published and delivered by the leader")
    published, sent = len(tap.seen), len(delivered(receiver))
    leader.kill()  # SIGKILL: the lease is not given up, it expires
    killed = time.monotonic()
    during = [write(others[i % 2]) for i in range(4)]  # nobody publishes these yet
    [new] = eventually(lambda: len(found := leaders(others)) == 1 and found,
                       "another node leads", TAKEOVER_BOUND_S)
    took = time.monotonic() - killed
    after = [write(others[i % 2]) for i in range(4)]
    ids = [f"{p}-0" for p in (*before, *during, *after)]
    eventually(lambda: all(tap.seen[i] for i in ids), "every change published, at least once",
               TAKEOVER_BOUND_S)
    eventually(lambda: all(delivered(receiver)[i] for i in ids),
               "every change delivered, at least once", TAKEOVER_BOUND_S)
    for srv in others:
        eventually(lambda srv=srv: health(srv)["leader"] == f"node{nodes.index(new)}",
                   f"{srv.url} names the new leader", TTL)
    # the schedule fires on the new leader now; deleted on any node, it fires no more
    eventually(lambda: runs(new) >= 1, "the schedule fires on the new leader")
    assert httpx.delete(f"{others[0].url}{SCHEDULES}/{schedule}", timeout=10).status_code == 204
    eventually(lambda: httpx.get(new.url + SCHEDULES, timeout=10).json()["items"] == [],
               "the deletion reaches every node")
    # the stream holds each event once, whatever was sent twice
    stored, _, _ = stream_state(broker.url, EVENTS)
    assert stored == len(tap.seen)
    assert took < TAKEOVER_BOUND_S
    # resumed from the shared positions, not from the start
    assert tap.seen[old] == 1 and delivered(receiver)[old] == 1
    twice = sum(n > 1 for n in tap.seen.values())
    again = sum(n > 1 for n in delivered(receiver).values())
    print(f"takeover in {took:.1f} s; NATS: {published} events before, {twice} sent twice; "
          f"webhook: {sent} before, {again} twice")


def test_with_the_embedded_log_the_one_node_always_leads() -> None:
    with Catalog.open(Settings(query_workers=0)) as cat:
        assert cat.leadership.leader and cat.leadership.role == "leader"
        assert cat.leadership.lease is None and cat.leadership.holder is None
        started: list[str] = []
        stop = cat.leadership.singleton("probe", lambda: started.append("on") or "it",
                                        lambda it: started.append(f"off {it}"))
        assert started == ["on"]  # at once, on this thread: nothing changes for one node
        stop()
        assert started == ["on", "off it"]



def test_a_process_that_may_not_lead_runs_no_singleton() -> None:
    """What CLI commands open (semcat/backends.py): the cluster's work stays with the server."""
    with Catalog.open(Settings(query_workers=0), elect=False) as cat:
        assert not cat.leadership.leader and cat.leadership.role == "observer"
        started: list[str] = []
        stop = cat.leadership.singleton("probe", lambda: started.append("on") or "it",
                                        lambda it: started.append(f"off {it}"))
        assert started == []
        stop()
        assert started == []


def test_cli_commands_open_their_catalog_as_observers(tmp_path: Path) -> None:
    from semcat.backends import Local, connect
    from semcat.console import open_catalog

    with connect(tmp_path / "a") as backend:
        assert isinstance(backend, Local) and backend.cat.leadership.role == "observer"
    with open_catalog(tmp_path / "b") as cat:
        assert cat.leadership.role == "observer"
