"""Where a command's questions go: the catalog opened in this process, or, while a server holds
the data directory, that server over HTTP (catalog/running_server.py). Both answer in the REST
API's JSON shapes, so a command prints the same output either way."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from catalog import Catalog, Settings, running_server
from catalog.running_server import RunningServer
from graph_store.errors import (
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    SemcatError,
    Unauthenticated,
    ValidationFailed,
)
from publishing import Publishing
from semcat.console import FORMATS, err
from sparql_api.search_body import SearchBody

Progress = Callable[[int, int], None]
Stage = Callable[[str, int], None]  # (stage, done so far)
POLL_S = 0.25  # how often a run on a server is looked at
# validating or exporting a large catalog takes minutes; the server bounds queries itself
REMOTE_TIMEOUT_S = 900.0
# `table`: the default type of each kind of result (JSON for solutions and booleans, Turtle for
# graphs), as the embedded catalog answers
TABLE_ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"


class Backend(Protocol):
    def query(self, text: str, format: str, *, infer: bool) -> tuple[str, bytes, int]:
        """(media type, body, changesets the inferred graphs are behind)."""
        ...

    def versions(self, asset: str) -> list[dict[str, Any]]: ...

    def explain(self, asset: str, predicate: str | None,
                object: str | None) -> list[dict[str, Any]]: ...

    def search(self, body: SearchBody) -> dict[str, Any]: ...

    def validate(self, workspace: str | None, on_progress: Progress, *,
                 turtle: bool = False) -> tuple[dict[str, Any], bytes]:
        """The report as JSON, and as an sh:ValidationReport in Turtle when asked."""
        ...

    def export(self, media_type: str, *, profile: str | None = None) -> bytes:
        """A dump of the catalog, or with ``profile="dcat-ap"`` its DCAT-AP catalog."""
        ...

    def rules(self) -> list[dict[str, Any]]: ...

    def put_rule(self, rule_id: str | None, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete_rule(self, rule_id: str) -> None: ...

    def backup(self, target: Path) -> dict[str, Any]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def lineage(self, asset: str, *, impact: bool, **params: Any) -> dict[str, Any]:
        """The lineage graph around ``asset`` (or its impact), every page of it."""
        ...

    def ingest(self, config: dict[str, Any] | None, resume: str | None,
               on_progress: Stage) -> dict[str, Any]:
        """Run ``config`` (or resume the run ``resume``) to its end: the report as JSON, with
        the run's id under ``run``. Ctrl-C stops the run (resumable)."""
        ...


