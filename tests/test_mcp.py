"""The MCP server for AI agents (issue 17, item 4), through the SDK's own client: `semcat mcp`
as a real subprocess over stdio, and /mcp on a real uvicorn server over streamable HTTP, on the
access-control scenario (tests/access_scenario.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from catalog import Catalog, Settings
from tests.access_scenario import CUSTOMERS, EMAIL, HASH, HIDDEN_FROM_BOB, PAYROLL, load
from tests.conftest import ROOT, Server

TOOLS = {"search", "describe_asset", "lineage", "impact", "sparql", "glossary_terms",
         "classifications", "explain"}
ID = "http://127.0.0.1:8000/id/"
SC = "https://w3id.org/semcat#"
EVERY_SUBJECT = "SELECT DISTINCT ?s WHERE { ?s ?p ?o }"


def scenario(data: Path) -> dict[str, str]:
    """The scenario on disk, with an admin key and a key for Bob, who may read acme but not
    its PII (he is a contractor) nor the restricted payroll table."""
    with Catalog.open(Settings(data=data)) as cat:
        load(cat)
        _, admin = cat.keys.create("user/root", admin=True, label="test admin")
        _, bob = cat.keys.create("user/bob", label="test viewer")
    return {"admin": admin, "bob": bob}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    data = tmp_path_factory.mktemp("mcp-local")
    return data, scenario(data)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    data = tmp_path_factory.mktemp("mcp-served")
    keys = scenario(data)
    srv = Server(data, env={"SEMCAT_OPEN": "0"}).start()
    yield srv, keys
    srv.stop()


def stdio(data: Path, key: str | None = None, **settings: str) -> Client:
    """`semcat mcp` as the agent's MCP client starts it: a subprocess on stdin/stdout."""
    env = {k: v for k, v in os.environ.items() if k != "SEMCAT_API_KEY"}
    return Client(StdioServerParameters(
        command=sys.executable, args=["-m", "semcat", "mcp", "--data", str(data)], cwd=ROOT,
        env={**env, "PYTHONUNBUFFERED": "1", **({"SEMCAT_API_KEY": key} if key else {}),
             **settings}))


@asynccontextmanager
async def http(srv: Server, key: str) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"},
                                  timeout=60) as client, \
            Client(streamable_http_client(f"{srv.url}/mcp", http_client=client)) as mcp:
        yield mcp


def run(session: AbstractAsyncContextManager[Client],
        body: Callable[[Client], Awaitable[None]]) -> None:
    async def main() -> None:
        async with session as client:
            await body(client)
    anyio.run(main)


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    r = await client.call_tool(tool, args)
    text = r.content[0].text if r.content else ""  # type: ignore[union-attr]
    assert not r.is_error, text
    return json.loads(text)  # type: ignore[no-any-return]


async def fails(client: Client, tool: str, **args: Any) -> str:
    r = await client.call_tool(tool, args)
    assert r.is_error, r
    return r.content[0].text  # type: ignore[union-attr,no-any-return]


async def subjects(client: Client, query: str = EVERY_SUBJECT) -> set[str]:
    found = await call(client, "sparql", query=query)
    return {row["s"]["value"] for row in found["rows"]}


async def hit_ids(client: Client, q: str) -> set[str]:
    found = await call(client, "search", query=q, mode="keyword", limit=50)
    return {h["id"] for h in found["hits"]}


