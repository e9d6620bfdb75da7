"""Several API nodes over one shared change log (catalog/replica.py) on this one machine.

`semcat serve` processes with their own data directories, sharing one ``nats-server -js``
started here; clients are threads of this process. It measures:

- write throughput (REST creates of tables, WRITERS concurrent clients): one node on the
  embedded SQLite log (the default), one node on the NATS log, three nodes on the NATS log
  with the writes spread over them;
- read throughput (REST GET of an asset by id, READERS clients): one node vs three;
- replication lag: writes at RATE per second on node A; for each, the time from its ack until
  node B's REST read sees it (polled every POLL_S), p50/p95/max.

Everything (three servers, the broker, the clients) shares this machine's cores, so three nodes
cannot beat one at writes here: every write is applied by every node.

    python -m bench.scale              # ~2 minutes
    python -m bench.scale --seconds 5  # shorter runs
"""

from __future__ import annotations

import argparse
import queue
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench._common import TMP, Server, table, write_results
from bench.nats_changelog import nats_servers

WRITERS = 4
READERS = 4
RATE = 20.0  # writes per second while the lag is measured
POLL_S = 0.01
SCAFFOLD = [
    {"type": "Database", "workspace": "acme", "platform": "platform/snowflake",
     "qualifiedName": "db", "name": "db", "description": "The warehouse"},
    {"type": "Schema", "workspace": "acme", "platform": "platform/snowflake",
     "qualifiedName": "db.sales", "name": "sales", "partOf": "acme/database/snowflake/db",
     "description": "Sales data"},
]


def a_table(name: str) -> dict[str, Any]:
    return {"type": "Table", "workspace": "acme", "platform": "platform/snowflake",
            "qualifiedName": f"db.sales.{name}", "name": name,
            "partOf": "acme/schema/snowflake/db.sales", "description": f"The {name} table"}


def key(name: str) -> str:
    return f"acme/table/snowflake/db.sales.{name}"


@contextmanager
def cluster(root: Path, count: int, log_url: str | None) -> Iterator[list[Server]]:
    env = {"SEMCAT_QUERY_WORKERS": "1", **({"SEMCAT_LOG_URL": log_url} if log_url else {})}
    with ExitStack() as stack:
        servers = []
        for i in range(count):  # one after the other: the first makes the stream and ontology
            srv = Server(root / f"node{i}", env=env)
            stack.callback(srv.stop)
            servers.append(srv.start())
        r = httpx.post(servers[0].url + "/api/v1/assets:bulk", json=SCAFFOLD, timeout=60)
        r.raise_for_status()
        for srv in servers[1:]:  # every node has the schema before the clients start
            wait_for(srv.url, "acme/schema/snowflake/db.sales", 30)
        yield servers


def wait_for(url: str, asset: str, bound: float) -> float:
    """Seconds until ``asset`` reads 200 on the node at ``url``."""
    start = time.monotonic()
    with httpx.Client(base_url=url, timeout=10) as http:
        while http.get(f"/api/v1/assets/{asset}").status_code != 200:
            if time.monotonic() - start > bound:
                raise RuntimeError(f"{asset} did not reach {url} in {bound} s")
            time.sleep(POLL_S)
    return time.monotonic() - start


def write_throughput(servers: list[Server], seconds: float) -> dict[str, Any]:
    done, failed = [0], [0]
    lock = threading.Lock()
    written: list[str] = []
    stop = time.monotonic() + seconds

    def write(w: int) -> None:
        clients = [httpx.Client(base_url=s.url, timeout=60) for s in servers]
        i = w
        while time.monotonic() < stop:
            name = "t" + uuid.uuid4().hex[:12]
            r = clients[i % len(clients)].post("/api/v1/assets", json=a_table(name))
            i += 1
            with lock:
                if r.status_code in (200, 201):
                    done[0] += 1
                    written.append(key(name))
                else:
                    failed[0] += 1
        for c in clients:
            c.close()

    start = time.monotonic()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    # every node holds every write before the next phase reads
    for srv in servers:
        wait_for(srv.url, written[-1], 60)
    return {"writes": done[0], "failed": failed[0], "seconds": round(elapsed, 2),
            "writes_per_s": round(done[0] / elapsed, 1), "assets": written}


