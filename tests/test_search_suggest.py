"""Autocomplete (`/api/v1/search/suggest`): prefix completions of names, inner words and
qualified names from tantivy edge-n-gram fields, ranked name-prefix first, then by kind and
connectedness; facet values say which filter they stand for; writes show up at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog import Catalog, Settings
from graph_store.errors import InputError
from sparql_api import create_app
from tests.test_search import SCAFFOLD, table


def suggest(cat: Catalog, q: str, limit: int = 10) -> list[dict[str, Any]]:
    return list(cat.search.suggest(q, limit=limit)["suggestions"])


def test_whole_name_prefixes_come_first_and_tables_before_columns(demo_catalog: Catalog) -> None:
    found = suggest(demo_catalog, "cust")
    # (a table's popularity counts the columns that share its partition: PII columns of
    # shop.public.customers live apart, so the widest "cust" table may be another)
    assert found[0]["type"] == "Table" and found[0]["text"].lower().startswith("cust")
    assert "acme/table/postgres/shop.public.customers" in [s["id"] for s in found[:4]]
    assert all(s["text"].lower().startswith("cust") for s in found if s["match"] == "name")
    types = [s["type"] for s in found]
    assert "Column" not in types[:4]
    # the match tiers are ordered: whole name, then a word inside the name, then qualified name
    order = {"name": 0, "word": 1, "qualifiedName": 2}
    orders = suggest(demo_catalog, "orders", limit=12)
    tiers = [order[s["match"]] for s in orders]
    assert tiers == sorted(tiers) and tiers[0] == 0 and 1 in tiers
    assert orders[0]["id"] == "acme/table/postgres/shop.public.orders"
    assert "acme/table/snowflake/analytics.marts.fct_orders" in [s["id"] for s in orders]


def test_inner_words_and_qualified_names(demo_catalog: Catalog) -> None:
    churn = suggest(demo_catalog, "churn_sc")
    assert {"customer_churn_scores", "churn_scoring_daily"} <= {s["text"] for s in churn}
    marts = suggest(demo_catalog, "marts.fct_ord")
    assert [s["id"] for s in marts][:2] == ["acme/table/snowflake/analytics.marts.fct_orders",
                                            "acme/table/snowflake/analytics.marts.fct_order_items"]
    assert all(s["match"] == "qualifiedName" for s in marts)


def test_same_names_fold_into_one(demo_catalog: Catalog) -> None:
    found = suggest(demo_catalog, "customer_i")
    assert found[0]["text"] == "customer_id" and found[0]["type"] == "Column"
    assert found[0]["more"] >= 10
    assert len({(s["text"], s["type"]) for s in found}) == len(found)


def test_facet_values_offer_their_filter(demo_catalog: Catalog) -> None:
    gdpr = suggest(demo_catalog, "gd")
    assert gdpr[0]["filter"] == {"tag": ["tag/gdpr"]}
    ben = suggest(demo_catalog, "ben c")
    assert ben[0]["filter"] == {"owner": ["user/ben.carter"]}
    term = [s for s in suggest(demo_catalog, "gross merch") if s["type"] == "GlossaryTerm"]
    assert term[0]["filter"] == {"term": ["glossary/business/gross-merchandise-value"]}


def test_case_limits_and_no_match(demo_catalog: Catalog) -> None:
    assert suggest(demo_catalog, "CUST")[0]["id"] == suggest(demo_catalog, "cust")[0]["id"]
    assert len(suggest(demo_catalog, "c", limit=3)) == 3
    assert suggest(demo_catalog, "qqqzzz") == []
    assert suggest(demo_catalog, "   ") == []
    with pytest.raises(InputError, match="limit"):
        demo_catalog.search.suggest("cust", limit=0)


@pytest.fixture
def fresh() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as cat:
        cat.assets.upsert_many(SCAFFOLD, actor="test")
        yield cat


def test_writes_and_deletes_show_up_at_once(fresh: Catalog) -> None:
    long_name = "zebra_sightings_recorded_by_the_night_shift_rangers"  # past the n-gram length
    fresh.assets.upsert_many([table("zebra_sightings", "Zebras"),
                              table(long_name, "Night zebras")], actor="test")
    found = suggest(fresh, "zebra")
    assert [s["text"] for s in found] == ["zebra_sightings", long_name]
    assert [s["text"] for s in suggest(fresh, long_name[:40])] == [long_name]
    assert suggest(fresh, long_name[:40] + "x") == []
    assert [s["text"] for s in suggest(fresh, "night_sh")] == [long_name]
    fresh.assets.delete("acme/table/snowflake/wh.zoo.zebra_sightings", actor="test")
    assert [s["text"] for s in suggest(fresh, "zebra")] == [long_name]


def test_rest_suggest(demo_catalog: Catalog) -> None:
    with TestClient(create_app(demo_catalog)) as client:
        r = client.get("/api/v1/search/suggest", params={"q": "cust", "limit": 5})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["q"] == "cust" and len(body["suggestions"]) == 5
        assert body["suggestions"][0] == suggest(demo_catalog, "cust", limit=5)[0]
        assert body["tookMs"] >= 0
        assert client.get("/api/v1/search/suggest", params={"q": "cust", "limit": 0}
                          ).status_code == 400
        assert client.get("/api/v1/search/suggest").status_code == 400
