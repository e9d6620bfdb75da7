"""No command destroys a catalog it shouldn't (issue 10, item 2): `semcat demo` refuses a
non-empty directory unless --force, never deletes what is not a catalog, and never touches a
store another process holds open (a real `semcat serve`, or any program with the RocksDB store
open); every other opener of a held catalog gets a refusal naming the directory and the holder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from catalog import Catalog, Settings
from graph_store.errors import Conflict
from tests.conftest import ROOT, Server

ASK = "ASK { <http://example.org/precious> ?p ?o }"


def semcat(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    """`python -m semcat ARGS --data DATA`; stderr with rich's line wrapping undone."""
    r = subprocess.run([sys.executable, "-m", "semcat", *args, "--data", str(data)], cwd=ROOT,
                       capture_output=True, text=True, timeout=180,
                       env={"COLUMNS": "200", "PATH": os.environ["PATH"], "HOME": str(ROOT)})
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout, r.stderr.replace("\n", ""))


def precious_catalog(tmp_path: Path) -> Path:
    """A catalog holding one triple someone cares about (cheaper to make than the demo)."""
    data, ttl = tmp_path / "cat", tmp_path / "precious.ttl"
    ttl.write_text('<http://example.org/precious> <http://example.org/p> "keep me" .\n')
    r = semcat("load", str(ttl), data=data)
    assert r.returncode == 0, r.stderr
    assert still_there(data)
    return data


def still_there(data: Path) -> bool:
    r = semcat("query", ASK, "--format", "json", data=data)
    assert r.returncode == 0, r.stderr
    return bool(json.loads(r.stdout)["boolean"])


def test_demo_refuses_a_non_empty_directory_without_force(tmp_path: Path) -> None:
    data = precious_catalog(tmp_path)
    r = semcat("demo", data=data)
    assert r.returncode == 2, r.stderr
    assert f"{data} is not empty" in r.stderr and "--force" in r.stderr
    assert still_there(data)


def test_demo_never_deletes_what_is_not_a_catalog_even_with_force(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("years of work")
    r = semcat("demo", "--force", data=tmp_path)
    assert r.returncode == 2 and "not a semcat data directory" in r.stderr, r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_nothing_touches_a_catalog_a_running_server_holds(tmp_path: Path) -> None:
    data = precious_catalog(tmp_path)
    srv = Server(data).start()
    try:
        assert srv.proc is not None
        r = semcat("demo", "--force", data=data)
        assert r.returncode == 4, r.stderr
        assert f"{data} is in use by process {srv.proc.pid}" in r.stderr and "stop it" in r.stderr
        # every command that would write past the server refuses alike (reads ask the server:
        # tests/test_cli_beside_server.py), and the server serves on
        assert semcat("query", ASK, data=data).stdout == "true\n"
        for args in (("demo", "--keep"), ("load", str(tmp_path / "precious.ttl"))):
            refused = semcat(*args, data=data)
            assert refused.returncode == 4, (args, refused.stderr)
            assert f"is in use by process {srv.proc.pid}" in refused.stderr, args
        asked = httpx.get(srv.url + "/sparql", params={"query": ASK}, timeout=30,
                          headers={"Accept": "application/sparql-results+json"})
        assert asked.status_code == 200 and asked.json()["boolean"] is True
    finally:
        srv.stop()
    assert still_there(data)
    replaced = semcat("demo", "--force", data=data)  # nobody holds it now: --force replaces it
    assert replaced.returncode == 0, replaced.stderr
    assert "1,910 assets" in replaced.stderr
    assert not still_there(data)


def test_demo_refuses_a_store_another_program_holds(tmp_path: Path) -> None:
    """A store opened without semcat's lock file (another tool, an older semcat) is seen through
    RocksDB's own lock."""
    data = precious_catalog(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(data / "store")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        r = semcat("demo", "--force", data=data)
        assert r.returncode == 4, r.stderr
        assert f"{data} is in use by another process" in r.stderr
    finally:
        holder.communicate("", timeout=30)
    assert still_there(data)


def test_a_catalog_has_one_holder_in_process_too(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path / "cat")
    with Catalog.open(settings):
        with pytest.raises(Conflict, match=f"is in use by process {os.getpid()}") as refused:
            Catalog.open(settings)
        assert str(tmp_path / "cat") in refused.value.detail
    with Catalog.open(settings) as again:  # closing released it
        assert again.changelog.last_seq > 0
