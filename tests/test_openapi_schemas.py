"""The OpenAPI document types every body: each operation that takes one declares its schema,
each success response (but 204) declares a schema per media type, and real responses of the
in-process app validate against what their operation declares, so a schema that lies fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from catalog import Catalog, Settings
from sparql_api.app import create_app

LD = "application/ld+json"
BODY_METHODS = ("post", "put", "patch")
DOC = "urn:semcat:openapi"


@pytest.fixture(scope="module")
def reader(demo_catalog: Catalog) -> TestClient:
    """The shared demo catalog: reads only."""
    return TestClient(create_app(demo_catalog))


@pytest.fixture(scope="module")
def writer() -> Iterator[TestClient]:
    """A demo catalog of this module's own, for writes."""
    with Catalog.open(Settings(data=None)) as cat:
        cat.load_demo()
        yield TestClient(create_app(cat))


@pytest.fixture(scope="module")
def spec(reader: TestClient) -> dict[str, Any]:
    return reader.get("/openapi.json").json()  # type: ignore[no-any-return]


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_every_body_taking_operation_declares_its_request_schema(spec: dict[str, Any]) -> None:
    missing = [f"{m.upper()} {p}" for p, m, op in _operations(spec) if m in BODY_METHODS and (
        not op.get("requestBody", {}).get("content")
        or not all(c.get("schema") for c in op["requestBody"]["content"].values()))]
    assert not missing, missing


def test_every_success_response_declares_a_schema(spec: dict[str, Any]) -> None:
    missing = [f"{m.upper()} {p} {status}" for p, m, op in _operations(spec)
               for status, r in op["responses"].items()
               if status.startswith("2") and status != "204" and (
                   not r.get("content") or not all(c.get("schema") for c in r["content"].values()))]
    assert not missing, missing


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _validator(spec: dict[str, Any], path: str, method: str, status: str,
               media: str) -> jsonschema.protocols.Validator:
    """The declared schema, its $refs resolved against the document's components."""
    registry: Registry[Any] = Registry().with_resource(DOC, DRAFT202012.create_resource(spec))
    ref = f"{DOC}#/" + _pointer("paths", path, method, "responses", status, "content", media,
                                "schema")
    cls = jsonschema.Draft202012Validator
    return cls({"$ref": ref}, registry=registry, format_checker=cls.FORMAT_CHECKER)


def conforms(spec: dict[str, Any], path: str, method: str, response: Any) -> Any:
    """The response's JSON, after checking it against what ``path`` declares for its status
    and media type."""
    status = str(response.status_code)
    declared = spec["paths"][path][method]["responses"]
    assert status in declared, (path, method, status, response.text[:300])
    media = response.headers["content-type"].split(";")[0].strip()
    assert media in declared[status].get("content", {}), (path, method, status, media)
    body = response.json()
    errors = sorted(_validator(spec, path, method, status, media).iter_errors(body),
                    key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5]]
    return body


def _table(http: TestClient) -> str:
    return str(http.get("/api/v1/assets", params={"type": "Table", "limit": 1})
               .json()["items"][0]["id"])


READS: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [  # path, URL, query, headers
    ("/healthz", "/healthz", {}, {}),
    ("/api/v1/context.jsonld", "/api/v1/context.jsonld", {}, {}),
    ("/api/v1/assets", "/api/v1/assets", {"limit": 5}, {}),
    ("/api/v1/assets", "/api/v1/assets", {"type": "Column", "limit": 3, "infer": True}, {}),
    ("/api/v1/assets/{key}", "/api/v1/assets/{table}", {}, {}),
    ("/api/v1/assets/{key}", "/api/v1/assets/{table}", {"infer": True}, {}),
    ("/api/v1/assets/{key}/versions", "/api/v1/assets/{table}/versions", {}, {}),
    ("/api/v1/assets/{key}/diff", "/api/v1/assets/{table}/diff", {}, {}),
    ("/api/v1/assets/{key}/explain", "/api/v1/assets/{table}/explain", {}, {}),
    ("/api/v1/search", "/api/v1/search", {"q": "customer", "limit": 3}, {}),
    ("/api/v1/search", "/api/v1/search",
     {"q": "tables owned by asha updated this year", "nl": True, "limit": 2}, {}),
    ("/api/v1/search/similar/{key}", "/api/v1/search/similar/{table}", {"limit": 3}, {}),
    ("/api/v1/search/suggest", "/api/v1/search/suggest", {"q": "cu"}, {}),
    ("/api/v1/rules", "/api/v1/rules", {}, {}),
    ("/api/v1/keys", "/api/v1/keys", {}, {}),
    ("/api/v1/me", "/api/v1/me", {}, {}),
    ("/api/v1/validate", "/api/v1/validate", {}, {}),
    ("/api/v1/consistency", "/api/v1/consistency", {}, {}),
    ("/api/v1/attributes", "/api/v1/attributes", {}, {}),
    ("/api/v1/ontology", "/api/v1/ontology", {}, {}),
    ("/api/v1/ontology/history", "/api/v1/ontology/history", {}, {}),
    ("/api/v1/ontology/diff", "/api/v1/ontology/diff", {}, {}),
    ("/api/v1/audit", "/api/v1/audit", {"limit": 3}, {}),
    ("/api/v1/audit/verify", "/api/v1/audit/verify", {}, {}),
    ("/sparql", "/sparql", {"query": "SELECT ?s ?n WHERE { ?s <https://w3id.org/semcat#name> ?n "
                            "} LIMIT 3"}, {"Accept": "application/sparql-results+json"}),
    ("/query", "/query", {"query": "ASK { ?s ?p ?o }"}, {}),
]


