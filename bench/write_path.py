"""The write path and a mixed load through a real server, beside the raw library: how long one
asset's change takes over HTTP (SHACL, access routing, two fsynced logs, the store; the text
index, incremental inference and rules follow on the projector thread) against pyoxigraph
applying the same kind of change (one quad removed, one added) on the same store.

On the demo catalog: one client, then 8 concurrent clients mixing single writes, bulk writes of
100, SPARQL reads and searches. With ``--assets N``: a synthetic catalog of N assets (built once
and kept under /tmp), one client, the projection lag under a paced stream of writes (how long
after its ack a write is in every projection), and the health check while two pathological
queries run.

    python -m bench.write_path                    # demo catalog, 8 clients: 10 s of the mix
                                                  # (reported apart), 60 s of it, then 30 s
                                                  # of writes only
    python -m bench.write_path --seconds 20       # a quicker look
    python -m bench.write_path --assets 100000    # 100k assets, 100 writes/s for 20 s

Targets (issue 12): single write p95 <= 15 ms alone, <= 100 ms under the 8-client mix, >= 200
single-asset writes/s sustained; list page p95 <= 20 ms; projection lag p95 <= 1 s at 100
writes/s; health check p95 <= 50 ms under heavy queries.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from pyoxigraph import Literal, NamedNode, Quad, Store

from bench._common import ROOT, TMP, Server, run_threads, table, write_results

ORDERS = "acme/table/postgres/shop.public.orders"
KINDS = ("write", "bulk100", "sparql", "search")


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[q - 1]


def timed(send: Any, *args: Any, **kwargs: Any) -> float:
    t = time.perf_counter()
    r = send(*args, **kwargs)
    assert r.status_code < 400, r.text
    return (time.perf_counter() - t) * 1000


def sequential(url: str, n: int, key: str = ORDERS) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    with httpx.Client(base_url=url, timeout=60) as http:
        for i in range(n):
            out["single write (PATCH)"].append(timed(
                http.patch, f"/api/v1/assets/{key}", json={"description": f"orders, take {i}"}))
        for _ in range(n):
            out["list page (limit=10)"].append(timed(http.get, "/api/v1/assets",
                                                     params={"limit": 10}))
        for _ in range(n):
            out["health check"].append(timed(http.get, "/healthz"))
    return out


MIX = (50, 5, 25, 20)  # weights of KINDS
WRITES_ONLY = (1, 0, 0, 0)


def lock_seconds(url: str) -> tuple[float, float]:
    """The server's write lock: seconds held and seconds waited for, so far (/metrics)."""
    values = {}
    for line in httpx.get(url + "/metrics", timeout=30).text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("semcat_write_lock_held_seconds_total",
                    "semcat_write_lock_waited_seconds_total"):
            values[name] = float(value)
    return (values["semcat_write_lock_held_seconds_total"],
            values["semcat_write_lock_waited_seconds_total"])


def mixed(url: str, clients: int, seconds: float, tables: list[str],
          weights: tuple[int, ...] = MIX) -> dict[str, Any]:
    """``clients`` closed loops (each sends its next request when the last is answered): so the
    mean latency is ``clients`` / throughput (Little's law), and a latency target under them is
    a throughput target in disguise."""
    times: dict[str, list[float]] = defaultdict(list)
    held, waited = lock_seconds(url)
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(base_url=url, timeout=120) as http:
            i = 0
            while time.monotonic() < stop:
                i += 1
                kind = rng.choices(KINDS, weights=weights)[0]
                if kind == "write":
                    key = rng.choice(tables)
                    ms = timed(http.patch, f"/api/v1/assets/{key}",
                               json={"description": f"c{n} w{i}"})
                elif kind == "bulk100":
                    ms = timed(http.post, "/api/v1/assets:bulk", json=[
                        {"type": "DataPlatform", "id": f"platform/b{n}-{i}-{j}",
                         "name": f"bulk {n} {i} {j}"} for j in range(100)])
                elif kind == "sparql":
                    ms = timed(http.get, "/sparql", params={"query": (
                        "SELECT ?t ?n WHERE { ?t a <https://w3id.org/semcat#Table> ; "
                        "<https://w3id.org/semcat#name> ?n } LIMIT 20")})
                else:
                    ms = timed(http.get, "/api/v1/search", params={
                        "q": rng.choice(("orders", "customer email", "revenue", "payments")),
                        "mode": "keyword"})
                with lock:
                    times[kind].append(ms)

    took = run_threads(client, clients)
    held_after, waited_after = lock_seconds(url)
    return {"seconds": took, "times": times, "lock_busy": (held_after - held) / took,
            "lock_waiters": (waited_after - waited) / took}


