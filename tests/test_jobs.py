"""Asynchronous jobs (/api/v1/jobs, issue 17 item 5) against real servers: bulk upserts of
thousands of assets with progress, bad items reported while good ones land, cancel, a server
SIGKILLed mid-job whose job finishes after the restart, exports scoped to the submitter, and
jobs private to their submitter."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyoxigraph import RdfFormat, parse

from catalog import Catalog, Settings
from graph_store.errors import InputError, NotFound
from jobs import items as job_items
from tests.access_scenario import CUSTOMERS, HIDDEN_FROM_BOB, PAYROLL, assets, directory, policies
from tests.conftest import Server
from tests.test_api_keys import cli_key, semcat
from tests.test_openapi_schemas import conforms

BASE = "http://127.0.0.1:8000"
SC = "https://w3id.org/semcat#"
SCHEMA = "acme/schema/pg/db.s"
CHUNK = 100
FINISHED = ("succeeded", "failed", "cancelled")


def table(run: str, n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "Table", "workspace": "acme", "platform": "platform/pg",
            "qualifiedName": f"db.s.{run}_{n}", "name": f"{run} {n}", "partOf": SCHEMA,
            "description": "made by a job", **extra}


def tables(run: str, count: int) -> list[dict[str, Any]]:
    return [table(run, n) for n in range(count)]


def wait(client: httpx.Client, job_id: str, until: Any = lambda j: j["status"] in FINISHED,
         timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/api/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        if until(job := r.json()):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there: {job}")


def submit(client: httpx.Client, items: list[Any], ndjson: bool = False) -> dict[str, Any]:
    if ndjson:
        r = client.post("/api/v1/jobs/bulk-upsert", content="\n".join(map(json.dumps, items)),
                        headers={"Content-Type": "application/x-ndjson"})
    else:
        r = client.post("/api/v1/jobs/bulk-upsert", json=items)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/v1/jobs/{r.json()['id']}"
    return r.json()  # type: ignore[no-any-return]


def versions(client: httpx.Client, run: str) -> list[tuple[str, str]]:
    """(asset IRI, version) of every version statement of a run's tables."""
    query = (f"SELECT ?s ?v WHERE {{ ?s <{SC}version> ?v FILTER(STRSTARTS(STR(?s), "
             f"\"{BASE}/id/acme/table/pg/db.s.{run}_\")) }}")
    r = client.get("/sparql", params={"query": query},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return [(b["s"]["value"], b["v"]["value"]) for b in r.json()["results"]["bindings"]]


def is_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("jobs"),
                 env={"SEMCAT_OPEN": "0", "SEMCAT_JOBS_CHUNK_SIZE": str(CHUNK)}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def as_(secure: Server) -> Iterator[dict[str, httpx.Client]]:
    tokens = {"admin": cli_key(secure.data, "--user", "user/root", "--admin"),
              "alice": cli_key(secure.data, "--user", "user/alice", "--workspace", "acme",
                               "--role", "viewer"),
              "bob": cli_key(secure.data, "--user", "user/bob")}  # no PII, no payroll
    clients = {who: httpx.Client(base_url=secure.url, timeout=60, headers={"X-API-Key": t})
               for who, t in tokens.items()}
    for batch in (directory(), assets(), policies()):
        assert clients["admin"].post("/api/v1/assets:bulk", json=batch).status_code == 200
    yield clients
    for c in clients.values():
        c.close()


def test_a_bulk_job_writes_thousands_of_assets_with_progress(as_: dict[str, httpx.Client]
                                                             ) -> None:
    admin, run = as_["admin"], f"bulk{uuid.uuid4().hex[:6]}"
    job = submit(admin, tables(run, 3000), ndjson=True)
    assert job["status"] in ("queued", "running") and job["progress"]["total"] == 3000
    seen: list[int] = []
    done = wait(admin, job["id"], lambda j: seen.append(j["progress"]["done"]) or
                j["status"] in FINISHED)
    assert done["status"] == "succeeded", done
    assert done["progress"] == {"done": 3000, "total": 3000}
    assert seen == sorted(seen) and any(0 < n < 3000 for n in seen)  # it advanced in chunks
    assert done["result"]["created"] == 3000 and done["result"]["failed"] == 0
    assert done["startedAt"] <= done["endedAt"]
    written = versions(admin, run)
    assert len({s for s, _ in written}) == 3000 and {v for _, v in written} == {"1"}
    spec = admin.get("/openapi.json").json()  # the documented shapes are the real ones
    conforms(spec, "/api/v1/jobs/{job_id}", "get", admin.get(f"/api/v1/jobs/{job['id']}"))
    result = conforms(spec, "/api/v1/jobs/{job_id}/result", "get",
                      admin.get(f"/api/v1/jobs/{job['id']}/result"))
    assert (result["created"], result["unchanged"], result["errors"]) == (3000, 0, [])
    assert result["warnings"]["total"] == sum(k["count"] for k in result["warnings"]["kinds"])
    # the same body again: idempotent, nothing new, no new versions
    again = wait(admin, submit(admin, tables(run, 3000))["id"])
    assert again["result"]["unchanged"] == 3000 and {v for _, v in versions(admin, run)} == {"1"}


def test_bad_items_are_reported_and_the_good_ones_written(as_: dict[str, httpx.Client]) -> None:
    admin, run = as_["admin"], f"bad{uuid.uuid4().hex[:6]}"
    items: list[Any] = tables(run, 250)
    items[3] = {"type": "Table", "name": "no natural key"}
    items[120] = table(run, 120, position="three")
    items[249] = 42
    job = wait(admin, submit(admin, items)["id"])
    assert job["status"] == "succeeded", job
    assert (job["result"]["created"], job["result"]["failed"]) == (247, 3)
    errors = admin.get(f"/api/v1/jobs/{job['id']}/result").json()["errors"]
    assert [e["index"] for e in errors] == [3, 120, 249]
    assert "natural key" in errors[0]["report"][0]["message"]
    assert errors[1]["id"] == f"acme/table/pg/db.s.{run}_120" and errors[1]["status"] == 422
    assert admin.get(f"/api/v1/assets/acme/table/pg/db.s.{run}_121").status_code == 200
    assert admin.get(f"/api/v1/assets/acme/table/pg/db.s.{run}_120").status_code == 404
    assert len(versions(admin, run)) == 247


def test_cancel_stops_a_running_job_and_keeps_what_it_wrote(as_: dict[str, httpx.Client]
                                                            ) -> None:
    admin, run = as_["admin"], f"cancel{uuid.uuid4().hex[:6]}"
    job = submit(admin, tables(run, 3000))
    wait(admin, job["id"], lambda j: j["progress"]["done"] >= CHUNK)
    is_problem(admin.get(f"/api/v1/jobs/{job['id']}/result"), 409)  # not finished yet
    r = admin.post(f"/api/v1/jobs/{job['id']}:cancel")
    assert r.status_code == 202 and r.json()["cancelRequested"], r.text
    ended = wait(admin, job["id"])
    assert ended["status"] == "cancelled"
    done = ended["progress"]["done"]
    assert CHUNK <= done < 3000
    assert len(versions(admin, run)) == done  # what it wrote stays, and nothing after it
    assert admin.get(f"/api/v1/jobs/{job['id']}/result").json()["created"] == done
    listed = admin.get("/api/v1/jobs", params={"status": "cancelled"}).json()["items"]
    assert job["id"] in {j["id"] for j in listed} and {j["status"] for j in listed} == {
        "cancelled"}


def test_a_malformed_body_is_refused_and_makes_no_job(secure: Server,
                                                      as_: dict[str, httpx.Client]) -> None:
    admin = as_["admin"]
    before = admin.get("/api/v1/jobs", params={"limit": 1000}).json()["items"]
    bad = [(b'[{"type": "Table"},', "application/json", 400),
           (b'{"type": "Table"}\n{nope\n', "application/x-ndjson", 400),
           (b'{"not": "a list"}', "application/json", 400),
           (b"", "application/json", 400),
           (b"<rdf/>", "application/rdf+xml", 415)]
    for body, kind, status in bad:
        r = admin.post("/api/v1/jobs/bulk-upsert", content=body, headers={"Content-Type": kind})
        is_problem(r, status)
    is_problem(admin.post("/api/v1/jobs/export", json={"format": "text/csv"}), 400)
    assert admin.get("/api/v1/jobs", params={"limit": 1000}).json()["items"] == before
    assert not list((secure.data / "jobs").glob("incoming-*"))  # no spooled body left behind


def test_jobs_are_private_to_their_submitter(as_: dict[str, httpx.Client]) -> None:
    admin, alice, bob = as_["admin"], as_["alice"], as_["bob"]
    job = bob.post("/api/v1/jobs/export", json={"format": "application/n-triples"}).json()
    for r in (alice.get(f"/api/v1/jobs/{job['id']}"),
              alice.get(f"/api/v1/jobs/{job['id']}/result"),
              alice.post(f"/api/v1/jobs/{job['id']}:cancel")):
        assert "no job" in is_problem(r, 404)["detail"]
    is_problem(bob.get(f"/api/v1/jobs/{uuid.uuid4().hex}"), 404)  # the same answer as unknown
    assert job["id"] not in {j["id"] for j in alice.get("/api/v1/jobs").json()["items"]}
    assert job["id"] in {j["id"] for j in bob.get("/api/v1/jobs").json()["items"]}
    assert job["id"] in {j["id"] for j in admin.get("/api/v1/jobs").json()["items"]}
    assert admin.get(f"/api/v1/jobs/{job['id']}").json()["owner"] == "user/bob"


def test_the_cli_follows_jobs_beside_the_server(secure: Server, as_: dict[str, httpx.Client]
                                               ) -> None:
    job = wait(as_["bob"], as_["bob"].post("/api/v1/jobs/export", json={}).json()["id"])
    listed = json.loads(semcat("jobs", "list", "--data", str(secure.data), "-f", "json").stdout)
    assert job["id"] in {j["id"] for j in listed}  # the CLI's key is an admin's: every job
    shown = json.loads(semcat("jobs", "show", job["id"], "--data", str(secure.data), "-f",
                              "json").stdout)
    assert shown["status"] == "succeeded" and shown["params"]["mediaType"] == "application/n-quads"
    missing = semcat("jobs", "show", uuid.uuid4().hex, "--data", str(secure.data), check=False)
    assert missing.returncode == 3 and "no job" in missing.stderr


def _export(client: httpx.Client, fmt: str) -> set[str]:
    job = client.post("/api/v1/jobs/export", json={"format": fmt})
    assert job.status_code == 202, job.text
    done = wait(client, job.json()["id"])
    assert done["status"] == "succeeded", done
    r = client.get(f"/api/v1/jobs/{done['id']}/result")
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == fmt
    assert done["result"]["bytes"] == len(r.content)
    rdf = RdfFormat.from_media_type(fmt)
    assert rdf is not None
    return {q.subject.value for q in parse(r.content, rdf)}


def test_an_export_job_holds_only_what_its_submitter_may_read(as_: dict[str, httpx.Client]
                                                              ) -> None:
    hidden = {f"{BASE}/id/{k}" for k in HIDDEN_FROM_BOB}
    seen_by_bob = _export(as_["bob"], "application/n-quads")
    assert f"{BASE}/id/{CUSTOMERS}" in seen_by_bob and not seen_by_bob & hidden
    seen_by_admin = _export(as_["admin"], "text/turtle")
    assert f"{BASE}/id/{PAYROLL}" in seen_by_admin and hidden <= seen_by_admin


@pytest.mark.slow
def test_a_job_survives_a_stop_and_a_sigkill_and_finishes_after_the_restarts(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Stopped cleanly mid-job, then SIGKILLed mid-job: each start resumes it after its last
    durable chunk, and every asset ends up written once, at version 1."""
    data = tmp_path_factory.mktemp("killed")
    env = {"SEMCAT_JOBS_CHUNK_SIZE": str(CHUNK)}
    srv = Server(data, env=env).start()
    run, total = "kill", 3000
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            scaffold = [{"type": "Database", "workspace": "acme", "platform": "platform/pg",
                         "qualifiedName": "db", "name": "db"},
                        {"type": "Schema", "workspace": "acme", "platform": "platform/pg",
                         "qualifiedName": "db.s", "name": "s", "partOf": "acme/database/pg/db"}]
            assert http.post("/api/v1/assets:bulk", json=scaffold).status_code == 200
            job = submit(http, tables(run, total))
            wait(http, job["id"], lambda j: j["progress"]["done"] >= 2 * CHUNK)
        srv.stop()  # SIGTERM: the job stops at its next chunk and stays queued
        srv = Server(data, env=env).start()
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            stopped = http.get(f"/api/v1/jobs/{job['id']}").json()
            assert stopped["restarts"] == 1 and stopped["status"] in ("queued", "running")
            at = stopped["progress"]["done"]
            assert 2 * CHUNK <= at < total
            wait(http, job["id"], lambda j: j["progress"]["done"] >= at + 2 * CHUNK)
        srv.kill()  # mid-job: no cleanup at all
    finally:
        srv.kill()
    srv = Server(data, env=env).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            done = wait(http, job["id"])
            assert done["status"] == "succeeded", done
            assert done["restarts"] == 2 and done["progress"]["done"] == total
            counts = done["result"]
            assert counts["created"] + counts["unchanged"] == total and counts["failed"] == 0
            written = versions(http, run)
            assert len(written) == total and len({s for s, _ in written}) == total
            assert {v for _, v in written} == {"1"}  # once each, never rewritten
    finally:
        srv.stop()


def test_an_in_memory_catalog_runs_jobs_and_keeps_nothing() -> None:
    cat = Catalog.open(Settings(data=None, jobs_chunk_size=2))
    try:
        cat.assets.upsert_many(directory()[:3] + assets()[:2], actor="admin")
        body = cat.jobs.spool()
        body.write_text("\n".join(json.dumps(table("mem", n)) for n in range(5)))
        job = cat.jobs.submit_bulk(body, "application/x-ndjson", whole_limit=1 << 20)
        export = cat.jobs.submit_export("application/n-triples")
        deadline = time.monotonic() + 60
        while not cat.jobs.get(export.id).finished and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cat.jobs.get(job.id).result["created"] == 5  # type: ignore[index]
        _, path, _ = cat.jobs.result(export.id)
        assert path is not None and b"db.s.mem_4" in path.read_bytes()
        files = cat.jobs.files
        assert files.is_dir() and not body.exists()  # the body was split, then let go
    finally:
        cat.close()
    assert not files.exists()


@pytest.mark.parametrize("piece,window,batch", [(1, 1, 8), (7, 5, 8), (1 << 20, 1 << 12, 1 << 16)])
def test_a_json_array_body_is_split_exactly_however_it_is_read(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, piece: int, window: int, batch: int
        ) -> None:
    """Pieces, orjson's window and batches cut strings, escapes, nesting and multi-byte
    characters anywhere; the items come out the same, and errors name the right item."""
    for name, value in (("READ_BYTES", piece), ("WINDOW_CHARS", window), ("BATCH_CHARS", batch)):
        monkeypatch.setattr(job_items, name, value)
    items: list[Any] = [{"a": 'x\\"],{', "b": [1, {"c": "]"}]}, {"id": "é€😀\\"}, 3, "s,]",
                        None, [[]], {"long": "y" * 3000}] * 20
    body, out = tmp_path / "body", tmp_path / "items"
    body.write_bytes(b" \n" + json.dumps(items, indent=1, ensure_ascii=False).encode())
    assert job_items.normalise(body, "application/json", out, whole_limit=0) == len(items)
    assert [json.loads(line) for line in out.read_text().splitlines()] == items
    body.write_text(json.dumps(items).replace('"s,]"', "tru", 1))
    with pytest.raises(InputError, match="item 4: invalid literal"):
        job_items.normalise(body, "application/json", out, whole_limit=0)


def test_finished_jobs_are_forgotten_after_their_retention(tmp_path: Path) -> None:
    """An export that ended longer ago than SEMCAT_JOBS_RETENTION_DAYS goes, with its file;
    one that ended since stays, and 0 keeps every job."""
    cat = Catalog.open(Settings(data=tmp_path / "data", jobs_retention_days=1 / 86_400))
    try:
        cat.assets.upsert_many(directory()[:3] + assets()[:2], actor="admin")

        def finished_export() -> str:
            job = cat.jobs.submit_export("application/n-triples")
            deadline = time.monotonic() + 60
            while not cat.jobs.get(job.id).finished and time.monotonic() < deadline:
                time.sleep(0.05)
            assert cat.jobs.get(job.id).status == "succeeded"
            return job.id

        old = finished_export()
        assert (cat.jobs.files / old).is_dir()
        time.sleep(1.1)
        fresh = finished_export()
        assert cat.jobs.purge() == 1
        with pytest.raises(NotFound):
            cat.jobs.get(old)
        assert not (cat.jobs.files / old).exists()
        assert cat.jobs.result(fresh)[1] is not None  # ended under a second ago: kept
        cat.jobs.retention_s = 0
        time.sleep(1.1)
        assert cat.jobs.purge() == 0 and cat.jobs.get(fresh).finished
    finally:
        cat.close()
