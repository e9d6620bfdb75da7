"""Search against the real indexes and model: tantivy full text, facets and filters, FAISS with
all-MiniLM-L6-v2, hybrid fusion, freshness from the change log, restarts, REST and the CLI.

A hashing embedder stands in only where counts are all that matter (vector-index plumbing).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from bench.search_relevance import evaluate
from catalog import Catalog, Settings
from demo import demo_assets
from embeddings.encoder import HashingEmbedder
from embeddings.vector_index import VectorIndex
from graph_store.errors import InputError, NotFound
from search.model import SearchRequest, SearchResult
from sparql_api import create_app
from tests.conftest import ROOT, Server

ORDERS = "acme/table/postgres/shop.public.orders"
CUSTOMERS = "acme/table/postgres/shop.public.customers"
ORDER_ITEMS = "acme/table/postgres/shop.public.order_items"
REFUNDS = "acme/table/postgres/shop.public.refunds"
CHURN = {"glossary/business/churn", "acme/model/mlflow/churn_prediction",
         "acme/table/snowflake/analytics.marts.customer_churn_scores",
         "acme/table/snowflake/analytics.marts.customer_churn_features",
         "acme/chart/tableau/executive_kpis.churn_rate",
         "acme/chart/looker/customer_retention.churn_risk_bands",
         "acme/pipeline/airflow/churn_scoring_daily"}

SCAFFOLD = [
    {"id": "acme", "type": "Workspace", "name": "Acme", "description": "Test workspace"},
    {"id": "platform/snowflake", "type": "DataPlatform", "name": "Snowflake",
     "description": "Warehouse"},
    {"id": "team/data", "type": "Team", "name": "Data team"},
    {"id": "tag/gold", "type": "Tag", "name": "Gold", "description": "Best data"},
    {"id": "acme/database/snowflake/wh", "type": "Database", "name": "wh", "qualifiedName": "wh",
     "description": "The warehouse", "workspace": "acme", "platform": "platform/snowflake"},
    {"id": "acme/schema/snowflake/wh.zoo", "type": "Schema", "name": "zoo",
     "qualifiedName": "wh.zoo", "description": "Zoo data", "workspace": "acme",
     "platform": "platform/snowflake", "partOf": "acme/database/snowflake/wh"},
]


def table(name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"acme/table/snowflake/wh.zoo.{name}", "type": "Table", "name": name,
            "qualifiedName": f"wh.zoo.{name}", "description": description, "workspace": "acme",
            "platform": "platform/snowflake", "partOf": "acme/schema/snowflake/wh.zoo",
            "owners": ["team/data"], **extra}


def column(tbl: str, name: str, description: str) -> dict[str, Any]:
    return {"id": f"acme/column/snowflake/wh.zoo.{tbl}.{name}", "type": "Column", "name": name,
            "qualifiedName": f"wh.zoo.{tbl}.{name}", "description": description,
            "workspace": "acme", "platform": "platform/snowflake",
            "partOf": f"acme/table/snowflake/wh.zoo.{tbl}", "dataType": "VARCHAR"}


def ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


def keyword(cat: Catalog, q: str, **options: Any) -> SearchResult:
    return cat.search.run(SearchRequest(q=q, mode="keyword", **options))


@pytest.fixture(scope="module")
def demo(demo_catalog: Catalog) -> Catalog:
    return demo_catalog


@pytest.fixture(scope="module")
def semantic_demo(demo_catalog: Catalog) -> Catalog:
    """The demo with its vectors built by the background worker (one torch thread): ~30 s."""
    assert demo_catalog.search.wait(timeout=300), "the vector index did not catch up"
    assert len(demo_catalog.search.vectors) == len(demo_catalog.search.text) == 1910
    return demo_catalog


# -- full text -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
@pytest.mark.parametrize("q", ["orders", "Customer", "fct_orders", "gmv", "shop.public.order_items",
                               "analytics.marts.fct_orders"])
def test_exact_name_or_qualified_name_ranks_first(demo: Catalog, q: str, mode: str) -> None:
    hits = demo.search.run(SearchRequest(q=q, mode=mode, limit=20)).hits
    exact = [h.why.get("exact", False) for h in hits]
    assert exact[0], f"{q}: first hit {hits[0].id} is not an exact match"
    assert exact == sorted(exact, reverse=True), "an exact match ranked below an inexact one"
    assert q.lower() in (hits[0].name.lower(), hits[0].qualified_name.lower())


def test_snake_and_camel_case_are_split(demo: Catalog) -> None:
    for q in ("order items", "OrderItems", "orderItems", "ORDER_ITEMS"):
        assert ORDER_ITEMS in ids(keyword(demo, q, limit=3)), q
    hits = keyword(demo, "customerId", limit=5).hits
    assert all(h.name == "customer_id" for h in hits)


def test_typos_find_customer_tables(demo: Catalog) -> None:
    result = keyword(demo, "custmer", limit=5)
    assert CUSTOMERS in ids(result)
    assert "customer" in result.interpretation["expanded"]["custmer"]
    assert "acme/table/postgres/shop.public.addresses" in ids(keyword(demo, "custmer adresses",
                                                                      limit=3))


def test_prefixes_complete_words(demo: Catalog) -> None:
    assert "acme/table/postgres/shop.public.inventory_levels" in ids(keyword(demo, "invent", limit=10))
    assert ids(keyword(demo, "custo", limit=1)) == [CUSTOMERS]
    assert ids(keyword(demo, "refun", limit=1)) == [REFUNDS]


def test_abbreviations_and_synonyms(demo: Catalog) -> None:
    dob = keyword(demo, "dob", limit=5)
    assert all(h.name == "date_of_birth" for h in dob.hits[:4])
    assert all(h.name.startswith("quantity") for h in keyword(demo, "qty", limit=5).hits)


def test_column_level_evidence_finds_the_table(demo: Catalog) -> None:
    """'mastercard' is only in a column description (card_brand), never in a table's own text."""
    hits = keyword(demo, "mastercard", limit=30, filters={"type": ("Table",)}).hits
    assert "acme/table/postgres/shop.public.payments" in [h.id for h in hits]
    assert all(h.why["matched"] == ["columns"] for h in hits)
    assert "<b>mastercard</b>" in hits[0].why["highlights"]["columns"]


