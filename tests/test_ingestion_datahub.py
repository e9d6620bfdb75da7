"""The DataHub connector on DataHub's own sample files (../shared/data/datahub, README.md
there): what maps, what is reported as kept out, re-runs, removals and bad input (issue 14,
"Migration from other catalogs"). Expected counts were read off the JSON and YAML files
separately (jq / plain json), not computed by the connector's code."""

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

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datahub"
BOOTSTRAP = DATA / "bootstrap_mce.json"


def run(cat: Catalog, path: Path, batch_size: int = 500, **config: Any) -> Any:
    return cat.ingestion.run({"connector": "datahub", "workspace": "acme",
                              "batch_size": batch_size,
                              "config": {"path": str(path), **config}})


def produced(cat: Catalog, source: str) -> dict[str, dict[str, Any]]:
    return {k: cat.assets.get(k) for k in cat.ingestion.produced(source)}


def test_bootstrap_entities_arrive_with_lineage_owners_tags_and_glossary(
        catalog: Catalog) -> None:
    report = run(catalog, BOOTSTRAP)
    assert report.ok and (report.added, report.failed) == (90, 0), report.to_json()
    assets = produced(catalog, report.source)
    kinds = Counter(a["type"] for a in assets.values())
    # 7 datasets with 28 schema fields; their databases and schemas (4 made from names: hdfs,
    # hive, kafka, s3 "default", 1 from the container MCPs); 1 flow + 2 jobs; 1 dashboard, 2
    # charts; 1 model, 20 features + 7 primary keys; 2 users, 2 groups, 2 tags + the model's
    # "Sample", 1 glossary node with 3 terms
    assert kinds == {"Table": 7, "Column": 28, "Database": 5, "Schema": 5, "Pipeline": 3,
                     "Dashboard": 1, "Chart": 2, "MLModel": 1, "Feature": 27, "User": 2,
                     "Team": 2, "Tag": 3, "Glossary": 1, "GlossaryTerm": 3}

    events = assets["acme/table/hive/logging_events"]
    assert events["description"] == "table where each row represents a single log event"
    assert events["partOf"] == "acme/schema/hive/default.default"
    assert set(events["owners"]) == {"user/jdoe", "user/datahub"}
    hive = assets["acme/table/hive/SampleHiveDataset"]  # in the container MCPs' schema
    assert hive["partOf"] == "acme/schema/hive/datahub_db.datahub_schema"
    assert hive["rowCount"] == 3500  # the later of its two profiles
    assert hive["tags"] == ["tag/Legacy"]
    assert assets["acme/schema/hive/datahub_db.datahub_schema"]["description"] == \
        "The Root DataHub Schema"

    # the 7 upstream edges of the six UpstreamLineage aspects; COPY also as copiedFrom
    edges = {(k.split("/", 3)[3], up.split("/", 3)[3]) for k, a in assets.items()
             if a["type"] == "Table" for up in a.get("derivedFrom", [])}
    assert edges == {("SampleHdfsDataset", "SampleKafkaDataset"),
                     ("SampleHiveDataset", "SampleHdfsDataset"),
                     ("logging_events", "SampleHiveDataset"),
                     ("fct_users_created", "logging_events"),
                     ("fct_users_deleted", "logging_events"),
                     ("fct_users_deleted", "fct_users_created"),
                     ("project%2Froot%2Fevents%2Flogging_events_bckp", "logging_events")}
    backup = assets["acme/table/s3/project%2Froot%2Fevents%2Flogging_events_bckp"]
    assert backup["copiedFrom"] == ["acme/table/hive/logging_events"]
    assert backup["name"] == "logging_events_bckp"

    # columns: v2 field paths shortened, native types, descriptions, keys, tags, column lineage
    user_name = assets["acme/column/hive/fct_users_created.user_name"]
    assert user_name["description"] == "Name of the user who signed up"
    assert user_name["derivedFrom"] == ["acme/column/hive/logging_events.event_data"]
    kafka_foo = assets["acme/column/kafka/SampleKafkaDataset.field_foo_2"]
    assert (kafka_foo["dataType"], kafka_foo["nullable"], kafka_foo["position"],
            kafka_foo["tags"]) == ("varchar(100)", False, 1, ["tag/NeedsDocumentation"])
    assert assets["acme/column/hdfs/SampleHdfsDataset.shipment_info"]["tags"] == ["tag/Legacy"]
    assert assets["acme/column/hive/fct_users_deleted.user_name"]["primaryKey"] is True
    assert assets["acme/column/hive/fct_users_created.user_id"]["references"] == \
        ["acme/column/hive/fct_users_deleted.user_id"]
    described = [a for a in assets.values() if a["type"] == "Column" and a.get("description")]
    assert len(described) == 26  # the two "browser" fields have none

    job = assets["acme/pipeline/airflow/dag_abc.task_123"]
    assert (job["name"], job["partOf"], job["consumes"], job["produces"], job["owners"]) == (
        "User Creations", "acme/pipeline/airflow/dag_abc", ["acme/table/hive/logging_events"],
        ["acme/table/hive/fct_users_created"], ["user/datahub"])
    assert assets["acme/dashboard/looker/baz"]["owners"] == ["team/bfoo"]
    chart = assets["acme/chart/looker/baz1"]
    assert (chart["partOf"], chart["consumes"]) == (
        "acme/dashboard/looker/baz", ["acme/table/kafka/SampleKafkaDataset"])
    feature = assets["acme/feature/feast/user_features.user_id"]
    assert feature["derivedFrom"] == ["acme/table/hive/fct_users_created"]
    assert assets["user/jdoe"]["name"] == "John Doe"
    term = assets["glossary/ClientsAndAccounts/CustomerAccount"]
    assert term["partOf"] == "glossary/ClientsAndAccounts" and term["owners"] == ["user/jdoe"]

    # lineage is walkable as the lineage service and SPARQL see it
    rows = catalog.sparql.query(
        "PREFIX semcat: <https://w3id.org/semcat#> SELECT (COUNT(*) AS ?n) WHERE "
        "{ ?t a semcat:Table ; semcat:derivedFrom ?u . ?u a semcat:Table }").rows()
    assert int(rows[0]["n"].value) == 7  # type: ignore[union-attr]


