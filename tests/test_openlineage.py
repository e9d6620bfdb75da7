"""OpenLineage ingestion (issue 13, item 3): the official openlineage-python client's HTTP
transport posts to /api/v1/lineage (Marquez's path) on a real server; jobs, runs, datasets,
columns and table- and column-level lineage land in the catalog, once, in any order."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    documentation_dataset,
    schema_dataset,
    sql_job,
)
from openlineage.client.serde import Serde
from openlineage.client.transport.http import HttpConfig, HttpTransport

from catalog import Catalog
from graph_store.errors import InputError, NotFound, ValidationFailed
from search.model import SearchRequest
from tests.conftest import Server

PG = "postgres://db.internal:5432"
PRODUCER = "https://github.com/acme/etl"


def _schema(*columns: tuple[str, str]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in columns])


def _event(state: RunState, when: str, run_id: str, job: str, source: str, target: str,
           *, namespace: str = PG) -> RunEvent:
    """A run copying ``source`` (id, amount) to ``target`` (id, amount_usd)."""
    lineage = column_lineage_dataset.ColumnLineageDatasetFacet(fields={
        "id": column_lineage_dataset.Fields(inputFields=[
            column_lineage_dataset.InputField(namespace=namespace, name=source, field="id")]),
        "amount_usd": column_lineage_dataset.Fields(inputFields=[
            column_lineage_dataset.InputField(namespace=namespace, name=source,
                                              field="amount")])})
    return RunEvent(
        eventType=state, eventTime=when, producer=PRODUCER, run=Run(runId=run_id),
        job=Job(namespace="airflow", name=job, facets={"sql": sql_job.SQLJobFacet(
            query=f"INSERT INTO {target} SELECT id, amount AS amount_usd FROM {source}")}),
        inputs=[InputDataset(namespace=namespace, name=source,
                             facets={"schema": _schema(("id", "INTEGER"), ("amount", "NUMERIC"))})],
        outputs=[OutputDataset(namespace=namespace, name=target, facets={
            "schema": _schema(("id", "INTEGER"), ("amount_usd", "NUMERIC")),
            "documentation": documentation_dataset.DocumentationDatasetFacet(
                description="Orders in US dollars"),
            "columnLineage": lineage})])


def _transport(server: Server) -> HttpTransport:
    return HttpTransport(HttpConfig(url=server.url))


def _emit(server: Server, event: RunEvent) -> httpx.Response:
    """Post as the client does, keeping the answer (the client's emit returns nothing)."""
    resp = _transport(server).emit(event)
    assert resp.status_code == 201, resp.text
    return httpx.Response(resp.status_code, headers=dict(resp.headers), content=resp.content)


def _get(server: Server, asset: str, after: str) -> dict[str, Any]:
    r = httpx.get(f"{server.url}/api/v1/assets/{asset}", params={"after": after}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _versions(server: Server, asset: str, after: str) -> list[int]:
    r = httpx.get(f"{server.url}/api/v1/assets/{asset}/versions", params={"after": after},
                  timeout=30)
    assert r.status_code == 200, r.text
    return [v["version"] for v in r.json()["versions"]]


def _lineage(server: Server, asset: str, **params: Any) -> dict[str, Any]:
    r = httpx.get(f"{server.url}/api/v1/lineage", params={"asset": asset, **params}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _edges(graph: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["via"]) for e in graph["edges"]}


def test_a_run_through_the_official_client(server: Server) -> None:
    run_id = str(uuid.uuid4())
    client = OpenLineageClient(transport=_transport(server))
    client.emit(_event(RunState.START, "2026-03-01T10:00:00Z", run_id, "orders.to_usd",
                       "shop.public.orders", "shop.public.orders_usd"))
    done = _emit(server, _event(RunState.COMPLETE, "2026-03-01T10:05:30.250Z", run_id,
                                "orders.to_usd", "shop.public.orders", "shop.public.orders_usd"))
    body = done.json()
    after = done.headers["Semcat-Position"]
    run, pipeline = body["run"], body["pipeline"]
    assert run == f"default/run/openlineage/{run_id}" and body["event"] == "RunEvent COMPLETE"
    src, dst = "default/table/postgres/shop.public.orders", \
        "default/table/postgres/shop.public.orders_usd"
    assert body["datasets"] == [src, dst]
    got = _get(server, run, after)
    assert (got["type"], got["status"], got["runOf"]) == ("PipelineRun", "success", pipeline)
    assert got["startedAt"] == "2026-03-01T10:00:00Z"
    assert got["endedAt"] == "2026-03-01T10:05:30.25Z"
    job = _get(server, pipeline, after)
    assert job["type"] == "Pipeline" and "INSERT INTO shop.public.orders_usd" in job["description"]
    assert job["consumes"] == [src] and job["produces"] == [dst]
    table = _get(server, dst, after)
    assert table["description"] == "Orders in US dollars"
    assert table["partOf"] == "default/schema/postgres/shop.public"
    assert _get(server, "default/schema/postgres/shop.public", after)["partOf"] == \
        "default/database/postgres/shop"
    column = _get(server, "default/column/postgres/shop.public.orders_usd.amount_usd", after)
    assert (column["type"], column["dataType"], column["partOf"]) == ("Column", "NUMERIC", dst)

    down = _lineage(server, src, direction="downstream", depth=2)
    assert (src, dst, "derivedFrom") in _edges(down)
    assert (src, pipeline, "consumes") in _edges(down)
    col = _lineage(server, "default/column/postgres/shop.public.orders.amount",
                   direction="downstream", level="column")
    assert ("default/column/postgres/shop.public.orders.amount",
            "default/column/postgres/shop.public.orders_usd.amount_usd", "derivedFrom") in \
        _edges(col)
    assert not any(n["id"].endswith("orders_usd.id") for n in col["nodes"])


def test_the_same_event_twice_writes_nothing_new(server: Server) -> None:
    run_id = str(uuid.uuid4())
    event = _event(RunState.COMPLETE, "2026-03-02T10:00:00+02:00", run_id, "dup.job",
                   "shop.public.dup_src", "shop.public.dup_dst")
    first = _emit(server, event)
    created = first.json()["created"]
    assert len(created) >= 7  # database, schema, two tables, columns, pipeline, run
    ids = [*created, *first.json()["updated"]]
    before = {a: _versions(server, a, first.headers["Semcat-Position"]) for a in ids}
    again = _emit(server, event)
    assert again.json()["created"] == [] and again.json()["updated"] == []
    assert set(again.json()["unchanged"]) >= {first.json()["run"], first.json()["pipeline"]}
    after = again.headers["Semcat-Position"]
    assert {a: _versions(server, a, after) for a in ids} == before
    assert _get(server, first.json()["run"], after)["endedAt"] == "2026-03-02T08:00:00Z"


def test_complete_before_start_stays_success(server: Server) -> None:
    run_id = str(uuid.uuid4())
    args = ("late.job", "shop.public.late_src", "shop.public.late_dst")
    _emit(server, _event(RunState.COMPLETE, "2026-03-03T11:00:00Z", run_id, *args))
    start = _emit(server, _event(RunState.START, "2026-03-03T10:00:00Z", run_id, *args))
    run = _get(server, start.json()["run"], start.headers["Semcat-Position"])
    assert run["status"] == "success"
    assert (run["startedAt"], run["endedAt"]) == ("2026-03-03T10:00:00Z", "2026-03-03T11:00:00Z")
    # a late RUNNING changes nothing either
    late = _emit(server, _event(RunState.RUNNING, "2026-03-03T10:30:00Z", run_id, *args))
    assert start.json()["run"] in late.json()["unchanged"]


@pytest.mark.parametrize(("state", "status"), [(RunState.FAIL, "failed"),
                                               (RunState.ABORT, "aborted")])
def test_a_run_that_does_not_succeed(server: Server, state: RunState, status: str) -> None:
    run_id = str(uuid.uuid4())
    args = (f"{status}.job", f"shop.public.{status}_src", f"shop.public.{status}_dst")
    _emit(server, _event(RunState.START, "2026-03-04T10:00:00Z", run_id, *args))
    ended = _emit(server, _event(state, "2026-03-04T10:01:00Z", run_id, *args))
    run = _get(server, ended.json()["run"], ended.headers["Semcat-Position"])
    assert (run["status"], run["endedAt"]) == (status, "2026-03-04T10:01:00Z")


def test_a_dataset_already_in_the_catalog_is_reused(server: Server) -> None:
    """Snowflake folds names to upper case: DWH.SALES.REVENUE is the catalog's
    dwh.sales.revenue, which keeps its id, workspace and description."""
    existing = [
        {"id": "acme/database/snowflake/dwh", "type": "Database", "name": "dwh",
         "qualifiedName": "dwh", "workspace": "acme", "platform": "platform/snowflake"},
        {"id": "acme/schema/snowflake/dwh.sales", "type": "Schema", "name": "sales",
         "qualifiedName": "dwh.sales", "workspace": "acme", "platform": "platform/snowflake",
         "partOf": "acme/database/snowflake/dwh"},
        {"id": "acme/table/snowflake/dwh.sales.revenue", "type": "Table", "name": "revenue",
         "qualifiedName": "dwh.sales.revenue", "workspace": "acme",
         "platform": "platform/snowflake", "partOf": "acme/schema/snowflake/dwh.sales",
         "description": "Revenue per day"}]
    r = httpx.post(f"{server.url}/api/v1/assets:bulk", json=existing, timeout=30)
    assert r.status_code in (200, 201), r.text
    run_id = str(uuid.uuid4())
    sf = "snowflake://acme-prod"
    done = _emit(server, _event(RunState.COMPLETE, "2026-03-05T10:00:00Z", run_id, "rev.job",
                                "DWH.SALES.REVENUE", "DWH.SALES.REVENUE_DAILY", namespace=sf))
    body = done.json()
    table = "acme/table/snowflake/dwh.sales.revenue"
    assert table in body["datasets"] and table not in body["created"]
    assert not any("REVENUE" in a and "DAILY" not in a for a in body["created"])
    after = done.headers["Semcat-Position"]
    got = _get(server, table, after)
    assert got["description"] == "Revenue per day" and got["workspace"] == "acme"
    new = "acme/table/snowflake/DWH.SALES.REVENUE_DAILY"  # in the schema it found
    assert _get(server, new, after)["partOf"] == "acme/schema/snowflake/dwh.sales"
    column = _get(server, "acme/column/snowflake/dwh.sales.revenue.amount", after)
    assert column["partOf"] == table  # the schema facet's columns join the existing table
    down = _lineage(server, table, direction="downstream")
    assert (table, new, "derivedFrom") in _edges(down)
    listed = httpx.get(f"{server.url}/api/v1/assets", timeout=30, params={
        "platform": "platform/snowflake", "type": "Table", "after": after}).json()
    names = [a["qualifiedName"].lower() for a in listed["items"]]
    assert names.count("dwh.sales.revenue") == 1


BAD = {
    "not JSON": b"{not json",
    "a list": b"[]",
    "no eventTime": {"eventType": "START", "run": {"runId": str(uuid.uuid4())},
                     "job": {"namespace": "n", "name": "bad.job"}},
    "no runId": {"eventType": "START", "eventTime": "2026-03-06T10:00:00Z", "run": {},
                 "job": {"namespace": "n", "name": "bad.job"}},
    "no job name": {"eventType": "START", "eventTime": "2026-03-06T10:00:00Z",
                    "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "n"}},
    "job name a number": {"eventType": "START", "eventTime": "2026-03-06T10:00:00Z",
                          "run": {"runId": str(uuid.uuid4())},
                          "job": {"namespace": "n", "name": 7}},
    "unknown eventType": {"eventType": "PAUSE", "eventTime": "2026-03-06T10:00:00Z",
                          "run": {"runId": str(uuid.uuid4())},
                          "job": {"namespace": "n", "name": "bad.job"}},
    "eventTime not a time": {"eventType": "START", "eventTime": "yesterday",
                             "run": {"runId": str(uuid.uuid4())},
                             "job": {"namespace": "n", "name": "bad.job"}},
    "runId not a UUID": {"eventType": "START", "eventTime": "2026-03-06T10:00:00Z",
                         "run": {"runId": "42"}, "job": {"namespace": "n", "name": "bad.job"}},
    "inputs not a list": {"eventType": "START", "eventTime": "2026-03-06T10:00:00Z",
                          "run": {"runId": str(uuid.uuid4())},
                          "job": {"namespace": "n", "name": "bad.job"},
                          "inputs": {"namespace": PG, "name": "shop.public.bad"}},
    "an unknown shape": {"hello": "world"},
}


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_events_are_refused_and_write_nothing(server: Server, case: str) -> None:
    body = BAD[case]
    before = httpx.get(f"{server.url}/api/v1/assets", params={"type": "Pipeline", "limit": 200},
                       timeout=30).json()["items"]
    content = body if isinstance(body, bytes) else Serde.to_json(body).encode()
    r = httpx.post(f"{server.url}/api/v1/lineage", content=content,
                   headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]
    assert "Semcat-Position" not in r.headers
    after = httpx.get(f"{server.url}/api/v1/assets", params={"type": "Pipeline", "limit": 200},
                      timeout=30).json()["items"]
    assert after == before and not any("bad.job" in a["id"] for a in after)


# -- on an in-memory catalog -------------------------------------------------------------------

def _raw(event: RunEvent) -> dict[str, Any]:
    return Serde.to_dict(event)


def test_owners_are_linked_only_when_they_exist(catalog: Catalog) -> None:
    catalog.assets.upsert_many([{"id": "team/data", "type": "Team", "name": "Data"}],
                               actor="user/admin")
    event = _raw(_event(RunState.COMPLETE, "2026-03-07T10:00:00Z", str(uuid.uuid4()),
                        "own.job", "shop.public.own_src", "shop.public.own_dst"))
    event["outputs"][0]["facets"]["ownership"] = {"owners": [{"name": "team:data"},
                                                             {"name": "user:ghost"}]}
    out = catalog.openlineage.ingest(event, actor="user/admin")
    assert catalog.assets.get("default/table/postgres/shop.public.own_dst")["owners"] == \
        ["team/data"]
    assert len(out["warnings"]) == 1 and "user:ghost" in out["warnings"][0]


def test_job_and_dataset_events(catalog: Catalog) -> None:
    job = {"eventTime": "2026-03-08T10:00:00Z", "producer": PRODUCER,
           "job": {"namespace": "dbt", "name": "models.stg"},
           "inputs": [{"namespace": "bigquery", "name": "proj.raw.events"}],
           "outputs": [{"namespace": "bigquery", "name": "proj.stg.events"}]}
    out = catalog.openlineage.ingest(job, actor="user/admin")
    assert out["event"] == "JobEvent" and "run" not in out
    assert catalog.assets.get("default/table/bigquery/proj.stg.events")["derivedFrom"] == \
        ["default/table/bigquery/proj.raw.events"]
    dataset = {"eventTime": "2026-03-08T11:00:00Z", "producer": PRODUCER,
               "dataset": {"namespace": "bigquery", "name": "proj.raw.events", "facets": {
                   "documentation": {"description": "Raw click events"},
                   "schema": {"fields": [{"name": "ts", "type": "TIMESTAMP"}]}}}}
    out = catalog.openlineage.ingest(dataset, actor="user/admin")
    assert out["event"] == "DatasetEvent"
    assert catalog.assets.get("default/table/bigquery/proj.raw.events")["description"] == \
        "Raw click events"
    # BigQuery names are case-sensitive: another spelling is another table
    other = {**dataset, "dataset": {"namespace": "bigquery", "name": "proj.raw.EVENTS"}}
    assert catalog.openlineage.ingest(other, actor="user/admin")["datasets"] == \
        ["default/table/bigquery/proj.raw.EVENTS"]


def test_unknown_facets_are_kept_and_known_ones_checked(catalog: Catalog) -> None:
    """Facets semcat maps onto no term are kept as JSON on the run, job and dataset, merged by
    name; a repeated event changes nothing; a known facet of the wrong shape is refused."""
    event = _raw(_event(RunState.START, "2026-03-09T10:00:00Z", str(uuid.uuid4()),
                        "facet.job", "shop.public.f_src", "shop.public.f_dst"))
    event["run"]["facets"] = {"custom": {"anything": [1, 2]}}
    event["job"]["facets"]["vendor_x"] = {"team": "ops"}
    event["outputs"][0]["facets"]["storage"] = {"storageLayer": "iceberg", "fileFormat": "parquet"}
    event["outputs"][0]["outputFacets"] = {"outputStatistics": {"rowCount": 42}}
    out = catalog.openlineage.ingest(event, actor="user/admin")
    run = json.loads(catalog.assets.get(out["run"])["facets"])
    assert run["custom"] == {"anything": [1, 2]}
    assert run["outputFacets"] == {"default/table/postgres/shop.public.f_dst": {
        "outputStatistics": {"rowCount": 42}}}
    assert json.loads(catalog.assets.get(out["pipeline"])["facets"]) == {"vendor_x": {"team": "ops"}}
    table = catalog.assets.get("default/table/postgres/shop.public.f_dst")
    assert json.loads(table["facets"])["storage"]["storageLayer"] == "iceberg"
    assert "schema" not in json.loads(table["facets"])  # mapped facets are not kept twice
    again = catalog.openlineage.ingest(event, actor="user/admin")
    assert again["updated"] == [] and again["created"] == []
    event["outputs"][0]["facets"]["storage"] = {"storageLayer": "delta"}
    catalog.openlineage.ingest(event, actor="user/admin")
    kept = json.loads(catalog.assets.get("default/table/postgres/shop.public.f_dst")["facets"])
    assert kept["storage"] == {"storageLayer": "delta"}  # the latest report of a facet wins
    event["outputs"][0]["facets"]["schema"] = {"fields": [{"name": 3}]}
    with pytest.raises(InputError, match=r"outputs\[0\]\.facets\.schema\.fields\[0\]\.name"):
        catalog.openlineage.ingest(event, actor="user/admin")


def test_column_edges_carry_their_kind_and_transformation(catalog: Catalog) -> None:
    """A DIRECT input is a derivedFrom edge plus its kind (copiedFrom, transformedFrom,
    aggregatedFrom); an INDIRECT one (filter, join key) is influencedBy, not a derivation;
    the transformation's description is kept on the output column."""
    event = _raw(_event(RunState.COMPLETE, "2026-03-09T11:00:00Z", str(uuid.uuid4()),
                        "kinds.job", "shop.public.k_src", "shop.public.k_dst"))

    def field(name: str, kind: str, subtype: str, description: str = "") -> dict[str, Any]:
        return {"namespace": PG, "name": "shop.public.k_src", "field": name, "transformations": [
            {"type": kind, "subtype": subtype, "description": description, "masking": False}]}

    event["outputs"][0]["facets"]["columnLineage"] = {
        "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/"
        "ColumnLineageDatasetFacet.json", "fields": {
            "id": {"inputFields": [field("id", "DIRECT", "IDENTITY")]},
            "amount_usd": {"inputFields": [
                field("amount", "DIRECT", "TRANSFORMATION", "amount * fx_rate"),
                field("status", "INDIRECT", "CONDITIONAL")]}},
        "dataset": [field("status", "INDIRECT", "FILTER")]}
    catalog.openlineage.ingest(event, actor="user/admin")
    col = "default/column/postgres/shop.public.k_{}.{}".format
    ident = catalog.assets.get(col("dst", "id"))
    assert ident["derivedFrom"] == ident["copiedFrom"] == [col("src", "id")]
    amount = catalog.assets.get(col("dst", "amount_usd"))
    assert amount["derivedFrom"] == amount["transformedFrom"] == [col("src", "amount")]
    assert amount["influencedBy"] == [col("src", "status")]
    assert amount["transformation"] == "amount * fx_rate"
    table = catalog.assets.get("default/table/postgres/shop.public.k_dst")
    assert table["influencedBy"] == [col("src", "status")]
    down = catalog.lineage.lineage(col("src", "status"), direction="downstream", level="column")
    assert [n["id"] for n in down["nodes"]] == [col("src", "status")]  # no data flows from it


def test_a_run_records_what_it_used_and_generated(catalog: Catalog) -> None:
    """PROV-O's used and generated per run, and the dataset version it wrote (``version``
    facet), which links a version of the data to the run that produced it."""
    run_id = str(uuid.uuid4())
    event = _raw(_event(RunState.COMPLETE, "2026-03-09T12:00:00Z", run_id, "prov.job",
                        "shop.public.p_src", "shop.public.p_dst"))
    event["outputs"][0]["facets"]["version"] = {"datasetVersion": "snapshot-7"}
    out = catalog.openlineage.ingest(event, actor="user/admin")
    run = catalog.assets.get(out["run"])
    assert run["used"] == ["default/table/postgres/shop.public.p_src"]
    assert run["generated"] == ["default/table/postgres/shop.public.p_dst"]
    assert json.loads(run["facets"])["datasetVersions"] == {
        "default/table/postgres/shop.public.p_dst": "snapshot-7"}
    rows = catalog.sparql.query(
        "PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?d WHERE { ?r prov:generated ?d }")
    assert [r["d"].value.rsplit("/", 1)[-1] for r in rows.rows()] == ["shop.public.p_dst"]
    history = catalog.lineage.runs(out["pipeline"])["runs"]
    assert [(r["id"], r["used"], r["generated"], r["datasetVersions"]) for r in history] == [
        (out["run"], ["default/table/postgres/shop.public.p_src"],
         ["default/table/postgres/shop.public.p_dst"],
         {"default/table/postgres/shop.public.p_dst": "snapshot-7"})]


def test_column_lineage_from_the_sql_facet(catalog: Catalog) -> None:
    """No columnLineage facet: the sql facet's query says which column feeds which."""
    event = _raw(_event(RunState.COMPLETE, "2026-03-10T10:00:00Z", str(uuid.uuid4()),
                        "sql.job", "shop.public.s_src", "shop.public.s_dst"))
    del event["outputs"][0]["facets"]["columnLineage"]
    catalog.openlineage.ingest(event, actor="user/admin")
    got = catalog.assets.get("default/column/postgres/shop.public.s_dst.amount_usd")
    assert got["derivedFrom"] == ["default/column/postgres/shop.public.s_src.amount"]
    event["job"]["facets"]["sql"]["query"] = "INSERT INTO nowhere SELECT FROM WHERE"
    event["run"]["runId"] = str(uuid.uuid4())
    out = catalog.openlineage.ingest(event, actor="user/admin")
    assert any("sql facet" in m for m in out["warnings"])


def test_sql_facet_edges_carry_their_kind(catalog: Catalog) -> None:
    """From the sql facet: an aggregate is aggregatedFrom with its expression kept, a filter
    and a grouping key are influencedBy."""
    event = _raw(_event(RunState.COMPLETE, "2026-03-10T11:00:00Z", str(uuid.uuid4()),
                        "sqlkind.job", "shop.public.q_src", "shop.public.q_dst"))
    del event["outputs"][0]["facets"]["columnLineage"]
    event["inputs"][0]["facets"]["schema"] = {"fields": [
        {"name": n, "type": "TEXT"} for n in ("id", "amount", "status")]}
    event["outputs"][0]["facets"]["schema"] = {"fields": [
        {"name": n, "type": "NUMERIC"} for n in ("id", "total")]}
    event["job"]["facets"]["sql"]["query"] = (
        "INSERT INTO shop.public.q_dst SELECT o.id, SUM(o.amount) AS total "
        "FROM shop.public.q_src o WHERE o.status = 'paid' GROUP BY o.id")
    catalog.openlineage.ingest(event, actor="user/admin")
    col = "default/column/postgres/shop.public.q_{}.{}".format
    total = catalog.assets.get(col("dst", "total"))
    assert total["aggregatedFrom"] == total["derivedFrom"] == [col("src", "amount")]
    assert set(total["influencedBy"]) == {col("src", "status"), col("src", "id")}
    assert "SUM" in total["transformation"].upper()
    assert catalog.assets.get(col("dst", "id"))["copiedFrom"] == [col("src", "id")]


@pytest.mark.parametrize(("change", "where"), [
    ({"eventTime": "2026-03-11"}, "event.eventTime"),
    ({"run": {"runId": "not-a-uuid"}}, "event.run.runId"),
    ({"job": {"namespace": "n"}}, "event.job.name"),
    ({"eventType": "DONE"}, "event.eventType"),
    ({"outputs": [{"namespace": PG, "name": ["x"]}]}, "event.outputs[0].name"),
])
def test_errors_name_the_field(catalog: Catalog, change: dict[str, Any], where: str) -> None:
    event = {**_raw(_event(RunState.START, "2026-03-11T10:00:00Z", str(uuid.uuid4()),
                           "err.job", "shop.public.e_src", "shop.public.e_dst")), **change}
    with pytest.raises(InputError, match=rf"^{re.escape(where)}\b"):
        catalog.openlineage.ingest(event, actor="user/admin")
    assert catalog.assets.page(type="Pipeline").items == []


def test_a_symlink_names_the_catalog_table(catalog: Catalog) -> None:
    """A Spark job writing an S3 path that the catalog knows as a Hive table."""
    first = {"eventTime": "2026-03-12T10:00:00Z", "producer": PRODUCER,
             "dataset": {"namespace": "hive://metastore:9083", "name": "lake.sales.orders"}}
    table = catalog.openlineage.ingest(first, actor="user/admin")["datasets"][0]
    assert table == "default/table/hive/lake.sales.orders"
    job = {"eventTime": "2026-03-12T11:00:00Z", "producer": PRODUCER,
           "job": {"namespace": "spark", "name": "compact"},
           "outputs": [{"namespace": "s3://lake", "name": "/sales/orders", "facets": {
               "symlinks": {"identifiers": [{"namespace": "hive://metastore:9083",
                                             "name": "lake.sales.orders", "type": "TABLE"}]}}}]}
    out = catalog.openlineage.ingest(job, actor="user/admin")
    assert out["datasets"] == [table] and not any("/s3/" in a for a in out["created"])


def test_column_lineage_creates_the_columns_it_names(catalog: Catalog) -> None:
    """Without a schema facet the columns are still created, typed UNKNOWN until one comes."""
    event = _raw(_event(RunState.COMPLETE, "2026-03-13T10:00:00Z", str(uuid.uuid4()),
                        "cl.job", "shop.public.c_src", "shop.public.c_dst"))
    for d in (*event["inputs"], *event["outputs"]):
        del d["facets"]["schema"]
    catalog.openlineage.ingest(event, actor="user/admin")
    got = catalog.assets.get("default/column/postgres/shop.public.c_dst.amount_usd")
    assert got["dataType"] == "UNKNOWN"
    assert got["derivedFrom"] == ["default/column/postgres/shop.public.c_src.amount"]
    event["outputs"][0]["facets"]["schema"] = {"fields": [{"name": "amount_usd",
                                                           "type": "NUMERIC(12,2)"}]}
    catalog.openlineage.ingest(event, actor="user/admin")
    got = catalog.assets.get("default/column/postgres/shop.public.c_dst.amount_usd")
    assert got["dataType"] == "NUMERIC(12,2)"


def test_odd_names_still_make_a_valid_hierarchy(catalog: Catalog) -> None:
    """A path or an undotted name hangs under the namespace's host or bucket."""
    for namespace, name in (("s3://lake", "/raw/events.json"), ("kafka://broker:9092", "clicks"),
                            ("file", ".")):
        event = {"eventTime": "2026-03-14T10:00:00Z", "producer": PRODUCER,
                 "dataset": {"namespace": namespace, "name": name}}
        table = catalog.openlineage.ingest(event, actor="user/admin")["datasets"][0]
        schema = catalog.assets.get(table)["partOf"]
        assert catalog.assets.get(schema)["type"] == "Schema"


def test_governance_and_search_follow_lineage_from_openlineage(catalog: Catalog) -> None:
    """PII on a source column reaches the column an OpenLineage run derives from it, and the
    search's lineage filter finds the run's output downstream of its input."""
    catalog.assets.upsert_many([
        {"id": "classification/pii", "type": "ClassificationScheme", "name": "PII"},
        {"id": "classification/pii/email", "type": "Classification", "name": "PII.Email",
         "partOf": "classification/pii"}], actor="admin")
    run_id = str(uuid.uuid4())
    args = ("gov.job", "shop.public.gov_src", "shop.public.gov_dst")
    started = catalog.openlineage.ingest(
        _raw(_event(RunState.START, "2026-03-06T10:00:00Z", run_id, *args)), actor="etl")
    source, target = started["datasets"]
    amount = next(k for k in started["created"] if k.endswith(".gov_src.amount"))
    catalog.assets.patch(amount, {"classifications": ["classification/pii/email"]},
                         actor="admin")
    catalog.openlineage.ingest(
        _raw(_event(RunState.COMPLETE, "2026-03-06T10:05:00Z", run_id, *args)), actor="etl")
    usd = f"{catalog.layout.iri(target.replace('/table/', '/column/'))}.amount_usd"
    pii = catalog.layout.iri("classification/pii/email")
    asked = catalog.sparql.query(
        f"ASK {{ <{usd}> <https://w3id.org/semcat#classification> <{pii}> }}")
    assert asked.raw, "PII did not propagate along the OpenLineage column edge"
    found = catalog.search.run(SearchRequest(q="", downstream_of=source, limit=50))
    assert target in [h.id for h in found.hits]


def _queued(catalog: Catalog, bodies: list[dict[str, Any]]) -> list[Any]:
    """Post ``bodies`` from threads while a write is in progress, so that they queue up behind
    it; each request's answer or error."""
    ingest = catalog.openlineage
    results: list[Any] = [None] * len(bodies)

    def post(i: int) -> None:
        try:
            results[i] = ingest.ingest(bodies[i], actor="user/admin")
        except Exception as e:  # the request's own answer
            results[i] = e

    with catalog.journal.lock:
        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 30
        while len(ingest._pending) < len(bodies) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(ingest._pending) == len(bodies)
    for th in threads:
        th.join()
    return results


def test_events_posted_together_are_written_as_one_change(catalog: Catalog) -> None:
    """Events waiting while another is written go in one change (group commit), each answered
    with what it wrote; a bad one among them fails alone and the others are written."""
    def body(i: int, job: str | None = None) -> dict[str, Any]:
        event = _raw(_event(RunState.COMPLETE, "2026-03-14T10:00:00Z", str(uuid.uuid4()),
                            f"batch.job{i}", f"shop.public.b_src{i}", f"shop.public.b_dst{i}"))
        if job is not None:
            event["job"]["name"] = job
        return event

    before = catalog.journal.applied_seq
    results = _queued(catalog, [body(i) for i in range(6)])
    logged = [cs for cs in catalog.changelog.since(before)]
    assert [cs.message for cs in logged] == ["OpenLineage: 6 events (RunEvent COMPLETE)"]
    for i, out in enumerate(results):
        assert out["run"] in out["created"] and out["pipeline"] in out["created"]
        assert f"default/table/postgres/shop.public.b_dst{i}" in out["created"]
        assert f"default/table/postgres/shop.public.b_dst{(i + 1) % 6}" not in out["created"]
        assert catalog.assets.get(out["run"])["status"] == "success"
    before = catalog.journal.applied_seq
    results = _queued(catalog, [body(6), body(7, job=""), body(8)])
    assert isinstance(results[1], ValidationFailed)  # a Pipeline needs a name
    assert [catalog.assets.get(r["run"])["status"] for r in (results[0], results[2])] == \
        ["success", "success"]
    with pytest.raises(NotFound):
        catalog.assets.get("default/table/postgres/shop.public.b_dst7")
    assert len(list(catalog.changelog.since(before))) == 2


def test_a_repeated_job_writes_only_its_run(catalog: Catalog) -> None:
    """The next run of a job names the same datasets with the same facets: only the run is
    written. Once someone changes one of those assets, the event's facets apply again."""
    def run(description: str = "Orders in US dollars") -> dict[str, Any]:
        event = _raw(_event(RunState.COMPLETE, "2026-03-15T10:00:00Z", str(uuid.uuid4()),
                            "repeat.job", "shop.public.r_src", "shop.public.r_dst"))
        event["outputs"][0]["facets"]["documentation"]["description"] = description
        return catalog.openlineage.ingest(event, actor="user/admin")

    dst = "default/table/postgres/shop.public.r_dst"
    first = run()
    assert dst in first["created"]
    second = run()
    assert second["created"] == [second["run"]] and second["updated"] == []
    assert dst in second["unchanged"] and first["pipeline"] in second["unchanged"]
    catalog.assets.patch(dst, {"description": "edited by hand"}, actor="user/admin")
    third = run()
    assert dst in third["updated"]
    assert catalog.assets.get(dst)["description"] == "Orders in US dollars"
    fourth = run("Orders, converted to US dollars")
    assert catalog.assets.get(dst)["description"] == "Orders, converted to US dollars"
    assert dst in fourth["updated"]