def test_hits_explain_themselves(demo: Catalog) -> None:
    hit = keyword(demo, "refunds").hits[0]
    assert hit.id == REFUNDS
    assert {"name", "qualifiedName", "terms"} <= set(hit.why["matched"])
    assert hit.why["highlights"]["name"] == "<b>refunds</b>"
    assert hit.why["keyword"]["rank"] == 1 and hit.why["exact"] is True


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_facet_counts_equal_the_filtered_totals(demo: Catalog, mode: str) -> None:
    # wait=true: hybrid totals count semantic matches, which grow while the shared catalog's
    # vectors are still being built (the first semantic search of a session starts them)
    base = demo.search.run(SearchRequest(q="customer", mode=mode, limit=5, wait=True))
    assert base.total > 50
    for facet in ("type", "platform", "tag", "owner", "classification"):
        values = base.facets[facet][:3]
        assert values, facet
        for v in values:
            filtered = demo.search.run(SearchRequest(q="customer", mode=mode, limit=5,
                                                     filters={facet: (v.value,)}))
            assert filtered.total == v.count, (facet, v)
            # a facet that is filtered on keeps counting its other values
            assert filtered.facets[facet] == base.facets[facet]
    assert base.facets["platform"][0].label in ("Snowflake", "PostgreSQL")


def test_filters_and_or_within_a_facet(demo: Catalog) -> None:
    result = keyword(demo, "orders", limit=50,
                     filters={"type": ("Table", "View"), "platform": ("platform/snowflake",)})
    assert result.hits and all(h.platform == "platform/snowflake" for h in result.hits)
    assert {h.types[0] for h in result.hits} == {"Table", "View"}
    assert result.hits[0].why["filters"]["type"] == ["Table", "View"]
    # IRIs and semcat: class names are accepted as filter values
    same = keyword(demo, "orders", limit=50, filters={
        "type": ("semcat:Table", "https://w3id.org/semcat#View"),
        "platform": ("http://127.0.0.1:8000/id/platform/snowflake",)})
    assert ids(same) == ids(result)
    browse = demo.search.run(SearchRequest(filters={"tag": ("tag/tier-1",)}, limit=200))
    assert browse.total == len(browse.hits) > 10
    assert [h.name.lower() for h in browse.hits] == sorted(h.name.lower() for h in browse.hits)


@pytest.mark.parametrize(("mode", "sort"), [("keyword", "relevance"), ("keyword", "name"),
                                            ("keyword", "-updatedAt"), ("hybrid", "relevance")])
