"""CLI conventions (issue 11, item 3, in part): --version and -h, JSON output that ends with a
newline, and an unexpected failure as one line (its traceback only with --debug)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def semcat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "semcat", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, "COLUMNS": "200"})


def test_version_and_short_help() -> None:
    r = semcat("--version")
    assert r.returncode == 0 and r.stdout == f"semcat {importlib.metadata.version('semcat')}\n"
    for args in (("-h",), ("query", "-h"), ("keys", "create", "-h")):
        r = semcat(*args)
        assert r.returncode == 0 and "Usage: semcat" in r.stdout, (args, r.stderr)


def test_json_output_ends_with_a_newline(tmp_path: Path) -> None:
    r = semcat("query", "--data", str(tmp_path), "-f", "json", "SELECT (1 AS ?x) {}")
    assert r.returncode == 0 and r.stdout.endswith("}\n"), r.stdout
    assert json.loads(r.stdout)["results"]["bindings"][0]["x"]["value"] == "1"


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-query.rq"
    r = semcat("query", "--data", str(tmp_path), f"@{missing}")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "no-such-query.rq" in r.stderr and "--debug" in r.stderr
    r = semcat("--debug", "query", "--data", str(tmp_path), f"@{missing}")
    assert r.returncode == 1 and "Traceback" in r.stderr


def test_one_format_option_everywhere() -> None:
    """Every command that prints results takes --format / -f; none takes --json."""
    commands = [("query",), ("export",), ("history",), ("explain",), ("validate",),
                ("search",), ("keys", "list"), ("audit", "list"), ("rules", "list")]
    for command in commands:
        help_text = semcat(*command, "-h").stdout
        assert "--format" in help_text and "-f" in help_text, command
        assert "--json" not in help_text, command


def test_summaries_are_for_people_not_python_reprs(tmp_path: Path) -> None:
    r = semcat("demo", "--data", str(tmp_path / "demo"))
    assert r.returncode == 0, r.stderr
    summary = next(line for line in r.stderr.splitlines() if line.startswith("demo catalog"))
    assert summary.endswith("created)") and "{" not in summary and "'" not in summary, summary


def test_flags_show_no_value_type() -> None:
    """A flag takes no value, so help shows no `<bool>` after it (typer 0.29 would)."""
    for command in (("demo",), ("query",), ("serve",), ("keys", "create"), ("search",)):
        help_text = semcat(*command, "-h").stdout
        assert "--help" in help_text and "<bool>" not in help_text, command
        assert "<str>" in help_text or "<path>" in help_text, command  # values keep theirs
