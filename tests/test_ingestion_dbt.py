"""The dbt connector (issue 14, item 2) on real dbt artifacts: the six projects in
../shared/data/dbt (manifest schemas v1, v5, v11 and v12; README.md there gives the counts
checked here), and tests/dbt_project, a small project that dbt-core 1.11 with dbt-duckdb
builds once per test session (tests/dbt_project/regenerate.sh, with the dbt of .venv-dbt, which
`make test` makes: dbt's pins clash with semcat's, so it is no dependency of semcat)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from catalog import Catalog
from catalog.asset_input import natural_key, prepare
from catalog.settings import Settings
from graph_store.errors import InputError
from graph_store.layout import GraphLayout
from ingestion.connector import RunContext
from ingestion.dbt import DbtConfig, DbtConnector
from ingestion.dbt_artifacts import load

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dbt"
PROJECT = Path(__file__).resolve().parent / "dbt_project"
DBT = Path(__file__).resolve().parents[1] / ".venv-dbt" / "bin" / "dbt"
LAYOUT = GraphLayout("http://127.0.0.1:8000")


@dataclass(frozen=True)
class Folder:
    """One folder of ../shared/data/dbt and what its README says of it."""

    files: tuple[str, str, str | None]  # manifest, catalog, run results
    schema: int  # manifest schema version
    models: int
    sources: int
    seeds: int
    tests: int
    edges: int  # model dependency edges (depends_on.nodes of models)
    catalog_relations: int
    catalog_sources: int
    catalog_columns: int
    relations: int  # Tables and Views it gives (the note below FOLDERS)
    views: int
    documented: tuple[int, int] | None = None  # documented model columns, source columns
    results: int = 0  # tests with a result in the run results


FOLDERS = {
    "fivetran_dbt_salesforce": Folder(("manifest.json", "catalog.json", None), 12, 26, 16, 14, 46,
                                      40, 40, 14, 3966, 42, 0, (874, 584)),
    "fivetran_dbt_jira": Folder(("manifest.json", "catalog.json", None), 12, 61, 18, 22, 40, 108,
                                70, 18, 853, 70, 37, (555, 113)),
    "fivetran_dbt_stripe": Folder(("manifest.json", "catalog.json", None), 12, 69, 27, 27, 17, 121,
                                  94, 27, 3032, 94, 25, (959, 474)),
    "jaffle_shop__datahub_tests": Folder(
        ("jaffle_shop_manifest.json", "jaffle_shop_catalog.json", "jaffle_shop_test_results.json"),
        5, 5, 0, 3, 24, 8, 8, 0, 38, 8, 3, results=23),
    "sample_dbt_pagila__datahub_tests": Folder(
        ("sample_dbt_manifest_2.json", "sample_dbt_catalog_2.json", "sample_dbt_run_results_2.json"),
        11, 4, 12, 0, 7, 13, 4, 12, 95, 16, 1, results=7),
    "amundsen_dbt_demo": Folder(("manifest.json", "catalog.json", None), 1, 6, 0, 0, 6, 4, 6, 0, 28,
                                6, 6),
}
# Relations: the catalog's relations (non-ephemeral models, seeds, snapshots) and the sources
# that are no seed: in the Fivetran projects the sources are the seed tables (one asset each),
# except Salesforce's fivetran_formula and fivetran_formula_model, in no catalog; Pagila's 12
# sources are tables of their own. jaffle_shop's run results name 24 tests, one not in its
# manifest (DataHub's copy), so 23 of its 24 tests have a result.
BIG = ("fivetran_dbt_salesforce", "fivetran_dbt_stripe")
CATALOGUED = [f for f in FOLDERS if f not in BIG]


def config(folder: str, **extra: Any) -> dict[str, Any]:
    manifest, catalog, results = (str(DATA / folder / f) if f else None for f in FOLDERS[folder].files)
    paths = {"manifest": manifest, "catalog": catalog, **({"run_results": results} if results else {})}
    return {"connector": "dbt", "workspace": workspace(folder),
            "config": {**paths, **extra}}


def workspace(folder: str) -> str:
    return folder


def raw(folder: str, index: int = 0) -> dict[str, Any]:
    name = FOLDERS[folder].files[index]
    assert name is not None
    return json.loads((DATA / folder / name).read_text())  # type: ignore[no-any-return]


def count(cat: Catalog, ws: str, pattern: str, what: str = "DISTINCT ?a") -> int:
    """How many ?a match ``pattern`` among the workspace's assets (asserted triples)."""
    rows = cat.sparql.query(
        f"PREFIX semcat: <https://w3id.org/semcat#> SELECT (COUNT({what}) AS ?n) WHERE {{ "
        f"?a semcat:workspace <{cat.layout.iri(ws)}> . {pattern} }}", infer=False).rows()
    return int(next(iter(rows))["n"].value)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def ingested() -> Iterator[tuple[Catalog, dict[str, Any]]]:
    """The folders but the two biggest ingested once, each into its own workspace (their
    tables share names). Salesforce's and Stripe's 2,500 assets each take the catalog ~7 s to
    write (SHACL, inference, search); what the connector yields for them is checked below."""
    with Catalog.open(Settings(data=None)) as cat:
        reports = {folder: cat.ingestion.run(config(folder)) for folder in CATALOGUED}
        yield cat, reports