def test_cursor_pages_are_stable(demo: Catalog, mode: str, sort: str) -> None:
    request = SearchRequest(q="customer", mode=mode, sort=sort, limit=7, facets=())
    whole = ids(demo.search.run(SearchRequest(q="customer", mode=mode, sort=sort, limit=35,
                                              facets=())))
    walked: list[str] = []
    for _ in range(5):
        page = demo.search.run(request)
        walked += ids(page)
        assert page.next_cursor
        request = SearchRequest(q="customer", mode=mode, sort=sort, limit=7, facets=(),
                                cursor=page.next_cursor)
    assert walked == whole and len(set(walked)) == 35
    if sort == "name":
        names = [(h.name.lower(), h.id) for h in demo.search.run(
            SearchRequest(q="customer", mode=mode, sort=sort, limit=35)).hits]
        assert names == sorted(names)


def test_bad_requests_say_what_to_fix(demo: Catalog) -> None:
    for request, words in [
        (SearchRequest(q="x", mode="fuzzy"), "mode"),
        (SearchRequest(q="x", sort="size"), "sort"),
        (SearchRequest(q="x", filters={"colour": ("red",)}), "filter"),
        (SearchRequest(q="x", limit=0), "limit"),
        (SearchRequest(q="x", cursor="garbage"), "cursor"),
    ]:
        with pytest.raises(InputError, match=words):
            demo.search.run(request)
    page = keyword(demo, "customer", limit=2)
    with pytest.raises(InputError, match="different search"):
        keyword(demo, "orders", cursor=page.next_cursor)


# -- semantic and hybrid (real MiniLM) ---------------------------------------------------------


@pytest.mark.slow
def test_semantic_search_finds_paraphrases(semantic_demo: Catalog) -> None:
    cat = semantic_demo
    refunds = cat.search.run(SearchRequest(q="money given back to shoppers", mode="semantic"))
    assert REFUNDS in ids(refunds)[:3] or "glossary/business/refund" in ids(refunds)[:3]
    assert refunds.hits[0].why["semantic"]["score"] > 0.4
    stopped = cat.search.run(SearchRequest(q="people who stopped buying", mode="semantic",
                                           limit=20))
    assert CHURN & set(ids(stopped)), "no churn asset among the semantic hits"
    # (keyword search, reading any of a question's words since issue 15, finds the churn
    # model too, through "stops" in its description: no longer a foil for semantic search)
    stock = cat.search.run(SearchRequest(q="products running out of stock", mode="semantic",
                                         limit=5))
    assert {"glossary/business/stockout", "acme/view/snowflake/analytics.marts.v_inventory_alerts",
            "acme/chart/tableau/inventory_health.stockout_risk"} & set(ids(stock))


@pytest.mark.slow
def test_semantic_respects_filters_and_rolls_columns_up(semantic_demo: Catalog) -> None:
    result = semantic_demo.search.run(SearchRequest(
        q="how much stock is left in each warehouse", mode="semantic", limit=10,
        filters={"type": ("Table",)}))
    assert result.hits and all(h.types == ("Table",) for h in result.hits)
    assert "acme/table/postgres/shop.public.inventory_levels" in ids(result)[:5]


@pytest.mark.slow
def test_hybrid_beats_keyword_and_semantic_on_the_labelled_queries(semantic_demo: Catalog) -> None:
    queries = json.loads((ROOT / "bench" / "relevance_queries.json").read_text())["queries"]
    assert len(queries) >= 50
    summary = evaluate(semantic_demo, queries)["summary"]["all"]
    ndcg = {mode: summary[mode]["ndcg"] for mode in ("keyword", "semantic", "hybrid")}
    assert ndcg["hybrid"] > max(ndcg["keyword"], ndcg["semantic"]), ndcg
    assert summary["hybrid"]["recall"] > max(summary["keyword"]["recall"],
                                             summary["semantic"]["recall"])


@pytest.mark.slow
def test_more_like_this(semantic_demo: Catalog) -> None:
    hits = semantic_demo.search.similar(ORDERS, limit=5)
    assert ORDERS not in [h.id for h in hits]
    assert {"acme/table/snowflake/analytics.raw.shop_orders",
            "acme/table/snowflake/analytics.staging.stg_orders"} & {h.id for h in hits}
    assert all("fused" in h.why for h in hits)
    tables = semantic_demo.search.similar(ORDERS, limit=5, filters={"type": ("View",)})
    assert tables and all(h.types == ("View",) for h in tables)
    with pytest.raises(NotFound):
        semantic_demo.search.similar("acme/table/postgres/nope")


# -- freshness: the change log drives both indexes ---------------------------------------------