def test_stdio_tools_as_the_local_operator(local: tuple[Path, dict[str, str]]) -> None:
    """Without a key the local operator (an admin) calls every tool on a real subprocess."""
    data, _ = local

    async def body(client: Client) -> None:
        listed = (await client.list_tools()).tools
        assert {t.name for t in listed} == TOOLS
        assert all(t.annotations and t.annotations.read_only_hint for t in listed)
        assert {EMAIL, HASH} <= await hit_ids(client, "email")

        described = await call(client, "describe_asset", asset=CUSTOMERS)
        assert described["asset"]["id"] == CUSTOMERS and described["asset"]["type"] == "Table"
        assert described["owners"] == [{"id": "team/finance", "type": "Team", "name": "Finance"}]
        assert {c["id"] for c in described["columns"]} == {EMAIL, HASH}
        assert {"id": "classification/contains-pii", "inferred": True} in \
            described["classifications"]
        by_iri = await call(client, "describe_asset", asset=ID + CUSTOMERS)
        assert by_iri["asset"]["id"] == CUSTOMERS

        upstream = await call(client, "lineage", asset=HASH, direction="upstream",
                              level="column")
        assert [n["id"] for n in upstream["nodes"]] == [HASH, EMAIL]
        impact = await call(client, "impact", asset=EMAIL)
        assert HASH in {n["id"] for n in impact["nodes"]}

        why = await call(client, "explain", asset=CUSTOMERS, predicate="semcat:classification")
        statement = why["explanations"][0]["statement"]
        assert statement["object"] == ID + "classification/contains-pii"
        assert why["explanations"][0]["premises"], "an inferred fact rests on premises"
        schemes = await call(client, "classifications")
        pii = next(s for s in schemes["schemes"] if s["id"] == "classification/pii")
        assert [v["id"] for v in pii["values"]] == ["classification/pii/email"]
        assert (await call(client, "glossary_terms"))["items"] == []

        assert {ID + EMAIL, ID + PAYROLL} <= await subjects(client)
        ontology = (await client.read_resource("semcat://ontology")).contents[0]
        assert ontology.mime_type == "text/turtle" and "owl:Ontology" in ontology.text  # type: ignore[union-attr]
        prefixes = (await client.read_resource("semcat://sparql-prefixes")).contents[0]
        assert f"PREFIX semcat: <{SC}>" in prefixes.text  # type: ignore[union-attr]

    run(stdio(data), body)


def test_stdio_errors_say_what_the_rest_api_says(local: tuple[Path, dict[str, str]]) -> None:
    data, _ = local

    async def body(client: Client) -> None:
        assert "Not found: no asset with id 'acme/table/pg/db.s.nope'" in await fails(
            client, "describe_asset", asset="acme/table/pg/db.s.nope")
        assert "no asset with id" in await fails(client, "lineage", asset="acme/table/pg/x.y")
        bad = await fails(client, "sparql", query="SELECT ?x WHERE { ?x ?y }")
        assert "SPARQL syntax error: line 1, column" in bad
        insert = (f"PREFIX semcat: <{SC}> INSERT DATA {{ <{ID}{CUSTOMERS}> semcat:name "
                  '"renamed" }')
        refused = await fails(client, "sparql", query=insert)
        assert "INSERT begins a SPARQL update" in refused and "read-only" in refused
        drop = await fails(client, "sparql", query=f"# comment\nDROP GRAPH <{ID}g>")
        assert "DROP begins a SPARQL update" in drop
        ask = f'ASK {{ <{ID}{CUSTOMERS}> <{SC}name> "renamed" }}'
        assert (await call(client, "sparql", query=ask))["boolean"] is False
        for limit in ("", "LIMIT 400", "LIMIT 400 VALUES ?x { 1 }"):  # ours; its own
            rows = await call(client, "sparql", query=f"SELECT * WHERE {{ ?s ?p ?o }} {limit}")
            assert len(rows["rows"]) == 100 and "SEMCAT_MCP_MAX_ROWS" in rows["truncated"]
        few = await call(client, "sparql", query=f"SELECT ?p WHERE {{ <{ID}{CUSTOMERS}> ?p ?o }}")
        assert 3 < len(few["rows"]) < 100 and "truncated" not in few
        graph = await call(client, "sparql", query=f"CONSTRUCT WHERE {{ <{ID}{CUSTOMERS}> ?p ?o }}")
        assert graph["kind"] == "graph" and f"<{ID}{CUSTOMERS}>" in graph["ntriples"]

    run(stdio(data), body)


def test_stdio_viewer_key_never_sees_a_hidden_asset(local: tuple[Path, dict[str, str]]) -> None:
    data, keys = local

    async def body(client: Client) -> None:
        assert HASH in await hit_ids(client, "email")
        assert not set(HIDDEN_FROM_BOB) & (await hit_ids(client, "email") |
                                           await hit_ids(client, "payroll"))
        for hidden in HIDDEN_FROM_BOB:
            assert f"no asset with id {hidden!r}" in await fails(client, "describe_asset",
                                                                 asset=hidden)
        described = await call(client, "describe_asset", asset=CUSTOMERS)
        assert {c["id"] for c in described["columns"]} == {HASH}
        upstream = await call(client, "lineage", asset=HASH, direction="upstream",
                              level="column")
        assert [n["id"] for n in upstream["nodes"]] == [HASH]
        seen = await subjects(client)
        assert ID + CUSTOMERS in seen and not {ID + h for h in HIDDEN_FROM_BOB} & seen

    run(stdio(data, keys["bob"]), body)


