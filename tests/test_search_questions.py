"""Questions as people ask them (issue 15, "query handling that fits questions"): years read
as content, no 400 for a question, bulk warnings summarised."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog import Catalog, Settings
from search.model import SearchRequest, SearchResult
from sparql_api import create_app
from tests.test_search import SCAFFOLD, column, ids, table

SINGER = "acme/table/snowflake/wh.zoo.singer"


@pytest.fixture(scope="module")
def cat() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        c.assets.upsert_many([
            *SCAFFOLD,
            table("singer", "Performers and where they come from"),
            column("singer", "age", "Age in years"),
            column("singer", "country", "Country of birth"),
            # holds three of the question's four words, none of them about singers
            table("regional_averages", "Average customer age per region of France"),
            table("customer_order_line_items", "Lines of customer orders"),
            table("orders_customer_lines", "Customer order lines, line by line: customer "
                  "order items per customer order line"),
        ], actor="test")
        yield c


def nl_run(cat: Catalog, q: str, **options: Any) -> SearchResult:
    return cat.search.run(SearchRequest(q=q, mode="keyword", nl=True, facets=(), **options))


def test_years_inside_a_question_are_content(cat: Catalog) -> None:
    result = nl_run(cat, "singers who debuted before 2009 or after 2012")
    reading = result.interpretation["nl"]
    assert reading["recognised"] == [] and "updated_after" not in reading["applied"]
    assert "2009" in reading["q"] and "2012" in reading["q"]
    assert SINGER in ids(result)
    # a verb dating the asset itself still makes a filter
    dated = nl_run(cat, "singer tables updated since 2024").interpretation["nl"]
    assert dated["applied"]["updated_after"] == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(("q", "explicit"), [
    ("singers updated after 2012 and updated before 2009", {}),
    ("singers changed since 2024", {"updated_before": "2000-01-01"}),
])
def test_an_empty_time_reading_is_dropped_not_refused(cat: Catalog, q: str,
                                                      explicit: dict[str, str]) -> None:
    result = nl_run(cat, q, **explicit)
    reading = result.interpretation["nl"]
    assert reading["dropped"] and "range is empty" in reading["note"]
    assert {k: v for k, v in reading["applied"].items() if k != "filters"} == explicit
    if not explicit:
        assert SINGER in ids(result)
    with TestClient(create_app(cat)) as client:
        r = client.get("/api/v1/search", params={"q": q, "nl": "true", **{
            {"updated_before": "updatedBefore"}[k]: v for k, v in explicit.items()}})
        assert r.status_code == 200, r.text


# -- bulk warnings ---------------------------------------------------------------------------
def test_bulk_warnings_are_summarised_unless_asked_for(cat: Catalog) -> None:
    bare = [{"type": "Table", "workspace": "acme", "platform": "platform/snowflake",
             "qualifiedName": f"wh.zoo.bare_{i}", "name": f"bare_{i}",
             "partOf": "acme/schema/snowflake/wh.zoo"} for i in range(12)]
    with TestClient(create_app(cat)) as client:
        body = client.post("/api/v1/assets:bulk", json=bare).json()
        summary = body["warnings"]
        assert summary["total"] >= 12
        assert sum(k["count"] for k in summary["kinds"]) == summary["total"]
        assert all(len(k["examples"]) <= 3 for k in summary["kinds"])
        assert all("warnings" not in item for item in body["items"])
        full = client.post("/api/v1/assets:bulk?warnings=all",
                           json=[{**b, "name": b["name"] + "_x"} for b in bare]).json()
        assert sum(len(i["warnings"]) for i in full["items"]) == full["warnings"]["total"] >= 12
        schema = client.get("/openapi.json").json()["components"]["schemas"]["BulkWrite"]
        assert "warnings" in schema["properties"]
