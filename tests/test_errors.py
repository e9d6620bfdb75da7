"""Every error class maps to one HTTP status, problem+json on REST and plain text on /sparql."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from catalog import Catalog
from graph_store.errors import ALL_ERRORS, SemcatError, Unauthenticated, ValidationFailed
from sparql_api import create_app


def _raise(error: SemcatError) -> None:
    raise error


def make(cls: type[SemcatError]) -> SemcatError:
    if cls is ValidationFailed:
        return ValidationFailed("refused", report=[{"item": 0, "message": "bad"}])
    return cls("something precise went wrong")


@pytest.fixture
def app(catalog: Catalog) -> FastAPI:
    app = create_app(catalog)

    @app.get("/api/v1/boom/{name}")
    async def boom(name: str) -> None:
        _raise(make(next(c for c in ALL_ERRORS if c.__name__ == name)))

    return app


def test_the_tree_is_the_documented_one() -> None:
    import graph_store.errors as errors

    for cls in ALL_ERRORS:
        assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} missing from the docstring"
    assert len({c.code for c in ALL_ERRORS}) == len(ALL_ERRORS)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_each_error_is_problem_json(app: FastAPI, cls: type[SemcatError]) -> None:
    r = TestClient(app).get(f"/api/v1/boom/{cls.__name__}")
    assert r.status_code == cls.status
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == f"https://w3id.org/semcat/problems/{cls.code}"
    assert body["title"] == cls.title and body["status"] == cls.status
    assert body["detail"] in ("something precise went wrong", "refused")
    assert body["instance"] == f"/api/v1/boom/{cls.__name__}"
    if cls is ValidationFailed:
        assert body["errors"] == [{"item": 0, "message": "bad"}]
    if cls is Unauthenticated:
        assert r.headers["www-authenticate"].startswith('Bearer realm="semcat"')


def test_sparql_endpoints_answer_in_plain_text(app: FastAPI) -> None:
    r = TestClient(app).get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("SPARQL syntax error: line 1, column ")


def test_framework_errors_are_problems_too(app: FastAPI) -> None:
    client = TestClient(app)
    missing = client.get("/no/such/route")
    wrong = client.get("/api/v1/assets", params={"limit": "many"})
    method = client.put("/sparql")
    assert missing.status_code == 404 and missing.json()["type"].endswith("not-found")
    assert wrong.status_code == 400 and "limit" in wrong.json()["detail"]
    assert method.status_code == 405
