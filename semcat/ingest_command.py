"""`semcat ingest CONFIG.yaml`: run a connector into the catalog; `--list` shows the connectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graph_store.errors import InputError
from ingestion import available, read_config
from semcat.backends import connect
from semcat.console import DEFAULT_DATA, DataDir, Listing, err, out


def ingest(
    config: Annotated[Path | None, typer.Argument(help="Run config, YAML or JSON: connector, "
                                                  "workspace, config (docs/ingestion.md).")] = None,
    data: DataDir = DEFAULT_DATA,
    list_: Annotated[bool, typer.Option("--list", help="List the installed connectors.")] = False,
    resume: Annotated[str | None, typer.Option(
        "--resume", metavar="RUN", help="Continue a failed or interrupted run (its id, as the "
        "summary printed it) from its checkpoint: what it wrote is not written again.")] = None,
    format: Listing = "table",
) -> None:
    """Ingest metadata from a source (e.g. a SQL database) with a connector.

    The run is recorded with the server's runs (GET /api/v1/ingestion); while a server holds the
    data directory, that server runs it (paths in the config are then read by the server).
    Exits 1 when some assets failed or the source could not be read to its end (resume it with
    --resume); Ctrl-C stops it, resumable."""
    if list_:
        return _list(format)
    if config is None and resume is None:
        raise InputError("give a config file (`semcat ingest source.yaml`), --resume RUN, "
                         "or --list")
    given = read_config(config).model_dump(mode="json") if config else None
    with connect(data) as backend, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} assets"),
        TimeElapsedColumn(), console=err, transient=True,
    ) as progress:
        task = progress.add_task("ingesting", total=None)
        try:
            report = backend.ingest(given, resume, lambda stage, done: progress.update(
                task, description=stage, completed=done))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    _summary(report, format)
    if report["failed"] or not report["complete"]:
        raise typer.Exit(1)


def _list(format: str) -> None:
    found = available()
    if format == "json":
        print(json.dumps([{"name": c.name, "target": c.target, "enabled": c.enabled,
                           "description": c.description, "error": c.error} for c in found],
                         indent=2))
        return
    table = Table("connector", "status", "description", title="connectors")
    for c in found:
        table.add_row(c.name, "enabled" if c.enabled else "disabled",
                      c.description if c.enabled else str(c.error))
    out.print(table)


def _summary(report: dict[str, Any], format: str) -> None:
    if format == "json":
        print(json.dumps(report, indent=2))
        return
    table = Table("added", "updated", "unchanged", "removed", "failed",
                  title=f"{report['source']} into {report['workspace']}")
    table.add_row(*(f"{report[k]:,}" for k in ("added", "updated", "unchanged", "removed",
                                                "failed")))
    out.print(table)
    for e in report["errors"][:50]:
        err.print(f"  failed {e['id'] or '?'}: {e['message']}", markup=False, highlight=False)
    for w in report["warnings"][:20]:
        err.print(f"  warning: {w}", markup=False, highlight=False)
    if report["resumedAfter"]:
        err.print(f"  resumed: the first {report['resumedAfter']:,} records were written by "
                  "the run it resumes", highlight=False)
    if report["error"]:
        err.print(f"[red]error:[/red] the source was not read to its end ({report['error']}); "
                  f"nothing was removed; resume with `semcat ingest --resume {report['run']}`",
                  highlight=False)
    err.print(f"run {report['run']}: ingested in {report['seconds']:.1f} s", highlight=False)
