"""The OpenMetadata connector on OpenMetadata's own sample data
(../shared/data/openmetadata/sample_data, README.md there): what maps, what is reported as kept
out, re-runs, removals and bad input (issue 14, "Migration from other catalogs"). Expected
counts were read off the JSON files separately (plain json), not computed by the connector."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from catalog import Catalog
from graph_store.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmetadata" / "sample_data"
T = "acme/table/bigquery/ecommerce_db.shopify."
C = "acme/column/bigquery/ecommerce_db.shopify."


def run(cat: Catalog, path: Path, **config: Any) -> Any:
    return cat.ingestion.run({"connector": "openmetadata", "workspace": "acme",
                              "config": {"path": str(path), **config}})


def produced(cat: Catalog, source: str) -> dict[str, dict[str, Any]]:
    return {k: cat.assets.get(k) for k in cat.ingestion.produced(source)}


@pytest.fixture
def imported(catalog: Catalog) -> tuple[Catalog, Any, dict[str, dict[str, Any]]]:
    report = run(catalog, DATA)
    assert report.ok and report.failed == 0, report.to_json()
    return catalog, report, produced(catalog, report.source)


def test_sample_data_arrives(imported: tuple[Catalog, Any, dict[str, dict[str, Any]]]) -> None:
    catalog, report, assets = imported
    kinds = Counter(a["type"] for a in assets.values())
    # datasets/: 1 database, 1 schema, 16 tables, 219 columns (nested children included);
    # glue/: 1, 1, 2 tables, 4 columns; 8 pipelines + 16 tasks, 7 runs; 12 dashboards, 12
    # charts; 2 models with 2 features; 100 users, 15 teams; the SKOS thesaurus's 66 concepts
    assert kinds == {"Database": 2, "Schema": 2, "Table": 18, "Column": 223, "Pipeline": 24,
                     "PipelineRun": 7, "Dashboard": 12, "Chart": 12, "MLModel": 2,
                     "Feature": 2, "User": 100, "Team": 15, "Glossary": 1,
                     "GlossaryTerm": 66}
    assert report.added == sum(kinds.values()) == 486

    address = assets[T + "dim_address"]
    assert address["description"].startswith("This dimension table contains the billing")
    assert address["partOf"] == "acme/schema/bigquery/ecommerce_db.shopify"
    assert address["rowCount"] == 14567  # profiler/tableProfile.json's first profile
    assert catalog.assets.get("acme/schema/bigquery/ecommerce_db.shopify")["partOf"] == \
        "acme/database/bigquery/ecommerce_db"
    # names with dots and a slash, quoted in OpenMetadata's FQNs
    assert assets[T + "dim.api%2Fclient"]["name"] == "dim.api/client"
    assert assets[T + "dim.product.variant"]["name"] == "dim.product.variant"

    first = assets[C + "dim_address.first_name"]
    assert (first["dataType"], first["position"], first["description"]) == (
        "VARCHAR(100)", 3, "First name of the customer.")
    assert (first["nullFraction"], first["distinctCount"]) == ("0.001", 5)
    columns = [a for a in assets.values() if a["type"] == "Column"]
    assert sum(1 for a in columns if a.get("description")) == 169 + 4
    # column constraint PRIMARY_KEY (10) and the two tables' PRIMARY_KEY (address_id, shop_id)
    assert sum(1 for a in columns if a.get("primaryKey")) == 14
    assert assets[C + "dim_address.shop_id"]["primaryKey"] is True
    assert assets[C + "dim_address.shop_id"]["nullable"] is False
    assert sum(1 for a in columns if a.get("nullable") is True) == 29  # constraint NULL
    child = assets[C + "dim_customer.customer.username"]
    assert child["partOf"] == T + "dim_customer" and child["dataType"].startswith("VARCHAR(")

    # the 5 lineage edges; the one query building dim_address as its transformation
    edges = {(k.removeprefix(T), u.removeprefix(T)) for k, a in assets.items()
             if a["type"] == "Table" for u in a.get("derivedFrom", [])}
    assert edges == {("dim_address", "raw_customer"), ("dim.product", "raw_order"),
                     ("dim.product", "raw_customer"), ("dim.product.variant", "raw_order"),
                     ("dim.product.variant", "raw_customer")}
    assert address["transformation"] == "select * from ecommerce_db.shopify.raw_customer"
    assert "transformation" not in assets[T + "dim.product"]  # two different queries

    etl = assets["acme/pipeline/airflow/dim_product_etl"]
    assert sorted(etl["consumes"]) == [T + "raw_customer", T + "raw_order"]
    assert sorted(etl["produces"]) == [T + "dim.product", T + "dim.product.variant"]
    task = assets["acme/pipeline/airflow/dim_address_etl.dim_address_task"]
    assert (task["partOf"], task["name"]) == ("acme/pipeline/airflow/dim_address_etl",
                                              "dim_address Task")
    runs = [a for a in assets.values() if a["type"] == "PipelineRun"]
    assert Counter(r["status"] for r in runs) == {"failed": 3, "queued": 3, "success": 1}
    latest = assets["acme/run/airflow/dim_address_etl.1649582444000"]
    assert (latest["runOf"], latest["startedAt"], latest["status"]) == (
        "acme/pipeline/airflow/dim_address_etl", "2022-04-10T09:20:44Z", "failed")

    # charts listed by name or by chart id (chart 101 is chart id 114 of dashboard 10)
    assert assets["acme/chart/superset/101"]["partOf"] == "acme/dashboard/superset/10"
    assert sum(1 for a in assets.values() if a["type"] == "Chart" and a.get("partOf")) == 12
    model = assets["acme/model/mlflow/eta_predictions"]
    assert sorted(model["consumes"]) == [T + "fact_sale", T + "raw_customer"]
    assert assets["acme/feature/mlflow/eta_predictions.persona"]["derivedFrom"] == [
        C + "raw_customer.membership", C + "raw_customer.platform"]
    assert assets["acme/dashboard/superset/eta_predictions_performance"]["consumes"] == [
        "acme/model/mlflow/eta_predictions"]

    aaron = assets["user/aaron_johnson0"]
    assert aaron["name"] == "Aaron Johnson" and "memberOf" not in aaron
    assert assets["team/Merger%20%26%20Acquisitions"]["name"] == "Merger & Acquisitions"
    assert assets["glossary/hobbies-SKOS/air_sports"]["partOf"] == "glossary/hobbies-SKOS"


def test_the_report_counts_what_maps_what_is_kept_and_what_is_not(
        imported: tuple[Catalog, Any, dict[str, dict[str, Any]]]) -> None:
    _, report, assets = imported
    assert len(report.warnings) == 3, report.warnings  # mapped, kept, not imported
    mapped, kept, dropped = report.warnings
    for part in ("table 18", "column 223", "lineage edge 5", "pipeline 8", "task 16",
                 "pipelineStatus 7", "user 100", "team 15", "thesaurus concept 66"):
        assert part in mapped, mapped
    assert kept.startswith("OpenMetadata kept as JSON in facets.openmetadata (no term in the "
                           "ontology): ")
    for part in ("user.teams 100", "user.email 100", "table.joins 15", "table.usageSummary 16",
                 "task.downstreamTasks 8", "mlModel.algorithm 2", "skos.broader 63",
                 "team.parent 12"):
        assert part in kept, kept
    for part in ("topics (no Topic class) 10", "storage locations (no Location class) 3",
                 "tasks.json tasks of no pipeline 9", "test suites (data-quality checks are not mapped yet)",
                 "table.sampleData (data values, not metadata) 16",
                 "dbt/ (dbt artifacts: read them with the dbt connector)"):
        assert part in dropped, dropped

    aaron = json.loads(assets["user/aaron_johnson0"]["facets"])["openmetadata"]
    assert (aaron["teams"], aaron["roles"], aaron["email"]) == (
        "Sales", ["DataSteward"], "aaron_johnson0@gmail.com")
    joins = json.loads(assets[T + "dim_address"]["facets"])["openmetadata"]["joins"]
    assert joins["columnJoins"][0]["columnName"] == "shop_id"
    model = json.loads(assets["acme/model/mlflow/eta_predictions"]["facets"])["openmetadata"]
    assert (model["algorithm"], model["target"]) == ("Neural Network", "ETA_time")
    assert "sampleData" not in assets[T + "dim_address"]["facets"]


def test_a_rerun_changes_nothing(
        imported: tuple[Catalog, Any, dict[str, dict[str, Any]]]) -> None:
    catalog, first, _ = imported
    seq = catalog.journal.applied_seq
    again = run(catalog, DATA)
    assert (again.added, again.updated, again.removed, again.failed) == (0, 0, 0, 0)
    assert again.unchanged == first.added
    assert catalog.journal.applied_seq == seq  # not one changeset


def test_entities_gone_from_the_export_are_removed(tmp_path: Path, catalog: Catalog) -> None:
    folder = tmp_path / "sample_data"
    shutil.copytree(DATA, folder)
    assert run(catalog, folder).added == 486
    tables_file = folder / "datasets" / "tables.json"
    tables = json.loads(tables_file.read_text())
    tables["tables"] = [t for t in tables["tables"] if t["name"] != "fact_session"]
    tables_file.write_text(json.dumps(tables))
    users_file = folder / "users" / "users.json"
    users = json.loads(users_file.read_text())
    users["users"] = [u for u in users["users"] if u["name"] != "aaron_johnson0"]
    users_file.write_text(json.dumps(users))
    report = run(catalog, folder)
    # fact_session and its 31 columns, the user
    assert (report.removed, report.added, report.failed) == (33, 0, 0), report.to_json()
    with pytest.raises(Exception, match="deleted"):
        catalog.assets.get(T + "fact_session")
    with pytest.raises(Exception, match="deleted"):
        catalog.assets.get("user/aaron_johnson0")
    assert catalog.assets.get(T + "fact_session", version=1)["name"] == "fact_session"


def test_an_import_and_a_sql_run_describe_the_same_assets(tmp_path: Path,
                                                          catalog: Catalog) -> None:
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount NUMERIC(12,2))")
    folder = tmp_path / "export" / "datasets"
    folder.mkdir(parents=True)
    (folder / "service.json").write_text(json.dumps({"serviceName": "shop_prod",
                                                     "type": "SQLite"}))
    (folder / "database.json").write_text(json.dumps({"name": "shop"}))
    (folder / "database_schema.json").write_text(json.dumps({"name": "main"}))
    (folder / "tables.json").write_text(json.dumps({"tables": [{
        "name": "orders", "description": "Orders, one per row", "owner": {
            "type": "user", "name": "ana"},
        "columns": [{"name": "id", "dataType": "INTEGER", "constraint": "PRIMARY_KEY"}]}]}))
    report = run(catalog, tmp_path / "export")
    assert report.added == 5  # user, database, schema, table, column
    orders = catalog.assets.get("acme/table/sqlite/shop.main.orders")
    assert orders["owners"] == ["user/ana"]
    sql = catalog.ingestion.run({"connector": "sql", "workspace": "acme",
                                 "config": {"url": f"sqlite:///{tmp_path / 'shop.db'}"}})
    assert (sql.added, sql.failed) == (1, 0), sql.to_json()  # only amount is new
    assert catalog.assets.get("acme/table/sqlite/shop.main.orders")["owners"] == ["user/ana"]


def refused(cat: Catalog, path: Path, *needles: str) -> None:
    seq = cat.journal.applied_seq
    with pytest.raises(InputError) as e:
        run(cat, path)
    for needle in needles:
        assert needle in e.value.detail, e.value.detail
    assert cat.journal.applied_seq == seq, "nothing may be written"


def test_bad_input_is_refused_and_nothing_is_written(tmp_path: Path, catalog: Catalog) -> None:
    folder = tmp_path / "sample_data"
    shutil.copytree(DATA, folder)
    tables = folder / "datasets" / "tables.json"
    text = tables.read_text()
    tables.write_text(text[: len(text) // 2])
    refused(catalog, folder, "datasets/tables.json is not valid JSON")
    tables.write_text(json.dumps([{"name": "orders"}]))
    refused(catalog, folder, "datasets/tables.json: expected an object with a list 'tables'")
    tables.write_text(json.dumps({"tables": [{"name": "orders", "columns": "id, amount"}]}))
    refused(catalog, folder, "a value of an unexpected shape")
    tables.write_text(text)
    (folder / "users" / "users.json").write_text(json.dumps({"users": ["ana"]}))
    refused(catalog, folder, "users/users.json: entry 1 is not a JSON object")
    refused(catalog, DATA / "datasets" / "tables.json", "is not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(catalog, empty, "holds no OpenMetadata sample data")
    with pytest.raises(InputError, match=r"config\.nope: unknown field"):
        catalog.ingestion.run({"connector": "openmetadata", "workspace": "acme",
                               "config": {"path": str(DATA), "nope": 1}})