def read_throughput(servers: list[Server], assets: list[str], seconds: float) -> dict[str, Any]:
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def read(r: int) -> None:
        clients = [httpx.Client(base_url=s.url, timeout=60) for s in servers]
        rng = random.Random(r)
        i = r
        n = 0
        while time.monotonic() < stop:
            got = clients[i % len(clients)].get(f"/api/v1/assets/{rng.choice(assets)}")
            got.raise_for_status()
            i += 1
            n += 1
        with lock:
            done[0] += n
        for c in clients:
            c.close()

    start = time.monotonic()
    threads = [threading.Thread(target=read, args=(r,)) for r in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    return {"reads": done[0], "reads_per_s": round(done[0] / elapsed, 1)}


def lag(servers: list[Server], seconds: float) -> dict[str, Any]:
    """One poller on B, always for the oldest write it has not seen: B applies the log in
    order, so when it shows write k it holds every earlier one (and B is not flooded by one
    poller per write, which would measure the polling)."""
    a, b = servers[0], servers[1]
    acked: queue.Queue[tuple[str, float] | None] = queue.Queue()
    lags: list[float] = []

    def watch() -> None:
        with httpx.Client(base_url=b.url, timeout=60) as http:
            while (item := acked.get()) is not None:
                asset, at = item
                while http.get(f"/api/v1/assets/{asset}").status_code != 200:
                    time.sleep(POLL_S)
                lags.append(time.monotonic() - at)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with httpx.Client(base_url=a.url, timeout=60) as http:
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            due = start + n / RATE
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            name = "t" + uuid.uuid4().hex[:12]
            http.post("/api/v1/assets", json=a_table(name)).raise_for_status()
            acked.put((key(name), time.monotonic()))
            n += 1
    acked.put(None)
    watcher.join()
    lags.sort()
    q = statistics.quantiles(lags, n=20)
    return {"rate_per_s": RATE, "writes": len(lags),
            "p50_ms": round(statistics.median(lags) * 1000, 1),
            "p95_ms": round(q[18] * 1000, 1), "max_ms": round(lags[-1] * 1000, 1),
            "poll_ms": POLL_S * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="per write or read phase")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=TMP, prefix="semcat-scale-") as tmp:
        root = Path(tmp)
        with cluster(root / "sqlite", 1, None) as one:
            w = write_throughput(one, args.seconds)
            results["one node, SQLite log"] = {"write": w}
        with nats_servers(root / "nats", 1) as urls:
            with cluster(root / "nats-one", 1, urls[0]) as one:
                w = write_throughput(one, args.seconds)
                r = read_throughput(one, w.pop("assets"), args.seconds)
                results["one node, NATS log"] = {"write": w, "read": r}
            with cluster(root / "nats-three", 3, ",".join(urls)) as three:
                w = write_throughput(three, args.seconds)
                r = read_throughput(three, w.pop("assets"), args.seconds)
                results["three nodes, NATS log"] = {"write": w, "read": r,
                                                    "lag": lag(three, args.seconds)}
    results["one node, SQLite log"]["write"].pop("assets")
    rows = [(setup, v["write"]["writes_per_s"], v["write"]["failed"],
             v.get("read", {}).get("reads_per_s")) for setup, v in results.items()]
    print(table(["setup", f"writes/s ({WRITERS} clients)", "failed",
                 f"reads/s ({READERS} clients)"], rows))
    lag_ = results["three nodes, NATS log"]["lag"]
    print(f"\nreplication lag A→B at {lag_['rate_per_s']:.0f} writes/s ({lag_['writes']} writes, "
          f"polled every {lag_['poll_ms']:.0f} ms): p50 {lag_['p50_ms']} ms, "
          f"p95 {lag_['p95_ms']} ms, max {lag_['max_ms']} ms")
    print(f"results: {write_results('scale', results)}")


if __name__ == "__main__":
    main()
