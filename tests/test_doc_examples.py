"""Every example in the README and docs/ runs (issue 11, item 1), so none can rot: Python blocks
are executed in a fresh directory, SPARQL blocks are asked of the demo catalog and must answer
rows, and `make` lines in shell blocks must name real targets (`make -n`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog import Catalog
from sparql_api.app import create_app
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for m in _FENCE.finditer(text):
            if m.group(1) == language:
                line = text[:m.start()].count("\n") + 1
                found.append((f"{doc.name}:{line}", m.group(2)))
    return found


def test_the_docs_hold_examples_of_each_kind() -> None:
    assert len(_blocks("python")) >= 1 and len(_blocks("sparql")) >= 4 and _blocks("sh")


@pytest.mark.parametrize("where,code", _blocks("python"), ids=lambda v: v.split("\n")[0])
def test_python_examples_run(where: str, code: str, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__doc_example__"})
    assert capsys.readouterr().out.strip(), f"{where} printed nothing"


@pytest.mark.parametrize("where,query", _blocks("sparql"), ids=lambda v: v.split("\n")[0])
def test_sparql_examples_answer_rows_on_the_demo(where: str, query: str,
                                                 demo_catalog: Catalog) -> None:
    rows = demo_catalog.sparql.query(query).rows()
    assert rows, f"{where} answered no rows on the demo catalog"


@pytest.mark.parametrize("where,script", _blocks("sh"), ids=lambda v: v.split("\n")[0])
def test_shell_examples_name_real_make_targets(where: str, script: str) -> None:
    targets = re.findall(r"^make ([\w-]+)", script, re.MULTILINE)
    assert targets, f"{where}: only make lines are checked; say how to run anything else"
    r = subprocess.run(["make", "-n", *targets], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "MAKEFLAGS": ""})
    assert r.returncode == 0, r.stderr


def test_cli_help_examples_keep_their_angle_brackets() -> None:
    r = subprocess.run([sys.executable, "-m", "semcat", "query", "--help"], cwd=ROOT,
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert "<https://w3id.org/semcat#Table>" in r.stdout, r.stdout


def test_the_home_page_links_what_the_readme_promises(demo_catalog: Catalog) -> None:
    http = TestClient(create_app(demo_catalog))
    home = http.get("/").text
    for link in ("/docs", "/sparql", "/store?default", "/ontology"):
        assert f'href="{link}"' in home, link
        assert http.get(link).status_code == 200, link
