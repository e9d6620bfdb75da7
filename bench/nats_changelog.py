"""Change-log appends: the embedded SQLite log against the NATS JetStream log (one server, and a
three-node cluster with three replicas, all on loopback), within about a minute.

    python -m bench.nats_changelog                  # ~1 min
    python -m bench.nats_changelog --seconds 2      # a smoke run

Each append is one REST-sized changeset (one asset, 13 quads). A durable append is what a
writer waits for before it is acknowledged: for SQLite, ``append`` plus ``sync`` (one fsync of
the WAL each; group commit shares it between concurrent writers), for NATS the stream's
acknowledgement (the replicas hold it; nats-server fsyncs on its own schedule, every 2 min by
default). NATS appends name the position they were validated at, so they take the optimistic
concurrency path; with several writers, on distinct assets, a writer that loses the race for
the stream's head reads the winner's change and publishes again.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from bench._common import ROOT, TMP, free_port, run_threads, table, write_results
from graph_store.changelog import ChangeLog, ChangeLogBackend
from graph_store.changeset import Changeset
from graph_store.nats_changelog import NatsChangeLog

NATS_SERVER = ROOT / ".venv" / "bin" / "nats-server"
EX = "https://example.org/acme/"
GRAPH = NamedNode(EX + "graph/acme")


def changeset(writer: int, n: int) -> Changeset:
    s = NamedNode(f"{EX}table/w{writer}-{n}")
    added = tuple(Quad(s, NamedNode(f"{EX}p{i}"), Literal(f"value {i} of {n}"), GRAPH)
                  for i in range(13))
    return Changeset(f"user/w{writer}", "bench", "2026-12-07T01:02:03Z", (), added,
                     {s.value: 1}, "acme")


@contextmanager
def nats_servers(root: Path, count: int) -> Iterator[list[str]]:
    """``count`` nats-server processes with JetStream on loopback (a cluster when > 1)."""
    ports, routes = [free_port() for _ in range(count)], [free_port() for _ in range(count)]
    procs = []
    for i in range(count):
        args = [str(NATS_SERVER), "-js", "-a", "127.0.0.1", "-p", str(ports[i]),
                "-sd", str(root / f"n{i}"), "-n", f"n{i}"]
        if count > 1:
            args += ["--cluster_name", "bench", "--cluster", f"nats://127.0.0.1:{routes[i]}",
                     "--routes", ",".join(f"nats://127.0.0.1:{p}" for p in routes if
                                          p != routes[i])]
        procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    try:
        for port in ports:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("nats-server did not start") from None
                    time.sleep(0.05)
        yield [f"nats://127.0.0.1:{p}" for p in ports]
    finally:
        for p in procs:
            p.kill()
            p.wait(10)


def run(log: ChangeLogBackend, writers: int, seconds: float, *, mode: str) -> dict[str, Any]:
    """Appends from ``writers`` threads for ``seconds``: rate and latency of durable appends.
    ``mode``: "locked" (one appender at a time, as under the journal's lock), "position"
    (each append names the position it was validated at), "blind" (no position)."""
    latencies: list[float] = []
    lost_before = getattr(log, "conflict_rounds", 0)
    stop = time.monotonic() + seconds
    lock = threading.Lock()  # the SQLite log wants one appender at a time, as the journal's lock

    def write(w: int) -> None:
        n = 0
        while time.monotonic() < stop:
            cs = changeset(w, n)
            started = time.perf_counter()
            if mode == "position":
                seq = log.append(cs, after=log.last_seq).seq
            elif mode == "blind":
                seq = log.append(cs).seq
            else:
                with lock:
                    seq = log.append(cs).seq
            log.sync(seq)
            latencies.append(time.perf_counter() - started)
            n += 1

    elapsed = run_threads(write, writers)
    q = statistics.quantiles(latencies, n=100)
    lost = getattr(log, "conflict_rounds", 0) - lost_before
    return {"mode": mode, "writers": writers, "appends": len(latencies),
            "races_lost_per_append": round(lost / len(latencies), 2),
            "appends_per_s": round(len(latencies) / elapsed),
            "p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="semcat-bench-nats-", dir=TMP))
    rows: list[dict[str, Any]] = []
    try:
        backends: list[tuple[str, Callable[[], Any]]] = [
            ("sqlite (append + fsync)", lambda: _sqlite(root)),
            ("nats R1 (1 server)", lambda: _nats(root / "r1", 1)),
            ("nats R3 (3-node cluster)", lambda: _nats(root / "r3", 3)),
        ]
        for name, open_ in backends:
            modes = [("locked", 1), ("locked", 4)] if name.startswith("sqlite") else \
                [("position", 1), ("position", 4), ("blind", 4)]
            with open_() as log:
                for mode, writers in modes:
                    rows.append({"backend": name, **run(log, writers, args.seconds, mode=mode)})
                    print(rows[-1], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    headers = ["backend", "mode", "writers", "appends", "appends_per_s", "p50_ms", "p95_ms",
               "races_lost_per_append"]
    print(table(headers, [[r[h] for h in headers] for r in rows]))
    print(f"results: {write_results('nats_changelog', {'runs': rows})}")


@contextmanager
def _sqlite(root: Path) -> Iterator[ChangeLog]:
    log = ChangeLog(root / "changelog.sqlite")
    try:
        yield log
    finally:
        log.close()


@contextmanager
def _nats(root: Path, nodes: int) -> Iterator[NatsChangeLog]:
    with nats_servers(root, nodes) as urls:
        log = NatsChangeLog(urls, replicas=nodes, index=root / "index.sqlite", retry_for=60)
        try:
            yield log
        finally:
            log.close()


if __name__ == "__main__":
    main()
