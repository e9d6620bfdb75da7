"""Webhook subscriptions shared by the nodes of a cluster (events/webhook_mirror.py): two
nodes' webhook stores, each with its own lease connection to one real ``nats-server -js``. A
subscription made, changed or deleted on one is on the other; positions only move forward;
one a node had before the nodes shared them is shared."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from events.model import Position
from events.visibility import EventFilter
from events.webhook_mirror import WebhookMirror
from events.webhook_store import Subscription, WebhookStore
from graph_store.nats_lease import NatsLease
from tests.test_nats_changelog import Node, running


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Node]:
    with running(tmp_path, "solo") as node:
        yield node


def sub(sub_id: str, url: str = "https://example.org/hook", seq: int = 5) -> Subscription:
    return Subscription(sub_id, url, EventFilter((), (), (), ()), "json", False, "", False, None,
                        {"subject": "admin"}, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
                        Position(seq))


def until(check: Callable[[], bool], what: str, bound: float = 5.0) -> None:
    deadline = time.monotonic() + bound
    while not check():
        assert time.monotonic() < deadline, f"not within {bound} s: {what}"
        time.sleep(0.02)


class Member:
    """One node's side: its store, its lease connection and its mirror."""

    def __init__(self, server: Node, path: Path, name: str) -> None:
        self.store = WebhookStore(path)
        self.lease = NatsLease(server.url, bucket="TEST", name=name, ttl=5.0)
        self.absorbed = 0
        self.mirror = WebhookMirror(self.store, self.lease.records("WEBHOOKS"),
                                    absorbed=self._absorbed)

    def _absorbed(self) -> None:
        self.absorbed += 1

    def close(self) -> None:
        self.lease.close()
        self.store.close()


def test_subscriptions_and_positions_travel_between_nodes(server: Node, tmp_path: Path) -> None:
    early = WebhookStore(tmp_path / "a.sqlite")  # made before the nodes shared subscriptions
    early.add(sub("wh_early"), "whsec_early")
    early.close()
    a = Member(server, tmp_path / "a.sqlite", "a")
    b = Member(server, tmp_path / "b.sqlite", "b")
    try:
        until(lambda: b.store.get("wh_early") is not None, "the early one is shared")
        a.store.add(sub("wh_1"), "whsec_1")
        until(lambda: b.store.get("wh_1") is not None, "a new one reaches b")
        assert b.store.secrets("wh_1") == ("whsec_1",)  # b can sign its deliveries
        b.store.replace(replace(sub("wh_1"), url="https://example.org/other"))
        until(lambda: (a.store.get("wh_1") or sub("x")).url == "https://example.org/other",
              "a change on b reaches a")

        a.store.save_position("wh_1", Position(9))
        a.mirror.push_positions()
        until(lambda: (b.store.get("wh_1") or sub("x")).position == Position(9),
              "the position reaches b")
        b.store.absorb("wh_1", {**(b.store.export("wh_1") or {}), "position_seq": 3})
        assert (b.store.get("wh_1") or sub("x")).position == Position(9), "never backwards"

        a.store.delete("wh_1")
        until(lambda: b.store.get("wh_1") is None, "a deletion reaches b")
        assert b.absorbed and a.absorbed
    finally:
        a.close()
        b.close()


def test_a_change_made_elsewhere_meanwhile_wins(server: Node) -> None:
    """A node writes over the revision it knows: a record changed or deleted by another node
    since is not brought back (a firing or a pause against a deleted subscription)."""
    one = NatsLease(server.url, bucket="TEST", name="one", ttl=5.0)
    two = NatsLease(server.url, bucket="TEST", name="two", ttl=5.0)
    try:
        mine, theirs = one.records("RACE"), two.records("RACE")
        assert mine.put("k", b"1")
        assert theirs.put("k", b"2")  # it knew no revision: it writes
        assert not mine.put("k", b"3"), "over a revision that is no longer the last"
        theirs.delete("k")
        assert not mine.put("k", b"4") and not theirs.put("k", b"5"), "a deletion stays"
        assert mine.put("other", b"x")
    finally:
        one.close()
        two.close()