@pytest.mark.parametrize("path,url,params,headers", READS,
                         ids=[f"{p} {sorted(q)}" for p, _, q, _ in READS])
def test_real_reads_match_their_schemas(reader: TestClient, spec: dict[str, Any], path: str,
                                        url: str, params: dict[str, Any],
                                        headers: dict[str, str]) -> None:
    r = reader.get(url.format(table=_table(reader)), params=params, headers=headers)
    assert r.status_code == 200, r.text[:300]
    conforms(spec, path, "get", r)


ASSET = {"type": "Database", "workspace": "acme", "platform": "platform/postgres",
         "qualifiedName": "schema_check_db", "name": "schema_check_db"}
KEY = "acme/database/postgres/schema_check_db"
RULE = {"name": "Schema check", "construct": "PREFIX semcat: <https://w3id.org/semcat#> "
        "CONSTRUCT { ?this semcat:tag <tag/pci> } WHERE { ?this semcat:name \"card_number\" }"}
SPEC = {"name": "schemaCheck", "label": "Schema check", "datatype": "enum",
        "appliesTo": ["Table"], "values": ["tag/tier-1"], "required": True}


def test_real_writes_match_their_schemas(writer: TestClient, spec: dict[str, Any]) -> None:
    """Each write in turn: created and unchanged, bulk, merge patch, the diff it makes, rules,
    attributes (dry run and definition), ontology edits, an API key, SPARQL answers."""
    def check(method: str, path: str, url: str | None = None, **kwargs: Any) -> Any:
        r = writer.request(method.upper(), url or path, **kwargs)
        assert r.status_code < 300, (method, url or path, r.status_code, r.text[:300])
        return conforms(spec, path, method, r)

    assert check("post", "/api/v1/assets", json=ASSET)["status"] == "created"
    assert check("post", "/api/v1/assets", json=ASSET)["status"] == "unchanged"
    assert check("put", "/api/v1/assets/{key}", f"/api/v1/assets/{KEY}", json=ASSET)
    check("post", "/api/v1/assets:bulk", json={"@graph": [ASSET]})
    check("patch", "/api/v1/assets/{key}", f"/api/v1/assets/{KEY}", json={"description": "x"},
          headers={"Content-Type": "application/merge-patch+json"})
    assert check("get", "/api/v1/assets/{key}/diff", f"/api/v1/assets/{KEY}/diff")["added"]
    assert check("get", "/api/v1/assets/{key}", f"/api/v1/assets/{KEY}")["version"] == 2

    assert check("post", "/api/v1/rules", json=RULE)["id"] == "rule/schema-check"
    check("put", "/api/v1/rules/{name}", "/api/v1/rules/schema-check", json=RULE)
    assert check("get", "/api/v1/rules/{name}", "/api/v1/rules/schema-check")["enabled"]
    assert check("get", "/api/v1/rules", "/api/v1/rules")["items"]

    dry = check("post", "/api/v1/attributes", params={"dryRun": True}, json=SPEC)
    assert dry["affected"] and dry["affected"][0]["problems"]  # nested results are checked too
    check("post", "/api/v1/attributes", json={**SPEC, "required": False})
    check("put", "/api/v1/attributes/{name}", "/api/v1/attributes/schemaCheck",
          json={**SPEC, "required": False, "label": "Checked"})
    assert check("get", "/api/v1/attributes/{name}", "/api/v1/attributes/schemaCheck")["values"]
    check("get", "/api/v1/attributes/{name}/versions", "/api/v1/attributes/schemaCheck/versions")

    check("post", "/api/v1/ontology/classes",
          json={"name": "SchemaCheck", "label": "Schema check", "parent": "Database"})
    check("post", "/api/v1/ontology/properties", json={"name": "schemaCheckedAt", "label": "At",
                                                       "kind": "datatype", "domain": "Table"})
    check("post", "/api/v1/ontology/deprecations", json={"term": "SchemaCheck"})
    term = check("post", "/api/v1/ontology/glossary-terms",
                 json={"name": "Schema Check", "definition": "A check of schemas"})
    check("post", "/api/v1/ontology/deprecations", json={"term": term["id"]})
    check("post", "/api/v1/ontology/classification-schemes",
          json={"slug": "schema-check", "name": "Schema check", "description": "Checked",
                "values": [{"slug": "done", "name": "Done"}]})
    assert check("post", "/api/v1/keys", json={"subject": "user/x", "admin": True})["token"]
    assert check("post", "/api/v1/search", json={"q": "orders", "limit": 2})["hits"]
    check("post", "/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2"})
    check("post", "/query", content=b"ASK { ?s ?p ?o }",
          headers={"Content-Type": "application/sparql-query", "Accept": "application/json"})
    assert check("get", "/api/v1/audit")["items"]


@pytest.mark.parametrize("path,body", [
    ("/healthz", {"status": "fine", "appliedSeq": 1, "problems": {}}),
    ("/api/v1/assets", {"@context": [], "items": [{"name": "no id"}], "next": None}),
    ("/api/v1/rules", {"items": [{"id": "rule/x", "type": "ClassificationRule"}]}),
    ("/api/v1/me", {"subject": "x", "via": "open", "groups": [], "grants": [], "admin": True,
                    "keyId": None, "extra": 1}),
])
def test_a_body_unlike_its_schema_is_refused(spec: dict[str, Any], path: str,
                                             body: Any) -> None:
    """The check above has teeth: $refs resolve and a wrong value, a missing or an
    undeclared key fails."""
    media = next(iter(spec["paths"][path]["get"]["responses"]["200"]["content"]))
    with pytest.raises(jsonschema.ValidationError):
        _validator(spec, path, "get", "200", media).validate(body)