def test_stdio_sparql_stops_at_its_deadline(local: tuple[Path, dict[str, str]]) -> None:
    data, _ = local
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"

    async def body(client: Client) -> None:
        started = anyio.current_time()
        stopped = await fails(client, "sparql", query=endless)
        assert "Query timed out" in stopped and "1 s deadline" in stopped
        assert anyio.current_time() - started < 15
        assert (await call(client, "sparql", query="ASK { ?s ?p ?o }"))["boolean"] is True

    run(stdio(data, SEMCAT_MCP_QUERY_TIMEOUT_S="1"), body)


def test_stdio_refuses_an_unknown_key(local: tuple[Path, dict[str, str]]) -> None:
    data, _ = local
    r = subprocess.run([sys.executable, "-m", "semcat", "mcp", "--data", str(data), "--key",
                        "sck_000000000000_nope"], cwd=ROOT, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 5 and r.stdout == "", (r.stdout, r.stderr)
    assert "error:" in r.stderr and "Traceback" not in r.stderr


def test_http_needs_a_credential_where_anonymous_access_is_closed(
        served: tuple[Server, dict[str, str]]) -> None:
    srv, _ = served
    r = httpx.post(f"{srv.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                   headers={"Accept": "application/json, text/event-stream"}, timeout=30)
    assert r.status_code == 401 and r.headers["content-type"].startswith(
        "application/problem+json")
    assert "authentication required" in r.json()["detail"]


def test_http_tools_with_the_callers_own_access(served: tuple[Server, dict[str, str]]) -> None:
    srv, keys = served

    async def admin(client: Client) -> None:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        assert (await call(client, "describe_asset", asset=EMAIL))["asset"]["id"] == EMAIL
        assert {ID + EMAIL, ID + PAYROLL} <= await subjects(client)
        why = await call(client, "explain", asset=HASH)
        assert why["explanations"] and all("rule" in e for e in why["explanations"])
        ontology = (await client.read_resource("semcat://ontology")).contents[0]
        assert "owl:Ontology" in ontology.text  # type: ignore[union-attr]

    async def bob(client: Client) -> None:
        for hidden in HIDDEN_FROM_BOB:
            assert f"no asset with id {hidden!r}" in await fails(client, "describe_asset",
                                                                 asset=hidden)
        assert not set(HIDDEN_FROM_BOB) & await hit_ids(client, "email")
        seen = await subjects(client)
        assert ID + CUSTOMERS in seen and not {ID + h for h in HIDDEN_FROM_BOB} & seen
        refused = await fails(client, "sparql", query=f"DELETE WHERE {{ <{ID}{CUSTOMERS}> ?p ?o }}")
        assert "DELETE begins a SPARQL update" in refused

    run(http(srv, keys["admin"]), admin)
    run(http(srv, keys["bob"]), bob)
    with httpx.Client(base_url=srv.url, headers={"X-API-Key": keys["admin"]}, timeout=30) as c:
        assert c.get(f"/api/v1/assets/{CUSTOMERS}").status_code == 200  # the delete was refused


def test_stdio_beside_a_running_server_relays_to_it(served: tuple[Server, dict[str, str]]
                                                    ) -> None:
    """The store admits one process: `semcat mcp` asks the server holding it, as the key's
    owner, or with the key the server leaves for local commands."""
    srv, keys = served

    async def bob(client: Client) -> None:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        assert (await call(client, "describe_asset", asset=CUSTOMERS))["owners"]
        assert "no asset with id" in await fails(client, "describe_asset", asset=EMAIL)
        prefixes = (await client.read_resource("semcat://sparql-prefixes")).contents[0]
        assert "PREFIX prov:" in prefixes.text  # type: ignore[union-attr]

    async def operator(client: Client) -> None:
        assert (await call(client, "describe_asset", asset=EMAIL))["asset"]["id"] == EMAIL

    run(stdio(srv.data, keys["bob"]), bob)
    run(stdio(srv.data), operator)


def test_a_result_over_the_byte_budget_is_cut_and_says_where() -> None:
    from mcp_server.bounded import bounded, size

    value = {"id": "x", "nodes": [{"id": f"n{i}", "name": "n" * 20} for i in range(1000)],
             "edges": [{"source": "a", "target": "b"}] * 10}
    cut = bounded(value, 4000)
    assert size(cut) <= 4000 and cut["id"] == "x"
    assert cut["truncated"] == {"nodes": 1000} and cut["nodes"] == value["nodes"][:len(cut["nodes"])]
    assert cut["edges"] == value["edges"] and bounded(value, size(value)) is value
    assert "narrow the request" in bounded({"text": "x" * 5000}, 1000)["note"]
