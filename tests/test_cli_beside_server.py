"""The CLI while `semcat serve` holds the data directory (issue 11, item 2): read commands ask
the server over HTTP and print what they print without it; writes (rules) go through it too."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.conftest import ROOT, Server, demo_copy

ORDERS = "acme/table/postgres/shop.public.orders"
TABLES = "SELECT ?t WHERE { ?t a <https://w3id.org/semcat#Table> } ORDER BY ?t LIMIT 3"
COMMANDS: list[tuple[str, ...]] = [
    ("query", TABLES),
    ("query", "-f", "json", TABLES),
    ("query", "-f", "csv", TABLES),
    ("query", "ASK { ?s ?p ?o }"),
    ("query", "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/semcat#Table> ; ?p ?o } "
              "ORDER BY ?s ?p ?o LIMIT 5"),
    ("history", ORDERS),
    ("history", "-f", "json", "http://127.0.0.1:8000/id/" + ORDERS),
    ("explain", "-f", "json", ORDERS),
    ("validate", "--workspace", "acme", "-f", "json"),
    ("validate", "-f", "turtle"),
    ("export", "-f", "nq"),
    ("rules", "list", "-f", "json"),
    ("lineage", "acme/table/snowflake/analytics.raw.shop_orders", "--depth", "2"),
    ("lineage", ORDERS, "--impact", "-f", "json"),
    ("lineage", "acme/column/postgres/shop.public.orders.customer_id", "--downstream",
     "--column", "-f", "json"),
]


def semcat(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "semcat", *args, "--data", str(data)],
                          cwd=ROOT, text=True, capture_output=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=300)


def _search(data: Path) -> dict[str, object]:
    r = semcat(data, "search", "--mode", "keyword", "-f", "json", "orders customers")
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    found.pop("tookMs")
    return found  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def demo(demo_template: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Path, dict[tuple[str, ...], str]]]:
    """A demo data directory and what each command prints while no server runs."""
    data = demo_copy(demo_template, tmp_path_factory, "beside")
    alone = {}
    for command in COMMANDS:
        r = semcat(data, *command)
        assert r.returncode == 0, (command, r.stderr)
        alone[command] = r.stdout
    alone[("search",)] = json.dumps(_search(data))
    yield data, alone


def test_read_commands_print_the_same_while_the_server_runs(demo: tuple[Path, dict[
        tuple[str, ...], str]]) -> None:
    data, alone = demo
    srv = Server(data, env={"SEMCAT_OPEN": "0"}).start()  # the note's key is what lets us in
    try:
        note = data / "server.json"
        assert stat.S_IMODE(note.stat().st_mode) == 0o600
        assert json.loads(note.read_text())["url"] == srv.url
        for command in COMMANDS:
            r = semcat(data, *command)
            assert r.returncode == 0, (command, r.stderr)
            assert "asking it" in r.stderr and srv.url in r.stderr, command
            if command[-1] == "turtle":  # a fresh report: its blank nodes are new
                assert isomorphic(Graph().parse(data=r.stdout, format="turtle"),
                                  Graph().parse(data=alone[command], format="turtle"))
            else:
                assert r.stdout == alone[command], command
        assert json.dumps(_search(data)) == alone[("search",)]
        # errors keep their exit codes and read as they do without a server
        r = semcat(data, "history", "acme/table/no-such-table")
        assert r.returncode == 3 and "no asset" in r.stderr and "Traceback" not in r.stderr
        r = semcat(data, "query", "SELEC ?x")
        assert r.returncode == 2 and "line 1, column" in r.stderr
        assert not r.stderr.splitlines()[-1].startswith("error: SPARQL syntax error")
    finally:
        srv.stop()
    assert not (data / "server.json").exists()  # withdrawn, its key revoked


def test_the_cli_sees_the_servers_latest_writes_and_writes_through_it(
        demo: tuple[Path, dict[tuple[str, ...], str]]) -> None:
    data, alone = demo
    before = json.loads(alone[("history", "-f", "json", "http://127.0.0.1:8000/id/" + ORDERS)])
    key = (data / "admin.key").read_text().strip()
    srv = Server(data, env={"SEMCAT_OPEN": "0"}).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30,
                          headers={"Authorization": f"Bearer {key}"}) as http:
            r = http.patch(f"/api/v1/assets/{ORDERS}", json={"description": "Orders, as of now"})
            assert r.status_code == 200, r.text
        r = semcat(data, "history", "-f", "json", ORDERS)
        assert r.returncode == 0, r.stderr
        after = json.loads(r.stdout)
        assert len(after) == len(before) + 1 and after[-1]["actor"] == "admin"
        r = semcat(data, "query", "-f", "csv", "SELECT ?d WHERE { <http://127.0.0.1:8000/id/"
                   f"{ORDERS}> <https://w3id.org/semcat#description> ?d }}")
        assert "Orders, as of now" in r.stdout, r.stderr
        rule = ("CONSTRUCT { ?this <https://w3id.org/semcat#hasTag> "
                "<http://127.0.0.1:8000/id/tag/beside> } WHERE { ?this a "
                "<https://w3id.org/semcat#Dashboard> }")
        r = semcat(data, "rules", "add", rule, "--name", "Beside the server")
        assert r.returncode == 0, r.stderr
        listed = json.loads(semcat(data, "rules", "list", "-f", "json").stdout)
        assert "rule/beside-the-server" in [x["id"] for x in listed]
        with httpx.Client(base_url=srv.url, timeout=30,
                          headers={"Authorization": f"Bearer {key}"}) as http:
            assert http.get("/api/v1/rules/beside-the-server").status_code == 200
        r = semcat(data, "rules", "remove", "rule/beside-the-server")
        assert r.returncode == 0, r.stderr
        listed = json.loads(semcat(data, "rules", "list", "-f", "json").stdout)
        assert "rule/beside-the-server" not in [x["id"] for x in listed]
    finally:
        srv.stop()


def test_a_killed_servers_note_is_ignored_and_its_key_revoked(
        demo: tuple[Path, dict[tuple[str, ...], str]]) -> None:
    data, alone = demo
    srv = Server(data, env={"SEMCAT_OPEN": "0"}).start()
    note = json.loads((data / "server.json").read_text())
    srv.kill()
    assert (data / "server.json").exists()  # a crash leaves it behind
    r = semcat(data, "query", TABLES)  # the pid is dead: open the catalog here
    assert r.returncode == 0 and "asking it" not in r.stderr and r.stdout == alone[("query", TABLES)]
    srv = Server(data, env={"SEMCAT_OPEN": "0"}).start()
    try:
        stale = httpx.get(srv.url + "/api/v1/me", timeout=10,
                          headers={"Authorization": f"Bearer {note['key']}"})
        assert stale.status_code == 401  # the next server revoked the dead one's key
        fresh = json.loads((data / "server.json").read_text())
        assert fresh["keyId"] != note["keyId"]
        assert httpx.get(srv.url + "/api/v1/me", timeout=10, headers={
            "Authorization": f"Bearer {fresh['key']}"}).status_code == 200
    finally:
        srv.stop()


def test_history_and_explain_take_ids_and_iris_alike(
        demo: tuple[Path, dict[tuple[str, ...], str]]) -> None:
    data, _ = demo
    iri = "http://127.0.0.1:8000/id/" + ORDERS
    for command in ("history", "explain"):
        printed = {semcat(data, command, "-f", "json", spelling).stdout
                   for spelling in (ORDERS, iri, f"<{iri}>")}
        assert len(printed) == 1 and json.loads(printed.pop()), command