def test_the_report_counts_what_maps_what_is_kept_and_what_is_not(catalog: Catalog) -> None:
    report = run(catalog, BOOTSTRAP)
    lines = report.warnings
    assert len(lines) == 4, lines  # a summary, not a line per item
    mapped, kept, dropped, dangling = lines
    assert mapped.startswith("DataHub mapped: ")
    for part in ("schemaField 28", "schemaMetadata 7", "upstreamLineage 6", "ownership 18",
                 "fineGrainedLineage 1", "glossaryTermInfo 3", "mlFeatureProperties 20"):
        assert part in mapped, mapped
    assert kept.startswith("DataHub kept as JSON in facets.datahub (no term in the ontology): ")
    for part in ("datasetProperties.customProperties 5", "dataset.institutionalMemory 6",
                 "corpUserInfo.email 2", "corpGroupInfo.members 2", "mlModel.intendedUse 1",
                 "glossaryTermInfo.sourceUrl 3", "mlFeatureProperties.dataType 20"):
        assert part in kept, kept
    for part in ("entity assertion (data-quality checks are not mapped yet) 1",
                 "entity post (announcements) 3", "entity query (no query class) 1",
                 "entity dataPlatform",
                 "dataset.datasetUsageStatistics: usage statistics (time series) 1",
                 "entity mlFeatureTable (no feature-table class; its features are imported) 5"):
        assert part in dropped, dropped
    # the model's training set and the features' file source are not in the file
    assert "consumes 1" in dangling and "feature derivedFrom 20" in dangling, dangling

    # what has no term is on the asset, as JSON under facets.datahub
    kafka = json.loads(catalog.assets.get("acme/table/kafka/SampleKafkaDataset")["facets"])
    assert kafka["datahub"]["customProperties"] == {"prop1": "fakeprop", "prop2": "pikachu"}
    assert kafka["datahub"]["institutionalMemory"]["elements"][0]["url"] == \
        "https://www.linkedin.com"
    group = json.loads(catalog.assets.get("team/jdoe")["facets"])["datahub"]
    assert group["members"] == ["urn:li:corpuser:jdoe", "urn:li:corpuser:datahub"]
    assert "memberOf" not in catalog.assets.get("user/jdoe")  # membership grants access


def test_a_rerun_changes_nothing(catalog: Catalog) -> None:
    first = run(catalog, BOOTSTRAP)
    seq = catalog.journal.applied_seq
    again = run(catalog, BOOTSTRAP)
    assert (again.added, again.updated, again.removed, again.failed) == (0, 0, 0, 0)
    assert again.unchanged == first.added == 90
    assert catalog.journal.applied_seq == seq  # not one changeset


