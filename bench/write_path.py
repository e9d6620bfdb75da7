"""The write path and a mixed load through a real server on the demo catalog, beside the raw
library: how long one asset's change takes over HTTP (SHACL, access routing, incremental
inference, rules, the text index, two fsynced logs) against pyoxigraph applying the same kind
of change (one quad removed, one added) on the same store, and what 8 concurrent clients get.

    python -m bench.write_path              # demo catalog, 8 clients for 30 s
    python -m bench.write_path --seconds 60

Targets (issue 12): single write p95 <= 15 ms alone, <= 100 ms under the 8-client mix, >= 200
single-asset writes/s sustained; list page p95 <= 20 ms.
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

from bench._common import ROOT, TMP, Server, table, write_results

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


def sequential(url: str, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    with httpx.Client(base_url=url, timeout=60) as http:
        for i in range(n):
            out["single write (PATCH)"].append(timed(
                http.patch, f"/api/v1/assets/{ORDERS}", json={"description": f"orders, take {i}"}))
        for _ in range(n):
            out["list page (limit=10)"].append(timed(http.get, "/api/v1/assets",
                                                     params={"limit": 10}))
        for _ in range(n):
            out["health check"].append(timed(http.get, "/healthz"))
    return out


def mixed(url: str, clients: int, seconds: float, tables: list[str]) -> dict[str, Any]:
    times: dict[str, list[float]] = defaultdict(list)
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(base_url=url, timeout=120) as http:
            i = 0
            while time.monotonic() < stop:
                i += 1
                kind = rng.choices(KINDS, weights=(50, 5, 25, 20))[0]
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

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {"seconds": elapsed, "times": times}


def raw_changes(store_dir: Path, n: int) -> list[float]:
    """pyoxigraph alone, on a copy of the same store: remove one quad and add one, n times."""
    store = Store(str(store_dir))
    s = NamedNode("http://127.0.0.1:8000/id/" + ORDERS)
    p = NamedNode("https://w3id.org/semcat#description")
    g = NamedNode("http://127.0.0.1:8000/graph/acme/general")
    out, old = [], None
    for i in range(n):
        t = time.perf_counter()
        new = Quad(s, p, Literal(f"raw take {i}"), g)
        if old is not None:
            store.remove(old)
        store.add(new)
        store.flush()
        out.append((time.perf_counter() - t) * 1000)
        old = new
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args(argv)
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
            mix = mixed(srv.url, args.clients, args.seconds, tables)
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
    print(f"single write over HTTP / raw pyoxigraph change (medians): {ratio:.0f}x")
    mrows = []
    for kind in KINDS:
        v = mix["times"].get(kind, [])
        if v:
            mrows.append([kind, f"{len(v) / mix['seconds']:.1f}", f"{pct(v, 50):.1f}",
                          f"{pct(v, 95):.1f}", f"{pct(v, 99):.1f}", str(len(v))])
    print(f"\n{args.clients} clients mixing for {mix['seconds']:.0f} s; per second and ms")
    print(table(["kind", "per s", "p50", "p95", "p99", "n"], mrows))
    write_results("write_path", {
        "alone": {k: {"p50": statistics.median(v), "p95": pct(v, 95)} for k, v in alone.items()},
        "raw_change_ms": {"p50": statistics.median(raw), "p95": pct(raw, 95)},
        "mixed": {k: {"per_s": len(v) / mix["seconds"], "p50": pct(v, 50), "p95": pct(v, 95),
                      "p99": pct(v, 99)} for k, v in mix["times"].items()},
        "clients": args.clients, "seconds": mix["seconds"]})


if __name__ == "__main__":
    main()
