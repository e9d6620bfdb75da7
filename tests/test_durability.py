"""Acknowledged writes survive a crash; nothing is half-applied (DESIGN.md, principle 3)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Quad

from catalog import Catalog, Settings
from graph_store.changelog import ChangeLog
from graph_store.changeset import Changeset
from graph_store.errors import ValidationFailed
from tests.conftest import Server

SCAFFOLD = [
    {"type": "Database", "workspace": "acme", "platform": "platform/pg", "qualifiedName": "db",
     "name": "db"},
    {"type": "Schema", "workspace": "acme", "platform": "platform/pg", "qualifiedName": "db.crash",
     "name": "crash", "partOf": "acme/database/pg/db"},
]


def batch(n: int, size: int) -> list[dict[str, object]]:
    return [{"type": "Table", "workspace": "acme", "platform": "platform/pg",
             "qualifiedName": f"db.crash.b{n}_t{i}", "name": f"b{n}_t{i}",
             "partOf": "acme/schema/pg/db.crash", "description": f"table {i} of batch {n}",
             "tags": [f"tag/batch-{n}"], "owners": ["team/data"],
             **({"derivedFrom": [f"acme/table/pg/db.crash.b{n}_t{i - 1}"]} if i else {})}
            for i in range(size)]


def count_tagged(url: str, n: int) -> int:
    q = ("SELECT (COUNT(DISTINCT ?s) AS ?c) WHERE { ?s <https://w3id.org/semcat#tag> "
         f"<http://127.0.0.1:8000/id/tag/batch-{n}> }}")
    r = httpx.get(url + "/sparql", params={"query": q}, headers={"Accept": "application/json"},
                  timeout=120)  # a restarted server catches its indexes up meanwhile
    return int(r.json()["results"]["bindings"][0]["c"]["value"])


# Each bulk batch is a lineage chain (b{n}_t{i} derivedFrom b{n}_t{i-1}): the transitive closure
# of a 2,500-deep chain is 3 million upstream edges, out of reach of in-request inference. The
# log and the store are what this test is about; inference stays off.
NO_INFERENCE = {"SEMCAT_INCREMENTAL_REASONING": "false"}


def test_sigkill_mid_write_loses_nothing_acknowledged(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", env=NO_INFERENCE).start()
    assert httpx.post(server.url + "/api/v1/assets:bulk", json=SCAFFOLD).status_code == 200
    sizes = {n: (2500 if n % 3 == 2 else 150) for n in range(200)}  # some take the bulk path
    acked: list[int] = []
    sent: list[int] = []

    def writer() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for n, size in sizes.items():
                sent.append(n)
                try:
                    r = client.post("/api/v1/assets:bulk", json=batch(n, size))
                except httpx.TransportError:
                    return
                if r.status_code == 200:
                    acked.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acked) < 6:
        time.sleep(0.05)
    time.sleep(0.4)  # land somewhere inside a later request
    server.kill()
    thread.join(30)
    assert len(sent) > len(acked) >= 6, "the kill should interrupt a write"

    restarted = Server(server.data, env=NO_INFERENCE).start()
    try:
        for n in sent:
            found = count_tagged(restarted.url, n)
            if n in acked:
                assert found == sizes[n], f"acknowledged batch {n} lost {sizes[n] - found} assets"
            else:
                assert found in (0, sizes[n]), f"batch {n} is half-applied: {found}/{sizes[n]}"
        last = acked[-1]
        key = f"acme/table/pg/db.crash.b{last}_t1"
        versions = httpx.get(f"{restarted.url}/api/v1/assets/{key}/versions").json()["versions"]
        assert [v["version"] for v in versions] == [1]
        # and the catalog keeps working after recovery
        r = httpx.post(restarted.url + "/api/v1/assets:bulk", json=batch(999, 5))
        assert r.status_code == 200 and r.json()["created"] == 5
    finally:
        restarted.stop()


def test_changesets_logged_but_not_applied_are_replayed_on_open(tmp_path: Path) -> None:
    """The window between the durable append and the store write: replay closes it."""
    settings = Settings(data=tmp_path)
    with Catalog.open(settings) as cat:
        cat.assets.upsert({"type": "Tag", "id": "tag/pre", "name": "pre"}, actor="t")
        applied = cat.journal.applied_seq
    graph = NamedNode(f"{settings.base}/graph/directory")
    subject = NamedNode(f"{settings.base}/id/tag/replayed")
    quads = (Quad(subject, NamedNode("https://w3id.org/semcat#name"), Literal("replayed"), graph),)
    log = ChangeLog(tmp_path / "changelog.sqlite")  # as if the process died right after this
    log.append(Changeset("t", "crash window", "2026-01-01T00:00:00Z", (), quads, {}))
    log.close()
    with Catalog.open(settings) as cat:
        assert cat.replayed == 1
        assert cat.journal.applied_seq == applied + 1
        assert cat.assets.get("tag/replayed")["name"] == "replayed"
    with Catalog.open(settings) as cat:
        assert cat.replayed == 0  # replay is remembered, not repeated


def test_failed_write_leaves_log_and_store_untouched(catalog: Catalog) -> None:
    before = (catalog.changelog.last_seq, catalog.journal.applied_seq)
    bad = [{"type": "Table", "name": "ok", "workspace": "acme", "platform": "platform/pg",
            "qualifiedName": "a.b.c"}, {"type": "Nope", "name": "x"}]
    with pytest.raises(ValidationFailed):
        catalog.assets.upsert_many(bad, actor="t")
    assert (catalog.changelog.last_seq, catalog.journal.applied_seq) == before


def test_replaying_already_applied_changesets_converges(tmp_path: Path) -> None:
    """The checkpoint is only a lower bound; replaying from before it must change nothing."""
    settings = Settings(data=tmp_path)
    with Catalog.open(settings) as cat:
        key = "acme/table/pg/db.crash.flip"
        cat.assets.upsert_many(SCAFFOLD, actor="t")
        item = {"type": "Table", "workspace": "acme", "platform": "platform/pg",
                "qualifiedName": "db.crash.flip", "name": "flip", "partOf": "acme/schema/pg/db.crash"}
        for i in range(6):  # add, change, remove, re-add the same statements
            cat.assets.upsert({**item, "tags": ["tag/a"] if i % 2 else ["tag/b"]}, actor="t")
        cat.assets.delete(key, actor="t")
        cat.assets.upsert({**item, "description": "back"}, actor="t")
        before = sorted(str(q) for q in cat.store.quads())
    ChangeLog(tmp_path / "changelog.sqlite").mark_applied(0)  # as if no checkpoint was taken
    with Catalog.open(settings) as cat:
        assert cat.replayed >= 9
        assert sorted(str(q) for q in cat.store.quads()) == before
        assert cat.assets.get(key)["version"] == 8


def test_a_write_returns_once_the_log_is_on_disk(tmp_path: Path) -> None:
    """Group commit: each write is acknowledged after the fsync that covers it, whoever made it."""
    with Catalog.open(Settings(data=tmp_path)) as cat:
        log = cat.changelog
        synced_when_returned: list[tuple[str, int]] = []
        lock = threading.Lock()

        def writer(n: int) -> None:
            for i in range(15):
                cat.assets.upsert({"type": "Tag", "id": f"tag/g{n}-{i}", "name": f"g{n} {i}"},
                                  actor="t")
                with lock:
                    synced_when_returned.append((f"tag/g{n}-{i}", log.synced))

        before = log.fsyncs
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(synced_when_returned) == 120
        iri = f"{cat.settings.base}/id/"
        assert all(log.versions(iri + key)[-1].seq <= synced for key, synced in synced_when_returned)
        assert log.fsyncs - before <= 120  # never more than one per write
        # a patch reads and writes under the lock: one fsync as it lets go, and it is done
        cat.assets.patch("tag/g0-0", {"name": "patched"}, actor="t")
        assert log.synced >= log.versions(iri + "tag/g0-0")[-1].seq == log.last_seq


def test_one_fsync_covers_every_changeset_appended_before_it(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changelog.sqlite")
    g = NamedNode("http://example.org/g")
    seqs = [log.append(Changeset("t", "m", "2026-01-01T00:00:00Z", (), (Quad(
        NamedNode(f"http://example.org/s{i}"), NamedNode("http://example.org/p"), Literal(i), g),),
        {})).seq for i in range(3)]
    assert log.synced < seqs[0] and log.fsyncs == 0  # in the WAL file, not yet on disk
    log.sync(seqs[-1])
    assert log.synced == seqs[-1] and log.fsyncs == 1
    log.sync(seqs[0])  # a writer that queued behind finds its changeset on disk already
    assert log.fsyncs == 1
    log.close()
    assert ChangeLog(tmp_path / "changelog.sqlite").synced == seqs[-1]
