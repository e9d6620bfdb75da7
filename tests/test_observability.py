"""Observability (issue 12, item 4): request ids in responses and in JSON log lines, one access
record per request, and OpenTelemetry spans from the request down through the catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT, Server

TRACE_SCRIPT = """
from pathlib import Path
from fastapi.testclient import TestClient
from catalog import Settings
from sparql_api import create_app
settings = Settings(data=Path({data!r}), tracing="console", query_workers=0)
with TestClient(create_app(settings=settings)) as http:
    r = http.post("/api/v1/assets", json={{"type": "DataPlatform", "id": "platform/traced",
                                          "name": "traced"}})
    assert r.status_code == 201, r.text
    assert http.get("/sparql", params={{"query": "ASK {{ ?s ?p ?o }}"}}).status_code == 200
    assert http.get("/api/v1/search", params={{"q": "traced"}}).status_code == 200
"""


def _objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects printed one after another (the console exporter indents them)."""
    decoder, found, i = json.JSONDecoder(), [], 0
    while (i := text.find("{", i)) != -1:
        obj, i = decoder.raw_decode(text, i)
        found.append(obj)
    return found


def test_request_ids_and_json_access_records(tmp_path: Path) -> None:
    srv = Server(tmp_path / "logs", args=("--log-format", "json", "--log-level", "info")).start()
    try:
        r = httpx.get(srv.url + "/api/v1/assets", headers={"X-Request-Id": "req-123"}, timeout=30)
        assert r.status_code == 200 and r.headers["x-request-id"] == "req-123"
        fresh = httpx.get(srv.url + "/healthz", timeout=30).headers["x-request-id"]
        assert len(fresh) == 32 and int(fresh, 16) >= 0
        odd = httpx.get(srv.url + "/healthz", headers={"X-Request-Id": "a b<script>"}, timeout=30)
        assert odd.headers["x-request-id"] != "a b<script>"  # not echoed into logs as given
    finally:
        srv.stop()
    records = [json.loads(line) for line in srv.output().splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("logger") == "semcat.access"]
    mine = next(r for r in access if r["request_id"] == "req-123")
    assert mine["path"] == "/api/v1/assets" and mine["status"] == 200 and mine["ms"] >= 0
    assert mine["level"] == "INFO" and mine["time"]
    assert any(r["request_id"] == fresh for r in access)
    assert all("request_id" in r for r in records)  # every record, not just the access ones


def test_traces_follow_a_request_into_the_catalog(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-c", TRACE_SCRIPT.format(data=str(tmp_path / "t"))],
                       cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "SEMCAT_OPEN": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    spans = _objects(r.stdout)
    names = {s["name"] for s in spans}
    assert {"journal.commit", "shapes.validate", "store.apply", "sparql.prepare", "store.query",
            "search.run"} <= names, names
    by_id = {s["context"]["span_id"]: s for s in spans}

    def root(span: dict[str, Any]) -> dict[str, Any]:
        while span.get("parent_id") in by_id:
            span = by_id[span["parent_id"]]
        return span

    # the write's commit and validation hang under the request's span, in its trace
    post = next(s for s in spans if s["name"].startswith("POST /api/v1/assets")
                and s.get("parent_id") is None)
    under = {s["name"] for s in spans if s["context"]["trace_id"] == post["context"]["trace_id"]}
    assert {"journal.commit", "shapes.validate", "store.apply"} <= under, under
    for name, request in (("store.query", "GET /sparql"), ("search.run", "GET /api/v1/search")):
        assert any(root(s)["name"].startswith(request) for s in spans if s["name"] == name), name
