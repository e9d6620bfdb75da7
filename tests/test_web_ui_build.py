"""The shipped web UI (sparql_api/ui_dist) is exactly what its source (ui/) builds: a fresh `npm ci`
from the lock file and `npm run build` in a scratch copy give the same bytes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sparql_api.routes.ui import INDEX, STATIC
from tests.conftest import ROOT

WEB = ROOT / "ui"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_the_shipped_build_references_only_files_it_ships() -> None:
    html = INDEX.read_text()
    assert 'src="/ui/assets/' in html and "://" not in html.split("<noscript>")[0]  # no CDN
    names = [p.name for p in (STATIC / "assets").iterdir()]
    assert names
    for name in names:  # content-hashed: cacheable for ever (sparql_api/routes/ui.py)
        assert re.fullmatch(r"[A-Za-z0-9_]+-[A-Za-z0-9_-]{8}\.(js|css)", name), name


@pytest.mark.slow  # about 20 s with a warm npm cache, longer from a cold one
def test_a_fresh_build_from_source_is_byte_identical_to_the_shipped_one(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are needed to check the web UI build")
        pytest.skip("node and npm are needed to check the web UI build (apt-get install nodejs npm)")
    src = tmp_path / "web"
    shutil.copytree(WEB, src, ignore=shutil.ignore_patterns("node_modules"))
    out = tmp_path / "static"
    env = {**os.environ, "SEMCAT_UI_OUT": str(out)}
    for step in (["ci", "--prefer-offline", "--no-audit", "--no-fund"], ["run", "build"]):
        r = subprocess.run([npm, *step], cwd=src, env=env, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    built, shipped = _files(out), _files(STATIC)
    assert sorted(built) == sorted(shipped), "run `make ui` and commit sparql_api/ui_dist"
    changed = [n for n in built if built[n] != shipped[n]]
    assert not changed, f"{changed} differ from their source: run `make ui`"
