"""The OpenAPI document (issue 11, item 5): valid by a well-kept validator, unique camelCase
operationIds, and the ways to authenticate declared so /docs has an Authorize button."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from catalog import Catalog, Settings
from sparql_api.app import create_app


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with Catalog.open(Settings(data=None)) as cat:
        return TestClient(create_app(cat)).get("/openapi.json").json()  # type: ignore[no-any-return]


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in spec["paths"].values() for op in path.values()]


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)  # raises with the first violation
    assert len(_operations(spec)) >= 50


def test_operation_ids_are_unique_stable_and_camel_case(spec: dict[str, Any]) -> None:
    ids = Counter(op["operationId"] for op in _operations(spec))
    assert not [i for i, n in ids.items() if n > 1], ids
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*", i) for i in ids), ids
    for expected in ("listAssets", "getAsset", "patchAsset", "sparqlGet", "sparqlPost",
                     "sparqlUpdate", "getGraph", "createKey"):
        assert expected in ids


def test_security_schemes_offer_api_keys_and_bearer_tokens(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "apiKey", "in": "header",
                                 "name": "X-API-Key"}
    assert schemes["bearer"]["scheme"] == "bearer"
    assert {"apiKey": []} in spec["security"] and {"bearer": []} in spec["security"]


def test_oidc_is_declared_when_configured() -> None:
    settings = Settings(data=None, oidc_issuer="https://login.example.com/realm",
                        oidc_audience="semcat", oidc_jwks_url="https://login.example.com/jwks")
    with Catalog.open(settings) as cat:
        spec = TestClient(create_app(cat)).get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["oidc"] == {
        "type": "openIdConnect",
        "openIdConnectUrl": "https://login.example.com/realm/.well-known/openid-configuration"}


def test_docs_pages_work_air_gapped_and_without_a_credential() -> None:
    with Catalog.open(Settings(data=None, open=False)) as cat:
        http = TestClient(create_app(cat))
        for page in ("/docs", "/redoc"):
            r = http.get(page)
            assert r.status_code == 200, page
            assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
            assert assets and not [a for a in assets if "//" in a], assets  # nothing remote
            for asset in assets:
                assert http.get(asset).status_code == 200, asset
