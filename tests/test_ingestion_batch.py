"""Batch ingestion (issue 14, item 5): an NDJSON file of assets streams in through the runner,
and a run killed mid-way (SIGKILL of a real `semcat ingest`) resumes from its checkpoint with
nothing written twice and nothing lost; resuming over REST does the same in the background."""

from __future__ import annotations

import gzip
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog import Catalog, Settings
from graph_store.errors import Conflict, InputError
from ingestion.runs import RUNS_FILE
from tests.conftest import ROOT, Server
from tests.test_ingestion_api import wait_for
from tests.test_ingestion_errors import semcat

TABLES = 250  # of 10 columns: 2,751 assets with their database and schema


def assets(tables: int = TABLES, columns: int = 10, *, prefix: str = "t") -> list[dict[str, Any]]:
    """A warehouse as REST JSON records: database, schema, tables, columns (parents first)."""
    base = {"workspace": "acme", "platform": "platform/pg"}
    out: list[dict[str, Any]] = [
        {**base, "type": "Database", "name": "wh", "qualifiedName": "wh"},
        {**base, "type": "Schema", "name": "main", "qualifiedName": "wh.main",
         "partOf": "acme/database/pg/wh"}]
    for t in range(tables):
        qn = f"wh.main.{prefix}{t:05d}"
        out.append({**base, "type": "Table", "name": f"{prefix}{t:05d}", "qualifiedName": qn,
                    "partOf": "acme/schema/pg/wh.main", "description": f"table number {t}"})
        out += [{**base, "type": "Column", "name": f"c{c}", "qualifiedName": f"{qn}.c{c}",
                 "partOf": f"acme/table/pg/{qn}", "dataType": "integer", "position": c + 1}
                for c in range(columns)]
    return out