def yielded(folder: str) -> dict[str, dict[str, Any]]:
    """What the connector yields for ``folder``, by id."""
    context = RunContext(workspace(folder), "test")
    settings = DbtConfig.model_validate(config(folder)["config"])
    found = {natural_key(r) or r["id"]: r for r in DbtConnector().records(settings, context)}
    assert all(found), "every record has an id"
    return found


# --- the artifacts as read ------------------------------------------------------------------


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_schema_version_reads_as_its_readme_says(folder: str) -> None:
    f = FOLDERS[folder]
    paths = [DATA / folder / name if name else None for name in f.files]
    assert paths[0] is not None
    found = load(paths[0], paths[1], paths[2])
    assert found.versions["manifest"] == f.schema
    kinds = [n.resource_type for n in found.nodes.values()]
    assert (kinds.count("model"), kinds.count("source"), kinds.count("seed"), kinds.count("test")) \
        == (f.models, f.sources, f.seeds, f.tests)
    models = [n for n in found.nodes.values() if n.resource_type == "model"]
    assert sum(len(n.depends_on) for n in models) == f.edges
    if f.documented:
        documented = {k: sum(1 for n in found.nodes.values() if n.resource_type == k
                             for c in n.columns if c.description) for k in ("model", "source")}
        assert (documented["model"], documented["source"]) == f.documented
    assert found.catalog is not None
    catalog = raw(folder, 1)
    assert (len(catalog["nodes"]), len(catalog.get("sources", {}))) == \
        (f.catalog_relations, f.catalog_sources)
    assert sum(len(t.columns) for t in found.catalog.values()) == f.catalog_columns
    assert sum(1 for uid in found.results if uid in found.nodes
               and found.nodes[uid].resource_type == "test") == f.results


# --- what arrives in the catalog ------------------------------------------------------------


