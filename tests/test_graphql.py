"""GraphQL at /graphql (issue 17): queries and mutations through the Catalog facade on a real
server with anonymous access off, custom attributes appearing at run time, the depth and cost
limits, a viewer who never meets a hidden asset, GraphiQL with no script from elsewhere, and
the batching that keeps a page of 50 assets with owners and lineage to a few catalog calls."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from access.identity import Principal
from catalog import Catalog, Settings
from catalog.attributes import AttributeSpec
from graphql_api import GraphQL
from graphql_api.context import Context
from tests.access_scenario import CUSTOMERS, EMAIL, HASH, PAYROLL, assets, directory, policies
from tests.conftest import Server
from tests.test_api_keys import cli_key

ORDERS = "acme/table/pg/db.s.gql_orders"
DAILY = "acme/table/pg/db.s.gql_daily"
ASSET_FIELDS = """id name type types description workspace version createdAt updatedAt
                  owners { id name type } tags { id } partOf { id }"""


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("graphql"), env={"SEMCAT_OPEN": "0"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def clients(secure: Server) -> Iterator[dict[str, httpx.Client]]:
    """An admin (who loads the access scenario and two tables of our own) and Bob, an acme
    reader from whom the PII column and the payroll table are hidden."""
    tokens = {"admin": cli_key(secure.data, "--user", "user/root", "--admin"),
              "bob": cli_key(secure.data, "--user", "user/bob")}
    made = {who: httpx.Client(base_url=secure.url, timeout=60, headers={"X-API-Key": t})
            for who, t in tokens.items()}
    ours = [{"type": "Table", "workspace": "acme", "platform": "platform/pg",
             "qualifiedName": qn, "name": qn.rsplit(".", 1)[-1], "description": f"{qn} table",
             "partOf": "acme/schema/pg/db.s", "owners": ["team/finance"], **extra}
            for qn, extra in (("db.s.gql_orders", {}),
                              ("db.s.gql_daily", {"derivedFrom": [ORDERS, CUSTOMERS]}))]
    for batch in (directory(), assets(), policies(), ours):
        r = made["admin"].post("/api/v1/assets:bulk", json=batch)
        assert r.status_code == 200, r.text
    yield made
    for c in made.values():
        c.close()


def gql(client: httpx.Client, query: str, status: int = 200, **variables: Any) -> dict[str, Any]:
    r = client.post("/graphql", json={"query": query, "variables": variables})
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def data(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    body = gql(client, query, **variables)
    assert "errors" not in body, body["errors"]
    found: dict[str, Any] = body["data"]
    return found


def error(client: httpx.Client, query: str, status: int = 200, **variables: Any
          ) -> dict[str, Any]:
    body = gql(client, query, status, **variables)
    assert body.get("errors"), body
    first: dict[str, Any] = body["errors"][0]
    return first


def test_an_asset_reads_as_rest_shows_it_with_owners_and_lineage(
        clients: dict[str, httpx.Client]) -> None:
    admin = clients["admin"]
    got = data(admin, f"""query($id: ID!) {{ asset(id: $id) {{ {ASSET_FIELDS} metadata attributes
                            lineage(depth: 2) {{ depth total upstream {{ id name distance }}
                              downstream {{ id }} edges {{ source target via }} }} }} }}""",
               id=DAILY)["asset"]
    rest = admin.get(f"/api/v1/assets/{DAILY}").json()
    assert got["metadata"] == rest  # the JSON-LD document, @context and all
    assert (got["id"], got["name"], got["type"], got["version"], got["createdAt"]) == \
        (DAILY, "gql_daily", "Table", rest["version"], rest["createdAt"])
    assert got["owners"] == [{"id": "team/finance", "name": "Finance", "type": "Team"}]
    assert got["partOf"] == {"id": "acme/schema/pg/db.s"}
    assert got["attributes"]["derivedFrom"] == sorted([ORDERS, CUSTOMERS])
    lineage = got["lineage"]
    walked = admin.get("/api/v1/lineage", params={"asset": DAILY, "depth": 2,
                                                  "direction": "both"}).json()
    assert {n["id"] for n in lineage["upstream"]} == \
        {n["id"] for n in walked["nodes"] if n["direction"] == "upstream"} >= {ORDERS, CUSTOMERS}
    assert {(e["source"], e["target"]) for e in lineage["edges"]} >= {(ORDERS, DAILY)}
    assert lineage["downstream"] == [] and lineage["total"] == walked["total"]


def test_lists_search_glossary_and_classifications(clients: dict[str, httpx.Client]) -> None:
    admin = clients["admin"]
    page = data(admin, '{ assets(type: "Table", owner: "team/finance", limit: 2) '
                       '{ items { id } next } }')["assets"]
    assert len(page["items"]) == 2 and page["next"]
    rest = admin.get("/api/v1/assets", params={"type": "Table", "owner": "team/finance",
                                               "limit": 2}).json()
    assert [i["id"] for i in page["items"]] == [i["id"] for i in rest["items"]]
    found = data(admin, """{ search(q: "gql_orders", mode: "keyword", wait: true) { total mode
                             hits { id asset { name owners { id } } }
                             facets { name values { value count } } } }""")["search"]
    assert found["hits"][0]["id"] == ORDERS and found["mode"] == "keyword"
    assert found["hits"][0]["asset"] == {"name": "gql_orders", "owners": [{"id": "team/finance"}]}
    assert any(f["name"] == "type" and {"value": "Table", "count": found["total"]} in f["values"]
               for f in found["facets"])
    nl = data(admin, '{ search(q: "tables owned by finance", nl: true, mode: "keyword") '
                     '{ nl hits { id } } }')["search"]
    assert nl["nl"] and {h["id"] for h in nl["hits"]} >= {ORDERS, DAILY}
    terms = data(admin, "{ classifications { items { id name } } }")["classifications"]["items"]
    assert {"id": "classification/pii/email", "name": "PII.Email"} in terms
    assert data(admin, "{ glossaryTerms { items { id } } }")["glossaryTerms"]["items"] == []
    email = data(admin, f"""{{ asset(id: "{EMAIL}") {{ classifications {{ id inferred
                              classification {{ name }} }} }} }}""")["asset"]
    assert email["classifications"] == [{"id": "classification/pii/email", "inferred": False,
                                        "classification": {"name": "PII.Email"}}]
    customers = data(admin, f"""{{ asset(id: "{CUSTOMERS}") {{ classifications(inferred: true)
                                  {{ id inferred explanation }} }} }}""")["asset"]
    rolled = [c for c in customers["classifications"] if c["inferred"]]
    assert rolled and all(c["explanation"] and c["explanation"][0]["premises"] for c in rolled)


def test_mutations_write_through_the_catalog_with_versions_and_history(
        clients: dict[str, httpx.Client]) -> None:
    admin = clients["admin"]
    key = "acme/table/pg/db.s.gql_made"
    made = data(admin, """mutation($d: JSON!) { upsertAsset(document: $d) { id version status
                                                asset { name owners { id } } } }""",
                d={"type": "Table", "workspace": "acme", "platform": "platform/pg",
                   "qualifiedName": "db.s.gql_made", "name": "gql_made",
                   "partOf": "acme/schema/pg/db.s", "owners": ["team/finance"]})["upsertAsset"]
    assert made == {"id": key, "version": 1, "status": "created",
                    "asset": {"name": "gql_made", "owners": [{"id": "team/finance"}]}}
    changed = data(admin, """mutation($id: ID!) { updateAsset(id: $id, patch: {description:
                              "made by GraphQL"}, ifMatch: 1) { version status } }""", id=key)
    assert changed["updateAsset"] == {"version": 2, "status": "updated"}
    stale = error(admin, 'mutation($id: ID!) { updateAsset(id: $id, patch: {name: "x"}, '
                         "ifMatch: 1) { version } }", id=key)
    assert stale["extensions"]["code"] == "precondition-failed"
    assert stale["extensions"]["status"] == 412
    edge = data(admin, f'mutation {{ addLineageEdge(source: "{ORDERS}", target: "{key}") '
                       "{ changed } }")
    assert edge["addLineageEdge"]["changed"] is True
    got = data(admin, f"""{{ asset(id: "{key}") {{ version description
                            lineage {{ upstream {{ id }} }} history {{ version actor }} }} }}""")
    assert got["asset"]["version"] == 3 and got["asset"]["description"] == "made by GraphQL"
    assert got["asset"]["lineage"]["upstream"] == [{"id": ORDERS}]
    assert [h["version"] for h in got["asset"]["history"]] == [1, 2, 3]
    assert {h["actor"] for h in got["asset"]["history"]} == {"user/root"}  # the caller, audited
    data(admin, f'mutation {{ removeLineageEdge(source: "{ORDERS}", target: "{key}") '
                "{ changed } }")
    assert admin.get(f"/api/v1/assets/{key}").json().get("derivedFrom") is None
    refused = error(admin, 'mutation { upsertAsset(document: {type: "Table", workspace: "acme", '
                           'name: "no key"}) { id } }')
    assert refused["extensions"]["status"] in (400, 422)
    gone = data(admin, f'mutation {{ deleteAsset(id: "{key}") {{ version status asset {{ id }} }} }}')
    assert gone["deleteAsset"] == {"version": 5, "status": "deleted", "asset": None}
    missing = error(admin, f'{{ asset(id: "{key}") {{ id }} }}')
    assert missing["extensions"] == {"code": "not-found", "status": 404}
    old = data(admin, f'{{ asset(id: "{key}", version: 2) {{ description }} }}')
    assert old["asset"]["description"] == "made by GraphQL"
    assert len(admin.get(f"/api/v1/assets/{key}/versions").json()["versions"]) == 5


def _fields(client: httpx.Client, type_name: str) -> dict[str, Any]:
    found = data(client, """query($t: String!) { __type(name: $t) { fields { name
                 type { name kind ofType { name } } } inputFields { name type { name kind
                 ofType { name } } } } }""", t=type_name)["__type"]
    if found is None:
        return {}
    return {f["name"]: f["type"] for f in (found["fields"] or found["inputFields"] or [])}


def test_a_custom_attribute_defined_at_run_time_is_a_typed_field(
        clients: dict[str, httpx.Client]) -> None:
    admin = clients["admin"]
    assert "gqlCostCenter" not in _fields(admin, "Asset")
    for spec in ({"name": "gqlCostCenter", "label": "Cost center", "datatype": "string",
                  "appliesTo": ["Table"], "pattern": "^CC-[0-9]+$"},
                 {"name": "gqlRetentionDays", "label": "Retention", "datatype": "integer",
                  "appliesTo": ["Table"]}):
        assert admin.post("/api/v1/attributes", json=spec).status_code == 201
    fields = _fields(admin, "Asset")  # same server, no restart, no code change
    assert fields["gqlCostCenter"]["name"] == "String"
    assert fields["gqlRetentionDays"]["name"] == "Int"
    assert _fields(admin, "CustomAttributesInput")["gqlRetentionDays"]["name"] == "Int"
    wrong_type = error(admin, 'mutation($id: ID!) { updateAsset(id: $id, attributes: '
                              '{gqlRetentionDays: "long"}) { version } }', status=400, id=ORDERS)
    assert wrong_type["extensions"]["code"] == "bad-query"  # GraphQL types it before we run
    written = data(admin, """mutation($id: ID!, $a: CustomAttributesInput) {
                             updateAsset(id: $id, attributes: $a) { status asset {
                             gqlCostCenter gqlRetentionDays } } }""",
                   id=ORDERS, a={"gqlCostCenter": "CC-12", "gqlRetentionDays": 30})
    assert written["updateAsset"] == {"status": "updated", "asset": {
        "gqlCostCenter": "CC-12", "gqlRetentionDays": 30}}
    assert admin.get(f"/api/v1/assets/{ORDERS}").json()["gqlCostCenter"] == "CC-12"
    shacl = error(admin, 'mutation($id: ID!) { updateAsset(id: $id, attributes: '
                         '{gqlCostCenter: "12"}) { version } }', id=ORDERS)
    assert shacl["extensions"]["code"] == "validation-failed"
    assert shacl["extensions"]["status"] == 422 and shacl["extensions"]["errors"]
    filtered = data(admin, '{ assets(attributes: {gqlCostCenter: "CC-12"}) { items { id } } }')
    assert filtered["assets"]["items"] == [{"id": ORDERS}]


def test_a_reference_attribute_resolves_to_the_asset_it_names(
        clients: dict[str, httpx.Client]) -> None:
    admin = clients["admin"]
    spec = {"name": "gqlSteward", "label": "Steward", "datatype": "reference",
            "referenceClass": "Team", "appliesTo": ["Table"]}
    assert admin.post("/api/v1/attributes", json=spec).status_code == 201
    fields = _fields(admin, "Asset")
    assert fields["gqlSteward"]["name"] == "String"  # the id, as before
    assert fields["gqlStewardAsset"]["name"] == "Asset"
    written = data(admin, """mutation($id: ID!, $a: CustomAttributesInput) {
                             updateAsset(id: $id, attributes: $a) { asset {
                             gqlSteward gqlStewardAsset { id name type } } } }""",
                   id=ORDERS, a={"gqlSteward": "team/finance"})
    assert written["updateAsset"]["asset"] == {"gqlSteward": "team/finance", "gqlStewardAsset": {
        "id": "team/finance", "name": "Finance", "type": "Team"}}


def test_depth_cost_and_page_limits_refuse_before_running(
        clients: dict[str, httpx.Client]) -> None:
    admin = clients["admin"]
    deep = f'{{ asset(id: "{DAILY}") {{ {"partOf { " * 12} id {"}" * 12} }} }}'
    too_deep = error(admin, deep, status=400)
    assert too_deep["extensions"] == {"code": "query-too-deep", "status": 400}
    assert "SEMCAT_GRAPHQL_MAX_DEPTH" in too_deep["message"]
    costly = """query($n: Int) { assets(limit: $n) { items { id lineage(limit: 500) {
                upstream { id owners: asset { owners { id } } } } } } }"""
    too_costly = error(admin, costly, status=400, n=500)
    assert too_costly["extensions"]["code"] == "query-too-costly"
    assert "data" not in gql(admin, costly, status=400, n=500)  # nothing ran
    assert "errors" not in gql(admin, costly.replace("limit: 500", "limit: 5"), n=20)
    assert "errors" not in gql(admin, get_introspection_query())  # GraphiQL's, 15 deep
    aliases = "{" + " ".join(f"a{i}: assets {{ next }}" for i in range(60)) + "}"
    assert error(admin, aliases, status=400)["message"]
    page = error(admin, "{ assets(limit: 501) { next } }")
    assert page["extensions"] == {"code": "bad-input", "status": 400}
    assert "SEMCAT_MAX_PAGE_SIZE" in page["message"]
    r = admin.get("/graphql", params={"query": f'mutation {{ deleteAsset(id: "{ORDERS}") '
                                                "{ id } }"})
    assert r.status_code == 405 and admin.get(f"/api/v1/assets/{ORDERS}").status_code == 200


def test_a_viewer_never_meets_a_hidden_asset(clients: dict[str, httpx.Client]) -> None:
    bob = clients["bob"]
    seen = gql(bob, f"""{{ assets(limit: 100) {{ items {{ id
                           lineage(depth: 5, limit: 20) {{ upstream {{ id }} downstream {{ id }}
                           edges {{ source target }} }} }} }}
                         search(q: "email payroll", mode: "keyword") {{ total hits {{ id }}
                           facets {{ values {{ value }} }} }}
                         hash: asset(id: "{HASH}") {{ id attributes lineage(depth: 5) {{
                           total upstream {{ id }} }} }} }}""")
    assert "errors" not in seen, seen
    text = str(seen)
    for key in (EMAIL, PAYROLL):
        assert f"'{key}'" not in text and "payroll" not in text
    assert seen["data"]["hash"]["lineage"]["upstream"] == []  # derived from the PII column
    assert CUSTOMERS in {i["id"] for i in seen["data"]["assets"]["items"]}
    hidden = error(bob, f'{{ asset(id: "{EMAIL}") {{ id }} }}')
    absent = error(bob, f'{{ asset(id: "{EMAIL}x") {{ id }} }}')
    assert hidden["extensions"] == absent["extensions"] == {"code": "not-found", "status": 404}
    assert hidden["message"].replace(EMAIL, "?") == absent["message"].replace(f"{EMAIL}x", "?")
    for query in (f'{{ asset(id: "{EMAIL}", version: 1) {{ id }} }}',
                  f'{{ asset(id: "{CUSTOMERS}") {{ classifications(inferred: true) '
                  "{ id explanation } } }",
                  f'mutation {{ addLineageEdge(source: "{EMAIL}", target: "{CUSTOMERS}") '
                  "{ changed } }"):
        body = gql(bob, query)
        assert "errors" in body and "email'" not in str(body.get("data")), body
        assert all(e["extensions"]["status"] in (403, 404) for e in body["errors"]), body


def test_graphiql_is_served_with_no_script_from_elsewhere(secure: Server,
                                                           clients: dict[str, httpx.Client]
                                                           ) -> None:
    page = clients["admin"].get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text)
    assert len(sources) == 4 and not any("//" in s for s in sources), sources
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    with httpx.Client(base_url=secure.url, timeout=30) as browser:  # no credentials
        for src in sources:
            r = browser.get(src)
            assert r.status_code == 200 and len(r.content) > 1000, src
        assert browser.get("/graphql", headers={"Accept": "text/html"}).status_code == 401
    js = clients["admin"].get(sources[-1]).text
    assert "https://unpkg.com" not in js


# -- batching: in-process, where the catalog's calls can be counted -------------------------


class Counted:
    """Counts calls of a catalog service's methods made from outside the services (GraphQL's),
    passing each through unchanged: a service's own calls to another (the asset list asking
    the search index) are its business."""

    inside = threading.local()

    def __init__(self, service: Any, counts: dict[str, int], name: str) -> None:
        self._service, self._counts, self._name = service, counts, name

    def __getattr__(self, attr: str) -> Any:
        found = getattr(self._service, attr)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            if getattr(Counted.inside, "depth", 0) == 0:
                key = f"{self._name}.{attr}"
                self._counts[key] = self._counts.get(key, 0) + 1
            Counted.inside.depth = getattr(Counted.inside, "depth", 0) + 1
            try:
                return found(*args, **kwargs)
            finally:
                Counted.inside.depth -= 1
        return call


@pytest.fixture(scope="module")
def wide() -> Iterator[Catalog]:
    """60 tables in a chain of lineage, owned by three teams."""
    with Catalog.open(Settings(data=None)) as cat:
        where = {"workspace": "acme", "platform": "platform/pg"}
        items: list[dict[str, Any]] = [
            {"id": "platform/pg", "type": "DataPlatform", "name": "Postgres"},
            *({"id": f"team/t{i}", "type": "Team", "name": f"Team {i}"} for i in range(3)),
            {"type": "Database", **where, "qualifiedName": "db", "name": "db"},
            {"type": "Schema", **where, "qualifiedName": "db.s", "name": "s",
             "partOf": "acme/database/pg/db"}]
        items += [{"type": "Table", **where, "qualifiedName": f"db.s.t{i:02}", "name": f"t{i:02}",
                   "partOf": "acme/schema/pg/db.s", "owners": [f"team/t{i % 3}"],
                   **({"derivedFrom": [f"acme/table/pg/db.s.t{i - 1:02}"]} if i else {})}
                  for i in range(60)]
        cat.assets.upsert_many(items, actor="test")
        cat.settle()
        yield cat


def _page_calls(cat: Catalog, limit: int) -> tuple[dict[str, int], dict[str, Any]]:
    counts: dict[str, int] = {}
    originals = {name: getattr(cat, name) for name in ("assets", "lineage", "sparql", "search")}
    for name, service in originals.items():
        setattr(cat, name, Counted(service, counts, name))
    try:
        query = """query($n: Int!) { assets(type: "Table", limit: $n) { items { id name
                   owners { id name } lineage(depth: 2) { upstream { id name } downstream { id }
                   } } } }"""
        result = asyncio.run(GraphQL(cat).execute(
            query, context=Context(cat, Principal("test", "local", admin=True)),
            variables={"n": limit}))
    finally:
        for name, service in originals.items():
            setattr(cat, name, service)
    assert result.status == 200 and "errors" not in result.body, result.body
    return counts, result.body["data"]


def test_a_page_of_50_assets_with_owners_and_lineage_is_a_few_catalog_calls(
        wide: Catalog) -> None:
    small, _ = _page_calls(wide, 5)
    counts, found = _page_calls(wide, 50)
    items = found["assets"]["items"]
    assert len(items) == 50 and all(i["owners"] for i in items)
    t10 = next(i for i in items if i["id"] == "acme/table/pg/db.s.t10")
    assert [u["id"] for u in t10["lineage"]["upstream"]] == \
        ["acme/table/pg/db.s.t09", "acme/table/pg/db.s.t08"]
    assert t10["owners"] == [{"id": "team/t1", "name": "Team 1"}]
    assert counts == small  # ten times the assets, the same calls
    assert sum(counts.values()) <= 3, counts  # the page, the owners, the lineage


def test_the_schema_follows_the_vocabulary_and_is_rebuilt_only_when_it_changes(
        catalog: Catalog) -> None:
    runner = GraphQL(catalog)
    first = runner.schema()
    assert runner.schema() is first
    catalog.attributes.define(AttributeSpec(name="domainOwner", label="Domain owner",
                                            datatype="boolean", appliesTo=["Table"]),
                              actor="test", create=True)
    second = runner.schema()
    assert second is not first and "domainOwner: Boolean" in str(second)
    assert "domainOwner" not in str(first)



def test_the_documented_queries_answer_on_the_demo(demo_catalog: Catalog) -> None:
    """docs/graphql.md's queries (its mutations write, and run against a copy in review)."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "graphql.md").read_text()
    queries = [q for q in re.findall(r"^```graphql\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
               if not q.lstrip().startswith("mutation")]
    assert len(queries) >= 4
    runner = GraphQL(demo_catalog)
    for query in queries:
        result = asyncio.run(runner.execute(query, context=Context(demo_catalog)))
        assert result.status == 200 and "errors" not in result.body, (query, result.body)
        assert all(result.body["data"].values()), (query, result.body)
