"""Several API nodes over one shared change log (catalog/replica.py) on this one machine.

`semcat serve` processes with their own data directories, sharing one ``nats-server -js``
started here; writers are threads of this process, readers wrk processes. It measures:

- write throughput (REST creates of tables, WRITERS concurrent clients): one node on the
  embedded SQLite log (the default), one node on the NATS log, three nodes on the NATS log
  with the writes spread over them;
- read throughput, one node vs three: REST GET of an asset by id, a search for a table's name
  and a SPARQL lookup by name, driven by wrk (CONNECTIONS in all, spread over the nodes);
- replication lag: writes at RATE per second on node A; for each, the time from its ack until
  node B's REST read sees it (polled every POLL_S), p50/p95/max.

Everything (three servers, the broker, the clients) shares this machine's cores, so three nodes
cannot beat one at writes here: every write is applied by every node.

    python -m bench.scale              # ~2 minutes
    python -m bench.scale --seconds 5  # shorter runs
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench._common import TMP, Server, table, write_results
from bench.nats_changelog import nats_servers
from ontology.namespaces import SEMCAT

WRITERS = 4
CONNECTIONS = 12  # wrk connections in all while reads are measured
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


WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("SEMCAT_WRK_PATHS")) do paths[#paths + 1] = line end
local i = tonumber(os.getenv("SEMCAT_WRK_OFFSET"))
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""
READS = ("asset", "search", "sparql")


def read_paths(kind: str, assets: list[str]) -> list[str]:
    """GET paths of one kind of read, one per written table (names are random, so each search
    and each query has exactly one answer)."""
    names = [a.rsplit(".", 1)[-1] for a in assets]
    if kind == "asset":
        return [f"/api/v1/assets/{a}" for a in assets]
    if kind == "search":
        return [f"/api/v1/search?{urlencode({'q': n, 'type': 'Table', 'limit': 10})}"
                for n in names]
    return ["/sparql?" + urlencode({"query": f'SELECT ?t WHERE {{ ?t <{SEMCAT}name> "{n}" }}'})
            for n in names]


def settle(servers: list[Server]) -> None:
    """Every node caught up with the log and its indexes, vectors included, before reads are
    timed: a served node embeds each write as it comes (SEMCAT_VECTORS_ON_START), but the
    benchmark's servers start without, and a first hybrid search would otherwise set each node
    embedding the whole catalog while its reads are being measured."""
    for srv in servers:
        with httpx.Client(base_url=srv.url, timeout=600) as http:
            http.get("/api/v1/search", params={"q": "warm", "mode": "semantic",
                                               "wait": "true"}).raise_for_status()
            deadline = time.monotonic() + 600
            while http.get("/readyz").status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{srv.url} not ready after 600 s: {http.get('/readyz').text}")
                time.sleep(0.1)


def read_throughput(servers: list[Server], assets: list[str], seconds: float,
                    root: Path) -> dict[str, Any]:
    """Reads/s of each kind, by wrk (C, epoll: the load generator takes little of the CPU the
    servers share). CONNECTIONS in all, spread evenly over the nodes, one wrk per node at once."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench.scale needs wrk: apt-get install wrk (`make bench` does)")
    settle(servers)
    script = root / "paths.lua"
    script.write_text(WRK_SCRIPT)
    out: dict[str, Any] = {}
    for kind in READS:
        paths = root / f"{kind}.txt"
        paths.write_text("\n".join(read_paths(kind, assets)) + "\n")
        per_node = CONNECTIONS // len(servers)
        runs = [subprocess.Popen(
            ["wrk", "-t1", f"-c{per_node}", f"-d{seconds:.0f}s", "--latency", "-s", str(script),
             srv.url], stdout=subprocess.PIPE, text=True,
            env={**os.environ, "SEMCAT_WRK_PATHS": str(paths),
                 "SEMCAT_WRK_OFFSET": str(i * 7919)}) for i, srv in enumerate(servers)]
        before = _cpu_times()
        reports = [r.communicate()[0] for r in runs]
        busy = _busy(before, _cpu_times())
        bad = [r for r in reports if "Non-2xx" in r or "Socket errors" in r]
        if bad:
            raise RuntimeError(f"{kind} reads failed:\n{bad[0]}")
        rates = [float(re.search(r"Requests/sec:\s+([\d.]+)", r).group(1))  # type: ignore[union-attr]
                 for r in reports]
        p90 = [_ms(re.search(r"^\s+90%\s+(\S+)", r, re.M).group(1)) for r in reports]  # type: ignore[union-attr]
        out[kind] = {"reads_per_s": round(sum(rates), 1), "p90_ms_worst_node": max(p90),
                     "machine_cpu_busy": busy}
    return out


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat: how much of the cores the
    servers and wrk used, since three nodes can add throughput only where one left some idle."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    return round((after[0] - before[0]) / max(1, after[1] - before[1]), 3)


def _ms(text: str) -> float:
    """A wrk latency (``812.00us``, ``3.41ms``, ``1.02s``) in milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)


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
                r = read_throughput(one, w.pop("assets"), args.seconds, root)
                results["one node, NATS log"] = {"write": w, "read": r}
            with cluster(root / "nats-three", 3, ",".join(urls)) as three:
                w = write_throughput(three, args.seconds)
                r = read_throughput(three, w.pop("assets"), args.seconds, root)
                results["three nodes, NATS log"] = {"write": w, "read": r,
                                                    "lag": lag(three, args.seconds)}
    results["one node, SQLite log"]["write"].pop("assets")
    rows = [(setup, v["write"]["writes_per_s"], v["write"]["failed"])
            for setup, v in results.items()]
    print(table(["setup", f"writes/s ({WRITERS} clients)", "failed"], rows))
    one, three = (results[k]["read"] for k in ("one node, NATS log", "three nodes, NATS log"))
    print(table(["read", "1 node reads/s", "3 nodes reads/s", "3 ÷ 1", "p90 ms (1 / 3)",
                 "CPU busy (1 / 3)"],
                [(k, one[k]["reads_per_s"], three[k]["reads_per_s"],
                  f"{three[k]['reads_per_s'] / one[k]['reads_per_s']:.2f}",
                  f"{one[k]['p90_ms_worst_node']} / {three[k]['p90_ms_worst_node']}",
                  f"{one[k]['machine_cpu_busy']:.0%} / {three[k]['machine_cpu_busy']:.0%}")
                 for k in READS]))
    lag_ = results["three nodes, NATS log"]["lag"]
    print(f"\nreplication lag A→B at {lag_['rate_per_s']:.0f} writes/s ({lag_['writes']} writes, "
          f"polled every {lag_['poll_ms']:.0f} ms): p50 {lag_['p50_ms']} ms, "
          f"p95 {lag_['p95_ms']} ms, max {lag_['max_ms']} ms")
    print(f"results: {write_results('scale', results)}")


if __name__ == "__main__":
    main()
