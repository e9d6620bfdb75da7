"""Ingestion at scale (issue 14): the batch connector and the SQL connector, beside what lies
underneath them, in one run.

- **Batch**: an NDJSON file of N assets (tables of 10 columns, with their database and schema)
  through `semcat ingest` in a child process (wall time, assets/s, peak memory), beside the REST
  bulk endpoint (`POST /api/v1/assets:bulk`) and raw pyoxigraph `bulk_load` of the same
  statements, both on the first `--sample` assets. Targets: peak memory <= 2 GiB, and >= 50% of
  the REST bulk rate.
- **SQL**: a PostgreSQL schema of T tables of 10 columns (made and dropped by the run) through
  `semcat ingest` with the SQL connector, beside the time PostgreSQL needs to answer one query
  for every table and column (information_schema) and the connector's reading alone. Target:
  the whole run within 2x of what PostgreSQL spends answering the catalog's queries.

    python -m bench.ingestion                    # 1,000,000 assets; 10,000 tables in PostgreSQL
    python -m bench.ingestion --assets 100000 --tables 2000
    python -m bench.ingestion --skip-sql         # no PostgreSQL needed
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from pyoxigraph import RdfFormat, Store, serialize

from bench._common import ROOT, TMP, Server, machine, table, write_results
from catalog import Catalog, Settings
from graph_store.changeset import Changeset

PG = "postgresql://postgres@127.0.0.1:5432/test"
COLUMNS = 10
MEMORY_TARGET = 2 * 1024 ** 3
OF_REST_TARGET = 0.50
OF_POSTGRES_TARGET = 2.0


def warehouse(n: int) -> Iterator[dict[str, Any]]:
    """``n`` assets as REST JSON: a database, a schema, then tables each followed by columns."""
    base = {"workspace": "acme", "platform": "platform/pg"}
    yield {**base, "type": "Database", "name": "wh", "qualifiedName": "wh"}
    yield {**base, "type": "Schema", "name": "main", "qualifiedName": "wh.main",
           "partOf": "acme/database/pg/wh"}
    made, t = 2, 0
    while made < n:
        qn = f"wh.main.t{t:07d}"
        yield {**base, "type": "Table", "name": f"t{t:07d}", "qualifiedName": qn,
               "partOf": "acme/schema/pg/wh.main", "description": f"Synthetic table {t}."}
        made += 1
        for c in range(min(COLUMNS, n - made)):
            yield {**base, "type": "Column", "name": f"c{c}", "qualifiedName": f"{qn}.c{c}",
                   "partOf": f"acme/table/pg/{qn}", "dataType": "integer", "position": c + 1}
            made += 1
        t += 1


def child(args: list[str], watch: Path | None = None,
          samples: list[tuple[float, int]] | None = None) -> tuple[float, int, str]:
    """(seconds, peak resident bytes, stdout) of a `semcat` command in a child process; with
    ``watch`` (a data dir), its ingestion run's progress every few seconds into ``samples``."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "semcat", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if watch is not None and samples is not None:
        threading.Thread(target=_watch, args=(proc, watch / "ingestion_runs.sqlite", samples),
                         daemon=True).start()
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"semcat {' '.join(args)} exited with {status}: {out[-2000:]}")
    return seconds, usage.ru_maxrss * 1024, out


def _watch(proc: subprocess.Popen[bytes], registry: Path,
           samples: list[tuple[float, int]]) -> None:
    while proc.poll() is None:
        time.sleep(5)
        try:
            with sqlite3.connect(f"file:{registry}?mode=ro", uri=True, timeout=1) as db:
                row = db.execute("SELECT progress FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.Error:
            continue
        if row:
            samples.append((time.perf_counter(), int(row[0])))


def steadiness(samples: list[tuple[float, int]]) -> tuple[float, float]:
    """Assets/s over the first and the last fifth of the run's progress: a rate that decays as
    the catalog grows shows here."""
    if len(samples) < 10:
        return 0.0, 0.0
    fifth = len(samples) // 5
    (t0, p0), (t1, p1) = samples[0], samples[fifth]
    (t2, p2), (t3, p3) = samples[-fifth - 1], samples[-1]
    return (p1 - p0) / (t1 - t0), (p3 - p2) / (t3 - t2)


def ingest(config: dict[str, Any], tmp: Path, name: str,
           samples: list[tuple[float, int]] | None = None) -> tuple[float, int, dict[str, Any]]:
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(config))
    seconds, peak, out = child(["ingest", str(path), "--data", str(tmp / name), "-f", "json"],
                               tmp / name, samples)
    return seconds, peak, json.loads(out)