def raw_changes(store_dir: Path, n: int, key: str = ORDERS,
                graph: str = "http://127.0.0.1:8000/graph/acme/general") -> list[float]:
    """pyoxigraph alone, on a copy of the same store: remove one quad and add one, n times."""
    store = Store(str(store_dir))
    s = NamedNode("http://127.0.0.1:8000/id/" + key)
    p = NamedNode("https://w3id.org/semcat#description")
    g = NamedNode(graph)
    out, old = [], None
    for i in range(n):
        t = time.perf_counter()
        new = Quad(s, p, Literal(f"raw take {i}"), g)
        if old is not None:
            store.remove(old)
        store.add(new)  # pyoxigraph's own durability (its write-ahead log), as semcat applies
        out.append((time.perf_counter() - t) * 1000)
        old = new
    return out


def projection_lag(url: str, tables: list[str], rate: float, seconds: float) -> dict[str, Any]:
    """Writes paced at ``rate`` per second (4 clients); for each, the time from its ack until
    /readyz shows every projection at its position (sampled every 10 ms)."""
    acks: list[tuple[float, int]] = []  # (ack time, position)
    samples: list[tuple[float, int]] = []  # (time, position every projection has reached)
    write_ms: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()
    started = time.monotonic()

    def writer(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            i = 0
            while time.monotonic() - started < seconds:
                due = started + (i * 4 + n) / rate
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
                t = time.perf_counter()
                r = http.patch(f"/api/v1/assets/{tables[(i * 4 + n) % len(tables)]}",
                               json={"description": f"paced {n} {i}"})
                assert r.status_code == 200, r.text
                with lock:
                    write_ms.append((time.perf_counter() - t) * 1000)
                    acks.append((time.monotonic(), int(r.headers["semcat-position"])))
                i += 1

    def sampler() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                ready = http.get("/readyz").json()
                lag = max(v for k, v in ready["lag"].items() if k != "vectors")
                samples.append((time.monotonic(), ready["appliedSeq"] - lag))
                time.sleep(0.01)

    probe = threading.Thread(target=sampler)
    probe.start()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    elapsed = time.monotonic() - started
    time.sleep(5)
    stop.set()
    probe.join()
    lags = []
    for at, position in acks:
        reached = next((t for t, p in samples if p >= position and t >= at), None)
        if reached is not None:
            lags.append((reached - at) * 1000)
    return {"writes_per_s": len(acks) / elapsed, "write_ms": write_ms, "lag_ms": lags,
            "unreached": len(acks) - len(lags)}


def synthetic_catalog(n: int) -> Path:
    """A catalog of about ``n`` synthetic assets (tables of ten columns, lineage, PII, owners)
    plus a classification rule, built once through the Catalog and kept for the next run."""
    from bench.synthetic import batches, synthetic_assets
    from catalog import Catalog, Settings

    data = Path(TMP) / f"semcat-bench-write-path-{n}"
    if (data / "built").exists():
        return data
    shutil.rmtree(data, ignore_errors=True)
    items = synthetic_assets(tables=max(1, n // 11))
    t = time.perf_counter()
    with Catalog.open(Settings(data=data)) as cat:
        for i, batch in enumerate(batches(items, 2000)):
            cat.assets.upsert_many(batch, actor="bench", message=f"synthetic batch {i}")
            print(f"  built {min((i + 1) * 2000, len(items)):,} of {len(items):,} assets "
                  f"({time.perf_counter() - t:.0f} s)", file=sys.stderr)
        cat.rules.create({"id": "rule/bench-emails", "name": "E-mail columns", "construct": (
            "CONSTRUCT { ?this semcat:classification <classification/pii/email> } WHERE { "
            "?this a semcat:Column ; semcat:name ?n . FILTER(CONTAINS(?n, \"email\")) }")},
            actor="bench")
        cat.settle()
    (data / "built").write_text(f"{len(items)} assets in {time.perf_counter() - t:.0f} s\n")
    return data


def large(args: argparse.Namespace) -> None:
    from bench.query_stopping import run_mode

    data = synthetic_catalog(args.assets)
    srv = Server(data).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            tables = [a["id"] for a in http.get("/api/v1/assets", params={
                "type": "Table", "limit": 200}).json()["items"]]
        alone = sequential(srv.url, args.n, tables[0])
        lag = projection_lag(srv.url, tables, args.rate, args.lag_seconds)
    finally:
        srv.stop()
    heavy = run_mode(data, 2, 3.0)
    rows = [[name, f"{statistics.median(v):.1f}", f"{pct(v, 95):.1f}", str(len(v))]
            for name, v in alone.items()]
    print(f"one client, {args.assets:,} synthetic assets ({args.n} requests each); ms")
    print(table(["operation", "p50", "p95", "n"], rows))
    lrows = [["write (PATCH), paced", f"{pct(lag['write_ms'], 50):.1f}",
              f"{pct(lag['write_ms'], 95):.1f}", str(len(lag["write_ms"]))],
             ["projection lag after the ack", f"{pct(lag['lag_ms'], 50):.0f}",
              f"{pct(lag['lag_ms'], 95):.0f}", str(len(lag["lag_ms"]))]]
    print(f"\nwrites paced at {args.rate:g}/s for {args.lag_seconds:g} s (achieved "
          f"{lag['writes_per_s']:.0f}/s, {lag['unreached']} not reached in the window); ms")
    print(table(["measure", "p50", "p95", "n"], lrows))
    print(f"\nhealth check while two pathological queries run (deadline 3 s): p50/p95 "
          f"{heavy['health_p50_ms']} / {heavy['health_p95_ms']} ms; CPU s in the 2nd second "
          f"after: {heavy['cpu_s_in_second_after']}")
    write_results(f"write_path_{args.assets}", {
        "alone": {k: {"p50": statistics.median(v), "p95": pct(v, 95)} for k, v in alone.items()},
        "paced": {"rate": args.rate, "achieved": lag["writes_per_s"],
                  "write_p50": pct(lag["write_ms"], 50), "write_p95": pct(lag["write_ms"], 95),
                  "lag_p50": pct(lag["lag_ms"], 50), "lag_p95": pct(lag["lag_ms"], 95),
                  "unreached": lag["unreached"]},
        "heavy": heavy})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10, help="seconds of the mix, reported "
                        "apart, before the measured ones (0: none)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--assets", type=int, help="a synthetic catalog of this many assets "
                        "instead of the demo")
    parser.add_argument("--rate", type=float, default=100, help="paced writes per second")
    parser.add_argument("--lag-seconds", type=float, default=20)
    args = parser.parse_args(argv)
    if args.assets:
        large(args)
        return
    with tempfile.TemporaryDirectory(dir=TMP) as tmp:
        data = Path(tmp) / "demo"
        subprocess.run([sys.executable, "-m", "semcat", "demo", "--data", str(data)], cwd=ROOT,
                       check=True, capture_output=True)
        srv = Server(data).start()
        try:
            with httpx.Client(base_url=srv.url, timeout=60) as http:
                tables = [a["id"] for a in http.get("/api/v1/assets", params={
                    "type": "Table", "limit": 200}).json()["items"]]
            alone = sequential(srv.url, args.n)
            # the server's first seconds under the mix are reported apart (caches fill, the
            # query workers start), so that they neither hide nor inflate the steady state
            warm = mixed(srv.url, args.clients, args.warmup, tables) if args.warmup else None
            mix = mixed(srv.url, args.clients, args.seconds, tables)
            writes = mixed(srv.url, args.clients, args.seconds / 2, tables, WRITES_ONLY)
        finally:
            srv.stop()
        shutil.copytree(data / "store", Path(tmp) / "raw")
        raw = raw_changes(Path(tmp) / "raw", args.n)
    rows = [[name, f"{statistics.median(v):.1f}", f"{pct(v, 95):.1f}", str(len(v))]
            for name, v in alone.items()]
    rows.append(["raw pyoxigraph: remove + add one quad", f"{statistics.median(raw):.2f}",
                 f"{pct(raw, 95):.2f}", str(len(raw))])
    print(f"one client, demo catalog ({args.n} requests each); ms")
    print(table(["operation", "p50", "p95", "n"], rows))
    ratio = statistics.median(alone["single write (PATCH)"]) / statistics.median(raw)
    print(f"single write over HTTP / raw pyoxigraph change (medians): {ratio:.1f}x")
    for title, run in ((f"its first {args.warmup:g} s", warm),
                       (f"the {args.seconds:g} s after that", mix)):
        if run is None:
            continue
        mrows = []
        for kind in KINDS:
            v = run["times"].get(kind, [])
            if v:
                mrows.append([kind, f"{len(v) / run['seconds']:.1f}", f"{pct(v, 50):.1f}",
                              f"{pct(v, 95):.1f}", f"{pct(v, 99):.1f}", str(len(v))])
        print(f"\n{args.clients} clients mixing, {title}; per second and ms")
        print(table(["kind", "per s", "p50", "p95", "p99", "n"], mrows))
        done = sum(len(v) for v in run["times"].values()) / run["seconds"]
        print(f"{done:.1f} requests/s in all, so {args.clients / done * 1000:.0f} ms mean "
              f"latency (Little's law); the write lock was held {run['lock_busy']:.0%} of the "
              f"time, with {run['lock_waiters']:.1f} threads waiting for it on average")
    w = writes["times"]["write"]
    print(f"\n{args.clients} clients writing only, {writes['seconds']:.0f} s: "
          f"{len(w) / writes['seconds']:.1f} single-asset writes/s sustained, p50/p95/p99 "
          f"{pct(w, 50):.1f} / {pct(w, 95):.1f} / {pct(w, 99):.1f} ms; the write lock was held "
          f"{writes['lock_busy']:.0%} of the time")
    write_results("write_path", {
        "alone": {k: {"p50": statistics.median(v), "p95": pct(v, 95)} for k, v in alone.items()},
        "raw_change_ms": {"p50": statistics.median(raw), "p95": pct(raw, 95)},
        "mixed": {k: {"per_s": len(v) / mix["seconds"], "p50": pct(v, 50), "p95": pct(v, 95),
                      "p99": pct(v, 99)} for k, v in mix["times"].items()},
        "warmup": None if warm is None else {
            k: {"per_s": len(v) / warm["seconds"], "p50": pct(v, 50), "p95": pct(v, 95),
                "p99": pct(v, 99)} for k, v in warm["times"].items()},
        "writes_only": {"per_s": len(w) / writes["seconds"], "p50": pct(w, 50),
                        "p95": pct(w, 95), "p99": pct(w, 99), "lock_busy": writes["lock_busy"]},
        "mixed_lock_busy": mix["lock_busy"],
        "clients": args.clients, "seconds": mix["seconds"]})


if __name__ == "__main__":
    main()
