"""A catalog always opens (issue 10, item 1): a stored vocabulary that no longer compiles is
reported, writes are validated with the shipped shapes meanwhile, and an admin can repair it."""

from __future__ import annotations

from pathlib import Path

import httpx

from catalog import Catalog, Settings
from tests.conftest import Server

SHAPES = "http://127.0.0.1:8000/graph/shapes"
BAD = ("PREFIX sh: <http://www.w3.org/ns/shacl#> PREFIX semcat: <https://w3id.org/semcat#> "
       f"INSERT DATA {{ GRAPH <{SHAPES}> {{ <urn:bad> a sh:NodeShape ; sh:targetClass "
       "semcat:Table ; sh:or ( [ sh:path semcat:name ] ) } }")
REPAIR = f"DELETE WHERE {{ GRAPH <{SHAPES}> {{ <urn:bad> ?p ?o }} }}"


def _store_bad_shape(data: Path) -> None:
    """What an older release (or a hand-edited log) could leave: a shape that does not compile."""
    with Catalog.open(Settings(data=data)) as cat:
        check, cat.journal.check = cat.journal.check, None
        cat.sparql.update(BAD, actor="old-release")
        cat.journal.check = check


def test_a_stored_vocabulary_that_does_not_compile_is_reported_and_repairable(
        tmp_path: Path) -> None:
    _store_bad_shape(tmp_path)
    with Catalog.open(Settings(data=tmp_path)) as cat:
        assert "shapes" in cat.problems and "shacl#or" in cat.problems["shapes"]
        cat.assets.upsert({"id": "platform/pg", "type": "DataPlatform", "name": "Postgres"},
                          actor="admin")  # writes go on, validated by the shipped shapes
        cat.sparql.update(REPAIR, actor="admin")
        assert cat.problems == {}
    with Catalog.open(Settings(data=tmp_path)) as cat:
        assert cat.problems == {}


def test_the_server_starts_and_says_so(tmp_path: Path) -> None:
    _store_bad_shape(tmp_path)
    srv = Server(tmp_path).start()
    try:
        health = httpx.get(srv.url + "/healthz").json()
        assert health["status"] == "degraded" and "shacl#or" in health["problems"]["shapes"]
        r = httpx.post(srv.url + "/update", content=REPAIR,
                       headers={"Content-Type": "application/sparql-update"})
        assert r.status_code == 204, r.text
        assert httpx.get(srv.url + "/healthz").json()["status"] == "ok"
    finally:
        srv.stop()
