"""Who decides a value (issue 14, item 4): a source decides what it said last and nobody changed
since; what a steward or another source set stays; a source fills what is empty
(ingestion/assertions.py), checked on the merge itself and end to end through the SQL
connector with a database whose comments change."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from catalog import Catalog
from ingestion.assertions import digest, digests, merge

ID = {"id": "acme/table/pg/db.s.t", "type": "Table", "workspace": "acme"}
OWNS = frozenset({"name", "description", "dataType"})


def said(**values: Any) -> dict[str, Any]:
    return {**ID, **values}


def test_a_new_asset_takes_what_the_source_says() -> None:
    out, kept = merge(said(name="t", description="d"), {}, None, OWNS, was_ours=False)
    assert out == said(name="t", description="d") and kept == []


def test_the_source_changes_its_own_values_and_keeps_others() -> None:
    last = digests(said(name="t", description="old"))
    current = {"name": "t", "description": "old", "owners": ["user/ana"]}
    out, kept = merge(said(name="t", description="new"), current, last, OWNS, was_ours=True)
    assert out == said(name="t", description="new", owners=["user/ana"]) and kept == []
    # the source stops saying it: gone
    out, _ = merge(said(name="t"), current, last, OWNS, was_ours=True)
    assert "description" not in out


def test_a_stewards_edit_or_removal_stays_until_handed_back() -> None:
    last = digests(said(name="t", description="db comment"))
    edited = {"name": "t", "description": "Written by a steward."}
    out, kept = merge(said(name="t", description="new comment"), edited, last, OWNS,
                      was_ours=True)
    assert out["description"] == "Written by a steward." and kept == ["description"]
    removed = {"name": "t"}
    out, kept = merge(said(name="t", description="db comment"), removed, last, OWNS,
                      was_ours=True)
    assert "description" not in out and kept == ["description"]
    # set back to what the source last said: the source decides again
    handed_back = {"name": "t", "description": "db comment"}
    out, kept = merge(said(name="t", description="new comment"), handed_back, last, OWNS,
                      was_ours=True)
    assert out["description"] == "new comment" and kept == []


def test_a_second_source_fills_gaps_and_overrides_nothing() -> None:
    current = {"name": "t", "description": "From the first source.", "dataType": "int"}
    out, kept = merge(said(name="t", description="From dbt.", tags=["tag/gold"]), current,
                      None, OWNS, was_ours=False)
    assert out["description"] == "From the first source." and out["tags"] == ["tag/gold"]
    assert out["dataType"] == "int" and kept == ["description"]


def test_before_assertions_were_kept_the_sources_own_assets_are_its_own() -> None:
    current = {"name": "t", "description": "old"}
    out, kept = merge(said(name="t", description="new"), current, None, OWNS, was_ours=True)
    assert out["description"] == "new" and kept == []


def test_without_owns_the_record_is_the_source_and_others_keys_stay() -> None:
    last = digests(said(name="t", dataType="int"))
    current = {"name": "t", "dataType": "int", "description": "By hand."}
    out, kept = merge(said(name="t"), current, last, None, was_ours=True)
    assert out == said(name="t", description="By hand.") and kept == []  # dataType dropped


def test_lists_are_sets() -> None:
    assert digest(["user/b", "user/a"]) == digest(["user/a", "user/b"])
    assert digest({"x": [2, 1]}) == digest({"x": [1, 2]}) != digest({"x": [1]})


def test_database_comments_flow_in_until_a_steward_edits_them(tmp_path: Path,
                                                              catalog: Catalog) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
    config = {"connector": "sql", "workspace": "acme", "config": {"url": f"sqlite:///{db}"}}
    assert catalog.ingestion.run(config).added == 5
    key = "acme/column/sqlite/shop.main.orders.total"
    with sqlite3.connect(db) as c:  # the database changes what it says: it flows in
        c.execute("ALTER TABLE orders RENAME COLUMN total TO amount")
        c.execute("ALTER TABLE orders ADD COLUMN total NUMERIC")
    assert catalog.ingestion.run(config).updated == 1  # total's type: REAL -> NUMERIC
    assert catalog.assets.get(key)["dataType"] == "NUMERIC"
    catalog.assets.patch(key, {"dataType": "DECIMAL(12,2)"}, actor="steward")
    with sqlite3.connect(db) as c:
        c.execute("ALTER TABLE orders DROP COLUMN total")
        c.execute("ALTER TABLE orders ADD COLUMN total TEXT")
    report = catalog.ingestion.run(config)
    assert report.kept_edits == 1 and catalog.assets.get(key)["dataType"] == "DECIMAL(12,2)"
    assert catalog.assets.get("acme/column/sqlite/shop.main.orders.amount")["dataType"] == "REAL"
