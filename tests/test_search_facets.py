"""Date filters and facets (createdAt/updatedAt as tantivy dates) and custom-attribute facets
(`attr.<key>`): counts, filters, REST and CLI, on assets written at known times."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog import Catalog, Settings
from catalog.attributes import AttributeSpec
from graph_store.errors import InputError
from search.model import SearchRequest, SearchResult
from sparql_api import create_app
from tests.conftest import ROOT
from tests.test_search import SCAFFOLD, table

A = "acme/table/snowflake/wh.zoo.aardvarks"
B = "acme/table/snowflake/wh.zoo.badgers"
C = "acme/table/snowflake/wh.zoo.cheetahs"
TABLES = (("type", ("Table",)),)


def stamp() -> str:
    """Now, after a pause on both sides: the index keeps dates to the second."""
    time.sleep(1.1)
    now = datetime.now(UTC).isoformat()
    time.sleep(1.1)
    return now


def ids(result: SearchResult) -> set[str]:
    return {h.id for h in result.hits}


def tables(cat: Catalog, **options: Any) -> SearchResult:
    """Tables only, unless ``filters`` says otherwise."""
    options.setdefault("filters", dict(TABLES))
    return cat.search.run(SearchRequest(mode="keyword", limit=50, **options))


@pytest.fixture(scope="module")
def timed() -> Iterator[tuple[Catalog, str, str]]:
    """A and B created before t1; C created between t1 and t2; A updated after t2."""
    with Catalog.open(Settings(data=None)) as cat:
        cat.assets.upsert_many([*SCAFFOLD, table("aardvarks", "Aardvarks"),
                                table("badgers", "Badgers")], actor="test")
        t1 = stamp()
        cat.assets.upsert(table("cheetahs", "Cheetahs"), actor="test")
        t2 = stamp()
        cat.assets.patch(A, {"description": "Aardvarks, counted again"}, actor="test")
        yield cat, t1, t2


def test_date_filters_select_by_known_write_times(timed: tuple[Catalog, str, str]) -> None:
    cat, t1, t2 = timed
    assert ids(tables(cat, updated_after=t2)) == {A}
    assert ids(tables(cat, updated_after=t1, updated_before=t2)) == {C}
    assert ids(tables(cat, updated_before=t1)) == {B}
    assert ids(tables(cat, created_after=t1)) == {C}
    assert ids(tables(cat, created_before=t1)) == {A, B}
    assert ids(tables(cat, created_before=t1, updated_after=t2)) == {A}
    # the hits' own stamps agree with the range
    for hit in tables(cat, updated_after=t1).hits:
        assert cat.assets.get(hit.id)["updatedAt"] >= t1[:19]
    # durations count back from now; dates are midnight UTC
    assert ids(tables(cat, updated_after="PT1H")) == {A, B, C}
    assert ids(tables(cat, updated_before="2000-01-01")) == set()
    result = tables(cat, updated_after=t1, q="aardvarks")
    assert ids(result) == {A}
    assert set(result.interpretation["dates"]["updatedAt"]) == {"from"}


def test_bad_dates_say_what_to_fix(timed: tuple[Catalog, str, str]) -> None:
    cat, t1, t2 = timed
    with pytest.raises(InputError, match="not a date"):
        tables(cat, updated_after="last tuesday")
    with pytest.raises(InputError, match="empty"):
        tables(cat, created_after=t2, created_before=t1)


def test_date_facets(timed: tuple[Catalog, str, str]) -> None:
    cat, t1, _ = timed
    result = tables(cat, facets=("updated", "created", "updated_month"))
    recent = {f.value: (f.count, f.label) for f in result.facets["updated"]}
    assert recent == {"P1D": (3, "past day"), "P7D": (3, "past week"),
                      "P30D": (3, "past month"), "P365D": (3, "past year")}
    month = datetime.now(UTC).strftime("%Y-%m")
    assert [(f.value, f.count) for f in result.facets["updated_month"]] == [(month, 3)]
    # a bucket's count is the total its filter gives
    week = tables(cat, updated_after="P7D", facets=("updated",))
    assert week.total == recent["P7D"][0]
    # counts follow the other filters
    narrowed = tables(cat, created_after=t1, facets=("created",))
    assert {f.value: f.count for f in narrowed.facets["created"]}["P1D"] == 1


@pytest.fixture(scope="module")
def attributed() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as cat:
        cat.assets.upsert_many(SCAFFOLD, actor="test")
        for spec in (AttributeSpec(name="costCenter", label="Cost center", datatype="string",
                                   appliesTo=["Table"]),
                     AttributeSpec(name="priority", label="Priority", datatype="integer",
                                   appliesTo=["Table"]),
                     AttributeSpec(name="certified", label="Certified", datatype="boolean",
                                   appliesTo=["Table"]),
                     AttributeSpec(name="tier", label="Tier", datatype="string",
                                   values=["gold", "silver"], appliesTo=["Table"])):
            cat.attributes.define(spec, actor="test", create=True)
        cat.assets.upsert_many([
            table("aardvarks", "Aardvarks", costCenter="CC-1", priority=1, certified=True,
                  tier="gold"),
            table("badgers", "Badgers", costCenter="CC-1", priority=2, certified=False,
                  tier="silver"),
            table("cheetahs", "Cheetahs", costCenter="CC-2", priority=1, tier="gold"),
            table("dingos", "Dingos"),
        ], actor="test")
        yield cat


def facet(result: SearchResult, name: str) -> dict[str, int]:
    return {f.value: f.count for f in result.facets[name]}


ATTRS = ("attr.costCenter", "attr.priority", "attr.certified", "attr.tier")


def test_custom_attribute_facet_counts(attributed: Catalog) -> None:
    result = tables(attributed, facets=ATTRS)
    assert result.total == 4
    assert facet(result, "attr.costCenter") == {"CC-1": 2, "CC-2": 1}
    assert facet(result, "attr.priority") == {"1": 2, "2": 1}
    assert facet(result, "attr.certified") == {"true": 1, "false": 1}
    assert facet(result, "attr.tier") == {"gold": 2, "silver": 1}
    assert [f.label for f in result.facets["attr.costCenter"]] == ["CC-1", "CC-2"]


def test_custom_attribute_filters(attributed: Catalog) -> None:
    cc1 = tables(attributed, filters={**dict(TABLES), "attr.costCenter": ("CC-1",)},
                 facets=ATTRS)
    assert ids(cc1) == {"acme/table/snowflake/wh.zoo.aardvarks",
                        "acme/table/snowflake/wh.zoo.badgers"}
    # the filtered facet still shows its other values; the others count within the filter
    assert facet(cc1, "attr.costCenter") == {"CC-1": 2, "CC-2": 1}
    assert facet(cc1, "attr.tier") == {"gold": 1, "silver": 1}
    both = tables(attributed, filters={"attr.priority": ("1",), "attr.tier": ("gold",)})
    assert ids(both) == {"acme/table/snowflake/wh.zoo.aardvarks",
                         "acme/table/snowflake/wh.zoo.cheetahs"}
    either = tables(attributed, filters={"attr.costCenter": ("CC-2", "CC-1")},
                    q="cheetahs")
    assert ids(either) == {"acme/table/snowflake/wh.zoo.cheetahs"}
    # a value written later is counted at once
    attributed.assets.patch("acme/table/snowflake/wh.zoo.dingos", {"costCenter": "CC-2"},
                            actor="test")
    assert facet(tables(attributed, facets=ATTRS), "attr.costCenter") == {"CC-1": 2, "CC-2": 2}
    with pytest.raises(InputError, match="filter"):
        tables(attributed, filters={"attr.no such": ("x",)})


def test_rest_date_and_attribute_facets(attributed: Catalog) -> None:
    with TestClient(create_app(attributed)) as client:
        r = client.get("/api/v1/search", params=[
            ("mode", "keyword"), ("type", "Table"), ("attr.costCenter", "CC-1"),
            ("facets", "attr.costCenter,updated,created_month"), ("updatedAfter", "P1D")])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == 2
        assert {f["value"]: f["count"] for f in body["facets"]["attr.costCenter"]}["CC-1"] == 2
        assert body["facets"]["updated"][0] == {"value": "P1D", "count": 2, "label": "past day"}
        post = client.post("/api/v1/search", json={
            "mode": "keyword", "filters": {"attr.costCenter": ["CC-1"]},
            "updatedBefore": "2000-01-01", "facets": ["type"]})
        assert post.status_code == 200 and post.json()["total"] == 0
        bad = client.post("/api/v1/search", json={"updatedAfter": "soon"})
        assert bad.status_code == 400 and "not a date" in bad.text


def test_cli_date_flags(tmp_path: Path) -> None:
    with Catalog.open(Settings(data=tmp_path)) as cat:
        cat.assets.upsert_many([*SCAFFOLD, table("aardvarks", "Aardvarks")], actor="test")
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "semcat", "search", *args, "--data",
                               str(tmp_path), "--mode", "keyword", "--format", "json"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    recent = run("aardvarks", "--updated-after", "P1D")
    assert recent.returncode == 0, recent.stderr
    assert '"total": 1' in recent.stdout
    old = run("aardvarks", "--updated-before", "2000-01-01")
    assert old.returncode == 0 and '"total": 0' in old.stdout
    nl = run("tables updated today", "--nl")
    assert nl.returncode == 0, nl.stderr
    assert '"updated_after"' in nl.stdout and '"total": 1' in nl.stdout
