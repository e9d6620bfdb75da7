"""OpenLineage ingestion through a real server, beside pyoxigraph applying the same changes.

Clients post RunEvents (a START and a COMPLETE per run; each of 200 jobs reads two tables and
writes one, with a schema facet of ten columns and a columnLineage facet) to
``POST /api/v1/lineage`` on an empty on-disk catalog, as the openlineage-python HTTP transport
does: first one run of every job (what the catalog has not seen: datasets, columns, lineage), then
the jobs' next runs (as producers report every day: the same job and datasets, a new run). Then
the changesets the server logged are applied, in order, to a fresh pyoxigraph store: the raw cost
of the same writes.

    python -m bench.openlineage_ingest                  # 4,000 events from 8 clients
    python -m bench.openlineage_ingest --runs 500 --clients 4

Target (issue 13): >= 1,000 events/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from pyoxigraph import Store

from bench._common import TMP, Server, run_threads, table, write_results
from graph_store.changelog import ChangeLog

NS = "postgres://warehouse:5432"
COLUMNS = [f"c{i}" for i in range(10)]


def _dataset(name: str, lineage_from: list[str] | None = None) -> dict[str, Any]:
    facets: dict[str, Any] = {"schema": {
        "_producer": "bench", "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/"
        "SchemaDatasetFacet.json", "fields": [{"name": c, "type": "text"} for c in COLUMNS]}}
    if lineage_from:
        facets["columnLineage"] = {
            "_producer": "bench", "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/"
            "ColumnLineageDatasetFacet.json",
            "fields": {c: {"inputFields": [{"namespace": NS, "name": src, "field": c}
                                           for src in lineage_from]} for c in COLUMNS}}
    return {"namespace": NS, "name": name, "facets": facets}


def event(kind: str, when: str, run_id: str, job: str, inputs: list[str],
          output: str) -> dict[str, Any]:
    return {"eventType": kind, "eventTime": when, "producer": "bench",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": run_id}, "job": {"namespace": "bench", "name": job},
            "inputs": [_dataset(i) for i in inputs],
            "outputs": [_dataset(output, inputs)]}


def post_all(url: str, runs: range, clients: int, jobs: int) -> tuple[float, list[float]]:
    times: list[float] = []
    lock = threading.Lock()
    order = list(runs)

    def client(n: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for r in order[n::clients]:
                run_id, j = str(uuid.uuid4()), r % jobs
                inputs = [f"shop.raw.t{j % 300}", f"shop.raw.t{(j + 7) % 300}"]
                output = f"shop.staging.t{j}"
                for kind, at in (("START", "10:00:00"), ("COMPLETE", "10:05:00")):
                    body = event(kind, f"2026-03-01T{at}Z", run_id, f"job_{j}", inputs, output)
                    t = time.perf_counter()
                    resp = http.post("/api/v1/lineage", json=body)
                    assert resp.status_code == 201, resp.text
                    with lock:
                        times.append((time.perf_counter() - t) * 1000)

    return run_threads(client, clients), times


def raw_apply(data: Path) -> tuple[float, int]:
    """The logged changesets applied in order to a fresh pyoxigraph store (seconds, count)."""
    log = ChangeLog(data / "changelog.sqlite")
    changes = [cs for cs in log.since(0) if cs.actor != "system"]
    log.close()
    with tempfile.TemporaryDirectory(dir=TMP) as tmp:
        store = Store(tmp)
        t = time.perf_counter()
        for cs in changes:
            for q in cs.removed:
                store.remove(q)
            store.extend(cs.added)
        store.flush()
        return time.perf_counter() - t, len(changes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs (two events each)")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    phases = {"first runs (new jobs and datasets)": range(min(args.jobs, args.runs)),
              "next runs (known jobs and datasets)": range(min(args.jobs, args.runs), args.runs)}
    measured: dict[str, tuple[float, list[float]]] = {}
    with tempfile.TemporaryDirectory(dir=TMP) as tmp:
        data = Path(tmp) / "catalog"
        srv = Server(data).start()
        try:
            for phase, runs in phases.items():
                if runs:
                    measured[phase] = post_all(srv.url, runs, args.clients, args.jobs)
        finally:
            srv.stop()
        raw_s, changesets = raw_apply(data)
    elapsed = sum(e for e, _ in measured.values())
    times = [t for _, ts in measured.values() for t in ts]
    rate = len(times) / elapsed
    rows = []
    results: dict[str, Any] = {"clients": args.clients, "events": len(times)}
    for phase, (seconds, ts) in measured.items():
        q = statistics.quantiles(ts, n=100)
        rows.append([phase, len(ts), round(len(ts) / seconds, 1), round(statistics.median(ts), 1),
                     round(q[94], 1)])
        results[phase] = {"events": len(ts), "events_per_s": len(ts) / seconds,
                          "p50_ms": statistics.median(ts), "p95_ms": q[94]}
    q = statistics.quantiles(times, n=100)
    rows.append(["all", len(times), round(rate, 1), round(statistics.median(times), 1),
                 round(q[94], 1)])
    print(f"{len(times):,} OpenLineage events from {args.clients} clients "
          f"({changesets:,} changesets logged)", file=sys.stderr)
    print(table(["POST /api/v1/lineage", "events", "events/s", "p50 ms", "p95 ms"], rows))
    raw_rate = changesets / raw_s
    print(f"raw pyoxigraph: the same {changesets:,} changesets applied: {raw_rate:.1f}/s")
    print(f"semcat events/s / raw pyoxigraph changesets/s: {rate / raw_rate:.3f}x")
    write_results("openlineage_ingest", {**results, "events_per_s": rate,
                                         "raw_changesets_per_s": raw_rate})


if __name__ == "__main__":
    main()