def rest_bulk(items: list[dict[str, Any]], tmp: Path, batch: int) -> float:
    bodies = [json.dumps(items[i:i + batch]).encode() for i in range(0, len(items), batch)]
    with Server(tmp / "rest") as srv, httpx.Client(base_url=srv.url, timeout=900) as http:
        t = time.perf_counter()
        for body in bodies:
            r = http.post("/api/v1/assets:bulk", content=body,
                          headers={"Content-Type": "application/json"})
            if r.status_code != 200:
                raise RuntimeError(f"bulk upsert failed: {r.status_code} {r.text[:500]}")
        return time.perf_counter() - t


def raw_bulk_load(items: list[dict[str, Any]], tmp: Path, batch: int) -> tuple[float, int]:
    """The same statements (as the catalog's changesets hold them) into a bare on-disk store."""
    chunks: list[bytes] = []
    with Catalog.open(Settings(data=None, validate_writes=False)) as cat:
        commit = cat.journal.commit

        def recording(*args: Any, **kwargs: Any) -> Changeset | None:
            cs = commit(*args, **kwargs)
            if cs is not None:
                chunks.append(serialize(cs.added, format=RdfFormat.N_QUADS) or b"")
            return cs

        cat.journal.commit = recording  # type: ignore[method-assign]
        for i in range(0, len(items), batch):
            cat.assets.upsert_many(items[i:i + batch], actor="bench")
    store = Store(str(tmp / "raw"))
    t = time.perf_counter()
    store.bulk_load(b"".join(chunks), format=RdfFormat.N_QUADS)
    store.flush()
    seconds = time.perf_counter() - t
    quads = len(store)
    del store
    return seconds, quads


def batch_part(n: int, sample: int, batch: int, tmp: Path) -> dict[str, Any]:
    path = tmp / "assets.ndjson"
    with path.open("w") as f:
        for record in warehouse(n):
            f.write(json.dumps(record) + "\n")
    print(f"batch: {n:,} assets in {path.stat().st_size / 1e6:,.0f} MB of NDJSON", flush=True)
    samples: list[tuple[float, int]] = []
    seconds, peak, report = ingest({"connector": "ndjson", "workspace": "acme",
                                    "batch_size": batch, "config": {"path": str(path)}},
                                   tmp, "batch", samples)
    first, last = steadiness(samples)
    assert report["added"] == n and report["failed"] == 0, report
    items = list(warehouse(sample))
    rest = rest_bulk(items, tmp, batch)
    raw, quads = raw_bulk_load(items, tmp, batch)
    # the run's own time: the child's start and the catalog's opening are not ingestion
    return {"assets": n, "seconds": report["seconds"], "wall_seconds": seconds,
            "assets_per_s": n / report["seconds"], "peak_bytes": peak,
            "first_fifth_per_s": first, "last_fifth_per_s": last,
            "sample": sample, "rest_assets_per_s": sample / rest,
            "raw_assets_per_s": sample / raw, "raw_quads": quads}


def sql_part(tables: int, tmp: Path) -> dict[str, Any]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as db:
        t = time.perf_counter()
        db.execute(f"CREATE SCHEMA {schema}")
        cols = ", ".join(f"c{c} integer" for c in range(COLUMNS))
        for start in range(0, tables, 500):  # one transaction would run out of lock slots
            with db.transaction():
                for i in range(start, min(start + 500, tables)):
                    db.execute(f"CREATE TABLE {schema}.t{i:06d} (id integer PRIMARY KEY, "
                               f"{cols})")
        print(f"sql: made {tables:,} tables in PostgreSQL in {time.perf_counter() - t:.0f} s",
              flush=True)
        try:
            t = time.perf_counter()
            rows = db.execute(
                "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, "
                "c.column_default, c.ordinal_position, k.constraint_name "
                "FROM information_schema.columns c LEFT JOIN "
                "information_schema.key_column_usage k USING (table_schema, table_name, "
                "column_name) WHERE c.table_schema = %s", (schema,)).fetchall()
            postgres = time.perf_counter() - t
            config = {"connector": "sql", "workspace": "acme", "batch_size": 1000,
                      "config": {"url": PG, "schemas": [schema], "views": False}}
            read_only = reading(config)
            seconds, peak, report = ingest(config, tmp, "sql")
        finally:  # also in parts: one transaction would run out of lock slots
            for start in range(0, tables, 500):
                with db.transaction():
                    for i in range(start, min(start + 500, tables)):
                        db.execute(f"DROP TABLE IF EXISTS {schema}.t{i:06d}")
            db.execute(f"DROP SCHEMA {schema} CASCADE")
    assets = report["added"]
    return {"tables": tables, "columns": len(rows), "assets": assets,
            "seconds": report["seconds"], "wall_seconds": seconds,
            "assets_per_s": assets / report["seconds"], "peak_bytes": peak,
            "postgres_seconds": postgres,
            "reading_seconds": read_only}


