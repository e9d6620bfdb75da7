"""Packaging (issue 11, item 6): a license file and SPDX metadata, runtime dependencies as
ranges (torch's CPU build is pinned by the Makefile), and none that no module imports."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
SOURCES = [path for package in PYPROJECT["tool"]["setuptools"]["packages"]
           for path in (ROOT / package.replace(".", "/")).glob("*.py")]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]


def test_license_file_and_spdx_expression() -> None:
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert importlib.metadata.metadata("semcat")["License-Expression"] == "Apache-2.0"


def test_runtime_dependencies_are_ranges() -> None:
    pinned = [r for r in PROJECT["dependencies"] if "==" in r]
    assert not pinned, f"pin in the Makefile or use a range: {pinned}"


def test_every_runtime_dependency_is_imported() -> None:
    code = "\n".join(p.read_text() for p in SOURCES)
    imported = set(re.findall(r"^\s*(?:from|import) ([A-Za-z_]\w*)", code, re.MULTILINE))
    by_distribution: dict[str, set[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for d in distributions:
            by_distribution.setdefault(_norm(d), set()).add(module)
    unused = [r for r in PROJECT["dependencies"]
              if not by_distribution.get(_norm(_name(r)), set()) & imported]
    assert not unused, f"declared but imported by no module: {unused}"


def _norm(distribution: str) -> str:
    return distribution.lower().replace("_", "-")
