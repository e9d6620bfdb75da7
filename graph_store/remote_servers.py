"""Throwaway SPARQL servers on loopback ports, for the contract tests and bench/remote_store.py:
``oxigraph serve`` (PyPI ``oxigraph``) and Virtuoso (Debian ``virtuoso-opensource``), each in a
directory of its own, stopped with ``stop()``."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from graph_store.remote_store import Endpoints

VIRTUOSO_VSP = Path("/var/lib/virtuoso-opensource-7/vsp")
_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
MaxQueryMem = 512M
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {vsp}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 300
MaxQueryCostEstimationTime = 400
MaxSortedTopRows = 100000
"""
# The SPARQL endpoint's user may update, and may write every graph
_VIRTUOSO_GRANTS = ('GRANT SPARQL_UPDATE TO "SPARQL"; '
                    "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);")


class ServerUnavailable(Exception):
    """A server that cannot be started here; the message says how to provide it."""


@dataclass
class RunningServer:
    name: str
    endpoints: Endpoints
    process: subprocess.Popen[bytes]
    directory: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_oxigraph(directory: Path, *, timeout_s: float = 30) -> RunningServer:
    exe = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "oxigraph")
    if exe is None:
        raise ServerUnavailable("the oxigraph CLI is missing: `make install` installs it (the "
                                "`oxigraph` PyPI package, a dev dependency)")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    log = (directory / "server.log").open("wb")
    proc = subprocess.Popen([exe, "serve", "--location", str(directory / "db"),
                             "--bind", f"127.0.0.1:{port}"], stdout=log, stderr=log)
    server = RunningServer("oxigraph", Endpoints.of(f"http://127.0.0.1:{port}/query"), proc,
                           directory)
    _wait(server, timeout_s)
    return server


def start_virtuoso(directory: Path, *, timeout_s: float = 120) -> RunningServer:
    exe, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if exe is None or isql is None or not VIRTUOSO_VSP.is_dir():
        raise ServerUnavailable("Virtuoso is not installed: `make test` installs it "
                                "(apt-get install virtuoso-opensource, as root)")
    sql, http = free_port(), free_port()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "virtuoso.ini").write_text(
        _VIRTUOSO_INI.format(d=directory, sql=sql, http=http, vsp=VIRTUOSO_VSP))
    log = (directory / "server.log").open("wb")
    proc = subprocess.Popen([exe, "+foreground", "+configfile", str(directory / "virtuoso.ini")],
                            cwd=directory, stdout=log, stderr=log)
    server = RunningServer("virtuoso", Endpoints(
        f"http://127.0.0.1:{http}/sparql", f"http://127.0.0.1:{http}/sparql",
        f"http://127.0.0.1:{http}/sparql-graph-crud"), proc, directory)
    deadline = time.monotonic() + timeout_s
    while True:  # the SQL port answers once the database is made; then grant the updates
        granted = subprocess.run([isql, f"127.0.0.1:{sql}", "dba", "dba",
                                  f"exec={_VIRTUOSO_GRANTS}"], capture_output=True, timeout=60)
        if granted.returncode == 0 and b"Error" not in granted.stdout + granted.stderr:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise ServerUnavailable(f"Virtuoso did not start in {directory}: "
                                    f"{granted.stdout[-300:]!r} {granted.stderr[-300:]!r}; see "
                                    f"{directory / 'virtuoso.log'}")
        time.sleep(1)
    _wait(server, max(5.0, deadline - time.monotonic()))
    return server


def _wait(server: RunningServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            r = httpx.get(server.endpoints.query, params={"query": "ASK {}"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=5)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise ServerUnavailable(f"{server.name} did not answer at {server.endpoints.query} "
                                    f"within {timeout_s:g} s; see {server.directory}")
        time.sleep(0.2)
