"""The lineage service (issue 13): walks upstream and downstream at table and column level,
impact with owners to notify, paths, bounded and paged results, hand-made edges written like
every other change, and lineage scoped to what the caller may read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from pyoxigraph import NamedNode

from access.identity import Principal
from catalog import Catalog, Settings
from graph_store.errors import Forbidden, InputError, NotFound
from graph_store.protocol import Dataset
from lineage.traversal import LineageGraph
from tests.access_scenario import EMAIL, HASH, load
from tests.conftest import ROOT, Server

ORDERS = "acme/table/postgres/shop.public.orders"
RAW_ORDERS = "acme/table/snowflake/analytics.raw.shop_orders"
STG_ORDERS = "acme/table/snowflake/analytics.staging.stg_orders"
BOB = Principal("user/bob", "api-key")  # acme reader, member of the contractors


def ids(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [n["id"] for n in page["nodes"]]


def test_downstream_and_upstream_at_table_level(demo_catalog: Catalog) -> None:
    down = demo_catalog.lineage.lineage(ORDERS, direction="downstream", depth=3)
    dist = {n["id"]: n["distance"] for n in down["nodes"]}
    assert dist[ORDERS] == 0 and dist[RAW_ORDERS] == 1 and dist[STG_ORDERS] == 2
    assert all(n["direction"] in ("self", "downstream") for n in down["nodes"])
    assert {"source": ORDERS, "target": RAW_ORDERS, "via": "derivedFrom"} in down["edges"]
    for e in down["edges"]:  # every edge joins nodes of the answer
        assert e["source"] in dist and e["target"] in dist
    up = demo_catalog.lineage.lineage(STG_ORDERS, direction="upstream", depth=2)
    assert {RAW_ORDERS, ORDERS} <= set(ids(up))
    both = demo_catalog.lineage.lineage(RAW_ORDERS, direction="both", depth=1)
    sides = {n["id"]: n["direction"] for n in both["nodes"]}
    assert sides[ORDERS] == "upstream" and sides[STG_ORDERS] == "downstream"


def test_a_pipeline_is_shown_but_not_walked_through(demo_catalog: Catalog) -> None:
    """dbt_staging_hourly reads every raw table and writes every staging one: walking through
    it would make every staging table derive from orders."""
    down = demo_catalog.lineage.lineage(RAW_ORDERS, direction="downstream", depth=1)
    job = "acme/pipeline/dbt/dbt_staging_hourly"
    assert job in ids(down)
    deeper = demo_catalog.lineage.lineage(RAW_ORDERS, direction="downstream", depth=2)
    assert "acme/table/snowflake/analytics.staging.stg_employees" not in ids(deeper)
    assert not any(e["source"] == job for e in deeper["edges"])


def test_column_level(demo_catalog: Catalog) -> None:
    column = f"{ORDERS.replace('/table/', '/column/')}.customer_id"
    down = demo_catalog.lineage.lineage(column, direction="downstream", depth=2,
                                        level="column")
    assert all(n["type"] in ("Column", "Chart", "Dashboard", "MLModel", "Feature", "Pipeline")
               for n in down["nodes"]), down["nodes"]
    assert any(n["id"].startswith(RAW_ORDERS.replace("/table/", "/column/")) for n in
               down["nodes"])
    # a table asked for at column level stands for its columns
    whole = demo_catalog.lineage.lineage(ORDERS, direction="downstream", depth=1,
                                         level="column")
    starts = {n["id"] for n in whole["nodes"] if n["distance"] == 0}
    assert column in starts and ORDERS not in starts


def test_pages_deliver_every_node_and_edge_once(demo_catalog: Catalog) -> None:
    full = demo_catalog.lineage.lineage(ORDERS, direction="both", depth=4, limit=2000)
    nodes: list[str] = []
    edges: list[tuple[str, str, str]] = []
    cursor = None
    pages = 0
    while True:
        page = demo_catalog.lineage.lineage(ORDERS, direction="both", depth=4, limit=7,
                                            cursor=cursor)
        pages += 1
        assert len(page["nodes"]) <= 7 and page["total"] == full["total"]
        nodes += ids(page)
        edges += [(e["source"], e["target"], e["via"]) for e in page["edges"]]
        cursor = page.get("next")
        if cursor is None:
            break
    assert pages > 2 and nodes == ids(full)
    assert len(edges) == len(set(edges)) == len(full["edges"])


def test_walks_are_bounded(demo_catalog: Catalog) -> None:
    def select(text: str) -> object:
        return demo_catalog.store.query(text, dataset=Dataset())

    graph = LineageGraph(demo_catalog.store, select, max_nodes=5)  # type: ignore[arg-type]
    walk = graph.walk([NamedNode(demo_catalog.layout.iri(ORDERS))], ("downstream",), 10,
                      "table")
    assert walk.partial and len(walk.nodes) == 5
    assert all(e.source in walk.nodes and e.target in walk.nodes for e in walk.edges)
    whole = demo_catalog.lineage.lineage(ORDERS, direction="downstream", depth=1)
    assert whole["partial"] is False
    for bad in ({"depth": 0}, {"depth": 51}, {"limit": 0}, {"direction": "sideways"},
                {"level": "schema"}, {"cursor": "not-ours"}):
        with pytest.raises(InputError):
            demo_catalog.lineage.lineage(ORDERS, **bad)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        demo_catalog.lineage.lineage("acme/table/postgres/no.such.table")


def test_impact_lists_what_is_downstream_nearest_first_with_owners(
        demo_catalog: Catalog) -> None:
    impact = demo_catalog.lineage.impact(ORDERS, depth=10)
    distances = [n["distance"] for n in impact["nodes"]]
    assert ORDERS not in ids(impact) and distances == sorted(distances) and distances[0] == 1
    assert {"Table", "Dashboard"} <= {n["type"] for n in impact["nodes"]}
    owned = {a for entry in impact["notify"] for a in entry["assets"]}
    assert owned == {n["id"] for n in impact["nodes"] if n["owners"]}
    near = [e["distance"] for e in impact["notify"]]
    assert near == sorted(near)


def test_paths_between_two_assets(demo_catalog: Catalog) -> None:
    found = demo_catalog.lineage.paths(ORDERS, STG_ORDERS)
    assert found["length"] == 2 and [ORDERS, RAW_ORDERS, STG_ORDERS] in found["paths"]
    assert all(len(p) == 3 and p[0] == ORDERS and p[-1] == STG_ORDERS for p in found["paths"])
    backwards = demo_catalog.lineage.paths(STG_ORDERS, ORDERS)  # data does not flow back
    assert backwards["paths"] == [] and backwards["length"] is None


@pytest.fixture(scope="module")
def scoped() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        load(c)
        yield c


def test_hidden_assets_are_neither_returned_nor_named(scoped: Catalog) -> None:
    admin = scoped.lineage.lineage(HASH, direction="upstream")
    assert EMAIL in ids(admin)
    with scoped.access.acting_as(BOB):  # contractors see no PII: the e-mail column is hidden
        seen = scoped.lineage.lineage(HASH, direction="upstream")
        assert ids(seen) == [HASH] and seen["edges"] == [] and seen["total"] == 1
        assert seen["partial"] is False
        with pytest.raises(NotFound):
            scoped.lineage.lineage(EMAIL)
        with pytest.raises(NotFound):  # the same answer as for an asset that does not exist
            scoped.lineage.paths(EMAIL, HASH)
        column = scoped.lineage.lineage("acme/table/pg/db.s.customers", level="column")
        assert EMAIL not in ids(column) and HASH in ids(column)
        with pytest.raises((Forbidden, NotFound)):  # a reader writes no edges
            scoped.lineage.add_edge("acme/table/pg/db.s.customers",
                                    "acme/table/pg/db.s.payroll", actor="user/bob")


def two_tables(a: str, b: str) -> list[dict[str, str]]:
    """A schema holding tables ``a`` and ``b`` (acme/table/pg/db.s.{a,b})."""
    base = {"workspace": "acme", "platform": "platform/pg"}
    return [{"id": "platform/pg", "type": "DataPlatform", "name": "Postgres"},
            {"id": "acme", "type": "Workspace", "name": "Acme"},
            {**base, "type": "Database", "qualifiedName": "db", "name": "db"},
            {**base, "type": "Schema", "qualifiedName": "db.s", "name": "s",
             "partOf": "acme/database/pg/db"},
            *({**base, "type": "Table", "qualifiedName": f"db.s.{t}", "name": t,
               "partOf": "acme/schema/pg/db.s"} for t in (a, b))]


def test_hand_made_edges_are_versioned_writes(catalog: Catalog) -> None:
    catalog.assets.upsert_many(two_tables("a", "b"), actor="admin")
    a, b = "acme/table/pg/db.s.a", "acme/table/pg/db.s.b"
    before = catalog.assets.get(b)["version"]
    assert catalog.lineage.add_edge(a, b, actor="alice") is not None
    assert catalog.lineage.add_edge(a, b, actor="alice") is None  # there already
    assert catalog.assets.get(b)["version"] == before + 1
    assert catalog.assets.get(b)["derivedFrom"] in (a, [a])
    assert ids(catalog.lineage.lineage(a, direction="downstream")) == [a, b]
    with pytest.raises(InputError):
        catalog.lineage.add_edge(a, a, actor="alice")
    with pytest.raises(NotFound):
        catalog.lineage.add_edge("acme/table/pg/db.s.nope", b, actor="alice")
    catalog.lineage.remove_edge(a, b, actor="alice")
    assert ids(catalog.lineage.lineage(a, direction="downstream")) == [a]
    with pytest.raises(NotFound):
        catalog.lineage.remove_edge(a, b, actor="alice")
    assert [v.version for v in catalog.assets.versions(b)][-3:] == [before, before + 1,
                                                                    before + 2]


def test_lineage_over_http(demo_server: Server, server: Server) -> None:
    with httpx.Client(base_url=demo_server.url, timeout=30) as http:
        r = http.get("/api/v1/lineage", params={"asset": ORDERS, "direction": "downstream",
                                                "limit": 5})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["nodes"][0]["id"] == ORDERS and "next" in body
        r = http.get("/api/v1/lineage/impact", params={"asset": ORDERS})
        assert r.status_code == 200 and r.json()["notify"]
        r = http.get("/api/v1/lineage", params={"asset": ORDERS, "asOf": "2999-01-01T00:00:00Z",
                                                "direction": "downstream", "limit": 5})
        assert r.status_code == 200 and r.json()["nodes"] == body["nodes"]
        r = http.get("/api/v1/lineage/runs", params={
            "job": "acme/pipeline/airflow/postgres_shop_to_snowflake", "limit": 2})
        assert r.status_code == 200 and len(r.json()["runs"]) == 2, r.text
        r = http.get("/api/v1/lineage/paths", params={"from": ORDERS, "to": STG_ORDERS})
        assert r.status_code == 200 and r.json()["length"] == 2
        for params in ({"asset": ORDERS, "depth": "0"}, {"asset": ORDERS, "cursor": "x"},
                       {"asset": ORDERS, "level": "schema"}, {"asset": ORDERS, "asOf": "now"}):
            r = http.get("/api/v1/lineage", params=params)
            assert r.status_code in (400, 422), r.text
            assert r.headers["content-type"].startswith("application/problem+json")
        r = http.get("/api/v1/lineage", params={"asset": "acme/table/x/nope"})
        assert r.status_code == 404
    with httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post("/api/v1/assets:bulk", json=two_tables("h0", "h1"))
        assert r.status_code < 300, r.text
        a, b = "acme/table/pg/db.s.h0", "acme/table/pg/db.s.h1"
        r = http.post("/api/v1/lineage/edges", json={"source": a, "target": b})
        assert r.status_code == 201, r.text
        assert http.post("/api/v1/lineage/edges", json={"source": a, "target": b}
                         ).status_code == 200
        assert http.post("/api/v1/lineage/edges", json={"source": a}).status_code == 400
        assert http.post("/api/v1/lineage/edges", content=b"{", headers={
            "Content-Type": "application/json"}).status_code == 400
        down = http.get("/api/v1/lineage", params={"asset": a, "direction": "downstream"})
        assert [n["id"] for n in down.json()["nodes"]] == [a, b]
        r = http.delete("/api/v1/lineage/edges", params={"source": a, "target": b})
        assert r.status_code == 204
        assert http.delete("/api/v1/lineage/edges", params={"source": a, "target": b}
                           ).status_code == 404


def test_the_command_prints_a_tree_and_the_impact(demo_server: Server) -> None:
    def semcat(*args: str) -> str:
        r = subprocess.run([sys.executable, "-m", "semcat", "lineage", *args, "--data",
                            str(demo_server.data)], cwd=ROOT, text=True, capture_output=True,
                           env={**os.environ, "COLUMNS": "200"}, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout

    tree = semcat(RAW_ORDERS, "--depth", "2").splitlines()
    assert tree[0] == "upstream" and "downstream" in tree
    down = tree[tree.index("downstream"):]
    stg = next(i for i, line in enumerate(down) if STG_ORDERS in line)
    assert any("analytics.marts.fct_orders" in line and line.index("acme") >
               down[stg].index("acme") for line in down[stg + 1:])  # one level deeper
    impact = json.loads(semcat(ORDERS, "--impact", "-f", "json"))
    assert impact["nodes"] and impact["notify"] and "next" not in impact
    assert semcat(ORDERS, "--upstream", "-f", "json").count('"direction": "downstream"') == 0


def test_lineage_as_it_was(catalog: Catalog) -> None:
    catalog.assets.upsert_many(two_tables("p", "q"), actor="admin")
    p, q = "acme/table/pg/db.s.p", "acme/table/pg/db.s.q"
    catalog.lineage.add_edge(p, q, actor="alice")
    catalog.lineage.remove_edge(p, q, actor="alice")
    created, linked, unlinked = (v.time for v in catalog.assets.versions(q)[-3:])
    assert ids(catalog.lineage.lineage(p, direction="downstream")) == [p]
    then = catalog.lineage.lineage(p, direction="downstream", as_of=linked)
    assert ids(then) == [p, q] and then["asOf"] == linked
    assert catalog.lineage.impact(p, as_of=linked)["nodes"][0]["id"] == q
    assert ids(catalog.lineage.lineage(p, direction="downstream", as_of=created)) == [p]
    assert ids(catalog.lineage.lineage(p, direction="downstream", as_of=unlinked)) == [p]
    with pytest.raises(NotFound):  # it did not exist yet
        catalog.lineage.lineage(p, as_of="2000-01-01T00:00:00Z")
    with pytest.raises(InputError):
        catalog.lineage.lineage(p, as_of="yesterday")


def test_run_history_of_a_job(demo_catalog: Catalog) -> None:
    job = "acme/pipeline/airflow/postgres_shop_to_snowflake"
    found = demo_catalog.lineage.runs(job)
    assert found["total"] == len(found["runs"]) > 1
    assert ORDERS in found["inputs"] and RAW_ORDERS in found["outputs"]
    starts = [r["startedAt"] for r in found["runs"]]
    assert starts == sorted(starts, reverse=True)
    assert {r["status"] for r in found["runs"]} <= {"success", "failed", "running", "queued",
                                                    "skipped"}
    done = [r for r in found["runs"] if r["endedAt"]]
    assert done and all(r["durationS"] >= 0 for r in done)
    first = demo_catalog.lineage.runs(job, limit=1)
    assert first["runs"] == found["runs"][:1] and "next" in first
    second = demo_catalog.lineage.runs(job, limit=1, cursor=first["next"])
    assert second["runs"] == found["runs"][1:2]
    with pytest.raises(InputError):
        demo_catalog.lineage.runs(ORDERS)  # a table has no runs
    with pytest.raises(NotFound):
        demo_catalog.lineage.runs("acme/pipeline/airflow/nope")