def physical(folder: str) -> tuple[int, int]:
    """Columns the folder gives, and of those the documented ones, counted from the raw JSON:
    each relation's columns in catalog.json once (a source and a seed of one table are one),
    and the manifest's columns of relations catalog.json lacks."""
    manifest, catalog = raw(folder, 0), raw(folder, 1)
    docs: dict[tuple[str, ...], set[str]] = {}
    names: dict[str, tuple[str, ...]] = {}
    for uid, n in [*manifest["nodes"].items(), *manifest["sources"].items()]:
        if n["resource_type"] in ("model", "seed", "snapshot", "source") and \
                n["config"].get("materialized") != "ephemeral":
            rel = (n["database"] or n["schema"], n["schema"],
                   n.get("identifier") if n["resource_type"] == "source" else n.get("alias"))
            names[uid] = tuple(p.lower() for p in rel)
            docs.setdefault(names[uid], set()).update(
                c.lower() for c, v in n["columns"].items() if v.get("description"))
    columns: dict[tuple[str, ...], set[str]] = {}
    for uid, t in [*catalog["nodes"].items(), *catalog.get("sources", {}).items()]:
        columns.setdefault(names[uid], set()).update(c.lower() for c in t["columns"])
    total = described = 0
    for rel, documented in docs.items():
        has = columns.get(rel)
        total += len(has) if has is not None else len(documented)
        described += len(documented & has) if has is not None else len(documented)
    return total, described


@pytest.mark.parametrize("folder", FOLDERS)
def test_relations_columns_lineage_and_tests_are_yielded(folder: str) -> None:
    f, ws = FOLDERS[folder], workspace(folder)
    found = yielded(folder)
    kinds = Counter(r["type"] for r in found.values())
    assert (kinds["Table"] + kinds["View"], kinds["View"]) == (f.relations, f.views)
    columns, described = physical(folder)
    assert kinds["Column"] == columns
    assert sum(1 for r in found.values() if r["type"] == "Column" and "description" in r) \
        == described
    tests = [r for r in found.values() if r["type"] == "QualityAssertion"]
    assert len(tests) == f.tests and all(t["assertsOn"] for t in tests)
    assert sum(1 for t in tests if "lastResult" in t) == f.results
    # every model has its description and SQL, and is derived from what its manifest says
    manifest = raw(folder)
    parents = expected_parents(manifest)
    for uid, n in manifest["nodes"].items():
        if uid not in parents:
            continue
        qn = ".".join(p.lower() for p in (n["database"], n["schema"], n["alias"]))
        kind = "view" if n["config"]["materialized"] == "view" else "table"
        doc = found[f"{ws}/{kind}/{manifest['metadata']['adapter_type']}/{qn}"]
        assert doc.get("description") == (n["description"].strip() or None), qn
        assert {d.split("/", 3)[3] for d in doc.get("derivedFrom", [])} == parents[uid], qn
        assert (n.get("compiled_code") or n.get("compiled_sql") or n.get("raw_code")
                or n.get("raw_sql") or "").strip() == doc.get("transformation", "")
    edges = sum(len(r.get("derivedFrom", [])) for r in found.values()
                if r["type"] in ("Table", "View"))
    assert edges == sum(len(p) for p in parents.values())
    if folder in ("fivetran_dbt_salesforce", "jaffle_shop__datahub_tests", "amundsen_dbt_demo"):
        assert edges == f.edges  # no ephemeral models: the README's count
    assert sum(1 for r in found.values() if r["type"] == "Column" and "derivedFrom" in r) > 0
    # each is a valid REST item (what the catalog checks before SHACL)
    assert len(prepare(list(found.values()), LAYOUT, f"{LAYOUT.base}/api/v1/context.jsonld")) \
        == len(found)


