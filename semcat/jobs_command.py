"""`semcat jobs list|show|cancel`: follow the server's asynchronous jobs (docs/jobs.md).

Beside a running server the commands ask it over HTTP (as the admin key it leaves for the CLI);
without one they read the data directory's job registry directly, as the local admin (a job
cancelled then ends before it would have resumed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from catalog import running_server
from graph_store.errors import Conflict, SemcatError
from semcat.backends import ERRORS
from semcat.console import DEFAULT_DATA, DataDir, Listing, open_catalog, out

jobs_app = typer.Typer(help="Asynchronous jobs (bulk upserts, exports): list, show, cancel.")
JobArg = Annotated[str, typer.Argument(help="The job's id, as `semcat jobs list` shows it.")]
Ask = Any  # (method, path, params) -> JSON


@contextmanager
def _jobs(data: Path) -> Iterator[Ask]:
    """A function answering the REST calls of /api/v1/jobs, from the server or locally."""
    server = running_server.find(data)
    if server is None:
        with open_catalog(data) as cat:
            def local(method: str, path: str, params: dict[str, Any] | None = None) -> Any:
                job_id, _, action = path.partition(":")
                if not job_id:
                    items, nxt = cat.jobs.page(**(params or {}))
                    return {"items": [j.to_json() for j in items], "next": nxt}
                found = cat.jobs.cancel(job_id) if action else cat.jobs.get(job_id)
                return found.to_json()
            yield local
        return
    with httpx.Client(base_url=server.url, timeout=60, headers={
            "Authorization": f"Bearer {server.key}", "User-Agent": "semcat-cli"}) as http:
        def remote(method: str, path: str, params: dict[str, Any] | None = None) -> Any:
            try:
                r = http.request(method, f"/api/v1/jobs/{path}".rstrip("/"), params=params)
            except httpx.TransportError as e:
                raise Conflict(f"the server at {server.url} does not answer: {e}") from e
            if r.status_code >= 400:
                problem = r.json() if "json" in r.headers.get("content-type", "") else {}
                raise ERRORS.get(r.status_code, SemcatError)(problem.get("detail", r.text))
            return r.json()
        yield remote


def _print(jobs: list[dict[str, Any]], format: str, *, one: bool = False) -> None:
    if format == "json":
        print(json.dumps(jobs[0] if one else jobs, indent=2))
        return
    table = Table("id", "kind", "status", "progress", "owner", "created", "error")
    for j in jobs:
        total = j["progress"]["total"]
        table.add_row(j["id"], j["kind"], j["status"], f"{j['progress']['done']:,}"
                      + (f" / {total:,}" if total is not None else ""), j["owner"],
                      j["createdAt"], j["error"] or "")
    out.print(table)


@jobs_app.command("list")
def jobs_list(data: DataDir = DEFAULT_DATA, format: Listing = "table",
              status: Annotated[str | None, typer.Option(
                  "--status", help="Only jobs with this status (queued, running, succeeded, "
                  "failed, cancelled).")] = None) -> None:
    """Jobs, newest first (the first 1,000)."""
    with _jobs(data) as ask:
        params = {"limit": 1000, **({"status": status} if status else {})}
        _print(ask("GET", "", params)["items"], format)


@jobs_app.command("show")
def jobs_show(job_id: JobArg, data: DataDir = DEFAULT_DATA, format: Listing = "table") -> None:
    """One job: status, progress, result summary."""
    with _jobs(data) as ask:
        _print([ask("GET", job_id)], format, one=True)


@jobs_app.command("cancel")
def jobs_cancel(job_id: JobArg, data: DataDir = DEFAULT_DATA, format: Listing = "table") -> None:
    """Cancel a job: a queued one at once, a running one at its next chunk."""
    with _jobs(data) as ask:
        _print([ask("POST", f"{job_id}:cancel")], format, one=True)