def test_writes_and_deletes_follow_the_change_log(catalog: Catalog) -> None:
    catalog.assets.upsert_many([*SCAFFOLD, table("zebra_sightings", "Where zebras were seen",
                                                 tags=["tag/gold"]),
                                column("zebra_sightings", "stripe_count", "How many stripes")],
                               actor="test")
    key = "acme/table/snowflake/wh.zoo.zebra_sightings"
    # the text index is updated before the write returns: no wait needed for keywords
    assert ids(keyword(catalog, "zebra sightings"))[0] == key
    hybrid = catalog.search.run(SearchRequest(q="where were the striped horses spotted",
                                              mode="semantic", wait=True))
    assert key in ids(hybrid)[:3]
    assert catalog.search.freshness()["vectors"] == catalog.journal.applied_seq
    # a changed column re-indexes its table; a renamed tag re-indexes what it tags
    catalog.assets.patch("acme/column/snowflake/wh.zoo.zebra_sightings.stripe_count",
                         {"description": "Counted by the ranger on duty"}, actor="test")
    assert key in ids(keyword(catalog, "ranger", filters={"type": ("Table",)}))
    catalog.assets.patch("tag/gold", {"name": "Platinum"}, actor="test")
    assert key in ids(keyword(catalog, "platinum"))
    catalog.assets.delete(key, actor="test")
    assert key not in ids(keyword(catalog, "zebra sightings"))
    after = catalog.search.run(SearchRequest(q="where were the striped horses spotted",
                                             mode="hybrid", wait=True))
    assert key not in ids(after)
    assert key not in catalog.search.vectors.asset_keys()


def _demo_prefix(n: int) -> list[dict[str, Any]]:
    """The first ``n`` demo assets (parents come first, so any prefix is self-contained)."""
    return demo_assets()[:n]


@pytest.fixture
def disk_catalog(tmp_path: Path) -> Iterator[Path]:
    with Catalog.open(Settings(data=tmp_path)) as cat:
        cat.assets.upsert_many(_demo_prefix(180), actor="test")
        assert cat.search.wait(timeout=120)
    yield tmp_path


def test_indexes_survive_a_restart_without_rebuilding(disk_catalog: Path) -> None:
    hybrid = SearchRequest(q="customer accounts", mode="hybrid", limit=10, wait=True)
    plain = SearchRequest(q="customer accounts", mode="keyword", limit=10)
    with Catalog.open(Settings(data=disk_catalog)) as cat:
        seq = cat.journal.applied_seq
        assert cat.search.text.seq == cat.search.vectors.seq == seq
        assert len(cat.search.vectors) == len(cat.search.text) == 180
        before, before_plain = ids(cat.search.run(hybrid)), ids(cat.search.run(plain))
        assert (w := cat.search.vector_sides[0].worker) is not None and w.embedded == 0
    with Catalog.open(Settings(data=disk_catalog)) as cat:
        # keyword work leaves the vectors asleep (no torch), so they fall behind the log ...
        assert ids(cat.search.run(plain)) == before_plain
        cat.assets.upsert(_demo_prefix(181)[-1], actor="test")
        assert all(side.worker is None for side in cat.search.vector_sides)
    with Catalog.open(Settings(data=disk_catalog)) as cat:
        assert cat.search.text.seq == cat.journal.applied_seq  # kept up synchronously
        assert cat.search.vectors.seq == seq < cat.journal.applied_seq
        assert set(before) <= set(ids(cat.search.run(SearchRequest(
            q="customer accounts", mode="hybrid", limit=11, wait=True))))
        # ... and catch up from the change log, embedding only what changed
        assert (w := cat.search.vector_sides[0].worker) is not None and w.embedded == 1
        assert len(cat.search.vectors) == 181


