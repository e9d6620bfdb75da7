"""Operations (issue 12, item 4, in part): backup while the server takes writes and restore,
/readyz, and Prometheus metrics, against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from catalog import Catalog, Settings
from catalog.data_dir import FORMAT, format_of
from search import SearchRequest
from sparql_api.metrics import CatalogCollector
from tests.conftest import ROOT, Server
from tests.test_search import SCAFFOLD, table


def semcat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "semcat", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, "COLUMNS": "200"}, timeout=300)


def test_a_backup_taken_under_writes_holds_every_write_acknowledged_before_it(
        tmp_path: Path) -> None:
    data, target, restored = tmp_path / "data", tmp_path / "backup", tmp_path / "restored"
    srv = Server(data).start()
    acked: list[tuple[int, float]] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            i = 0
            while not stop.is_set():
                r = http.post("/api/v1/assets", json={"type": "DataPlatform", "id":
                                                      f"platform/w{i}", "name": f"w{i}"})
                assert r.status_code == 201, r.text
                acked.append((i, time.monotonic()))
                i += 1

    writer = threading.Thread(target=write)
    try:
        writer.start()
        while len(acked) < 20:
            time.sleep(0.05)
        began = time.monotonic()
        r = semcat("backup", str(target), "--data", str(data))  # the server takes it
        assert r.returncode == 0, r.stderr
        assert "asking it" in r.stderr and "backed up" in r.stderr
        ended = time.monotonic()
        while not any(t > ended for _, t in acked):
            time.sleep(0.05)  # writes went on during and after the backup
    finally:
        stop.set()
        writer.join(30)
        srv.stop()
    before = {i for i, t in acked if t < began}
    r = semcat("restore", str(target), "--data", str(restored))
    assert r.returncode == 0, r.stderr
    assert format_of(restored) == FORMAT
    with Catalog.open(Settings(data=restored)) as cat:
        names = {q.object.value for q in cat.store.quads(  # type: ignore[union-attr]
            None, None, None, None) if q.predicate.value.endswith("#name")
            and q.subject.value.rsplit("/", 1)[-1].startswith("w")}
        missing = {i for i in before if f"w{i}" not in names}
        assert not missing, sorted(missing)[:10]
        assert len(names) < len(acked)  # what came after the backup is not in it
        # the restored catalog is whole: its log agrees with its store, search rebuilt
        found = cat.search.run(SearchRequest(q="w3", mode="keyword", wait=True))
        assert any(h.id == "platform/w3" for h in found.hits)
    # restore refuses a non-empty directory without --force, and one in use even with it
    r = semcat("restore", str(target), "--data", str(restored))
    assert r.returncode == 2 and "--force" in r.stderr
    srv = Server(restored).start()
    try:
        r = semcat("restore", str(target), "--data", str(restored), "--force")
        assert r.returncode == 4 and "in use" in r.stderr
    finally:
        srv.stop()
    assert semcat("restore", str(target), "--data", str(restored), "--force").returncode == 0
    r = semcat("backup", str(target), "--data", str(restored))  # never into an existing backup
    assert r.returncode == 2 and "not an empty directory" in r.stderr


def test_readiness_and_metrics(server: Server, http: httpx.Client) -> None:
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert set(ready.json()["lag"]) == {"text", "vectors", "inference", "classification"}
    assert http.get("/api/v1/assets/platform/no-such-platform").status_code == 404
    http.post("/api/v1/assets", json={"type": "DataPlatform", "id": "platform/metered",
                                      "name": "metered"})
    text = http.get("/metrics").text
    assert 'semcat_http_requests_total{method="GET",route="/api/v1/assets/{key:path}",' \
           'status="404"}' in text  # by route template: ids do not become labels
    assert "platform/no-such-platform" not in text
    assert 'semcat_problems_total{code="not-found"}' in text
    assert 'semcat_projection_lag_changesets{projection="text"}' in text
    assert "semcat_write_lock_held_seconds_total " in text
    position = next(line for line in text.splitlines()
                    if line.startswith("semcat_changelog_position "))
    assert float(position.split()[1]) == http.get("/healthz").json()["appliedSeq"]
    store_bytes = next(line for line in text.splitlines()
                       if line.startswith('semcat_disk_bytes{part="store"}'))
    assert float(store_bytes.split()[1]) > 0
    frozen = next(line for line in text.splitlines()
                  if line.startswith("semcat_gc_frozen_objects "))
    assert float(frozen.split()[1]) > 10_000  # what the catalog loaded to serve
    assert 'python_gc_collections_total{generation="2"}' in text


def test_disk_metrics_count_both_vector_indexes(tmp_path: Path) -> None:
    with Catalog.open(Settings(data=tmp_path / "d", embedding_adapter="tables")) as cat:
        cat.assets.upsert_many([*SCAFFOLD, table("orders", "")], actor="test")
        report = cat.search.reindex()  # both vector indexes, saved
        every, tables = (len(side.index) for side in cat.search.vector_sides)
        assert report.vectors == every + tables and tables == 1 < every
        files = sorted((tmp_path / "d" / "search").glob("*vectors.*"))
        assert {f.name.split(".")[0] for f in files} == {"vectors", "table-vectors"}
        disk = next(m for m in CatalogCollector(cat).collect() if m.name == "semcat_disk_bytes")
        sizes = {s.labels["part"]: s.value for s in disk.samples}
        assert sizes["vector_index"] == sum(f.stat().st_size for f in files) > 0
        assert sizes["text_index"] > 0


def test_the_write_lock_metrics_count_holding_and_waiting(catalog: Catalog) -> None:
    """A writer that finds the lock taken waits as long as it is held; both are counted."""
    def counters() -> dict[str, float]:
        return {m.name: m.samples[0].value for m in CatalogCollector(catalog).collect()
                if m.name.startswith("semcat_write_lock_")}

    before = counters()
    wrote = threading.Event()

    def writer() -> None:
        catalog.assets.upsert_many([table("waited", "")], actor="test")
        wrote.set()

    with catalog.journal.lock:  # e.g. a long projection batch keeping writers out
        catalog.assets.upsert_many(SCAFFOLD, actor="test")  # re-entered: one hold, no wait
        thread = threading.Thread(target=writer)
        thread.start()
        assert not wrote.wait(0.3)
    thread.join(10)
    after = counters()
    assert after["semcat_write_lock_holds"] - before["semcat_write_lock_holds"] == 2
    assert after["semcat_write_lock_waited_seconds"] - \
        before["semcat_write_lock_waited_seconds"] >= 0.25
    assert after["semcat_write_lock_held_seconds"] - \
        before["semcat_write_lock_held_seconds"] >= 0.3


def test_metrics_and_backups_are_for_instance_admins(tmp_path: Path) -> None:
    srv = Server(tmp_path / "closed", env={"SEMCAT_OPEN": "0"}).start()
    try:
        assert httpx.get(srv.url + "/metrics", timeout=10).status_code == 401
        assert httpx.get(srv.url + "/readyz", timeout=10).status_code == 200  # probes: public
        r = semcat("keys", "create", "--data", str(srv.data), "--user", "user/viewer",
                   "--allow-unknown")
        token = r.stdout.strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(srv.url + "/metrics", headers=headers, timeout=10).status_code == 403
        r = httpx.post(srv.url + "/api/v1/backups", headers=headers, timeout=10,
                       json={"target": str(tmp_path / "stolen")})
        assert r.status_code == 403 and not (tmp_path / "stolen").exists()
    finally:
        srv.stop()


def test_a_backup_keeps_the_ingestion_runs(tmp_path: Path) -> None:
    from catalog.backup import restore
    from ingestion.runs import RunRegistry

    data, target, restored = tmp_path / "data", tmp_path / "backup", tmp_path / "restored"
    with Catalog.open(Settings(data=data)):
        pass
    runs = RunRegistry.at(data)
    run = runs.create(connector="sql", workspace="acme", source="sql:sqlite/shop",
                      config={"url": "sqlite:///shop.db"}, actor="user/root")
    runs.close()
    with Catalog.open(Settings(data=data)) as cat:
        cat.backup(target)
    restore(target, restored)
    kept = RunRegistry.at(restored)
    try:
        assert kept.get(run.id).source == "sql:sqlite/shop"  # failed, interrupted, but kept
    finally:
        kept.close()