def reading(config: dict[str, Any]) -> float:
    """The SQL connector's reading alone: every record it yields, nothing written."""
    from ingestion.connector import RunContext, load_connector

    connector = load_connector("sql")
    settings = connector.config_model.model_validate(config["config"])
    t = time.perf_counter()
    n = sum(1 for _ in connector.records(settings, RunContext("acme", "bench")))
    seconds = time.perf_counter() - t
    print(f"sql: the connector read {n:,} records in {seconds:.1f} s", flush=True)
    return seconds


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.ingestion",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--assets", type=int, default=1_000_000, help="batch import size")
    ap.add_argument("--sample", type=int, default=20_000,
                    help="assets for the REST bulk and raw pyoxigraph rates")
    ap.add_argument("--batch", type=int, default=1000, help="assets per changeset")
    ap.add_argument("--tables", type=int, default=10_000, help="PostgreSQL tables of 10 columns")
    ap.add_argument("--skip-sql", action="store_true", help="leave out PostgreSQL")
    ap.add_argument("--skip-batch", action="store_true", help="leave out the batch import")
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} (shared machine: numbers are noisy)")
    results: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="semcat-bench-ingestion-", dir=TMP) as d:
        tmp = Path(d)
        if not args.skip_batch:
            b = results["batch"] = batch_part(args.assets, min(args.sample, args.assets),
                                              args.batch, tmp)
            print(table(["path", "assets", "assets/s", "peak MB"], [
                ["semcat ingest (ndjson)", b["assets"], b["assets_per_s"],
                 b["peak_bytes"] / 2 ** 20],
                ["REST POST /api/v1/assets:bulk", b["sample"], b["rest_assets_per_s"], None],
                ["raw pyoxigraph bulk_load", b["sample"], b["raw_assets_per_s"], None]]))
            of_rest = b["assets_per_s"] / b["rest_assets_per_s"]
            print(f"target: peak memory <= 2 GiB: {b['peak_bytes'] / 2 ** 30:.2f} GiB "
                  f"({'met' if b['peak_bytes'] <= MEMORY_TARGET else 'NOT met'}); >= 50% of "
                  f"the REST bulk rate: {of_rest:.0%} "
                  f"({'met' if of_rest >= OF_REST_TARGET else 'NOT met'}); vs raw pyoxigraph "
                  f"{b['assets_per_s'] / b['raw_assets_per_s']:.1%}; steady: "
                  f"{b['first_fifth_per_s']:,.0f} assets/s over the first fifth of the run, "
                  f"{b['last_fifth_per_s']:,.0f} over the last\n", flush=True)
        if not args.skip_sql:
            s = results["sql"] = sql_part(args.tables, tmp)
            ratio = s["seconds"] / s["postgres_seconds"]
            print(table(["path", "seconds", "assets/s", "peak MB"], [
                ["PostgreSQL answering the catalog query", s["postgres_seconds"], None, None],
                ["SQL connector reading only", s["reading_seconds"], None, None],
                ["semcat ingest (sql)", s["seconds"], s["assets_per_s"],
                 s["peak_bytes"] / 2 ** 20]]))
            print(f"{s['tables']:,} tables, {s['columns']:,} columns, {s['assets']:,} assets; "
                  f"target: within {OF_POSTGRES_TARGET:g}x of PostgreSQL: {ratio:,.0f}x "
                  f"({'met' if ratio <= OF_POSTGRES_TARGET else 'NOT met'}); reading alone "
                  f"{s['reading_seconds'] / s['postgres_seconds']:,.0f}x")
    print(f"results: {write_results('ingestion', results)}")


if __name__ == "__main__":
    main()
