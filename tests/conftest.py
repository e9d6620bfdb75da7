"""The fixture ladder: in-memory Catalog → a real uvicorn server (subprocess) on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from catalog import Catalog, Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# The suite runs as single-user local use (anonymous callers are admin), in-process apps and
# servers alike; tests of authentication switch it off with SEMCAT_OPEN=0 or Settings(open=False).
os.environ.setdefault("SEMCAT_OPEN", "1")
# Test servers leave the vectors to the first semantic search (as the tests of search expect):
# a model load and an embedding of every catalog on each of them would cost minutes.
# tests/test_vectors_on_start.py checks the default.
os.environ.setdefault("SEMCAT_VECTORS_ON_START", "0")
# Nor do they embed tables and columns a second time, for the tuned table index: that doubles
# the embedding of every catalog searched. tests/test_encoder_adapter.py turns it on and checks
# the default.
os.environ.setdefault("SEMCAT_EMBEDDING_ADAPTER", "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m semcat serve` in a subprocess, on its own data directory."""

    live: ClassVar[set[Server]] = set()  # started and not yet stopped

    def __init__(self, data: Path, port: int | None = None,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.data = data
        self.args = args
        self.port = port or free_port()
        self.env = {"SEMCAT_OPEN": "1", **(env or {})}
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.dumped = False  # its threads are in a test report already

    def start(self, timeout: float = 60) -> Server:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        # a file, not a pipe: a pipe nobody reads fills up and then blocks the server's logging
        self.log = self.data.parent / f"{self.data.name}-server-{self.port}.log"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "semcat", "serve", "--data", str(self.data),
                 "--port", str(self.port), "--log-level", "warning", *self.args],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server died: {self.output()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    Server.live.add(self)
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def output(self) -> str:
        """What the server wrote to stderr so far (its log)."""
        return self.log.read_text(errors="replace")

    def stacks(self) -> str:
        """Every thread's stack, which `semcat serve` writes to its log on SIGUSR1."""
        if self.proc is None or self.proc.poll() is not None:
            return "(not running)"
        size = self.log.stat().st_size
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.log.stat().st_size == size:
            time.sleep(0.1)
        time.sleep(0.3)  # the rest of the dump
        with self.log.open("rb") as f:
            f.seek(size)
            return f.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush: a crash."""
        Server.live.discard(self)
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        Server.live.discard(self)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A request that timed out against a test server: the report shows every live server's
    threads, once per server (a stuck server is otherwise a silent mystery)."""
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(httpx.TimeoutException):
        for srv in list(Server.live):
            if not srv.dumped:
                srv.dumped = True
                stacks = srv.stacks()
                report.sections.append((f"threads of the server at {srv.url}", stacks))
                sys.stderr.write(f"\n--- threads of the server at {srv.url} ---\n{stacks}\n")
    return report


@pytest.fixture
def catalog() -> Iterator[Catalog]:
    """A fresh in-memory catalog."""
    with Catalog.open(Settings(data=None)) as cat:
        yield cat


@pytest.fixture(scope="session")
def demo_catalog() -> Iterator[Catalog]:
    """An in-memory catalog with the demo loaded; shared, so tests must not write to it."""
    with Catalog.open(Settings(data=None)) as cat:
        cat.load_demo()
        yield cat


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server on an empty on-disk catalog, shared by a module's tests (use unique ids)."""
    srv = Server(tmp_path_factory.mktemp("server")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory made by `semcat demo` once per test session (about 30 s), never served
    or opened: fixtures that need a demo catalog of their own take a copy (``demo_copy``)."""
    data = tmp_path_factory.mktemp("demo-template") / "data"
    subprocess.run([sys.executable, "-m", "semcat", "demo", "--data", str(data)], cwd=ROOT,
                   check=True, capture_output=True)
    return data


def demo_copy(template: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A demo data directory of the caller's own, as `semcat demo` leaves it (admin key too)."""
    data = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(template, data)
    return data


@pytest.fixture(scope="session")
def demo_server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server over the demo catalog, made by `semcat demo`; read-only for tests."""
    srv = Server(demo_copy(demo_template, tmp_path_factory, "demo")).start()
    yield srv
    srv.stop()


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