@pytest.mark.parametrize("folder", CATALOGUED)
def test_what_is_yielded_arrives_in_the_catalog(
        ingested: tuple[Catalog, dict[str, Any]], folder: str) -> None:
    cat, reports = ingested
    report, ws, found = reports[folder], workspace(folder), yielded(folder)
    assert report.ok and report.failed == 0 and report.removed == 0, report.to_json()
    assert report.added == len(found), report.to_json()
    kinds = Counter(r["type"] for r in found.values())
    for kind in ("Table", "View", "Column", "QualityAssertion"):
        assert count(cat, ws, f"?a a semcat:{kind} .") == kinds[kind], kind
    assert count(cat, ws, "?a a semcat:Column ; semcat:description ?d .") == \
        sum(1 for r in found.values() if r["type"] == "Column" and "description" in r)
    assert count(cat, ws, "?a semcat:derivedFrom ?b .", what="*") == \
        sum(len(r.get("derivedFrom", [])) for r in found.values())
    assert count(cat, ws, "?a semcat:lastResult ?r .") == FOLDERS[folder].results
    for key, r in found.items():
        if r["type"] in ("Table", "View", "QualityAssertion"):
            doc = cat.assets.get(key)
            if "lastEvaluatedAt" in r:  # the store writes xsd:dateTime canonically
                assert instant(doc.pop("lastEvaluatedAt")) == instant(r["lastEvaluatedAt"])
                r = {k: v for k, v in r.items() if k != "lastEvaluatedAt"}
            assert {k: doc.get(k) for k in r} == r, key


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def expected_parents(manifest: dict[str, Any]) -> dict[str, set[str]]:
    """Per model (and snapshot), the relations it reads (``db.schema.name``): its dependencies, through
    ephemeral models to what they read, a source and a seed of one table being one."""
    nodes = {**manifest["nodes"], **manifest["sources"]}

    def relation(uid: str) -> str:
        n = nodes[uid]
        return ".".join((n["database"], n["schema"], n.get("identifier") if n["resource_type"]
                         == "source" else n["alias"])).lower()

    def ephemeral(uid: str) -> bool:
        return nodes[uid].get("config", {}).get("materialized") == "ephemeral"

    def parents(uid: str) -> set[str]:
        out: set[str] = set()
        for p in nodes[uid]["depends_on"]["nodes"]:
            out |= parents(p) if ephemeral(p) else {relation(p)}
        return out

    return {u: parents(u) for u, n in nodes.items()
            if n["resource_type"] in ("model", "snapshot") and not ephemeral(u)}


def test_a_rerun_changes_nothing(ingested: tuple[Catalog, dict[str, Any]]) -> None:
    cat, reports = ingested
    seq = cat.journal.applied_seq
    folder = "sample_dbt_pagila__datahub_tests"  # with test results and a snapshot
    again = cat.ingestion.run(config(folder))
    first = reports[folder]
    assert (again.added, again.updated, again.removed, again.failed) == (0, 0, 0, 0), \
        again.to_json()
    assert again.unchanged == first.added + first.updated
    assert cat.journal.applied_seq == seq  # not one changeset
    tested = assertions(cat, workspace(folder))[0]  # its result's time compares equal too
    assert tested["lastEvaluatedAt"] and [v.version for v in cat.assets.versions(tested["id"])] \
        == [1]


# --- the project generated with dbt-core (tests/dbt_project) --------------------------------


@functools.cache
def shop() -> Path:
    """The project's artifacts, as dbt writes them (built on first use, once per session)."""
    if not DBT.exists():
        reason = f"{DBT} is missing: `make test` (or `make {DBT.parents[1].name}/.installed`) makes it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    out = Path(tempfile.mkdtemp(prefix="semcat-dbt-"))
    subprocess.run(["bash", str(PROJECT / "regenerate.sh"), str(out)], check=True,
                   capture_output=True, timeout=300, env={**os.environ, "DBT": str(DBT)})
    return out


def shop_config(target: Path | None = None, **extra: Any) -> dict[str, Any]:
    return {"connector": "dbt", "workspace": "acme",
            "config": {"target_dir": str(target or shop()), **extra}}


