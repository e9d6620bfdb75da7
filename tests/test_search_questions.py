"""Questions as people ask them (issue 15, "query handling that fits questions"): years read
as content, no 400 for a question, bulk warnings summarised; any of a question's words finds a
table and more of them rank it higher; hybrid fusion keeps the keyword side."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog import Catalog, Settings
from search.documents import AssetDoc
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


# -- questions whose words are spread over a table's name and columns -------------------------
PAYROLL = "acme/table/snowflake/wh.zoo.payroll_snapshot"
HISTORY = "acme/table/snowflake/wh.zoo.history"
QUESTION = "salary age and hire date of people working at the history museum in paris"


@pytest.fixture(scope="module")
def staff(cat: Catalog) -> Catalog:
    cat.assets.upsert_many([
        table("payroll_snapshot", "Monthly snapshot"),
        column("payroll_snapshot", "salary", "Gross monthly amount"),
        column("payroll_snapshot", "age", "In whole years"),
        column("payroll_snapshot", "hire_date", "First working day"),
        table("history", "Old notes"),
        column("history", "note", "Free text"),
    ], actor="test")
    return cat


def tables(cat: Catalog, q: str, mode: str) -> SearchResult:
    return cat.search.run(SearchRequest(q=q, mode=mode, facets=(), limit=5,
                                        filters={"type": ("Table",)}))


def test_a_question_need_not_match_most_of_its_words(staff: Catalog) -> None:
    """Four of the question's nine content words are in the payroll table (its columns): too
    few for a most-words rule, enough to find it without falling back to anything."""
    result = tables(staff, QUESTION, "keyword")
    assert result.interpretation["minimumMatch"] == 1 and "relaxed" not in result.interpretation
    assert ids(result)[0] == PAYROLL


def test_several_columns_beat_one_word_of_a_name(staff: Catalog) -> None:
    """``history`` is one of the question's words and the whole name of a table (the heaviest
    field); the payroll table holds four others in its columns and ranks first."""
    found = ids(tables(staff, QUESTION, "keyword"))
    assert HISTORY in found and found.index(PAYROLL) < found.index(HISTORY)
    # asked for by name, the history table is first again
    assert ids(tables(staff, "history", "keyword"))[0] == HISTORY


@pytest.mark.slow
def test_hybrid_hears_the_keyword_side_of_a_question(staff: Catalog) -> None:
    assert staff.search.wait(timeout=300)
    hits = tables(staff, QUESTION, "hybrid").hits
    payroll = next(h for h in hits if h.id == PAYROLL)
    assert payroll.why["keyword"]["rank"] == 1 and "semantic" in payroll.why
    assert payroll.why["fused"]["k"] == 10


def test_an_undescribed_table_is_embedded_with_its_database() -> None:
    bare = AssetDoc("k", ("Table",), "head", "department_management.main.head")
    assert bare.embedding_text().startswith("Table head in department management.")
    described = replace(bare, description="Heads of departments")
    assert described.embedding_text() == "Table head: Heads of departments"