def test_a_dataset_gone_from_the_export_is_removed(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "bootstrap_mce.json"
    shutil.copy(BOOTSTRAP, path)
    assert run(catalog, path).added == 90
    records = json.loads(path.read_text())
    gone = ("urn:li:dataset:(urn:li:dataPlatform:hive,fct_users_deleted,PROD)",
            "urn:li:chart:(looker,baz2)")
    kept = [r for r in records if _urn(r) not in gone]
    assert len(kept) == len(records) - 2
    path.write_text(json.dumps(kept))
    report = run(catalog, path)
    # the table and its 6 columns, the chart; the job that produced the table loses that edge
    assert (report.removed, report.added, report.failed) == (8, 0, 0), report.to_json()
    with pytest.raises(Exception, match="deleted"):
        catalog.assets.get("acme/table/hive/fct_users_deleted")
    assert "produces" not in catalog.assets.get("acme/pipeline/airflow/dag_abc.task_456")
    assert catalog.assets.get("acme/table/hive/fct_users_deleted", version=1)["name"] == \
        "fct_users_deleted"


def _urn(record: dict[str, Any]) -> str | None:
    snapshot = record.get("proposedSnapshot")
    return next(iter(snapshot.values()))["urn"] if snapshot else record.get("entityUrn")


def test_demo_data_tables_columns_lineage_and_owners(tmp_path: Path, catalog: Catalog) -> None:
    """demo_data.json's covid19_public_forecasts dataset (its 48 records, unchanged) and the
    two users that own it: 10 tables, 256 columns all described, 9 upstream edges."""
    records = json.loads((DATA / "demo_data.json").read_text())
    owners = ("urn:li:corpuser:Google", "urn:li:corpuser:HarvardGlobalHealthInstitute")
    subset = [r for r in records
              if "covid19_public_forecasts" in (_urn(r) or "") or _urn(r) in owners]
    assert len(subset) == 50
    path = tmp_path / "forecasts.json"
    path.write_text(json.dumps(subset))
    report = run(catalog, path, batch_size=1000)
    assert report.ok and report.added == 10 + 256 + 1 + 1 + 2, report.to_json()
    assets = produced(catalog, report.source)
    tables = {k: a for k, a in assets.items() if a["type"] == "Table"}
    assert len(tables) == 10
    prefix = "acme/table/bigquery/bigquery-public-data.covid19_public_forecasts."
    state = tables[prefix + "state_28d"]
    assert sorted(state["derivedFrom"]) == [prefix + "county_28d", prefix + "state_14d"]
    assert sum(len(a.get("derivedFrom", [])) for a in tables.values()) == 9
    assert state["partOf"] == "acme/schema/bigquery/bigquery-public-data.covid19_public_forecasts"
    assert catalog.assets.get("acme/database/bigquery/bigquery-public-data")["type"] == "Database"
    assert {o for a in tables.values() for o in a["owners"]} == {
        "user/Google", "user/HarvardGlobalHealthInstitute"}
    assert assets["user/Google"]["name"] == "Google"
    columns = [a for a in assets.values() if a["type"] == "Column"]
    assert len(columns) == 256 and all(a.get("description") for a in columns)
    col = assets["acme/column/bigquery/bigquery-public-data.covid19_public_forecasts."
                 "state_28d.state_name"]
    assert col["partOf"] == prefix + "state_28d" and col["nullable"] is True


def test_a_folder_with_business_glossaries(tmp_path: Path, catalog: Catalog) -> None:
    for name in ("bootstrap_mce.json", "business_glossary.yml", "sample_pii_glossary.yml",
                 "file_lineage.yml", "README.md"):
        shutil.copy(DATA / name, tmp_path / name)
    report = run(catalog, tmp_path)
    assert report.ok, report.to_json()
    assets = produced(catalog, report.source)
    glossaries = {k for k, a in assets.items() if a["type"] == "Glossary"}
    # 5 top nodes + 2 (PII) from the YAML (ClientsAndAccounts also in the bootstrap file)
    assert glossaries == {"glossary/" + n for n in (
        "Classification", "PersonalInformation", "Shipping", "ClientsAndAccounts", "Housing",
        "PII%20Impact%20Levels", "Personal%20Information%20Terms")}
    terms = [a for a in assets.values() if a["type"] == "GlossaryTerm"]
    # 15 + 24 in the YAML, but the PII file lists Gender twice in one node (one id in DataHub
    # too), + 3 in the bootstrap file
    assert len(terms) == 15 + 23 + 3
    assert any("glossary YAML term repeated in its node (the last is kept) 1" in w
               for w in report.warnings), report.warnings
    email = assets["glossary/PersonalInformation/Email"]
    assert email["description"] == "An individual's email address"
    assert email["owners"] == ["team/Trust%20and%20Safety"]
    assert assets["glossary/Classification/Sensitive"]["owners"] == ["user/mjames"]  # the file's
    assert assets["glossary/Housing/Colors.Red"]["partOf"] == "glossary/Housing"  # flattened
    assert any("file_lineage.yml" in w and "skipped" in w for w in report.warnings)
    assert any("glossary YAML term.inherits 25" in w for w in report.warnings)


def test_an_import_and_a_sql_run_describe_the_same_assets(tmp_path: Path,
                                                          catalog: Catalog) -> None:
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount NUMERIC(12,2))")
    table = "urn:li:dataset:(urn:li:dataPlatform:sqlite,prod.shop.main.orders,PROD)"
    export = [{"entityType": "dataset", "entityUrn": table, "changeType": "UPSERT",
               "aspectName": "schemaMetadata", "aspect": {"json": {
                   "schemaName": "orders", "platform": "urn:li:dataPlatform:sqlite",
                   "version": 0, "hash": "", "platformSchema": {}, "fields": [
                       {"fieldPath": "id", "nativeDataType": "INTEGER", "nullable": False,
                        "type": {"type": {"com.linkedin.schema.NumberType": {}}}}]}}},
              {"entityType": "dataset", "entityUrn": table, "changeType": "UPSERT",
               "aspectName": "ownership", "aspect": {"json": {"owners": [
                   {"owner": "urn:li:corpuser:ana", "type": "DATAOWNER"}]}}}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    report = run(catalog, path, platform_instance={"prod": "sqlite"})
    assert report.added == 5  # database, schema, table, column, user
    assert catalog.assets.get("acme/table/sqlite/shop.main.orders")["owners"] == ["user/ana"]
    sql = catalog.ingestion.run({"connector": "sql", "workspace": "acme",
                                 "config": {"url": f"sqlite:///{tmp_path / 'shop.db'}"}})
    # the same database, schema, table and id column; only amount is new
    assert (sql.added, sql.failed) == (1, 0), sql.to_json()
    assert catalog.assets.get("acme/column/sqlite/shop.main.orders.amount")["partOf"] == \
        "acme/table/sqlite/shop.main.orders"


def refused(cat: Catalog, path: Path, *needles: str, **config: Any) -> None:
    seq = cat.journal.applied_seq
    with pytest.raises(InputError) as e:
        run(cat, path, **config)
    for needle in needles:
        assert needle in e.value.detail, e.value.detail
    assert cat.journal.applied_seq == seq, "nothing may be written"


def test_bad_input_is_refused_and_nothing_is_written(tmp_path: Path, catalog: Catalog) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(BOOTSTRAP.read_text()[:5000])
    refused(catalog, broken, "broken.json is not valid JSON")
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"name": "orders", "columns": []}]))
    refused(catalog, other, "other.json, record 1", "MetadataChangeEvent")
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(BOOTSTRAP, folder / "a.json")
    shutil.copy(other, folder / "b.json")  # a bad file after a good one: still nothing written
    refused(catalog, folder, "b.json, record 1")
    refused(catalog, tmp_path / "missing.json", "neither a file nor a folder")
    odd = tmp_path / "odd.json"  # a well-formed MCP whose aspect has another shape
    odd.write_text(json.dumps([{"entityType": "dataset", "aspectName": "ownership",
                                "entityUrn": "urn:li:dataset:(urn:li:dataPlatform:hive,t,PROD)",
                                "aspect": {"json": {"owners": ["urn:li:corpuser:ana"]}}}]))
    refused(catalog, odd, "an aspect of an unexpected shape")
    refused(catalog, DATA / "file_lineage.yml", "no DataHub business glossary")
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(catalog, empty, "holds no .json")
    with pytest.raises(InputError, match=r"config\.nope: unknown field"):
        run(catalog, BOOTSTRAP, nope=1)


def test_an_import_never_takes_over_an_existing_user(catalog: Catalog) -> None:
    """A user people made (whose e-mail and teams decide access) stays as it is; the import
    still creates the users it does not find, and removes only those."""
    catalog.assets.upsert({"id": "user/jdoe", "type": "User", "name": "Jane Doe",
                           "email": "jane@example.org"}, actor="admin")
    report = run(catalog, BOOTSTRAP)
    assert report.ok, report.to_json()
    jdoe = catalog.assets.get("user/jdoe")
    assert (jdoe["name"], jdoe["email"], jdoe["version"]) == ("Jane Doe", "jane@example.org", 1)
    assert "ingestionSource" not in jdoe
    assert any(w.startswith("user/jdoe exists and was not made by this source")
               for w in report.warnings)
    assert "user/datahub" in catalog.ingestion.produced(report.source)
    assert "user/jdoe" not in catalog.ingestion.produced(report.source)