def test_generated_project_models_exposures_tests_and_column_lineage(catalog: Catalog) -> None:
    report = catalog.ingestion.run(shop_config(owners={"ana@example.com": "user/ana"}))
    assert report.ok and not report.warnings, report.to_json()
    # database, 2 schemas, 2 seeds (also the 2 sources), 2 views, 1 table (the ephemeral model
    # is none), 21 columns, the exposure, 13 tests
    assert report.added == 1 + 2 + 5 + 21 + 1 + 13, report.to_json()
    key = "acme/{}/duckdb/shop.{}".format
    customers = catalog.assets.get(key("table", "main_marts.customers"))
    assert customers["description"].startswith("Customers with what they ordered")
    assert customers["owners"] == ["user/ana"]  # meta.owner "@ana"
    assert customers["tags"] == ["tag/finance", "tag/gold"]
    assert customers["derivedFrom"] == [key("view", "main.stg_customers"),
                                        key("view", "main.stg_orders")]  # through order_facts
    assert "__dbt__cte__order_facts" in customers["transformation"]
    view = catalog.assets.get(key("view", "main.stg_orders"))
    assert view["derivedFrom"] == [key("table", "main.raw_orders")]  # the source is the seed
    raw_orders = catalog.assets.get(key("table", "main.raw_orders"))  # the seed's words first
    assert raw_orders["description"] == "Orders as the shop's back office exports them."
    value = catalog.assets.get(key("column", "main_marts.customers.lifetime_value"))
    assert value["aggregatedFrom"] == [key("column", "main.stg_orders.amount")]
    assert key("column", "main.stg_orders.status") in value["influencedBy"]  # the WHERE
    assert value["dataType"] and value["position"] == 4
    assert value["description"] == "What the customer spent, returns left out."
    name = catalog.assets.get(key("column", "main.stg_customers.customer_id"))
    assert name["copiedFrom"] == [key("column", "main.raw_customers.id")]
    dashboard = catalog.assets.get("acme/dashboard/dbt/shop.finance_dashboard")
    assert dashboard["type"] == "Dashboard" and dashboard["name"] == "Finance dashboard"
    assert dashboard["derivedFrom"] == [customers["id"]] and dashboard["owners"] == ["user/ana"]
    results = {a["name"]: a for a in assertions(catalog, "acme")}
    assert len(results) == 13
    assert {a["lastResult"] for a in results.values()} == {"pass", "warn", "fail"}
    failed = results["positive_customers_lifetime_value"]
    assert (failed["lastResult"], failed["failureCount"], failed["assertionType"]) == \
        ("fail", 1, "positive")
    assert failed["assertsOn"] == [value["id"]] and failed["lastEvaluatedAt"].startswith("20")
    singular = results["assert_no_negative_orders"]
    assert (singular["lastResult"], singular["assertionType"], singular["assertsOn"]) == \
        ("warn", "singular", [view["id"]])
    relationship = results[
        "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_"]
    assert relationship["assertsOn"] == [key("column", "main.stg_orders.customer_id")]
    lineage = catalog.lineage.lineage(dashboard["id"], direction="upstream", depth=3)
    assert key("table", "main.raw_customers") in {n["id"] for n in lineage["nodes"]}


def assertions(cat: Catalog, ws: str) -> list[dict[str, Any]]:
    rows = cat.sparql.query(
        "PREFIX semcat: <https://w3id.org/semcat#> SELECT ?a WHERE { ?a a "
        f"semcat:QualityAssertion ; semcat:workspace <{cat.layout.iri(ws)}> }}").rows()
    return [cat.assets.get(cat.layout.key(r["a"].value)) for r in rows]  # type: ignore[attr-defined]


def test_unknown_owners_are_warnings_not_failures(catalog: Catalog) -> None:
    report = catalog.ingestion.run(shop_config())
    assert report.ok and report.failed == 0
    assert [w for w in report.warnings if "owner" in w] == [
        "exposure.shop.finance_dashboard: owner 'ana@example.com' / 'Ana Lima' names no user or "
        "team; map it in config.owners (e.g. 'ana@example.com': \"user/ana\"); left out"]
    assert "owners" not in catalog.assets.get("acme/dashboard/dbt/shop.finance_dashboard")


