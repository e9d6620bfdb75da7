"""REST /api/v1/assets against a real server: CRUD, versions, diffs, bulk, paging, bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.conftest import Server

LD = "application/ld+json"


SCHEMA = "acme/schema/snowflake/db.sales"
SCAFFOLD = [
    {"type": "Database", "workspace": "acme", "platform": "platform/snowflake",
     "qualifiedName": "db", "name": "db", "description": "The warehouse"},
    {"type": "Schema", "workspace": "acme", "platform": "platform/snowflake",
     "qualifiedName": "db.sales", "name": "sales", "partOf": "acme/database/snowflake/db",
     "description": "Sales data"},
]


def table(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Table", "workspace": "acme", "platform": "platform/snowflake",
            "qualifiedName": f"db.sales.{name}", "name": name, "partOf": SCHEMA,
            "description": f"The {name} table", **extra}


@pytest.fixture(autouse=True)
def scaffold(http: httpx.Client) -> None:
    """Tables belong to a schema (core shapes): make the database and schema they live in."""
    assert http.post("/api/v1/assets:bulk", json=SCAFFOLD).status_code == 200


def key(name: str) -> str:
    return f"acme/table/snowflake/db.sales.{name}"


def uniq() -> str:
    return "t" + uuid.uuid4().hex[:10]


def count_triples(http: httpx.Client, subject_key: str) -> int:
    q = f"SELECT (COUNT(*) AS ?n) WHERE {{ <http://127.0.0.1:8000/id/{subject_key}> ?p ?o }}"
    r = http.get("/sparql", params={"query": q}, headers={"Accept": "application/json"})
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("https://w3id.org/semcat/problems/")
    return body


def test_create_get_and_idempotent_upsert(http: httpx.Client) -> None:
    name = uniq()
    r = http.post("/api/v1/assets", json=table(name, tags=["tag/gold"]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["id"], body["version"], body["status"]) == (key(name), 1, "created")
    # the workspace, platform and tag are not assets yet: SHACL warnings, not refusals
    warned = {(w["path"].rsplit("#", 1)[-1], w["severity"]) for w in body["warnings"]}
    assert {("workspace", "Warning"), ("platform", "Warning"), ("tag", "Warning")} <= warned
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"].endswith(f"/api/v1/assets/{key(name)}")
    doc = http.get(f"/api/v1/assets/{key(name)}").json()
    assert doc["name"] == name and doc["type"] == "Table" and doc["tags"] == ["tag/gold"]
    assert doc["version"] == 1 and doc["createdBy"] == "user/anonymous"
    again = http.post("/api/v1/assets", json=table(name, tags=["tag/gold"]))
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert again.json()["warnings"] == []  # nothing written, nothing validated
    assert again.json()["version"] == 1
    assert len(http.get(f"/api/v1/assets/{key(name)}/versions").json()["versions"]) == 1


def test_response_is_linked_data_that_expands_to_the_stored_triples(http: httpx.Client) -> None:
    name = uniq()
    http.post("/api/v1/assets", json=table(name, owners=["team/finance", "user/ann"],
                                           **{"http://example.org/rank": 3}))
    doc = http.get(f"/api/v1/assets/{key(name)}").json()
    context = http.get("/api/v1/context.jsonld").json()
    doc["@context"] = [context["@context"], doc["@context"][1]]
    from_rest = Graph().parse(data=json.dumps(doc), format="json-ld")
    iri = f"<http://127.0.0.1:8000/id/{key(name)}>"
    construct = f"CONSTRUCT {{ {iri} ?p ?o }} WHERE {{ {iri} ?p ?o }}"
    r = http.get("/sparql", params={"query": construct, "infer": "false"},  # stored: asserted
                 headers={"Accept": "text/turtle"})
    from_sparql = Graph().parse(data=r.text, format="turtle")
    assert len(from_sparql) >= 10
    assert isomorphic(from_rest, from_sparql)


def test_put_patch_versions_diff_and_old_versions(http: httpx.Client) -> None:
    name = uniq()
    http.post("/api/v1/assets", json=table(name, tags=["tag/a"]))
    r = http.put(f"/api/v1/assets/{key(name)}", json=table(name, tags=["tag/b"]),
                 headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = http.patch(f"/api/v1/assets/{key(name)}", content=json.dumps(
        {"description": "Patched", "tags": None}),
        headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["version"] == 3
    doc = http.get(f"/api/v1/assets/{key(name)}").json()
    assert doc["description"] == "Patched" and "tags" not in doc
    v1 = http.get(f"/api/v1/assets/{key(name)}", params={"version": 1}).json()
    assert v1["tags"] == ["tag/a"] and v1["version"] == 1
    versions = http.get(f"/api/v1/assets/{key(name)}/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["message"] for v in versions] == ["upsert", "upsert", "upsert"]
    diff = http.get(f"/api/v1/assets/{key(name)}/diff", params={"from": 1, "to": 3}).json()
    assert diff["removed"] == {"description": f"The {name} table", "tags": ["tag/a"]}
    assert diff["added"] == {"description": "Patched"}
    assert http.get(f"/api/v1/assets/{key(name)}/diff").json()["from"] == 2


def test_stale_if_match_is_refused_and_changes_nothing(http: httpx.Client) -> None:
    name = uniq()
    http.post("/api/v1/assets", json=table(name))
    http.put(f"/api/v1/assets/{key(name)}", json=table(name, description="second"))
    r = http.put(f"/api/v1/assets/{key(name)}", json=table(name, description="stale"),
                 headers={"If-Match": '"1"'})
    assert "version 2" in problem(r, 412)["detail"]
    r = http.delete(f"/api/v1/assets/{key(name)}", headers={"If-Match": '"1"'})
    problem(r, 412)
    assert http.get(f"/api/v1/assets/{key(name)}").json()["description"] == "second"


def test_delete_keeps_history(http: httpx.Client) -> None:
    name = uniq()
    http.post("/api/v1/assets", json=table(name))
    assert http.delete(f"/api/v1/assets/{key(name)}?wait=true").status_code == 204
    assert "deleted in version 2" in problem(http.get(f"/api/v1/assets/{key(name)}"), 404)["detail"]
    assert count_triples(http, key(name)) == 0
    assert http.get(f"/api/v1/assets/{key(name)}", params={"version": 1}).json()["name"] == name
    problem(http.delete(f"/api/v1/assets/{key(name)}"), 404)


def test_bulk_is_all_or_nothing_with_per_item_errors(http: httpx.Client) -> None:
    good, bad = uniq(), uniq()
    items = [table(good), {"type": "Table", "name": bad}, table(uniq(), position="three")]
    body = problem(http.post("/api/v1/assets:bulk", json=items), 422)
    assert {e["item"] for e in body["errors"]} == {1, 2}
    assert any("natural key" in e["message"] for e in body["errors"])
    assert any("'position' must be an integer" in e["message"] for e in body["errors"])
    assert count_triples(http, key(good)) == 0


def test_bulk_json_and_ndjson(http: httpx.Client) -> None:
    names = [uniq() for _ in range(30)]
    r = http.post("/api/v1/assets:bulk", json=[table(n) for n in names[:20]])
    assert r.status_code == 200 and r.json()["created"] == 20
    ndjson = "\n".join(json.dumps(table(n)) for n in names[15:]) + "\n"
    r = http.post("/api/v1/assets:bulk", content=ndjson,
                  headers={"Content-Type": "application/x-ndjson"})
    assert r.json()["created"] == 10 and r.json()["unchanged"] == 5
    statuses = {i["id"]: i["status"] for i in r.json()["items"]}
    assert statuses[key(names[15])] == "unchanged" and statuses[key(names[29])] == "created"


def test_list_filters_sort_and_cursor_pagination(http: httpx.Client) -> None:
    tag = "tag/" + uniq()
    names = sorted(uniq() for _ in range(7))
    http.post("/api/v1/assets:bulk", json=[table(n, tags=[tag]) for n in names])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"tag": tag, "limit": 3, **({"cursor": cursor} if cursor else {})}
        r = http.get("/api/v1/assets", params=params)
        body = r.json()
        seen += [i["name"] for i in body["items"]]
        pages += 1
        cursor = body["next"]
        if not cursor:
            break
        assert 'rel="next"' in r.headers["link"]
    assert seen == names and pages == 3
    desc = http.get("/api/v1/assets", params={"tag": tag, "sort": "-name"}).json()["items"]
    assert [i["name"] for i in desc] == names[::-1]
    prefix = http.get("/api/v1/assets", params={"tag": tag, "q": names[0][:11].upper()}).json()
    assert [i["name"] for i in prefix["items"]] == [names[0]]
    assert http.get("/api/v1/assets", params={"tag": tag, "type": "Column"}).json()["items"] == []
    problem(http.get("/api/v1/assets", params={"sort": "colour"}), 400)
    problem(http.get("/api/v1/assets", params={"cursor": "garbage!"}), 400)
    problem(http.get("/api/v1/assets", params={"limit": 0}), 400)


def test_type_filter_follows_the_class_hierarchy(http: httpx.Client) -> None:
    tag = "tag/" + uniq()
    view = {**table(uniq(), tags=[tag]), "type": "View"}
    view["id"] = view["qualifiedName"]  # wrong on purpose: ids must match natural keys
    problem(http.post("/api/v1/assets", json=view), 422)
    del view["id"]
    assert http.post("/api/v1/assets", json=view).status_code == 201
    items = http.get("/api/v1/assets", params={"tag": tag, "type": "Table"}).json()["items"]
    assert [i["type"] for i in items] == ["View"]


@pytest.mark.parametrize(("body", "content_type", "status", "needle"), [
    (b'{"type": "Table",', "application/json", 400, "malformed JSON"),
    (b"", "application/json", 400, "empty"),
    (b"[1, 2]", "application/json", 422, "JSON object"),
    (json.dumps({**table("x"), "nmae": "typo"}).encode(), "application/json", 422, "nmae"),
    (json.dumps({**table("x"), "type": "Spreadsheet"}).encode(), "application/json", 422, "type"),
    (json.dumps({**table("x"), "name": ""}).encode(), "application/json", 422, "name"),
    (json.dumps({**table("x"), "tags": "tag/a"}).encode(), "application/json", 200, ""),
    (json.dumps({**table("x"), "tags": ["a//b"]}).encode(), "application/json", 422, "tags"),
    (json.dumps({**table("x"), "name": ["a", "b"]}).encode(), "application/json", 422, "one value"),
    (json.dumps({**table("x"), "http://ex.org/p": {"nested": 1}}).encode(), "application/json",
     422, "nested"),
    (json.dumps({**table("x"), "@context": "http://evil.example/ctx"}).encode(),
     "application/json", 422, "@context"),
    (json.dumps({**table("x"), "startedAt": "yesterday"}).encode(), "application/json", 422,
     "ISO 8601"),
])
def test_bad_input_is_refused_precisely_and_writes_nothing(
    http: httpx.Client, body: bytes, content_type: str, status: int, needle: str
) -> None:
    before = http.get("/healthz").json()["appliedSeq"]
    r = http.post("/api/v1/assets", content=body, headers={"Content-Type": content_type})
    if status == 200:
        assert r.status_code in (200, 201)
        return
    assert needle in json.dumps(problem(r, status))
    assert http.get("/healthz").json()["appliedSeq"] == before


def test_unknown_ids_and_versions(http: httpx.Client) -> None:
    problem(http.get("/api/v1/assets/acme/table/x/nope"), 404)
    problem(http.get("/api/v1/assets/acme/table/x/nope/versions"), 404)
    name = uniq()
    http.post("/api/v1/assets", json=table(name))
    assert "no version 9" in problem(
        http.get(f"/api/v1/assets/{key(name)}", params={"version": 9}), 404)["detail"]
    problem(http.get("/api/v1/assets/bad//key"), 400)  # an empty segment: no id at all
    problem(http.get("/api/v1/assets/bad key with spaces"), 404)  # a name: encoded, unknown
    r = http.put(f"/api/v1/assets/{key(name)}", json={**table(name), "id": key("other")})
    assert "differs" in problem(r, 400)["detail"]


def test_oversized_body_is_413(tmp_path_factory: pytest.TempPathFactory) -> None:
    import os

    os.environ["SEMCAT_MAX_BODY_BYTES"] = "2000"
    try:
        srv = Server(tmp_path_factory.mktemp("small")).start()
    finally:
        del os.environ["SEMCAT_MAX_BODY_BYTES"]
    try:
        big = [table(f"t{i}") for i in range(100)]
        r = httpx.post(srv.url + "/api/v1/assets:bulk", json=big)
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        assert httpx.get(srv.url + "/api/v1/assets").json()["items"] == []
    finally:
        srv.stop()


def test_openapi_docs_are_served(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert "/api/v1/assets" in spec["paths"] and "/api/v1/assets:bulk" in spec["paths"]
    assert http.get("/docs").status_code == 200


def test_a_page_of_the_list_is_one_json_ld_document(http: httpx.Client) -> None:
    tag = "tag/" + uniq()
    names = [uniq() for _ in range(3)]
    http.post("/api/v1/assets:bulk", json=[table(n, tags=[tag]) for n in names])
    page = http.get("/api/v1/assets", params={"tag": tag}).json()
    context = http.get("/api/v1/context.jsonld").json()["@context"]
    page["@context"] = [context, page["@context"][1]]
    g = Graph().parse(data=json.dumps(page), format="json-ld")
    subjects = {str(s) for s in g.subjects()}
    assert subjects == {f"http://127.0.0.1:8000/id/{key(n)}" for n in names}


def test_reserved_workspace_names_are_refused(http: httpx.Client) -> None:
    r = http.post("/api/v1/assets", json={**table(uniq()), "workspace": "inferred"})
    assert "reserved" in problem(r, 422)["errors"][0]["message"]


def test_a_list_by_type_holds_the_subclasses_and_pages_as_the_store_answers(demo_catalog: Any
                                                                            ) -> None:
    """Lists by type come from the text index (milliseconds, not a store-wide sort), asked for
    the type and every subclass the ontology gives it: the same assets as the store's
    ``?s a/rdfs:subClassOf* type``, page after page."""
    cat = demo_catalog
    # 37 per page, and pages larger than a search's (the index is read in several pages)
    for kind, size in (("Table", 37), ("View", 37), ("DataAsset", 37), ("Schema", 37),
                       ("Column", 450)):
        listed, cursor = [], None
        while True:
            page = cat.assets.page(type=kind, limit=size, cursor=cursor)
            assert len(page.items) == size or page.next_cursor is None, kind
            listed += [item["id"] for item in page.items]
            if not (cursor := page.next_cursor):
                break
        rows = cat.sparql.query(
            "SELECT DISTINCT ?s WHERE { ?s a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* "
            f"<https://w3id.org/semcat#{kind}> FILTER(STRSTARTS(STR(?s), "
            f"\"{cat.settings.base}/id/\")) }}", infer=False).rows()
        stored = {cat.layout.key(r["s"].value) for r in rows}
        assert len(listed) == len(set(listed)) and set(listed) == stored, kind
        assert stored, kind
