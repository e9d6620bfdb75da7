"""Heavy queries against a running server: do they stop at their deadline, and does the server
keep answering meanwhile? The same server and data, with queries in worker processes
(SEMCAT_QUERY_WORKERS=2, the default) and in the server process (0, as before).

Per mode: the health check's p50/p95 while two pathological queries run, when the 503s came
back after the deadline, the CPU seconds the server's process tree spends in the second after
them, and how much its memory grew. Targets (issue 12): health p95 <= 50 ms under heavy
queries, no CPU held a second after the deadline.

    python -m bench.query_stopping            # on the demo catalog
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench._common import ROOT, TMP, Server, table, write_results

HEAVY = ("SELECT * WHERE { ?s ?p ?o . ?s2 ?p2 ?o2 } ORDER BY ?o ?o2 LIMIT 1",
         "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(pid: int) -> dict[int, tuple[float, float]]:
    """CPU seconds and resident MB of ``pid`` and of each of its descendants."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    members, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, f in stats.items() if int(f[1]) == parent and p not in members]
        members.update(children)
        frontier += children
    return {p: ((int(stats[p][11]) + int(stats[p][12])) / TICK, int(stats[p][21]) * PAGE / 1e6)
            for p in members if p in stats}


def spent(before: dict[int, tuple[float, float]], after: dict[int, tuple[float, float]]
          ) -> tuple[float, float]:
    """CPU seconds and RSS MB gained between two looks, by the processes in both (a worker
    ended at a deadline takes its whole CPU count with it)."""
    both = before.keys() & after.keys()
    return (sum(after[p][0] - before[p][0] for p in both),
            sum(after[p][1] - before[p][1] for p in both))


def run_mode(data: Path, workers: int, deadline: float) -> dict[str, Any]:
    srv = Server(data, {"SEMCAT_QUERY_WORKERS": str(workers), "SEMCAT_OPEN": "1",
                        "SEMCAT_QUERY_TIMEOUT_S": str(deadline)}).start()
    assert srv.proc is not None
    try:
        with httpx.Client(base_url=srv.url, timeout=120) as http:
            http.get("/sparql", params={"query": "ASK {}"})  # workers started
            time.sleep(1)
            health: list[float] = []
            stop = threading.Event()
            answers: list[tuple[int, float]] = []

            def probe() -> None:
                with httpx.Client(base_url=srv.url, timeout=120) as h:
                    while not stop.is_set():
                        t = time.perf_counter()
                        h.get("/healthz")
                        health.append((time.perf_counter() - t) * 1000)
                        time.sleep(0.05)

            def heavy(query: str) -> None:
                t = time.perf_counter()
                r = httpx.get(srv.url + "/sparql", params={"query": query}, timeout=120)
                answers.append((r.status_code, time.perf_counter() - t))

            prober = threading.Thread(target=probe)
            prober.start()
            runners = [threading.Thread(target=heavy, args=(q,)) for q in HEAVY]
            for t in runners:
                t.start()
            for t in runners:
                t.join()
            stop.set()
            prober.join()
            time.sleep(1.0)
            first = tree(srv.proc.pid)
            time.sleep(1.0)
            second = tree(srv.proc.pid)
            time.sleep(3.0)
            third = tree(srv.proc.pid)
            cpu_after, _ = spent(first, second)
            rss1 = sum(rss for _, rss in second.values())
            _, rss_growth = spent(second, third)
    finally:
        srv.stop()
    q = statistics.quantiles(health, n=20) if len(health) >= 2 else [float("nan")] * 19
    return {"workers": workers, "deadline_s": deadline,
            "answers": [{"status": s, "seconds": round(t, 2)} for s, t in answers],
            "health_checks": len(health), "health_p50_ms": round(statistics.median(health), 1),
            "health_p95_ms": round(q[18], 1),
            "cpu_s_in_second_after": round(cpu_after, 2),
            "rss_mb_after": round(rss1, 0), "rss_mb_growth_next_3s": round(rss_growth, 0)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadline", type=float, default=3.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=TMP) as tmp:
        data = Path(tmp) / "demo"
        subprocess.run([sys.executable, "-m", "semcat", "demo", "--data", str(data)], cwd=ROOT,
                       check=True, capture_output=True)
        runs = [run_mode(data, workers, args.deadline) for workers in (2, 0)]
    rows = [[str(r["workers"]), ", ".join(f"{a['status']} in {a['seconds']} s"
                                         for a in r["answers"]),
             f"{r['health_p50_ms']} / {r['health_p95_ms']}", str(r["health_checks"]),
             str(r["cpu_s_in_second_after"]), f"{r['rss_mb_after']:.0f}",
             f"{r['rss_mb_growth_next_3s']:+.0f}"] for r in runs]
    print(f"two pathological queries, deadline {args.deadline:g} s, demo catalog")
    print(table(["query workers", "heavy answers", "health p50/p95 ms", "checks",
                 "CPU s in the 2nd s after", "RSS MB", "RSS growth MB, next 3 s"], rows))
    write_results("query_stopping", {"runs": runs})


if __name__ == "__main__":
    main()
