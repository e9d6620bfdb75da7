"""When sources disagree (issue 14, item 4): a configurable precedence decides what the asset
shows, a steward's edit is never overwritten by a later run, and an asset two sources describe
stays while either still does (ingestion/assertions.py, ingestion/runner.py). Checked on the
merge itself and end to end, through the ndjson connector, with the real Catalog."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalog import Catalog
from graph_store.errors import InputError
from ingestion.assertions import Assertions, Claim, digests, merge

KEY = "acme/database/pg/wh"
DB = {"type": "Database", "workspace": "acme", "platform": "platform/pg", "qualifiedName": "wh",
      "name": "wh"}
ID = {"id": KEY, "type": "Database", "workspace": "acme"}

Run = Callable[..., Any]


# -- the merge: pure -------------------------------------------------------------------------
def said(**values: Any) -> dict[str, Any]:
    return {**ID, **values}


def claim(precedence: int | None, **values: Any) -> Claim:
    return Claim("other", digests(said(**values)), precedence, values)


def test_a_higher_source_takes_over_a_lower_ones_value() -> None:
    current = {"name": "wh", "description": "from a"}
    a = claim(0, name="wh", description="from a")
    out, kept = merge(said(name="wh", description="from b"), current, None, None,
                      was_ours=False, precedence=1, others=[a])
    assert out["description"] == "from b" and kept == []
    # equal or lower: the other's value stays, reported as kept
    for precedence in (0, -1):
        out, kept = merge(said(name="wh", description="from b"), current, None, None,
                          was_ours=False, precedence=precedence, others=[a])
        assert out["description"] == "from a" and kept == ["description"]


def test_a_person_s_value_stays_against_any_precedence() -> None:
    current = {"name": "wh", "description": "By a steward."}
    a = claim(0, name="wh", description="from a")
    out, kept = merge(said(name="wh", description="from b"), current,
                      digests(said(name="wh", description="from b")), None, was_ours=True,
                      precedence=1_000_000, others=[a])
    assert out["description"] == "By a steward." and kept == ["description"]


def test_a_value_shared_with_a_higher_source_is_not_the_lower_ones_to_change() -> None:
    current = {"name": "wh", "description": "same"}
    last = digests(said(name="wh", description="same"))
    high = claim(5, name="wh", description="same")
    out, kept = merge(said(name="wh", description="changed"), current, last, None,
                      was_ours=True, precedence=0, others=[high])
    assert out["description"] == "same" and kept == ["description"]
    out, kept = merge(said(name="wh", description="changed"), current, last, None,
                      was_ours=True, precedence=5, others=[high])
    assert out["description"] == "changed" and kept == []


def test_a_lower_sources_value_is_not_erased_by_a_source_that_says_nothing() -> None:
    current = {"name": "wh", "description": "from a"}
    a = claim(0, name="wh", description="from a")
    out, kept = merge(said(name="wh"), current, digests(said(name="wh", description="old")),
                      None, was_ours=True, precedence=9, others=[a])
    assert out["description"] == "from a" and kept == []


def test_what_a_withdrawn_source_said_is_nobodys() -> None:
    current = {"name": "wh", "description": "from a"}
    gone = claim(None, name="wh", description="from a")
    out, kept = merge(said(name="wh", description="from b"), current, None, None,
                      was_ours=False, precedence=-5, others=[gone])
    assert out["description"] == "from b" and kept == []
    out, kept = merge(said(name="wh"), current, None, None, was_ours=False, precedence=0,
                      others=[gone])
    assert "description" not in out and kept == []


def test_a_source_that_stops_giving_its_value_hands_the_key_to_the_next_highest() -> None:
    current = {"name": "wh", "description": "from b"}
    low, lower, gone = (claim(3, name="wh", description="from a"),
                        claim(1, name="wh", description="from c"),
                        claim(None, name="wh", description="from d"))
    out, kept = merge(said(name="wh"), current, digests(said(name="wh", description="from b")),
                      None, was_ours=True, precedence=9, others=[lower, gone, low])
    assert out["description"] == "from a" and kept == []
    out, _ = merge(said(name="wh"), current, digests(said(name="wh", description="from b")),
                   None, was_ours=True, precedence=9, others=[gone])
    assert "description" not in out  # nobody still describing it gives one


# -- end to end --------------------------------------------------------------------------------
@pytest.fixture
def run(tmp_path: Path, catalog: Catalog) -> Run:
    """``run("a", precedence=1, description="x")``: source ``ndjson:a.ndjson`` says the
    database with those values (``None``: it no longer has it) and runs; the report."""
    def go(name: str, values: dict[str, Any] | None = None, **extra: Any) -> Any:
        path = tmp_path / f"{name}.ndjson"
        path.write_text("" if values is None else json.dumps({**DB, **values}) + "\n")
        report = catalog.ingestion.run({"connector": "ndjson", "workspace": "acme",
                                        "config": {"path": str(path)}, **extra})
        assert report.ok and report.complete, report.errors
        return report
    return go


def versions(catalog: Catalog) -> int:
    return len(catalog.assets.versions(KEY))


def test_a_higher_source_wins_both_ways_round_and_reruns_write_nothing(
        run: Run, catalog: Catalog) -> None:
    run("a", {"description": "from a", "dataType": "x"})
    b = run("b", {"description": "from b"}, precedence=10)
    asset = catalog.assets.get(KEY)
    assert b.updated == 1 and b.kept_edits == 0
    assert asset["description"] == "from b" and asset["ingestionSource"] == "ndjson:b.ndjson"
    assert asset["dataType"] == "x"  # b says none: a's stays
    settled = versions(catalog)
    a = run("a", {"description": "from a", "dataType": "x"})  # lower: its value is kept against it
    assert a.unchanged == 1 and a.kept_edits == 1
    assert catalog.assets.get(KEY)["description"] == "from b"
    assert run("b", {"description": "from b"}, precedence=10).unchanged == 1
    assert versions(catalog) == settled


def test_a_lower_source_does_not_take_over_a_higher_ones_value(run: Run,
                                                                catalog: Catalog) -> None:
    run("a", {"description": "from a"}, precedence=10)
    b = run("b", {"description": "from b"}, precedence=1)
    assert b.kept_edits == 1 and b.unchanged == 1
    asset = catalog.assets.get(KEY)
    assert asset["description"] == "from a" and asset["ingestionSource"] == "ndjson:a.ndjson"


def test_among_equals_the_first_keeps_it_and_turns_write_no_versions(
        run: Run, catalog: Catalog) -> None:
    run("a", {"description": "from a"})
    assert run("b", {"description": "from b"}).kept_edits == 1
    assert versions(catalog) == 1  # b ran: nothing changed, not even the asset's source
    for _ in range(2):
        assert run("a", {"description": "from a"}).unchanged == 1
        assert run("b", {"description": "from b"}).unchanged == 1
    asset = catalog.assets.get(KEY)
    assert asset["description"] == "from a" and asset["ingestionSource"] == "ndjson:a.ndjson"
    assert versions(catalog) == 1


def test_a_stewards_edit_beats_every_source(run: Run, catalog: Catalog) -> None:
    run("a", {"description": "from a"})
    run("b", {"description": "from b"}, precedence=10)
    catalog.assets.patch(KEY, {"description": "By a steward."}, actor="steward")
    edited = versions(catalog)
    for name, precedence in (("a", 0), ("b", 10), ("c", 1_000_000)):
        report = run(name, {"description": f"from {name}"}, precedence=precedence)
        assert report.kept_edits == 1
        assert catalog.assets.get(KEY)["description"] == "By a steward."
    assert versions(catalog) == edited + 1  # c, the highest, took the asset's name: no more
    assert catalog.assets.get(KEY)["ingestionSource"] == "ndjson:c.ndjson"
    # overwrite_edits still replaces it, when asked
    run("a", {"description": "from a"}, overwrite_edits=True)
    assert catalog.assets.get(KEY)["description"] == "from a"


def test_when_the_higher_source_drops_its_value_the_lower_ones_shows_again(
        run: Run, catalog: Catalog) -> None:
    run("a", {"description": "from a"})
    run("b", {"description": "from b"}, precedence=10)
    assert catalog.assets.get(KEY)["description"] == "from b"
    run("b", {}, precedence=10)  # b still has the database, but no description for it
    assert catalog.assets.get(KEY)["description"] == "from a"
    settled = versions(catalog)
    assert run("a", {"description": "from a"}).unchanged == 1
    assert run("b", {}, precedence=10).unchanged == 1 and versions(catalog) == settled


def test_an_asset_stays_while_one_of_its_sources_still_describes_it(
        run: Run, catalog: Catalog) -> None:
    run("a", {"description": "from a"})
    run("b", {"description": "from b"}, precedence=10)
    left = run("b", None, precedence=10)  # b no longer has it; a still does
    assert left.removed == 0 and catalog.ingestion.exists(KEY)
    assert any("it stays, as ndjson:a.ndjson still describes it" in w for w in left.warnings)
    assert catalog.assets.get(KEY)["ingestionSource"] == "ndjson:a.ndjson"  # handed on
    assert KEY not in catalog.ingestion.produced("ndjson:b.ndjson")
    assert KEY in catalog.ingestion.produced("ndjson:a.ndjson")
    # what b said is nobody's now: a's next run takes it over, then nothing changes
    a = run("a", {"description": "from a"})
    assert a.kept_edits == 0 and catalog.assets.get(KEY)["description"] == "from a"
    settled = versions(catalog)
    assert run("a", {"description": "from a"}).unchanged == 1
    assert run("b", None, precedence=10).removed == 0 and versions(catalog) == settled
    # once a lets go too, it is removed, and what both said is forgotten
    assert run("a", None).removed == 1 and not catalog.ingestion.exists(KEY)
    assert catalog.ingestion.assertions.describing(KEY) == {}
    assert KEY not in catalog.ingestion.produced("ndjson:a.ndjson")


def test_the_last_source_to_run_leaving_does_not_remove_what_another_describes(
        run: Run, catalog: Catalog) -> None:
    run("a", {"description": "from a"})
    run("b", {"description": "from b"})
    assert run("b", None).removed == 0 and catalog.ingestion.exists(KEY)
    assert catalog.assets.get(KEY)["description"] == "from a"
    assert run("a", {"description": "from a"}).unchanged == 1


def test_the_first_source_leaving_leaves_the_asset_to_the_other(run: Run,
                                                                 catalog: Catalog) -> None:
    run("a", {"description": "from a"})
    run("b", {"description": "from b"})  # a keeps the description and the name
    assert run("a", None).removed == 0 and catalog.ingestion.exists(KEY)
    assert catalog.assets.get(KEY)["ingestionSource"] == "ndjson:b.ndjson"
    assert run("b", {"description": "from b"}).kept_edits == 0
    assert catalog.assets.get(KEY)["description"] == "from b"
    assert run("b", None).removed == 1 and not catalog.ingestion.exists(KEY)
    # described again later: created anew
    assert run("a", {"description": "from a"}).added == 1


def test_a_source_that_comes_back_describes_the_asset_again(run: Run,
                                                            catalog: Catalog) -> None:
    run("a", {"description": "from a"})
    run("b", {"description": "from b"}, precedence=10)
    run("b", None, precedence=10)
    run("b", {"description": "from b"}, precedence=10)
    assert catalog.assets.get(KEY)["description"] == "from b"
    assert catalog.ingestion.assertions.describing(KEY) == {"ndjson:a.ndjson": 0,
                                                             "ndjson:b.ndjson": 10}


def test_precedence_is_checked(catalog: Catalog, tmp_path: Path) -> None:
    config, _ = catalog.ingestion.prepare({"connector": "ndjson", "workspace": "acme",
                                           "precedence": -3,
                                           "config": {"path": str(tmp_path / "a.ndjson")}})
    assert config.precedence == -3
    for bad in ("high", 1.5, True, 10**7):
        with pytest.raises(InputError, match="precedence"):
            catalog.ingestion.prepare({"connector": "ndjson", "workspace": "acme",
                                       "precedence": bad,
                                       "config": {"path": str(tmp_path / "a.ndjson")}})


def test_a_file_from_before_precedence_gains_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE asserted (source TEXT NOT NULL, asset TEXT NOT NULL, "
                   "digests TEXT NOT NULL, PRIMARY KEY (source, asset)) WITHOUT ROWID")
        db.execute("INSERT INTO asserted VALUES ('sql:x', ?, '{}')", (KEY,))
    db.close()
    assertions = Assertions(path)
    try:
        assert assertions.describing(KEY) == {"sql:x": 0}
        assert assertions.described("sql:x") == {KEY}
        assertions.withdraw("sql:x", KEY)
        assert assertions.describing(KEY) == {}
        assert assertions.others("sql:y", [KEY])[KEY] == [Claim("sql:x", {}, None, {})]
    finally:
        assertions.close()