def test_what_people_edit_stays_until_they_hand_it_back(catalog: Catalog) -> None:
    """A steward's owners, tags and description survive later dbt runs, also where dbt
    declares others; once they set a value back to dbt's, dbt decides it again."""
    assert catalog.ingestion.run(shop_config()).ok
    view, table = "acme/view/duckdb/shop.main.stg_orders", "acme/table/duckdb/shop.main_marts.customers"
    for key in (view, table):
        catalog.assets.patch(key, {"owners": ["user/bo"], "tags": ["tag/reviewed"],
                                   "description": "By hand."}, actor="bo")
    report = catalog.ingestion.run(shop_config())
    assert (report.updated, report.added, report.failed) == (0, 0, 0), report.to_json()
    assert report.kept_edits == 4, report.to_json()
    for key in (view, table):
        doc = catalog.assets.get(key)
        assert (doc["owners"], doc["tags"], doc["description"]) == (
            ["user/bo"], ["tag/reviewed"], "By hand."), key
    catalog.assets.patch(table, {"owners": ["user/ana"]}, actor="bo")  # dbt's, handed back
    catalog.assets.patch(view, {"description": "Orders, cleaned; one row per order."},
                         actor="bo")
    assert catalog.ingestion.run(shop_config()).kept_edits == 2  # the table's tags, description
    # dbt's word decides the handed-back values again: its next change lands
    assert catalog.assets.get(view)["description"] == "Orders, cleaned; one row per order."


def test_a_model_removed_from_the_manifest_is_removed(tmp_path: Path, catalog: Catalog) -> None:
    target = tmp_path / "target"
    shutil.copytree(shop(), target)
    assert catalog.ingestion.run(shop_config(target)).ok
    manifest = json.loads((target / "manifest.json").read_text())
    gone = "model.shop.stg_customers"
    for section in ("nodes", "exposures"):
        for uid in [u for u, n in manifest[section].items()
                    if u == gone or gone in n.get("depends_on", {}).get("nodes", [])]:
            del manifest[section][uid]  # the model, its tests and what builds on it
    (target / "manifest.json").write_text(json.dumps(manifest))
    report = catalog.ingestion.run(shop_config(target))
    assert report.ok and report.failed == 0, report.to_json()
    view = "acme/view/duckdb/shop.main.stg_customers"
    # the view, its 3 columns, its 2 tests; customers (4 columns, 4 tests), the relationship
    # test (it reads stg_customers too) and the dashboard on customers
    assert report.removed == 1 + 3 + 2 + 1 + 4 + 4 + 1 + 1, report.to_json()
    with pytest.raises(Exception, match="deleted"):
        catalog.assets.get(view)
    assert catalog.assets.get(view, version=1)["name"] == "stg_customers"
    assert catalog.assets.get("acme/view/duckdb/shop.main.stg_orders")["version"] == 1


# --- the same assets as the SQL connector ----------------------------------------------------


def test_a_dbt_run_and_a_sql_run_describe_the_same_assets(tmp_path: Path,
                                                          catalog: Catalog) -> None:
    """SQLite through the SQL connector, then a dbt manifest (and catalog) of the same
    database: the dbt run adds only what SQL cannot tell (docs, tests), not a second asset."""
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount NUMERIC);"
                         "CREATE VIEW big_orders AS SELECT id, amount FROM orders "
                         "WHERE amount > 10;")
    sql = catalog.ingestion.run({"connector": "sql", "workspace": "acme",
                                 "config": {"url": f"sqlite:///{path}"}})
    assert sql.ok and sql.added == 8, sql.to_json()
    node = {"database": "shop", "schema": "main", "config": {"materialized": "table"},
            "depends_on": {"nodes": []}, "columns": {}, "package_name": "shop"}
    manifest = {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                     "adapter_type": "sqlite", "project_name": "shop"},
        "nodes": {
            "seed.shop.orders": {**node, "resource_type": "seed", "name": "orders",
                                 "alias": "orders", "config": {"materialized": "seed"},
                                 "description": "Orders.",
                                 "columns": {"id": {"name": "id", "description": "Key."}}},
            "model.shop.big_orders": {
                **node, "resource_type": "model", "name": "big_orders", "alias": "big_orders",
                "config": {"materialized": "view"}, "depends_on": {"nodes": ["seed.shop.orders"]},
                "compiled_code": "SELECT id, amount FROM main.orders WHERE amount > 10"},
            "test.shop.not_null_orders_id.abc": {
                **node, "resource_type": "test", "name": "not_null_orders_id",
                "column_name": "id", "attached_node": "seed.shop.orders",
                "test_metadata": {"name": "not_null"},
                "depends_on": {"nodes": ["seed.shop.orders"]}}},
        "sources": {}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    dbt = catalog.ingestion.run({"connector": "dbt", "workspace": "acme",
                                 "config": {"manifest": str(tmp_path / "manifest.json")}})
    assert dbt.ok, dbt.to_json()
    assert dbt.added == 1, dbt.to_json()  # the test; every table, view and column was there
    orders = catalog.assets.get("acme/table/sqlite/shop.main.orders")
    assert orders["description"] == "Orders." and orders["version"] == 2
    key = catalog.assets.get("acme/column/sqlite/shop.main.orders.id")
    assert key["description"] == "Key." and key["primaryKey"] is True  # SQL's kept
    assert catalog.assets.get("acme/column/sqlite/shop.main.big_orders.amount")["copiedFrom"] == \
        ["acme/column/sqlite/shop.main.orders.amount"]


