"""The demo catalog: deterministic, believable, and true to the asset dict contract."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from demo import DATA_KINDS, demo_assets

ROOT = Path(__file__).resolve().parents[1]
KEY = re.compile(r"^[A-Za-z0-9._/-]+$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATA_TYPES = frozenset(DATA_KINDS.values())
REFERENCE_KEYS = ("workspace", "platform", "partOf", "owners", "tags", "terms",
                  "classifications", "derivedFrom", "consumes", "produces", "runOf",
                  "memberOf", "hasRole", "grants")
DATA_KEYS = frozenset({
    "id", "type", "name", "qualifiedName", "description", "workspace", "platform", "partOf",
    "dataType", "position", "owners", "tags", "terms", "classifications", "derivedFrom",
    "consumes", "produces", "runOf", "status", "startedAt", "endedAt",
})
OTHER_KEYS = {
    "Workspace": {"name", "description"},
    "DataPlatform": {"name", "description"},
    "Permission": {"name", "description"},
    "Role": {"name", "description", "grants"},
    "Team": {"name", "description", "hasRole"},
    "User": {"name", "email", "memberOf"},
    "Tag": {"name", "description"},
    "ClassificationScheme": {"name", "description"},
    "Classification": {"name", "description", "partOf"},
    "Glossary": {"name", "description"},
    "GlossaryTerm": {"name", "description", "partOf"},
    "AccessPolicy": {"name", "description", "effect", "action", "targetClassification",
                     "exceptOwners"},
}
SINGLE_REFERENCES = ("workspace", "platform", "partOf", "runOf")
PARENT_TYPES = {
    "Schema": {"Database"}, "Table": {"Schema"}, "View": {"Schema"},
    "Column": {"Table", "View"}, "Chart": {"Dashboard"}, "Feature": {"MLModel"},
    "Classification": {"ClassificationScheme"}, "GlossaryTerm": {"Glossary"},
}
TABULAR = {"Table", "View"}


def canonical_hash(assets: list[dict[str, Any]]) -> str:
    text = json.dumps(assets, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def assets() -> list[dict[str, Any]]:
    return demo_assets()


@pytest.fixture(scope="module")
def by_id(assets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["id"]: a for a in assets}


def of_type(assets: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    return [a for a in assets if a["type"] in types]


def references(asset: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for field in REFERENCE_KEYS:
        value = asset.get(field)
        values = value if isinstance(value, list) else [] if value is None else [value]
        out += [(field, v) for v in values]
    return out


# --- determinism ---------------------------------------------------------------------------


def test_two_calls_are_equal_and_independent(assets: list[dict[str, Any]]) -> None:
    first, second = demo_assets(), demo_assets()
    assert first == second == assets
    assert canonical_hash(first) == canonical_hash(second)
    first[0]["name"] = "mutated"
    assert demo_assets()[0]["name"] != "mutated"


def test_hash_is_stable_across_processes(assets: list[dict[str, Any]]) -> None:
    code = (
        "import hashlib, json\n"
        "from demo import demo_assets\n"
        "text = json.dumps(demo_assets(), sort_keys=True, ensure_ascii=False,"
        " separators=(',', ':'))\n"
        "print(hashlib.sha256(text.encode()).hexdigest())\n"
    )
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=True)
        assert result.stdout.strip() == canonical_hash(assets)


def test_is_plain_json(assets: list[dict[str, Any]]) -> None:
    assert json.loads(json.dumps(assets)) == assets


# --- the dict contract ---------------------------------------------------------------------


def test_ids_are_unique(assets: list[dict[str, Any]]) -> None:
    duplicates = [k for k, n in Counter(a["id"] for a in assets).items() if n > 1]
    assert duplicates == []


def test_keys_use_the_allowed_charset(assets: list[dict[str, Any]]) -> None:
    bad = [a["id"] for a in assets if not KEY.match(a["id"])]
    bad += [v for a in assets for _, v in references(a) if not KEY.match(v)]
    assert bad == []


def test_only_contract_keys_are_used(assets: list[dict[str, Any]]) -> None:
    for a in assets:
        allowed = DATA_KEYS if a["type"] in DATA_TYPES else {"id", "type"} | OTHER_KEYS[a["type"]]
        assert set(a) <= allowed, (a["id"], set(a) - allowed)
        assert "name" in a, a["id"]
        assert all(v not in (None, "", []) for v in a.values()), a["id"]


def test_value_shapes(assets: list[dict[str, Any]]) -> None:
    for a in assets:
        for field in REFERENCE_KEYS:
            if field not in a:
                continue
            if field in SINGLE_REFERENCES:
                assert isinstance(a[field], str), (a["id"], field)
            else:
                assert isinstance(a[field], list), (a["id"], field)
                assert len(set(a[field])) == len(a[field]), (a["id"], field)
        for field in ("startedAt", "endedAt"):
            if field in a:
                assert TIMESTAMP.match(a[field]), (a["id"], field)
        for field in ("name", "description", "qualifiedName", "dataType", "email", "status"):
            if field in a:
                assert isinstance(a[field], str) and a[field].strip(), (a["id"], field)


def test_referential_integrity_and_parents_first(assets: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for a in assets:
        for field, ref in references(a):
            assert ref in seen, f"{a['id']}.{field} -> {ref} is unknown or comes later"
        seen.add(a["id"])


def test_references_point_to_the_right_types(
    assets: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    expected = {
        "workspace": {"Workspace"}, "platform": {"DataPlatform"}, "owners": {"User", "Team"},
        "tags": {"Tag"}, "terms": {"GlossaryTerm"}, "classifications": {"Classification"},
        "consumes": TABULAR, "produces": TABULAR, "runOf": {"Pipeline"},
        "memberOf": {"Team"}, "hasRole": {"Role"}, "grants": {"Permission"},
    }
    derived = {"Column": {"Column"}, "Table": TABULAR, "View": TABULAR,
               "MLModel": TABULAR, "Feature": {"Column"}}
    for a in assets:
        for field, ref in references(a):
            target = by_id[ref]["type"]
            if field == "partOf":
                assert target in PARENT_TYPES[a["type"]], (a["id"], ref)
            elif field == "derivedFrom":
                assert target in derived[a["type"]], (a["id"], ref)
            else:
                assert target in expected[field], (a["id"], field, ref)


def test_data_assets_are_complete_and_keyed_by_kind_platform_and_name(
    assets: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    workspaces = {a["id"] for a in of_type(assets, "Workspace")}
    for a in of_type(assets, *DATA_TYPES):
        for field in ("name", "qualifiedName", "workspace", "description", "platform"):
            assert a.get(field), (a["id"], field)
        workspace, kind, platform, qualified_name = a["id"].split("/", 3)
        assert workspace in workspaces and workspace == a["workspace"], a["id"]
        assert DATA_KINDS[kind] == a["type"], a["id"]
        assert a["platform"] == f"platform/{platform}", a["id"]
        assert qualified_name == a["qualifiedName"], a["id"]
        assert "/" not in qualified_name, a["id"]
        if "partOf" in a:
            parent = by_id[a["partOf"]]
            assert parent["workspace"] == a["workspace"], a["id"]
            assert parent["platform"] == a["platform"], a["id"]
            assert a["qualifiedName"].startswith(parent["qualifiedName"] + "."), a["id"]


def test_structural_parents(assets: list[dict[str, Any]]) -> None:
    for a in of_type(assets, "Schema", "Table", "View", "Column", "Chart", "Feature"):
        assert "partOf" in a, a["id"]
    for a in of_type(assets, "Database", "Dashboard", "Pipeline", "PipelineRun", "MLModel"):
        assert "partOf" not in a, a["id"]


def test_every_column_is_described_typed_and_positioned(assets: list[dict[str, Any]]) -> None:
    positions: dict[str, list[int]] = defaultdict(list)
    for c in of_type(assets, "Column"):
        assert c["dataType"] and c["description"] and c["name"], c["id"]
        assert isinstance(c["position"], int) and not isinstance(c["position"], bool), c["id"]
        assert re.match(r"^[A-Z][A-Z0-9_ ]*(\(\d+(,\d+)?\))?$", c["dataType"]), c
        assert "{" not in c["description"], c["id"]
        positions[c["partOf"]].append(c["position"])
    for table, found in positions.items():
        assert found == list(range(1, len(found) + 1)), table
    tables = {t["id"] for t in of_type(assets, *TABULAR)}
    assert set(positions) == tables, "every table and view has columns"


def test_only_data_kinds_use_data_keys(assets: list[dict[str, Any]]) -> None:
    for a in of_type(assets, *DATA_TYPES):
        if a["type"] != "Column":
            assert "dataType" not in a and "position" not in a, a["id"]
        if a["type"] != "PipelineRun":
            assert not {"runOf", "status", "startedAt", "endedAt"} & set(a), a["id"]
        if a["type"] != "Pipeline":
            assert "produces" not in a, a["id"]
        if a["type"] not in ("Pipeline", "Dashboard", "Chart", "MLModel"):
            assert "consumes" not in a, a["id"]


# --- what the company contains -------------------------------------------------------------


def test_counts(assets: list[dict[str, Any]]) -> None:
    types = Counter(a["type"] for a in assets)
    assert types["Workspace"] == 2
    assert types["Table"] + types["View"] >= 110
    assert types["View"] >= 10
    assert types["Column"] >= 1200
    assert types["Pipeline"] >= 12
    assert types["Dashboard"] >= 8
    assert types["MLModel"] >= 3
    assert types["Team"] >= 8
    assert types["User"] >= 25
    assert types["Tag"] >= 15
    assert types["GlossaryTerm"] >= 25


def test_platforms_and_databases(assets: list[dict[str, Any]]) -> None:
    platforms = {a["id"] for a in of_type(assets, "DataPlatform")}
    assert {f"platform/{p}" for p in ("postgres", "snowflake", "bigquery", "airflow", "dbt",
                                      "looker", "tableau", "mlflow")} <= platforms
    databases = {a["qualifiedName"]: a["platform"] for a in of_type(assets, "Database")}
    assert databases["shop"] == "platform/postgres"
    assert databases["analytics"] == "platform/snowflake"
    assert databases["marketing"] == "platform/bigquery"
    schemas = {a["qualifiedName"] for a in of_type(assets, "Schema")}
    assert {"analytics.raw", "analytics.staging", "analytics.marts"} <= schemas
    tables = {a["qualifiedName"] for a in of_type(assets, *TABULAR)}
    for name in ("shop.public.customers", "shop.public.orders", "shop.public.order_items",
                 "shop.public.products", "shop.public.payments", "shop.public.shipments",
                 "analytics.staging.stg_customers", "analytics.marts.fct_orders",
                 "analytics.marts.dim_customers", "marketing.ads.campaigns",
                 "marketing.ads.ad_spend", "marketing.web.web_sessions",
                 "marketing.crm.email_events"):
        assert name in tables, name


def test_pii_and_sensitivity(assets: list[dict[str, Any]]) -> None:
    pii = [c for c in of_type(assets, "Column")
           if any(k.startswith("classification/pii/") for k in c.get("classifications", []))]
    assert len(pii) >= 40
    kinds = {k for c in pii for k in c["classifications"]}
    assert kinds == {f"classification/pii/{v}" for v in (
        "email", "phone", "name", "address", "date-of-birth", "ip-address", "payment-card",
        "government-id")}
    emails = [c for c in of_type(assets, "Column") if c["name"] == "email"]
    assert emails and all("classification/pii/email" in c["classifications"] for c in emails)
    for t in of_type(assets, *TABULAR):
        levels = [k for k in t.get("classifications", [])
                  if k.startswith("classification/sensitivity/")]
        assert len(levels) == 1, t["id"]
    tables_with_pii = {c["partOf"] for c in pii}
    for t in of_type(assets, *TABULAR):
        if t["id"] in tables_with_pii:
            assert t["classifications"][0].split("/")[-1] in ("confidential", "restricted")


def test_lineage(assets: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> None:
    column_edges = [(c["id"], s) for c in of_type(assets, "Column")
                    for s in c.get("derivedFrom", [])]
    assert len(column_edges) >= 150
    table_edges = {(t["qualifiedName"], by_id[s]["qualifiedName"])
                   for t in of_type(assets, *TABULAR) for s in t.get("derivedFrom", [])}
    assert ("analytics.raw.shop_customers", "shop.public.customers") in table_edges
    assert ("analytics.staging.stg_customers", "analytics.raw.shop_customers") in table_edges
    assert ("analytics.marts.dim_customers", "analytics.staging.stg_customers") in table_edges
    stg_email = by_id["acme/column/snowflake/analytics.staging.stg_customers.email"]
    assert stg_email["derivedFrom"] == [
        "acme/column/snowflake/analytics.raw.shop_customers.email"]
    for child, parent in column_edges:  # column lineage follows table lineage
        child_table = by_id[by_id[child]["partOf"]]
        assert by_id[parent]["partOf"] in child_table["derivedFrom"], (child, parent)


def test_pipelines_and_runs(assets: list[dict[str, Any]]) -> None:
    pipelines = of_type(assets, "Pipeline")
    assert {p["platform"] for p in pipelines} == {"platform/airflow", "platform/dbt"}
    assert all(p.get("produces") and p.get("owners") for p in pipelines)
    assert sum(1 for p in pipelines if p.get("consumes")) >= 10
    runs = defaultdict(list)
    for r in of_type(assets, "PipelineRun"):
        runs[r["runOf"]].append(r)
        assert r["qualifiedName"].startswith(r["runOf"].split("/", 3)[3] + ".")
        if r["status"] == "running":
            assert "endedAt" not in r, r["id"]
        else:
            assert r["endedAt"] > r["startedAt"], r["id"]
    assert all(3 <= len(runs[p["id"]]) <= 6 for p in pipelines)
    statuses = Counter(r["status"] for rs in runs.values() for r in rs)
    assert set(statuses) == {"success", "failed", "running"}
    producers = Counter(k for p in pipelines for k in p["produces"])
    assert max(producers.values()) == 1, "each table is produced by one pipeline"


def test_dashboards_charts_and_models(assets: list[dict[str, Any]]) -> None:
    dashboards = of_type(assets, "Dashboard")
    assert {d["platform"] for d in dashboards} == {"platform/looker", "platform/tableau"}
    charts = Counter(c["partOf"] for c in of_type(assets, "Chart"))
    assert all(3 <= charts[d["id"]] <= 6 for d in dashboards)
    assert all(d.get("consumes") and d.get("owners") for d in dashboards)
    assert all(c.get("consumes") for c in of_type(assets, "Chart"))
    models = {m["qualifiedName"]: m for m in of_type(assets, "MLModel")}
    assert {"churn_prediction", "demand_forecast", "fraud_detection"} <= set(models)
    features = Counter(f["partOf"] for f in of_type(assets, "Feature"))
    for m in models.values():
        assert m["platform"] == "platform/mlflow" and m["derivedFrom"] and m["owners"]
        assert features[m["id"]] >= 3, m["id"]
    assert all(len(f["derivedFrom"]) == 1 for f in of_type(assets, "Feature"))


def test_people_and_governance(assets: list[dict[str, Any]]) -> None:
    teams = {t["id"] for t in of_type(assets, "Team")}
    assert {f"team/{t}" for t in ("data-platform", "analytics", "finance", "marketing",
                                  "data-science", "governance", "support", "security")} <= teams
    users = of_type(assets, "User")
    assert all(1 <= len(u["memberOf"]) <= 2 for u in users)
    assert all(u["email"].startswith(u["id"].removeprefix("user/") + "@") for u in users)
    assert teams == {t for u in users for t in u["memberOf"]}, "every team has members"
    roles = {r["id"] for r in of_type(assets, "Role")}
    assert {f"role/{r}" for r in ("viewer", "editor", "steward", "governance-admin",
                                  "workspace-admin")} <= roles
    permissions = {p["id"] for p in of_type(assets, "Permission")}
    assert {f"permission/{p}" for p in ("read", "write", "delete", "manage-attributes",
                                        "manage-ontology", "manage-rules", "manage-access",
                                        "run-ingestion")} == permissions
    for a in of_type(assets, "Table", "View", "Dashboard", "Pipeline", "MLModel"):
        assert a.get("owners"), a["id"]
    used_tags = {t for a in assets for t in a.get("tags", [])}
    assert len(used_tags) >= 15
    terms = {a["name"] for a in of_type(assets, "GlossaryTerm")}
    assert {"Customer", "Order", "Gross Merchandise Value", "Churn", "Customer Address",
            "Net Revenue", "Active User", "SKU", "Refund", "Cohort"} <= terms
    linked_terms = {t for a in of_type(assets, "Table", "View", "Column")
                    for t in a.get("terms", [])}
    assert len(linked_terms) >= 25


def test_research_workspace(assets: list[dict[str, Any]]) -> None:
    research = [a for a in assets if a.get("workspace") == "research"]
    types = Counter(a["type"] for a in research)
    assert types["Table"] + types["View"] >= 3 and types["MLModel"] >= 1
    research_ids = {a["id"] for a in research}
    for a in research:  # research data references nothing in acme
        assert all(not r.startswith("acme/") for _, r in references(a)), a["id"]
    assert all(not r.startswith("research/") for a in assets if a["id"] not in research_ids
               for _, r in references(a))


def test_descriptions_are_varied(assets: list[dict[str, Any]]) -> None:
    for types in (TABULAR, {"Dashboard"}, {"Chart"}, {"Pipeline"}, {"GlossaryTerm"},
                  {"PipelineRun"}, {"Feature"}):
        descriptions = [a["description"] for a in of_type(assets, *types)]
        assert len(set(descriptions)) == len(descriptions), types
    columns = [c["description"] for c in of_type(assets, "Column")]
    assert len(set(columns)) >= 400
    assert all(len(a["description"]) >= 12 for a in assets if "description" in a)
