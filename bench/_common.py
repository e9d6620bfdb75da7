"""Helpers shared by the benchmarks: a real server subprocess, timing, tables and JSON output."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LUBM = Path(__file__).resolve().parents[2] / "shared" / "data" / "lubm"
TMP = "/tmp"  # stores go on disk, as shipped; never in memory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m semcat serve` on ``data`` in a subprocess (as tests/conftest.py does), so the
    numbers include uvicorn, FastAPI and the thread pool exactly as shipped."""

    def __init__(self, data: Path, env: dict[str, str] | None = None) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # single-user local use: anonymous callers act as admin, as `make demo` serves
        # the vectors wait for a first semantic search, so that embedding never runs beside
        # what a benchmark times unless it asks for it
        self.env = {"SEMCAT_OPEN": "1", "SEMCAT_VECTORS_ON_START": "0", **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> Server:
        # a file, not a pipe: a full pipe nobody reads would block the server's logging
        self.log = Path(TMP) / f"semcat-bench-server-{self.port}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "semcat", "serve", "--data", str(self.data),
                 "--port", str(self.port), "--log-level", "warning"],
                cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                stdout=subprocess.DEVNULL, stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server died: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start in time")

    def stop(self) -> None:
        """SIGTERM so the store is flushed and its lock released; SIGKILL if it hangs."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_idle(pid: int, *, quiet: float = 0.05, timeout: float = 120) -> float:
    """Wait until process ``pid`` uses less than ``quiet`` of a core over half a second; returns
    the seconds waited. A store opened right after a bulk load compacts in background threads
    for seconds, and timing queries meanwhile measures that compaction, not the query."""
    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    start = time.monotonic()
    last = cpu()
    while time.monotonic() - start < timeout:
        time.sleep(0.5)
        now = cpu()
        if now - last < quiet * 0.5:
            break
        last = now
    return time.monotonic() - start


def run_threads(target: Callable[[int], None], n: int) -> float:
    """Run ``target(0..n-1)`` on ``n`` threads at once; the seconds until all are done."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def median_ms(seconds: Sequence[float]) -> float:
    return statistics.median(seconds) * 1000


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: text left-aligned, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int | float) or row[i] is None for row in rows)
               for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def machine() -> dict[str, Any]:
    """Enough context to read a result file later: the box is shared and numbers are noisy."""
    import pyoxigraph

    return {"python": platform.python_version(), "pyoxigraph": pyoxigraph.__version__,
            "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    return path