# --- bad input --------------------------------------------------------------------------------


def bad(tmp_path: Path, name: str, content: str | None) -> dict[str, Any]:
    if content is not None:
        (tmp_path / name).write_text(content)
    return {"connector": "dbt", "workspace": "acme",
            "config": {"manifest": str(tmp_path / name)}}


@pytest.mark.parametrize(("content", "message"), [
    (None, "no dbt manifest at"),
    ('{"metadata": {"dbt_schema_version": ', "manifest.json is not valid JSON"),
    ('{"nodes": {}}', "is not a dbt manifest"),
    ('{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v13.json"}}',
     "schema v13 is not supported (v1 to v12 are)"),
    ('{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}}',
     "is a dbt catalog, not a manifest"),
    ('{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}}',
     "names no adapter (metadata.adapter_type); set config.platform"),
])
def test_unreadable_artifacts_are_input_errors_and_write_nothing(
        tmp_path: Path, catalog: Catalog, content: str | None, message: str) -> None:
    seq = catalog.journal.applied_seq
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        catalog.ingestion.run(bad(tmp_path, "manifest.json", content))
    assert catalog.journal.applied_seq == seq


def test_a_bad_catalog_or_config_writes_nothing(tmp_path: Path, catalog: Catalog) -> None:
    seq = catalog.journal.applied_seq
    target = tmp_path / "target"
    shutil.copytree(shop(), target)
    (target / "catalog.json").write_text("[]")
    with pytest.raises(InputError, match=r"catalog\.json is not a dbt catalog"):
        catalog.ingestion.run(shop_config(target))
    with pytest.raises(InputError, match="give target_dir"):
        catalog.ingestion.run({"connector": "dbt", "workspace": "acme", "config": {}})
    with pytest.raises(InputError, match="no dbt run results at"):
        catalog.ingestion.run(shop_config(shop(), run_results=str(tmp_path / "none.json")))
    assert catalog.journal.applied_seq == seq
    # a manifest that names no adapter reads once the platform is given; without a catalog,
    # the columns are the 10 the manifest documents, of unknown type
    manifest = json.loads((shop() / "manifest.json").read_text())
    del manifest["metadata"]["adapter_type"]
    (target / "manifest.json").write_text(json.dumps(manifest))
    (target / "catalog.json").unlink()
    report = catalog.ingestion.run(shop_config(target, platform="duckdb"))
    assert report.ok and report.added == 1 + 2 + 5 + 10 + 1 + 13, report.to_json()
    column = catalog.assets.get("acme/column/duckdb/shop.main.stg_orders.status")
    assert column["dataType"] == "UNKNOWN" and "position" not in column
