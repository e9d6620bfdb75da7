"""Custom attributes through the REST API of a real server: definitions, every constraint
kind, impact analysis, forced migrations, retirement, history, filters and SPARQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

WS = {"workspace": "acme", "platform": "platform/pg"}
SCAFFOLD = [
    {"type": "Database", "qualifiedName": "db", "name": "db", **WS},
    {"type": "Schema", "qualifiedName": "db.s", "name": "s", "partOf": "acme/database/pg/db",
     **WS},
    {"type": "ClassificationScheme", "id": "classification/tier", "name": "Tier"},
    {"type": "Classification", "id": "classification/tier/gold", "name": "Gold",
     "partOf": "classification/tier"},
    {"type": "Classification", "id": "classification/tier/bronze", "name": "Bronze",
     "partOf": "classification/tier"},
    {"type": "Team", "id": "team/finance", "name": "Finance"},
    {"type": "Tag", "id": "tag/x", "name": "x"},
]


def uniq(prefix: str = "a") -> str:
    return prefix + uuid.uuid4().hex[:8]


def table(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Table", "qualifiedName": f"db.s.{name}", "name": name, "partOf":
            "acme/schema/pg/db.s", **WS, **extra}


def key(name: str) -> str:
    return f"acme/table/pg/db.s.{name}"


@pytest.fixture(autouse=True)
def scaffold(http: httpx.Client) -> None:
    assert http.post("/api/v1/assets:bulk", json=SCAFFOLD).status_code == 200


def define(http: httpx.Client, **spec: Any) -> httpx.Response:
    body = {"label": spec.get("name", "x").title(), "appliesTo": ["Table"], **spec}
    return http.post("/api/v1/attributes", json=body)


CASES = [  # (definition, a good value, a bad value, the constraint the bad one breaks)
    ({"datatype": "string", "pattern": "^CC-[0-9]+$"}, "CC-1", "cc1", "Pattern"),
    ({"datatype": "integer", "minInclusive": 1, "maxInclusive": 10}, 5, 11, "MaxInclusive"),
    ({"datatype": "integer"}, 5, "five", "must be an integer"),
    ({"datatype": "decimal", "minInclusive": 0.5}, "0.75", "0.25", "MinInclusive"),
    ({"datatype": "boolean"}, True, "yes", "true or false"),
    ({"datatype": "date", "maxInclusive": "2030-12-31"}, "2026-01-31", "2031-01-01",
     "MaxInclusive"),
    ({"datatype": "dateTime"}, "2026-01-31T10:00:00Z", "tomorrow", "ISO 8601"),
    ({"datatype": "string", "values": ["hot", "cold"]}, "hot", "warm", "In"),
    ({"datatype": "enum", "values": ["classification/tier/gold", "classification/tier/bronze"]},
     "classification/tier/gold", "classification/tier/silver", "In"),
    ({"datatype": "reference", "referenceClass": "Team"}, "team/finance", "tag/x", "Class"),
    ({"datatype": "iri"}, "https://wiki.example.com/page", "not//an-id", "id"),
    ({"datatype": "string", "maxCount": 1}, "one", ["one", "two"], "one value"),
]


@pytest.mark.parametrize(("spec", "good", "bad", "breaks"), CASES,
                         ids=[f"{c[0]['datatype']}-{c[3].split()[-1]}" for c in CASES])
def test_each_constraint_kind_accepts_good_and_refuses_bad(
        http: httpx.Client, spec: dict[str, Any], good: Any, bad: Any, breaks: str) -> None:
    name = uniq()
    r = define(http, name=name, **spec)
    assert r.status_code == 201, r.text
    assert name in http.get("/api/v1/context.jsonld").json()["@context"]
    t = uniq("t")
    ok = http.post("/api/v1/assets", json=table(t, **{name: good}))
    assert ok.status_code == 201, ok.text
    stored = http.get(f"/api/v1/assets/{key(t)}").json()[name]
    assert stored == good or str(stored).startswith(str(good).rstrip("Z"))
    r = http.patch(f"/api/v1/assets/{key(t)}", json={name: bad})
    assert r.status_code in (400, 422), r.text
    assert breaks in r.text
    assert http.get(f"/api/v1/assets/{key(t)}").json()[name] == stored  # nothing written


def test_required_applies_only_to_its_classes_and_dry_run_names_the_assets(
        http: httpx.Client) -> None:
    name, t1, t2 = uniq(), uniq("t"), uniq("t")
    assert define(http, name=name, datatype="string").status_code == 201
    http.post("/api/v1/assets:bulk", json=[table(t1, **{name: "has it"}), table(t2)])
    required = {"name": name, "label": "Owner code", "datatype": "string",
                "appliesTo": ["Table"], "required": True}
    dry = http.put(f"/api/v1/attributes/{name}", params={"dryRun": "true"}, json=required)
    affected = {a["id"] for a in dry.json()["affected"]}
    assert key(t2) in affected and key(t1) not in affected
    assert all(a["problems"][0]["constraint"] == "MinCountConstraintComponent"
               for a in dry.json()["affected"])
    refused = http.put(f"/api/v1/attributes/{name}", json=required)
    assert refused.status_code == 409
    assert key(t2) in {a["id"] for a in refused.json()["impact"]["affected"]}
    assert http.get(f"/api/v1/attributes/{name}").json()["minCount"] == 0  # unchanged
    forced = http.put(f"/api/v1/attributes/{name}", json=required,
                      params={"force": "true", "migration": "default", "default": "n/a"})
    assert forced.status_code == 200, forced.text
    assert http.get(f"/api/v1/assets/{key(t2)}").json()[name] == "n/a"
    assert http.get(f"/api/v1/assets/{key(t1)}").json()[name] == "has it"
    missing = http.post("/api/v1/assets", json=table(uniq("t")))
    assert missing.status_code == 422 and name in missing.text
    column = {"type": "Column", "qualifiedName": f"db.s.{t1}.c", "name": "c", "dataType": "INT",
              "partOf": key(t1), **WS}
    assert http.post("/api/v1/assets", json=column).status_code == 201  # columns don't need it
    versions = http.get(f"/api/v1/attributes/{name}/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2] and "migration default" in versions[1][
        "message"]
    assert http.delete(f"/api/v1/attributes/{name}").status_code == 204  # for the other tests


def test_drop_invalid_migration_and_retirement(http: httpx.Client) -> None:
    name, t = uniq(), uniq("t")
    define(http, name=name, datatype="string")
    assert http.post("/api/v1/assets", json=table(t, **{name: "lower"})).status_code == 201
    strict = {"name": name, "label": "X", "datatype": "string", "appliesTo": ["Table"],
              "pattern": "^[A-Z]+$"}
    assert http.put(f"/api/v1/attributes/{name}", json=strict).status_code == 409
    r = http.put(f"/api/v1/attributes/{name}", json=strict,
                 params={"force": "true", "migration": "drop-invalid"})
    assert r.status_code == 200 and r.json()["migrated"]["affectedAssets"] == 1
    assert name not in http.get(f"/api/v1/assets/{key(t)}").json()
    assert http.delete(f"/api/v1/attributes/{name}").status_code == 204
    assert http.get(f"/api/v1/attributes/{name}").json()["retired"] is True
    ok = http.patch(f"/api/v1/assets/{key(t)}", json={name: "lower again"})
    assert ok.status_code == 200, ok.text  # a retired attribute's shape no longer applies


def test_values_are_filterable_and_queryable(http: httpx.Client) -> None:
    name, t1, t2 = uniq(), uniq("t"), uniq("t")
    define(http, name=name, datatype="integer")
    r = http.post("/api/v1/assets:bulk", json=[table(t1, **{name: 7}), table(t2, **{name: 8})])
    assert r.status_code == 200, r.text
    items = http.get("/api/v1/assets", params={f"attr.{name}": "7"}).json()["items"]
    assert [i["id"] for i in items] == [key(t1)]
    q = (f"SELECT ?t WHERE {{ ?t <http://127.0.0.1:8000/id/attribute/{name}> ?v "
         "FILTER(?v > 7) }")
    rows = http.get("/sparql", params={"query": q}, headers={"Accept": "application/json"})
    assert [b["t"]["value"] for b in rows.json()["results"]["bindings"]] == [
        f"http://127.0.0.1:8000/id/{key(t2)}"]
    assert http.get("/api/v1/assets", params={"attr.nosuch": "1"}).status_code == 400


@pytest.mark.parametrize(("body", "status"), [
    ({"name": "Bad Name", "label": "x", "datatype": "string", "appliesTo": ["Table"]}, 400),
    ({"name": "ok1", "label": "x", "datatype": "colour", "appliesTo": ["Table"]}, 400),
    ({"name": "ok2", "label": "x", "datatype": "string", "appliesTo": ["Spreadsheet"]}, 400),
    ({"name": "ok3", "label": "x", "datatype": "reference", "appliesTo": ["Table"]}, 400),
    ({"name": "ok4", "label": "x", "datatype": "string", "appliesTo": ["Table"], "x": 1}, 400),
    ({"name": "name", "label": "x", "datatype": "string", "appliesTo": ["Table"]}, 409),
])
def test_bad_definitions_are_refused(http: httpx.Client, body: dict[str, Any],
                                     status: int) -> None:
    r = http.post("/api/v1/attributes", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_duplicate_and_unknown(http: httpx.Client) -> None:
    name = uniq()
    assert define(http, name=name, datatype="string").status_code == 201
    assert define(http, name=name, datatype="string").status_code == 409
    assert http.get("/api/v1/attributes/nosuch").status_code == 404
    assert http.delete("/api/v1/attributes/nosuch").status_code == 404
    assert name in {a["name"] for a in http.get("/api/v1/attributes").json()["items"]}
