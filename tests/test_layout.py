"""The layout stays explainable (issue 11, item 7): small modules, and no module reaching into
another's private names (what two modules share is public in one of them). Import direction
and cycles are lint-imports' contracts (pyproject.toml), run by `make lint`."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("semcat", "sparql_api", "catalog", "access", "demo", "search", "embeddings",
            "reasoning", "shapes", "lineage", "graph_store", "ontology", "ingestion", "events",
            "graphql_api", "mcp_server", "jobs")
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_no_module_is_over_500_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_no_module_imports_another_modules_private_names() -> None:
    private = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.split(".")[0] in PACKAGES:
                private += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}"
                            for a in node.names if a.name.startswith("_")
                            and not a.name.startswith("__")]
    assert not private, private
