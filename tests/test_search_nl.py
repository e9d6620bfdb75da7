"""Natural-language queries: phrases become filters (classification, type, owner, time range,
platform, tag, workspace) plus leftover words; the reading is returned, applied, and
explicit filters override it. Against the demo catalog and a small catalog of known facts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog import Catalog, Settings
from search import nl
from search.model import SearchRequest, SearchResult
from sparql_api import create_app
from tests.test_search import SCAFFOLD, table

EXAMPLE = "PII tables owned by the finance team changed last week"
PII = [
    {"id": "team/finance", "type": "Team", "name": "Finance"},
    {"id": "team/ops", "type": "Team", "name": "Operations"},
    {"id": "classification/pii", "type": "ClassificationScheme", "name": "PII"},
    {"id": "classification/pii/email", "type": "Classification", "name": "PII.Email",
     "partOf": "classification/pii"},
    {"id": "classification/pii/phone", "type": "Classification", "name": "PII.Phone",
     "partOf": "classification/pii"},
]


def recognised(result: SearchResult) -> dict[str, list[str]]:
    return {r["filter"]: r["values"] for r in result.interpretation["nl"]["recognised"]}


def nl_search(cat: Catalog, q: str, **options: Any) -> SearchResult:
    return cat.search.run(SearchRequest(q=q, mode="keyword", nl=True, limit=50, **options))


@pytest.fixture(scope="module")
def pii_catalog() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as cat:
        yield cat


@pytest.fixture(scope="module")
def known(pii_catalog: Catalog) -> Catalog:
    """Finance owns a table with PII and one without; operations owns a table with PII."""
    cat = pii_catalog
    cat.assets.upsert_many([
        *SCAFFOLD, *PII,
        table("customer_contacts", "Emails of customers", owners=["team/finance"],
              classifications=["classification/pii/email"]),
        table("ledger", "General ledger", owners=["team/finance"]),
        table("call_log", "Calls", owners=["team/ops"],
              classifications=["classification/pii/phone"]),
    ], actor="test")
    return cat


def ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


def test_the_example_sentence_becomes_filters_that_are_applied(known: Catalog) -> None:
    before = datetime.now(UTC)
    result = nl_search(known, EXAMPLE)
    reading = result.interpretation["nl"]
    assert reading["input"] == EXAMPLE and reading["q"] == ""
    spans = {r["text"]: r["filter"] for r in reading["recognised"]}
    assert spans == {"PII": "classification", "tables": "type",
                     "owned by the finance team": "owner", "changed last week": "updated_after"}
    got = recognised(result)
    assert set(got["classification"]) == {"classification/pii/email", "classification/pii/phone"}
    assert got["type"] == ["Table"] and got["owner"] == ["team/finance"]
    after = datetime.fromisoformat(got["updated_after"][0].replace("Z", "+00:00"))
    assert abs((before - timedelta(days=7)) - after) < timedelta(seconds=5)
    # applied: exactly the finance-owned table with a PII classification
    assert ids(result) == ["acme/table/snowflake/wh.zoo.customer_contacts"]
    assert result.interpretation["filters"]["owner"] == ("team/finance",)
    # each span points into the input
    for r in reading["recognised"]:
        assert EXAMPLE[r["start"]:r["end"]] == r["text"]


def test_explicit_filters_override_the_reading(known: Catalog) -> None:
    result = nl_search(known, EXAMPLE, filters={"owner": ("team/ops",)},
                       updated_after="2000-01-01")
    reading = result.interpretation["nl"]
    assert reading["overridden"] == ["owner", "updated_after"]
    assert reading["applied"]["filters"]["owner"] == ["team/ops"]
    assert reading["applied"]["updated_after"] == "2000-01-01"
    assert ids(result) == ["acme/table/snowflake/wh.zoo.call_log"]


def test_without_nl_the_query_is_words(known: Catalog) -> None:
    result = known.search.run(SearchRequest(q=EXAMPLE, mode="keyword"))
    assert "nl" not in result.interpretation
    assert result.interpretation["q"] == EXAMPLE


@pytest.mark.parametrize(("q", "expected", "leftover"), [
    ("internal tables owned by the finance team changed this week",
     {"classification": ["classification/sensitivity/internal"], "type": ["Table"],
      "owner": ["team/finance"]}, ""),
    ("pii email columns in snowflake", {"classification": ["classification/pii/email"],
                                        "type": ["Column"], "platform": ["platform/snowflake"]},
     ""),
    ("Priya's dashboards", {"owner": ["user/priya.raman"], "type": ["Dashboard"]}, ""),
    ("dashboards tagged finance", {"type": ["Dashboard"], "tag": ["tag/finance"]}, ""),
    ("tier 1 tables about customers", {"tag": ["tag/tier-1"], "type": ["Table"]},
     "about customers"),
    ("tables in the research workspace", {"type": ["Table"], "workspace": ["research"]}, ""),
    ("snowflak tables about orders", {"platform": ["platform/snowflake"], "type": ["Table"]},
     "about orders"),  # one typo in a platform name
    ("models owned by data science", {"type": ["MLModel"], "owner": ["team/data-science"]}, ""),
])
def test_phrasings_against_the_demo(demo_catalog: Catalog, q: str,
                                    expected: dict[str, list[str]], leftover: str) -> None:
    result = nl_search(demo_catalog, q)
    got = {k: v for k, v in recognised(result).items() if not k.endswith(("_after", "_before"))}
    assert got == expected
    assert result.interpretation["nl"]["q"] == leftover
    assert result.total > 0
    # the filters are applied: the same search with them given explicitly finds the same
    explicit = demo_catalog.search.run(SearchRequest(
        q=leftover, mode="keyword", limit=50,
        filters={k: tuple(v) for k, v in expected.items()},
        **{k: v for k, v in result.interpretation["nl"]["applied"].items() if k != "filters"}))
    assert ids(result) == ids(explicit) and result.total == explicit.total
    for hit in result.hits:
        assert set(expected["type"]) & set(hit.types)
        if "platform" in expected:
            assert hit.platform in expected["platform"]
        if "workspace" in expected:
            assert hit.workspace in expected["workspace"]


@pytest.mark.parametrize("q", ["how many people work in each department",
                               "who are our suppliers and what are their payment terms",
                               "customer support tickets", "stripe charges", "csat"])
def test_common_words_need_a_cue(demo_catalog: Catalog, q: str) -> None:
    """'people', 'terms', 'support', 'csat' name a type, a team or a glossary term only with a
    cue; 'charges' is no typo of 'charts'."""
    result = nl_search(demo_catalog, q)
    assert result.interpretation["nl"]["recognised"] == []
    assert result.interpretation["nl"]["q"] == q


def test_marketing_alone_stays_a_word(demo_catalog: Catalog) -> None:
    result = nl_search(demo_catalog, "marketing dashboards")
    assert recognised(result) == {"type": ["Dashboard"]}
    assert result.interpretation["nl"]["q"] == "marketing"


NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(("q", "bounds"), [
    ("changed yesterday", {"updated_after": "2026-03-17T00:00:00Z",
                           "updated_before": "2026-03-18T00:00:00Z"}),
    ("updated in the last 30 days", {"updated_after": "2026-02-16T15:30:00Z"}),
    ("modified this month", {"updated_after": "2026-03-01T00:00:00Z"}),
    ("edited this week", {"updated_after": "2026-03-16T00:00:00Z"}),
    ("created since 2026-01-01", {"created_after": "2026-01-01T00:00:00Z"}),
    ("added before 2025-12", {"created_before": "2025-12-01T00:00:00Z"}),
    ("changed in 2025", {"updated_after": "2025-01-01T00:00:00Z",
                         "updated_before": "2026-01-01T00:00:00Z"}),
    ("past two weeks", {"updated_after": "2026-03-04T15:30:00Z"}),
    ("today", {"updated_after": "2026-03-18T00:00:00Z"}),
])
def test_time_phrases(q: str, bounds: dict[str, str]) -> None:
    parsed = nl.parse(f"orders {q}", nl.Vocabulary(), NOW)
    assert parsed.dates() == bounds
    assert parsed.q == "orders"


def test_rest_returns_the_reading(demo_catalog: Catalog) -> None:
    with TestClient(create_app(demo_catalog)) as client:
        r = client.post("/api/v1/search", json={"q": "dashboards tagged finance", "nl": True,
                                                "mode": "keyword"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["interpretation"]["nl"]["applied"]["filters"] == {
            "type": ["Dashboard"], "tag": ["tag/finance"]}
        assert body["total"] == len(body["hits"]) > 0
        got = client.get("/api/v1/search", params={"q": "dashboards tagged finance",
                                                   "nl": "true", "mode": "keyword"}).json()
        assert [h["id"] for h in got["hits"]] == [h["id"] for h in body["hits"]]
        schema = client.get("/openapi.json").json()["components"]["schemas"]["SearchBody"]
        assert {"nl", "updatedAfter", "createdBefore"} <= set(schema["properties"])
