"""The files connector (issue 14): CSV, JSON Lines and Parquet files in a folder tree, written
here with DuckDB, with schemas inferred by DuckDB, sizes, row counts and hive partitions; re-runs
change nothing, a deleted file is removed, and bad configs or paths write nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from catalog import Catalog
from graph_store.errors import InputError
from graph_store.keys import encode_segment

BYTE_SIZE = "http://www.w3.org/ns/dcat#byteSize"
FORMAT = "http://purl.org/dc/terms/format"


def make_lake(root: Path) -> Path:
    """lake/ sales/orders.csv (5 rows), sales/people.jsonl (3), metrics.parquet (4, id
    REQUIRED), events/ year=2023|2024 / month=01|02 / *.parquet (8 rows in 4 partitions),
    and leftovers that are no datasets (_SUCCESS, .hidden/, notes.txt)."""
    lake = root / "lake"
    (lake / "sales").mkdir(parents=True)
    (lake / "sales" / "orders.csv").write_text(
        "id,customer,amount,ordered_on\n1,ana,10.5,2024-01-02\n2,bo,3.25,2024-01-03\n"
        "3,ana,,2024-02-01\n4,cy,7.0,2024-02-11\n5,bo,1.5,2024-03-05\n")
    (lake / "sales" / "people.jsonl").write_text(
        '{"name": "ana", "age": 31, "tags": ["a", "b"]}\n{"name": "bo", "age": null, '
        '"tags": []}\n{"name": "cy", "age": 45, "tags": ["c"]}\n')
    with duckdb.connect() as db:
        db.execute("CREATE TABLE m (id INTEGER NOT NULL, score DOUBLE)")
        db.execute("INSERT INTO m VALUES (1, 0.5), (2, NULL), (3, 1.5), (4, 2.0)")
        db.execute(f"COPY m TO '{lake / 'metrics.parquet'}' (FORMAT parquet)")
        db.execute("CREATE TABLE e AS SELECT i AS id, 'x' || i AS kind, 2023 + i % 2 AS year, "
                   "lpad((i // 2 % 2 + 1)::VARCHAR, 2, '0') AS month FROM range(8) r(i)")
        db.execute(f"COPY e TO '{lake / 'events'}' (FORMAT parquet, PARTITION_BY (year, month))")
    (lake / "events" / "_SUCCESS").write_text("")
    (lake / ".hidden").mkdir()
    (lake / ".hidden" / "secret.csv").write_text("a\n1\n")
    (lake / "notes.txt").write_text("not a dataset")
    return lake


def run_config(lake: Path | str, **extra: Any) -> dict[str, Any]:
    return {"connector": "files", "workspace": "acme", "config": {"path": str(lake), **extra}}


def table(name: str) -> str:
    return f"acme/table/file/{encode_segment('lake.default.' + name)}"


def column(table_name: str, col: str) -> str:
    return f"acme/column/file/{encode_segment(f'lake.default.{table_name}.{col}')}"


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return make_lake(tmp_path)


def test_files_arrive_with_schemas_sizes_rows_and_partitions(lake: Path,
                                                             catalog: Catalog) -> None:
    report = catalog.ingestion.run(run_config(lake))
    assert report.ok and not report.warnings, report.to_json()
    # database, schema, 4 tables; 4 + 3 + 2 + 4 columns
    assert (report.added, report.updated, report.removed) == (19, 0, 0), report.to_json()
    assert report.source == "files:file/lake"
    assert catalog.assets.get("acme/database/file/lake")["type"] == "Database"
    assert catalog.assets.get("acme/schema/file/lake.default")["partOf"] == \
        "acme/database/file/lake"

    orders = catalog.assets.get(table("sales/orders.csv"))
    assert orders["type"] == "Table" and orders["name"] == "orders"
    assert orders["partOf"] == "acme/schema/file/lake.default"
    assert orders["rowCount"] == 5
    size = (lake / "sales" / "orders.csv").stat().st_size
    assert orders[BYTE_SIZE] == [{"@value": str(size),
                                  "@type": "http://www.w3.org/2001/XMLSchema#integer"}]
    assert orders[FORMAT] == [{"@value": "csv"}]
    cols = {n: catalog.assets.get(column("sales/orders.csv", n))
            for n in ("id", "customer", "amount", "ordered_on")}
    assert [c["position"] for c in cols.values()] == [1, 2, 3, 4]
    assert cols["id"]["dataType"] == "BIGINT" and cols["customer"]["dataType"] == "VARCHAR"
    assert cols["amount"]["dataType"] == "DOUBLE" and cols["ordered_on"]["dataType"] == "DATE"
    assert all(c["nullable"] is True for c in cols.values())  # CSV declares nothing

    people = catalog.assets.get(table("sales/people.jsonl"))
    assert people["rowCount"] == 3 and people[FORMAT] == [{"@value": "json"}]
    assert catalog.assets.get(column("sales/people.jsonl", "tags"))["dataType"] == "VARCHAR[]"

    metrics = catalog.assets.get(table("metrics.parquet"))
    assert metrics["rowCount"] == 4 and metrics[FORMAT] == [{"@value": "parquet"}]
    assert catalog.assets.get(column("metrics.parquet", "id"))["nullable"] is False  # REQUIRED
    assert catalog.assets.get(column("metrics.parquet", "score"))["nullable"] is True

    # one Table for the partitioned folder, not one per file
    events = catalog.assets.get(table("events"))
    files = sorted((lake / "events").rglob("*.parquet"))
    assert len(files) == 4
    assert events["name"] == "events" and events["rowCount"] == 8
    assert events[BYTE_SIZE][0]["@value"] == str(sum(f.stat().st_size for f in files))
    facet = json.loads(events["facets"])["partitions"]
    assert facet["keys"] == ["year", "month"] and facet["count"] == 4 and facet["files"] == 4
    assert facet["values"] == {"year": ["2023", "2024"], "month": ["01", "02"]}
    year = catalog.assets.get(column("events", "year"))
    assert json.loads(year["facets"]) == {"partitionKey": True}
    assert "facets" not in catalog.assets.get(column("events", "kind"))
    assert {catalog.assets.get(column("events", c))["position"]
            for c in ("id", "kind", "year", "month")} == {1, 2, 3, 4}
    # leftovers are no datasets
    ids = catalog.ingestion.produced("files:file/lake")
    assert not any("secret" in i or "notes" in i or "SUCCESS" in i for i in ids)
    assert len(ids) == 19


def test_rerun_changes_nothing_and_a_deleted_file_is_removed(lake: Path,
                                                             catalog: Catalog) -> None:
    first = catalog.ingestion.run(run_config(lake))
    seq = catalog.journal.applied_seq
    again = catalog.ingestion.run(run_config(lake))
    assert (again.added, again.updated, again.removed, again.failed) == (0, 0, 0, 0)
    assert again.unchanged == first.added == 19
    assert catalog.journal.applied_seq == seq  # not one changeset
    assert [v.version for v in catalog.assets.versions(table("events"))] == [1]

    (lake / "sales" / "people.jsonl").unlink()
    shutil.rmtree(lake / "events" / "year=2024")
    report = catalog.ingestion.run(run_config(lake))
    # people and its 3 columns removed; events updated (fewer rows, partitions, bytes)
    assert (report.removed, report.updated, report.added) == (4, 1, 0), report.to_json()
    with pytest.raises(Exception, match="deleted"):
        catalog.assets.get(table("sales/people.jsonl"))
    assert catalog.assets.get(table("sales/people.jsonl"), version=1)["name"] == "people"
    events = catalog.assets.get(table("events"))
    assert events["rowCount"] == 4
    assert json.loads(events["facets"])["partitions"]["values"]["year"] == ["2023"]


def test_what_people_add_is_kept(lake: Path, catalog: Catalog) -> None:
    assert catalog.ingestion.run(run_config(lake)).ok
    catalog.assets.upsert_many([{"id": "tag/gold", "type": "Tag", "name": "gold"}], actor="ana")
    catalog.assets.patch(table("metrics.parquet"),
                         {"tags": ["tag/gold"], "description": "Daily scores"}, actor="ana")
    report = catalog.ingestion.run(run_config(lake))
    assert report.unchanged == 19 and report.updated == 0, report.to_json()
    doc = catalog.assets.get(table("metrics.parquet"))
    assert doc["tags"] == ["tag/gold"] and doc["description"] == "Daily scores"


def test_config_choices(lake: Path, tmp_path: Path, catalog: Catalog) -> None:
    """include/exclude globs, formats, database and platform names, a file:// URL, and no row
    counts."""
    config = run_config(lake, include=["sales/*", "events/*"], exclude=["*.jsonl"],
                        database="shop", platform="s3", row_counts=False)
    config["config"]["path"] = lake.as_uri()
    report = catalog.ingestion.run(config)
    assert report.ok and report.source == "files:s3/shop", report.to_json()
    assert report.added == 2 + 2 + 4 + 4  # orders and events with their columns
    orders = catalog.assets.get("acme/table/s3/shop.default.sales%2Forders.csv")
    assert "rowCount" not in orders and orders[FORMAT] == [{"@value": "csv"}]
    only_parquet = catalog.ingestion.run(run_config(lake, formats=["parquet"]))
    assert only_parquet.added == 2 + 2 + 2 + 4, only_parquet.to_json()


def test_an_unreadable_file_arrives_without_columns_with_a_warning(lake: Path,
                                                                   catalog: Catalog) -> None:
    (lake / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    report = catalog.ingestion.run(run_config(lake))
    assert report.ok and report.added == 20, report.to_json()
    assert any("broken.parquet" in w and "without columns" in w for w in report.warnings)
    broken = catalog.assets.get(table("broken.parquet"))
    assert "rowCount" not in broken and broken[BYTE_SIZE][0]["@value"] == "24"


def test_partitioned_csv_with_added_columns_and_stray_formats(tmp_path: Path,
                                                              catalog: Catalog) -> None:
    """CSV partitions written at different times (a column added later) are one table with
    every column; a Parquet file among them is left out with a warning."""
    lake = tmp_path / "lake"
    for day, text in (("2024-01-01", "id,kind\n1,a\n2,b\n"),
                      ("2024-01-02", "id,kind,amount\n3,a,1.5\n"),
                      ("2024-01-03", "id,kind,amount\n4,c,2.5\n5,c,\n")):
        (lake / "logs" / f"day={day}").mkdir(parents=True)
        (lake / "logs" / f"day={day}" / "part-0.csv").write_text(text)
    with duckdb.connect() as db:
        db.execute(f"COPY (SELECT 1 AS id) TO '{lake / 'logs' / 'day=2024-01-03' / 'x.parquet'}' "
                   "(FORMAT parquet)")
    report = catalog.ingestion.run(run_config(lake))
    assert report.ok and report.added == 2 + 1 + 4, report.to_json()
    assert any("logs" in w and "1 parquet" in w for w in report.warnings), report.warnings
    logs = catalog.assets.get(table("logs"))
    assert logs["rowCount"] == 5 and logs[FORMAT] == [{"@value": "csv"}]
    facet = json.loads(logs["facets"])["partitions"]
    assert (facet["keys"], facet["count"], facet["files"]) == (["day"], 3, 3)
    assert catalog.assets.get(column("logs", "amount"))["dataType"] == "DOUBLE"
    assert catalog.assets.get(column("logs", "day"))["dataType"] == "DATE"


def test_bad_configs_and_paths_write_nothing(lake: Path, tmp_path: Path,
                                            catalog: Catalog) -> None:
    def refused(config: dict[str, Any], *needles: str) -> None:
        seq = catalog.journal.applied_seq
        with pytest.raises(InputError) as e:
            catalog.ingestion.run(config)
        for needle in needles:
            assert needle in e.value.detail, e.value.detail
        assert catalog.journal.applied_seq == seq

    refused(run_config(tmp_path / "nope"), "config.path", "there is no")
    refused(run_config(lake / "metrics.parquet"), "is a file, not a folder")
    refused(run_config(lake, formats=["xlsx"]), "config.formats")
    refused(run_config(lake, sample_rows=0), "config.sample_rows")
    refused(run_config(lake, patth="x"), "config.patth: unknown field")
    refused(run_config("s3://bucket/lake"), "config.path", "mount an object store")
    refused(run_config("file://otherhost/lake"), "config.path", "names this machine")
    refused({"connector": "files", "workspace": "acme", "config": {}}, "config.path")
