"""Snapshot bootstrap (issue 18, item 2): a node of a shared change log publishes a snapshot of
itself to JetStream; a new node on an empty data directory installs the newest one and replays
only the log after it, and ends up exactly where the others are. On a real ``nats-server -js``."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog import Catalog, Settings, snapshots
from graph_store.errors import BackendError, InputError
from search import SearchRequest
from tests.conftest import Server
from tests.test_assets_api import SCAFFOLD, table
from tests.test_nats_changelog import Node, running
from tests.test_operations import semcat

VERSIONS = "SELECT ?s ?v WHERE { GRAPH ?g { ?s <https://w3id.org/semcat#version> ?v } }"


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with running(tmp_path_factory.mktemp("nats"), "snapshots") as node:
        yield node


def node(nats: Node, data: Path, stream: str, **extra: Any) -> Settings:
    return Settings(data=data, log_url=nats.url, log_stream=stream, query_workers=0,
                    **{"log_snapshot_every": 0, **extra})


def versions(cat: Catalog) -> dict[str, int]:
    return {r["s"].value: int(r["v"].value) for r in cat.sparql.query(VERSIONS).rows()}


def found(cat: Catalog, words: str) -> set[str]:
    cat.settle()
    return {h.id for h in cat.search.run(SearchRequest(q=words, mode="keyword")).hits}


def test_a_new_node_starts_from_the_snapshot_and_replays_only_the_log_after_it(
        nats: Node, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="catalog.search")
    stream = "SNAP" + uuid.uuid4().hex[:6].upper()
    with Catalog.open(node(nats, tmp_path / "a", stream)) as a:
        assert a.bootstrapped is None  # the first node: nothing published yet
        a.assets.upsert_many([*SCAFFOLD, *(table(f"early{i}", description="quokka ledger")
                                           for i in range(5))], actor="test")
        a.assets.patch("acme/table/snowflake/db.sales.early0", {"description": "quokka v2"},
                       actor="test")
        a.search.start_vectors()
        assert a.search.wait(vectors=True)
        embedded = len(a.search.vectors)
        info = a.publish_snapshot()
        assert info.seq == a.journal.applied_seq and info.bytes > 0
        assert snapshots.newest(a.settings) == {**info.__dict__}
        for i in range(3):  # after the snapshot: these come from the log
            a.assets.upsert(table(f"late{i}", description="wombat ledger"), actor="test")
        a.assets.delete("acme/table/snowflake/db.sales.early1", actor="test")

        caplog.clear()
        with Catalog.open(node(nats, tmp_path / "b", stream)) as b:
            assert b.bootstrapped is not None and b.bootstrapped.seq == info.seq
            assert "rebuilt the text index" not in caplog.text  # it came with the snapshot
            assert b.replayed == a.journal.applied_seq - info.seq  # the tail, not the log
            assert b.journal.applied_seq == a.journal.applied_seq
            assert versions(b) == versions(a)
            # the vectors came with it too: what was embedded is not embedded again
            assert b.search.vectors.seq == info.seq and len(b.search.vectors) == embedded > 0
            assert b.assets.get("acme/table/snowflake/db.sales.early0")["description"] == \
                "quokka v2"
            # the text index caught up from the snapshot's: the later tables are in it too
            assert found(b, "quokka") == {f"acme/table/snowflake/db.sales.early{i}"
                                          for i in (0, 2, 3, 4)}
            assert len(found(b, "wombat")) == 3
            # and it goes on following the log like any node
            a.assets.upsert(table("later", description="numbat"), actor="test")
            b.journal.follow()
            assert b.assets.get("acme/table/snowflake/db.sales.later")["version"] == 1
        # a node that has a catalog keeps it: the snapshot is for empty directories only
        with Catalog.open(node(nats, tmp_path / "b", stream)) as again:
            assert again.bootstrapped is None
            assert again.journal.applied_seq == a.journal.applied_seq


def test_without_a_snapshot_or_with_bootstrap_off_a_node_replays_the_whole_log(
        nats: Node, tmp_path: Path) -> None:
    stream = "FULL" + uuid.uuid4().hex[:6].upper()
    with Catalog.open(node(nats, tmp_path / "a", stream)) as a:
        a.assets.upsert_many(SCAFFOLD, actor="test")
        with Catalog.open(node(nats, tmp_path / "b", stream)) as b:
            assert b.bootstrapped is None and b.replayed == a.journal.applied_seq
        a.publish_snapshot()
        with Catalog.open(node(nats, tmp_path / "c", stream, log_bootstrap=False)) as c:
            assert c.bootstrapped is None and c.replayed == a.journal.applied_seq


def test_a_snapshot_of_another_catalog_is_refused(nats: Node, tmp_path: Path) -> None:
    stream = "BASE" + uuid.uuid4().hex[:6].upper()
    with Catalog.open(node(nats, tmp_path / "a", stream)) as a:
        a.publish_snapshot()
    with pytest.raises(BackendError, match="same SEMCAT_BASE_IRI"):
        Catalog.open(node(nats, tmp_path / "b", stream, base_iri="http://other.example"))
    assert not (tmp_path / "b" / "changelog.sqlite").exists()  # nothing half installed


def test_a_node_publishes_once_the_log_has_moved_n_changesets(
        nats: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "CHECK_S", 0.1)
    stream = "EVERY" + uuid.uuid4().hex[:6].upper()
    with Catalog.open(node(nats, tmp_path / "a", stream, log_snapshot_every=5)) as a:
        a.assets.upsert_many(SCAFFOLD, actor="test")
        for i in range(8):
            a.assets.upsert(table(f"t{i}"), actor="test")
        end = time.monotonic() + 30
        while (snapshots.newest(a.settings) or {"seq": 0})["seq"] < a.journal.applied_seq - 4:
            assert time.monotonic() < end, "no snapshot within 30 s"
            time.sleep(0.1)
        assert a.leadership.leader  # the only node: it leads, so it publishes


def test_a_single_node_has_no_snapshots(tmp_path: Path) -> None:
    with Catalog.open(Settings(data=tmp_path / "solo", query_workers=0)) as cat:
        assert not snapshots.Publisher.wanted(cat.store, cat.settings)
        with pytest.raises(InputError, match="semcat backup"):
            cat.publish_snapshot()


def test_publishing_over_http_is_for_instance_admins(nats: Node, tmp_path: Path) -> None:
    stream = "HTTP" + uuid.uuid4().hex[:6].upper()
    srv = Server(tmp_path / "node", env={"SEMCAT_LOG_URL": nats.url, "SEMCAT_LOG_STREAM": stream,
                                         "SEMCAT_QUERY_WORKERS": "1", "SEMCAT_OPEN": "0"}).start()
    try:
        def key(*extra: str) -> dict[str, str]:
            r = semcat("keys", "create", "--data", str(srv.data), "--user", "user/someone",
                       "--allow-unknown", *extra)
            return {"Authorization": f"Bearer {r.stdout.strip().splitlines()[-1]}"}

        assert httpx.post(srv.url + "/api/v1/snapshots", timeout=60).status_code == 401
        assert httpx.post(srv.url + "/api/v1/snapshots", headers=key(),
                          timeout=60).status_code == 403
        assert snapshots.newest(Settings(log_url=nats.url, log_stream=stream)) is None
        r = httpx.post(srv.url + "/api/v1/snapshots", headers=key("--admin"), timeout=60)
        assert r.status_code == 201, r.text
        assert r.json()["seq"] >= 1 and r.json()["bytes"] > 0
        done = semcat("snapshot", "--data", str(srv.data))  # the CLI: through the server
        assert done.returncode == 0, done.stderr
        assert "published a snapshot of changeset" in done.stderr
    finally:
        srv.stop()


def test_a_snapshot_that_cannot_be_installed_leaves_the_node_to_replay_the_log(
        nats: Node, tmp_path: Path) -> None:
    """A broken or unreadable snapshot never keeps a node from joining: it replays the log."""
    stream = "BAD" + uuid.uuid4().hex[:6].upper()
    with Catalog.open(node(nats, tmp_path / "a", stream)) as a:
        a.assets.upsert_many(SCAFFOLD, actor="test")
        info = a.publish_snapshot()
        garbage = tmp_path / "garbage.tar.gz"
        garbage.write_bytes(b"not a tar archive at all")
        bucket = snapshots.bucket(a.settings)
        assert bucket is not None
        try:
            bucket.put(garbage, {**info.__dict__})
        finally:
            bucket.close()
        (tmp_path / "b" / "store").mkdir(parents=True)  # as an install cut short leaves it
        (tmp_path / "b" / "store" / "000001.sst").write_bytes(b"half")
        with Catalog.open(node(nats, tmp_path / "b", stream)) as b:
            assert b.bootstrapped is None and b.replayed == a.journal.applied_seq
            assert versions(b) == versions(a)
        assert not (tmp_path / "b" / ".bootstrap").exists()