def test_reindex_command_rebuilds_both_indexes(disk_catalog: Path) -> None:
    (disk_catalog / "search" / "vectors.faiss").unlink()
    env = {"COLUMNS": "120", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "semcat", "reindex", "--data", str(disk_catalog)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    reindexed = r.stderr
    r = subprocess.run([sys.executable, "-m", "semcat", "search", "Customer", "--mode",
                        "keyword", "--format", "json", "--data", str(disk_catalog)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["hits"][0]["id"] == "glossary/business/customer"
    # by default, tables and columns are embedded once more (catalog/vector_sides.py)
    with Catalog.open(Settings(data=disk_catalog, embedding_adapter="tables")) as cat:
        every, tables = (side.index for side in cat.search.vector_sides)
        assert len(every) == 180 and 0 < len(tables) < 180
        assert every.seq == tables.seq == cat.journal.applied_seq
    assert "reindexed 180 assets" in reindexed
    assert f"{len(every) + len(tables)} vectors" in reindexed


def test_vector_index_plumbing(tmp_path: Path) -> None:
    """Save, load, remove and tombstones: counts only, so a hashing embedder will do."""
    embedder = HashingEmbedder()
    texts = ["orders placed", "customer accounts", "stock levels", "refunds issued"]
    vectors = embedder.encode(texts)
    for factory in ("Flat", "HNSW32"):
        path = tmp_path / factory / "vectors"
        index = VectorIndex(embedder.dim, path=path, model=embedder.name, factory=factory)
        index.upsert([1, 2, 3, 4], vectors, ["a", "b", "c", "d"], ["h1", "h2", "h3", "h4"])
        index.remove([2])
        index.seq = 7
        index.save()
        again = VectorIndex(embedder.dim, path=path, model=embedder.name, factory=factory)
        assert again.seq == 7 and sorted(again.asset_keys()) == ["a", "c", "d"]
        assert [v for v, _ in again.nearest(vectors[1], 3)] != [] and 2 not in [
            v for v, _ in again.nearest(vectors[1], 4)]
        assert again.nearest(vectors[0], 1)[0][0] == 1
        assert np.allclose(again.vector(3), vectors[2], atol=1e-5)
        other = VectorIndex(embedder.dim, path=path, model="another-model", factory=factory)
        assert len(other) == 0 and other.seq == 0  # built by another model: start over


# -- REST ----------------------------------------------------------------------------------------


def test_rest_search_get_post_and_similar(demo: Catalog) -> None:
    with TestClient(create_app(demo)) as client:
        r = client.get("/api/v1/search", params={"q": "orders", "mode": "keyword",
                                                 "type": ["Table", "View"], "limit": 3})
        assert r.status_code == 200 and r.headers["content-type"] == "application/ld+json"
        body = r.json()
        assert body["hits"][0]["id"] == ORDERS and body["hits"][0]["why"]["exact"] is True
        assert {"Table", "View", "Column"} <= {f["value"] for f in body["facets"]["type"]}
        assert body["@context"][1]["hits"] == "@graph" and body["tookMs"] >= 0
        nxt = client.get("/api/v1/search", params={"q": "orders", "mode": "keyword",
                                                   "type": ["Table", "View"], "limit": 3,
                                                   "cursor": body["next"]}).json()
        assert not {h["id"] for h in nxt["hits"]} & {h["id"] for h in body["hits"]}
        posted = client.post("/api/v1/search", json={
            "q": "orders", "mode": "keyword", "filters": {"type": ["Table", "View"]},
            "limit": 3, "facets": ["platform"]}).json()
        assert [h["id"] for h in posted["hits"]] == [h["id"] for h in body["hits"]]
        assert list(posted["facets"]) == ["platform"]
        for bad in ({"q": "x", "colour": "red"}, {"q": "x", "mode": "fuzzy"},
                    {"q": "x", "filters": {"colour": ["red"]}}, {"q": "x", "limit": 0}):
            r = client.post("/api/v1/search", json=bad)
            assert r.status_code == 400, bad
            assert r.headers["content-type"] == "application/problem+json"
        r = client.get("/api/v1/search", params={"q": "x", "cursor": "nope"})
        assert r.status_code == 400 and "cursor" in r.json()["detail"]
        similar = client.get(f"/api/v1/search/similar/{ORDERS}", params={"limit": 3})
        assert similar.status_code == 200 and len(similar.json()["hits"]) == 3
        assert client.get("/api/v1/search/similar/acme/table/x/none").status_code == 404


def test_rest_read_your_writes_on_a_real_server(server: Server) -> None:
    name = f"okapi_{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=server.url, timeout=60) as http:
        assert http.post("/api/v1/assets:bulk", json=SCAFFOLD).status_code == 200
        assert http.post("/api/v1/assets", json=table(name, "Okapi feeding times")).status_code == 201
        found = http.get("/api/v1/search", params={"q": name, "mode": "keyword",
                                                   "wait": "true"}).json()
        assert found["hits"][0]["name"] == name
        assert found["freshness"]["text"] == found["freshness"]["seq"]
        assert http.delete(f"/api/v1/assets/acme/table/snowflake/wh.zoo.{name}",
                           params={"wait": "true"}).status_code == 204
        gone = http.get("/api/v1/search", params={"q": name, "mode": "keyword"}).json()
        assert name not in [h["name"] for h in gone["hits"]]
