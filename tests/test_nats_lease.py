"""The lease that elects one node for the once-per-cluster work (graph_store/nats_lease.py),
against a real ``nats-server -js``: taken, renewed, given up, expired, taken over; two
contenders make one holder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph_store.errors import BackendError
from graph_store.nats_lease import NatsLease
from tests.test_nats_changelog import Node, running


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Node]:
    with running(tmp_path, "solo") as node:
        yield node


TTL = 1.5


def until(check: Callable[[], bool], bound: float, what: str) -> float:
    """Seconds until ``check()`` holds, or AssertionError after ``bound``."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > bound:
            raise AssertionError(f"not within {bound} s: {what}")
        time.sleep(0.02)
    return time.monotonic() - began


def lease(node: Node, name: str, changes: list[tuple[str, bool]] | None = None,
          ttl: float = TTL) -> NatsLease:
    return NatsLease(node.url, bucket="TEST_LEADER", name=name, ttl=ttl,
                     on_change=None if changes is None else
                     lambda held: changes.append((name, held)))


def test_one_contender_takes_the_lease_and_keeps_it_by_renewing(server: Node) -> None:
    changes: list[tuple[str, bool]] = []
    a = lease(server, "a", changes)
    try:
        until(lambda: a.held, TTL, "a takes the free lease")
        time.sleep(TTL * 3)  # three ttls: held only because it renews
        assert a.held and a.holder == "a"
        assert changes == [("a", True)] and a.changes == 1
        b = lease(server, "b")
        try:
            until(lambda: b.holder == "a", TTL, "b sees who holds it")
            assert not b.held
        finally:
            b.close()
    finally:
        a.close()
    assert changes == [("a", True), ("a", False)]


def test_two_contenders_make_one_holder(server: Node) -> None:
    leases: list[NatsLease] = []
    start = threading.Barrier(2)

    def contend(name: str) -> None:
        start.wait()
        leases.append(lease(server, name))

    threads = [threading.Thread(target=contend, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        until(lambda: any(x.held for x in leases), TTL, "one takes it")
        for _ in range(20):  # across several renewals, never both and never neither
            assert sum(x.held for x in leases) == 1
            time.sleep(TTL / 10)
        holder = next(x for x in leases if x.held)
        other = next(x for x in leases if not x.held)
        assert other.holder == holder.name
    finally:
        for x in leases:
            x.close()


def test_a_lease_given_up_is_taken_at_once(server: Node) -> None:
    a, b = lease(server, "a"), None
    try:
        until(lambda: a.held, TTL, "a takes it")
        b = lease(server, "b")
        a.close()  # deletes the key: b need not wait for it to expire
        took = until(lambda: b.held, TTL, "b takes it once a let go")
        assert took <= TTL / 3 + 0.5
    finally:
        for x in (a, b):
            if x is not None:
                x.close()


def test_a_lease_not_renewed_expires_and_another_takes_it_over(server: Node) -> None:
    a = lease(server, "a")
    b = lease(server, "b")
    try:
        until(lambda: a.held, TTL, "a takes it")
        until(lambda: b.holder == "a", TTL, "b sees a hold it")
        a._loop.run(_hang(a), timeout=5)  # a stops renewing, as a frozen process would
        took = until(lambda: b.held, TTL * 2, "b takes over once a's key expired")
        # not before the key expired: ttl after a's last renewal, at most ttl/3 before the hang
        assert took >= TTL * 2 / 3 - 0.1 and b.holder == "b"
    finally:
        b.close()
        a._loop.stop()


async def _hang(frozen: NatsLease) -> None:
    assert frozen._task is not None
    frozen._task.cancel()


def test_the_holder_that_loses_the_servers_steps_down_before_its_key_expires(
        server: Node) -> None:
    node = server
    changes: list[tuple[str, bool]] = []
    a = lease(node, "a", changes)
    try:
        until(lambda: a.held, TTL, "a takes it")
        node.kill()
        took = until(lambda: not a.held, TTL, "a lets go without the servers")
        assert took <= TTL  # before the key would have expired on the servers
        assert changes == [("a", True), ("a", False)]
    finally:
        a.close()


def test_positions_are_shared_between_holders(server: Node) -> None:
    a = lease(server, "a")
    try:
        assert a.positions().get("nats-events") is None
        a.positions().save("nats-events", 42)
    finally:
        a.close()
    b = lease(server, "b")
    try:
        assert b.positions().get("nats-events") == 42
    finally:
        b.close()


def test_no_server_is_a_clear_error() -> None:
    with pytest.raises(BackendError, match="could not reach a NATS server"):
        NatsLease("nats://127.0.0.1:1", bucket="TEST_LEADER", name="a", ttl=TTL,
                  connect_for=1.0)


def test_a_process_that_is_no_candidate_watches_and_never_takes_the_lease(server: Node) -> None:
    watcher = NatsLease(server.url, bucket="TEST_LEADER", name="cli", ttl=TTL, candidate=False)
    a = None
    try:
        time.sleep(TTL)  # a free lease, several rounds: a candidate would have taken it
        assert not watcher.held and watcher.holder is None
        a = lease(server, "a")
        until(lambda: watcher.holder == "a", TTL, "the watcher sees who took it")
        a.close()
        a = None
        time.sleep(TTL)
        assert not watcher.held and watcher.changes == 0
    finally:
        for x in (a, watcher):
            if x is not None:
                x.close()