class Local:
    def __init__(self, cat: Catalog) -> None:
        self.cat = cat

    def query(self, text: str, format: str, *, infer: bool) -> tuple[str, bytes, int]:
        status = self.cat.inference_status()
        result = self.cat.sparql.query(text, infer=infer)
        media = result.media_types[0] if format == "table" else FORMATS.get(format, format)
        if media not in result.media_types:
            raise InputError(f"format {format!r} does not fit a {result.kind} result")
        body = result.serialize(media, timeout_s=self.cat.settings.query_timeout_s,
                                max_bytes=self.cat.settings.max_result_bytes)
        return media, body, status.behind if infer and status.state != "current" else 0

    def versions(self, asset: str) -> list[dict[str, Any]]:
        return [asdict(v) for v in self.cat.assets.versions(asset)]

    def explain(self, asset: str, predicate: str | None,
                object: str | None) -> list[dict[str, Any]]:
        return [x.to_json() for x in self.cat.explain(asset, predicate, object)]

    def search(self, body: SearchBody) -> dict[str, Any]:
        return self.cat.search.run(body.request()).to_json()

    def validate(self, workspace: str | None, on_progress: Progress, *,
                 turtle: bool = False) -> tuple[dict[str, Any], bytes]:
        report = self.cat.validate(workspace=workspace, on_progress=on_progress)
        return report.to_json(), self.cat.serialize_report(report, "text/turtle") if turtle \
            else b""

    def export(self, media_type: str, *, profile: str | None = None) -> bytes:
        if profile == "dcat-ap":
            pub = Publishing(self.cat.store, self.cat.layout, self.cat.access, self.cat.journal)
            return pub.dcat(media_type, pub.scope())
        buffer = io.BytesIO()
        self.cat.export(buffer, media_type)
        return buffer.getvalue()

    def rules(self) -> list[dict[str, Any]]:
        return self.cat.rules.list_all()

    def put_rule(self, rule_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
        if rule_id:
            return self.cat.rules.put(rule_id, body, actor="cli")[0]
        return self.cat.rules.create(body, actor="cli")

    def delete_rule(self, rule_id: str) -> None:
        self.cat.rules.delete(rule_id, actor="cli")

    def backup(self, target: Path) -> dict[str, Any]:
        return asdict(self.cat.backup(target))

    def snapshot(self) -> dict[str, Any]:
        return asdict(self.cat.publish_snapshot())

    def lineage(self, asset: str, *, impact: bool, **params: Any) -> dict[str, Any]:
        walk = self.cat.lineage.impact if impact else self.cat.lineage.lineage
        return _all_pages(lambda cursor: walk(asset, cursor=cursor, **params))

    def ingest(self, config: dict[str, Any] | None, resume: str | None,
               on_progress: Stage) -> dict[str, Any]:
        runs = self.cat.ingestion.runs
        given = config if config is not None else runs.get(str(resume)).config
        record, run = runs.record(given, actor="cli", resumes=resume)
        try:
            report = runs.execute(record.id, run, on_progress=lambda stage, done, total:
                                  on_progress(stage, done))
        except KeyboardInterrupt:
            err.print(f"interrupted: resume with `semcat ingest --resume {record.id}`")
            raise
        assert report is not None  # only a queued run cancelled meanwhile has none
        return {"run": record.id, **report.to_json()}


# a problem's status → the error the CLI reports (and the exit code it maps to)
ERRORS: dict[int, type[SemcatError]] = {400: InputError, 401: Unauthenticated, 403: Forbidden,
                                        404: NotFound, 406: InputError, 409: Conflict,
                                        412: Conflict, 413: InputError, 415: InputError,
                                        422: ValidationFailed}


def _titles(cls: type[SemcatError]) -> set[str]:
    return {cls.title}.union(*(_titles(sub) for sub in cls.__subclasses__()))


_TITLES = _titles(SemcatError)


class Remote:
    def __init__(self, server: RunningServer, timeout: float) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=timeout, headers={
            "Authorization": f"Bearer {server.key}", "User-Agent": "semcat-cli"})

    def close(self) -> None:
        self.http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            r = self.http.request(method, path, **kwargs)
        except httpx.TransportError as e:
            raise Conflict(f"the server holding the data directory ({self.http.base_url}) does "
                           f"not answer: {e}") from e
        if r.status_code < 400:
            return r
        if r.headers.get("content-type", "").startswith("application/problem+json"):
            problem = r.json()
            detail = problem.get("detail") or problem.get("title", "")
            extra = {k: problem[k] for k in ("errors",) if k in problem}
        else:  # the SPARQL protocol's plain-text errors: "<title>: <detail>"
            title, _, detail = r.text.strip().partition(": ")
            detail, extra = (detail if title in _TITLES else r.text.strip()), {}
        raise ERRORS.get(r.status_code, SemcatError)(detail, **extra)

    def _asset(self, asset: str, tail: str) -> str:
        return f"/api/v1/assets/{quote(asset, safe='/:')}/{tail}"

    def query(self, text: str, format: str, *, infer: bool) -> tuple[str, bytes, int]:
        accept = TABLE_ACCEPT if format == "table" else FORMATS.get(format, format)
        r = self._send("POST", "/sparql", data={"query": text, "infer": str(infer).lower()},
                       headers={"Accept": accept})
        state = r.headers.get("semcat-inference", "current")
        behind = int(state.partition("behind=")[2] or 0) if state != "current" else 0
        return r.headers["content-type"].split(";")[0], r.content, behind

    def versions(self, asset: str) -> list[dict[str, Any]]:
        return list(self._send("GET", self._asset(asset, "versions")).json()["versions"])

    def explain(self, asset: str, predicate: str | None,
                object: str | None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("predicate", predicate), ("object", object)) if v}
        return list(self._send("GET", self._asset(asset, "explain"),
                               params=params).json()["explanations"])

    def search(self, body: SearchBody) -> dict[str, Any]:
        found = self._send("POST", "/api/v1/search", json=body.model_dump(exclude_none=True))
        return {k: v for k, v in found.json().items() if k != "@context"}

    def validate(self, workspace: str | None, on_progress: Progress, *,
                 turtle: bool = False) -> tuple[dict[str, Any], bytes]:
        params = {"workspace": workspace} if workspace else {}
        report = dict(self._send("GET", "/api/v1/validate", params=params).json())
        return report, self._send("GET", "/api/v1/validate", params=params, headers={
            "Accept": "text/turtle"}).content if turtle else b""

    def export(self, media_type: str, *, profile: str | None = None) -> bytes:
        path = "/api/v1/export/dcat" if profile == "dcat-ap" else "/api/v1/export"
        return self._send("GET", path, headers={"Accept": media_type}).content

    def rules(self) -> list[dict[str, Any]]:
        return list(self._send("GET", "/api/v1/rules").json()["items"])

    def put_rule(self, rule_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
        if rule_id:
            return dict(self._send("PUT", f"/api/v1/rules/{rule_id.removeprefix('rule/')}",
                                   json=body).json())
        return dict(self._send("POST", "/api/v1/rules", json=body).json())

    def delete_rule(self, rule_id: str) -> None:
        self._send("DELETE", f"/api/v1/rules/{rule_id.removeprefix('rule/')}")

    def backup(self, target: Path) -> dict[str, Any]:
        """The server writes the backup: it alone may read its store."""
        return dict(self._send("POST", "/api/v1/backups",
                               json={"target": str(target.resolve())}).json())

    def snapshot(self) -> dict[str, Any]:
        return dict(self._send("POST", "/api/v1/snapshots").json())

    def lineage(self, asset: str, *, impact: bool, **params: Any) -> dict[str, Any]:
        path = "/api/v1/lineage/impact" if impact else "/api/v1/lineage"
        return _all_pages(lambda cursor: dict(self._send("GET", path, params={
            "asset": asset, **params, **({"cursor": cursor} if cursor else {})}).json()))

    def ingest(self, config: dict[str, Any] | None, resume: str | None,
               on_progress: Stage) -> dict[str, Any]:
        """The server runs it (and reads the source: paths in the config are the server's)."""
        path = f"/api/v1/ingestion/{resume}:resume" if resume else "/api/v1/ingestion"
        run = dict(self._send("POST", path, json=config or {}).json())
        try:
            while run["status"] in ("queued", "running"):
                time.sleep(POLL_S)
                run = dict(self._send("GET", f"/api/v1/ingestion/{run['id']}").json())
                on_progress("read", run["progress"]["read"])
        except KeyboardInterrupt:
            self._send("POST", f"/api/v1/ingestion/{run['id']}:cancel")
            err.print(f"cancelled: resume with `semcat ingest --resume {run['id']}`")
            raise
        if run["counts"] is None:  # the source could not be read at all: nothing written
            raise InputError(run["error"] or f"the run ended {run['status']}")
        return {"run": run["id"], "connector": run["connector"], "source": run["source"],
                "workspace": run["workspace"], **run["counts"], "complete": run["complete"],
                "error": run["error"], "resumedAfter": run["resumedAfter"] or 0,
                "keptEdits": run["keptEdits"] or 0, "seconds": run["seconds"],
                "errors": run["errors"], "warnings": run["warnings"]}


def _all_pages(page: Callable[[str | None], dict[str, Any]]) -> dict[str, Any]:
    """A paged lineage answer as one: nodes and edges of every page."""
    out = page(None)
    while out.get("next"):
        more = page(out.pop("next"))
        out["nodes"] += more["nodes"]
        out["edges"] += more["edges"]
        out["next"] = more.get("next")
        if "notify" in more:  # impact: owners of this page's assets too
            known = {n["owner"]: n for n in out["notify"]}
            for entry in more["notify"]:
                if entry["owner"] in known:
                    known[entry["owner"]]["assets"] += entry["assets"]
                else:
                    out["notify"].append(entry)
    out.pop("next", None)
    return out


@contextmanager
def connect(data: Path) -> Iterator[Backend]:
    """The catalog in ``data``: opened here, or asked of the server that holds it."""
    settings = Settings(data=data)
    try:
        cat = Catalog.open(settings, elect=False)
    except Conflict:
        server = running_server.find(data)
        if server is None:
            raise
        err.print(f"[dim]the data directory is in use by the server at {server.url}; asking "
                  "it[/dim]")
        remote = Remote(server, timeout=REMOTE_TIMEOUT_S)
        try:
            yield remote
        finally:
            remote.close()
        return
    with cat:
        yield Local(cat)