def write_ndjson(path: Path, records: list[dict[str, Any]]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return path


def config(path: Path, **extra: Any) -> dict[str, Any]:
    return {"connector": "ndjson", "workspace": "acme", "config": {"path": str(path)}, **extra}


def test_an_ndjson_file_streams_in_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    records = assets(20, 3)
    path = write_ndjson(tmp_path / "export.ndjson.gz", records)
    with Catalog.open(Settings(data=None)) as cat:
        report = cat.ingestion.run(config(path, batch_size=25))
        assert report.ok and report.added == len(records) and report.source == \
            "ndjson:export.ndjson"
        assert cat.assets.get("acme/column/pg/wh.main.t00019.c2")["dataType"] == "integer"
        again = cat.ingestion.run(config(path, batch_size=25))
        assert again.unchanged == len(records) and again.added == again.updated == 0

        # a corrupt line: the good lines are written, the run is not complete, nothing removed
        write_ndjson(path, records[:-5])
        with gzip.open(path, "at", encoding="utf-8") as f:
            f.write('{"type": "Table", "name": \n[1, 2]\n')
        broken = cat.ingestion.run(config(path))
        assert not broken.complete and broken.removed == 0
        assert "2 lines of export.ndjson.gz are not assets: line " in str(broken.error)
        assert "a JSON list, not an object" in str(broken.error)
        assert cat.assets.get("acme/column/pg/wh.main.t00019.c2")["name"] == "c2"
        # once the file is whole again, what it no longer has is removed
        write_ndjson(path, records[:-5])
        assert cat.ingestion.run(config(path)).removed == 5


@pytest.mark.parametrize("content", [b"\x1f\x8b\x08garbage", b"\xff\xfe\x00not utf-8\n"])
def test_an_unreadable_file_is_a_clear_error_with_nothing_written(
        tmp_path: Path, content: bytes) -> None:
    path = tmp_path / ("bad.ndjson.gz" if content.startswith(b"\x1f") else "bad.ndjson")
    path.write_bytes(content)
    with Catalog.open(Settings(data=None)) as cat:
        before = cat.journal.applied_seq
        with pytest.raises(InputError, match=r"bad\.ndjson"):
            cat.ingestion.run(config(path))
        with pytest.raises(InputError, match="cannot read"):
            cat.ingestion.run(config(tmp_path / "missing.ndjson"))
        assert cat.journal.applied_seq == before


def registry_row(data: Path) -> tuple[str, str, int] | None:
    """The newest run's (id, status, checkpoint), read beside the running CLI."""
    with sqlite3.connect(data / RUNS_FILE, timeout=5) as db:
        row = db.execute("SELECT id, status, checkpoint FROM runs ORDER BY seq DESC "
                         "LIMIT 1").fetchone()
    return (str(row[0]), str(row[1]), int(row[2])) if row else None


def test_a_killed_cli_run_resumes_from_its_checkpoint_without_duplicates_or_loss(
        tmp_path: Path) -> None:
    records = assets()
    path = write_ndjson(tmp_path / "big.ndjson", records)
    data = tmp_path / "data"
    cfg = tmp_path / "big.json"
    cfg.write_text(json.dumps(config(path, batch_size=100)))
    proc = subprocess.Popen([sys.executable, "-m", "semcat", "ingest", str(cfg), "--data",
                             str(data)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    row = None
    while time.monotonic() < deadline and proc.poll() is None:
        if (data / RUNS_FILE).exists():
            row = registry_row(data)
            if row is not None and row[1] == "running" and row[2] >= 300:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed; make it bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert row is not None
    run_id, _, checkpoint = row

    r = semcat("ingest", "--resume", run_id, "--data", str(data), "-f", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    # the killed run is failed (interrupted) with its checkpoint; the new one skipped that many
    assert report["resumedAfter"] >= checkpoint > 0
    assert report["added"] + report["unchanged"] + report["updated"] + \
        report["resumedAfter"] == len(records)
    assert report["failed"] == 0 and report["complete"]
    with Catalog.open(Settings(data=data)) as cat:
        killed = cat.ingestion.runs.get(run_id)
        assert killed.status == "failed" and "interrupted" in str(killed.error)
        assert cat.ingestion.runs.get(report["run"]).resumed_from == run_id
        with pytest.raises(Conflict, match="succeeded"):
            cat.ingestion.runs.resume(report["run"], actor="test")
        # every asset once, at version 1: nothing was lost, nothing written twice
        keys = cat.ingestion.produced("ndjson:big.ndjson")
        assert len(keys) == len(records)
        for key in ("acme/database/pg/wh", f"acme/table/pg/wh.main.t{TABLES - 1:05d}",
                    "acme/column/pg/wh.main.t00000.c0", "acme/column/pg/wh.main.t00123.c9"):
            assert cat.assets.get(key)["version"] == 1, key
        again = cat.ingestion.run(config(path, batch_size=500))
        assert again.unchanged == len(records)


def test_a_cancelled_run_resumes_over_rest(tmp_path: Path) -> None:
    records = assets(150)
    path = write_ndjson(tmp_path / "big.ndjson", records)
    srv = Server(tmp_path / "data").start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            run = c.post("/api/v1/ingestion", json=config(path, batch_size=50)).json()
            deadline = time.monotonic() + 60
            while c.get(f"/api/v1/ingestion/{run['id']}").json()["checkpoint"] < 100:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            c.post(f"/api/v1/ingestion/{run['id']}:cancel")
            stopped = wait_for(c, run["id"], {"cancelled", "succeeded"})
            if stopped["status"] == "succeeded":
                pytest.fail("the run ended before the cancel; make it bigger")
            r = c.post(f"/api/v1/ingestion/{run['id']}:resume")
            assert r.status_code == 202, r.text
            resumed = wait_for(c, r.json()["id"], {"succeeded", "failed"})
            assert resumed["status"] == "succeeded" and resumed["resumedFrom"] == run["id"]
            assert resumed["resumedAfter"] == stopped["checkpoint"] > 0
            assert any("cancel asked" in line for line in stopped["log"])
            log = [line.split(" ", 1)[1] for line in resumed["log"]]  # without the times
            assert log[0].startswith(f"queued: ndjson:big.ndjson into acme by anonymous, "
                                     f"resuming {run['id']} after {stopped['checkpoint']}")
            assert log[1] == "started" and log[-1].startswith(f"succeeded after {len(records)} records")
            written = sum(stopped["counts"][k] for k in ("added", "updated", "unchanged"))
            assert written + resumed["counts"]["added"] == len(records)
            assert resumed["counts"]["unchanged"] == written - stopped["checkpoint"]
            again = c.post(f"/api/v1/ingestion/{resumed['id']}:resume")
            assert again.status_code == 409 and "succeeded" in again.json()["detail"]
            assert c.post("/api/v1/ingestion/nope:resume").status_code == 404
    finally:
        srv.stop()


def test_a_runs_file_from_before_checkpoints_opens_and_keeps_its_runs(tmp_path: Path) -> None:
    """An ingestion_runs.sqlite an earlier release wrote gains the new columns on open."""
    from ingestion.runs import RunRegistry

    with sqlite3.connect(tmp_path / RUNS_FILE) as db:
        db.execute("CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL "
                   "UNIQUE, connector TEXT NOT NULL, workspace TEXT NOT NULL, source TEXT NOT "
                   "NULL, config TEXT NOT NULL, actor TEXT NOT NULL, status TEXT NOT NULL, "
                   "created TEXT NOT NULL, started TEXT, ended TEXT, progress INTEGER NOT NULL "
                   "DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, report TEXT, "
                   "error TEXT)")
        db.execute("INSERT INTO runs (id, connector, workspace, source, config, actor, status, "
                   "created) VALUES ('r1', 'sql', 'acme', 'sql:x', '{}', 'cli', 'succeeded', "
                   "'2026-01-01T00:00:00Z')")
    registry = RunRegistry.at(tmp_path)
    try:
        old = registry.get("r1")
        assert (old.status, old.checkpoint, old.resumed_from, old.log) == (
            "succeeded", 0, None, ())
        registry.note("r1", "looked at")
        assert registry.get("r1").log[0].endswith(" looked at")
    finally:
        registry.close()


def test_the_cli_beside_a_running_server_has_the_server_run_it(tmp_path: Path) -> None:
    records = assets(30)
    path = write_ndjson(tmp_path / "beside.ndjson", records)
    cfg = tmp_path / "beside.json"
    cfg.write_text(json.dumps(config(path)))
    srv = Server(tmp_path / "data").start()
    try:
        r = semcat("ingest", str(cfg), "--data", str(srv.data), "-f", "json")
        assert r.returncode == 0, r.stderr
        assert "in use by the server" in r.stderr
        report = json.loads(r.stdout)
        assert report["added"] == len(records) and report["complete"]
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            run = c.get(f"/api/v1/ingestion/{report['run']}").json()
            assert run["status"] == "succeeded" and run["counts"]["added"] == len(records)
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(config(tmp_path / "missing.ndjson")))
        r = semcat("ingest", str(bad), "--data", str(srv.data))
        assert r.returncode == 2 and "cannot read" in r.stderr
    finally:
        srv.stop()
