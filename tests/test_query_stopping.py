"""Queries that can be stopped (issue 12, item 3): a query past its deadline stops using CPU and
memory, and the server answers other requests meanwhile; queries still see every acknowledged
write. Against a real server, whose /sparql queries run in worker processes over snapshots."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server

# a cross join sorted on both sides: pyoxigraph materialises it all before the first row
HEAVY = "SELECT * WHERE { ?s ?p ?o . ?s2 ?p2 ?o2 } ORDER BY ?o ?o2 LIMIT 1"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }"
TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> dict[int, tuple[float, int]]:
    """CPU seconds and resident bytes of ``pid`` and its descendants."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            stats[int(entry.name)] = fields
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    page = os.sysconf("SC_PAGE_SIZE")
    return {p: ((int(stats[p][11]) + int(stats[p][12])) / TICK, int(stats[p][21]) * page)
            for p in tree if p in stats}


@pytest.fixture(scope="module")
def heavy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("stopping"),
                 env={"SEMCAT_QUERY_TIMEOUT_S": "1.5"}).start()
    triples = "".join(f"<http://example.org/s{i}> <http://example.org/p> {i} .\n"
                      for i in range(3_000))
    r = httpx.put(srv.url + "/store", params={"graph": "http://example.org/big"}, timeout=60,
                  content=triples.encode(), headers={"Content-Type": "text/turtle"})
    assert r.status_code == 201, r.text
    yield srv
    srv.stop()


def test_a_query_past_its_deadline_stops_using_cpu_and_memory(heavy_server: Server) -> None:
    assert heavy_server.proc is not None
    pid = heavy_server.proc.pid
    answered: list[int] = []
    done = threading.Event()

    def probe() -> None:  # the server answers others while the heavy queries run
        with httpx.Client(base_url=heavy_server.url, timeout=30) as http:
            while not done.is_set():
                answered.append(http.get("/healthz").status_code)
                time.sleep(0.1)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with httpx.Client(base_url=heavy_server.url, timeout=60) as http:
            for query in (HEAVY, COUNT):
                r = http.get("/sparql", params={"query": query})
                assert r.status_code == 503 and "deadline" in r.text, r.text
    finally:
        done.set()
        prober.join()
    assert answered and set(answered) == {200}
    time.sleep(1.0)  # a second after the deadline
    before = _tree(pid)
    time.sleep(2.0)
    after = _tree(pid)
    spent = sum(cpu - before[p][0] for p, (cpu, _) in after.items() if p in before)
    assert spent < 0.5, (spent, before, after)  # nothing is still evaluating the queries
    grew = sum(rss - before[p][1] for p, (_, rss) in after.items() if p in before)
    assert grew < 50_000_000, grew


def test_queries_still_see_every_acknowledged_write(heavy_server: Server) -> None:
    with httpx.Client(base_url=heavy_server.url, timeout=30) as http:
        for i in range(5):
            r = http.post("/api/v1/assets", json={"type": "DataPlatform", "id":
                                                  f"platform/seen{i}", "name": f"seen{i}"})
            assert r.status_code == 201, r.text
            asked = http.get("/sparql", params={"query": 'ASK { ?p <https://w3id.org/semcat#name> '
                                                         f'"seen{i}" }}'},
                             headers={"Accept": "application/sparql-results+json"})
            assert asked.json()["boolean"] is True, i
        r = http.get("/sparql", params={"query": "SELEC ?x"})  # errors come back from workers
        assert r.status_code == 400 and "line 1, column" in r.text
        r = http.get("/sparql", params={"query": "SELECT * {}"}, headers={"Accept": "image/png"})
        assert r.status_code == 406


def _cpu_settles(pid: int) -> None:
    time.sleep(1.0)  # a second after the deadline
    before = _tree(pid)
    time.sleep(2.0)
    after = _tree(pid)
    spent = sum(cpu - before[p][0] for p, (cpu, _) in after.items() if p in before)
    assert spent < 0.5, (spent, before, after)


def _idle(pid: int, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = _tree(pid)
        time.sleep(1.0)
        after = _tree(pid)
        if sum(cpu - before[p][0] for p, (cpu, _) in after.items() if p in before) < 0.1:
            return
    raise AssertionError("the server stayed busy")


def test_a_search_graph_filter_and_a_rule_dry_run_are_stopped_too(heavy_server: Server) -> None:
    """The other ways to make the engine work: a search's ``where`` pattern and a
    classification rule (its dry run over the whole catalog) run where queries can be stopped."""
    assert heavy_server.proc is not None
    cross = "?b ?q ?y . ?c ?r ?z FILTER(?y + ?z = -1)"
    with httpx.Client(base_url=heavy_server.url, timeout=60) as http:
        r = http.get("/api/v1/search", params={"q": "x", "where": f"{{ ?asset ?p ?o . {cross} }}"})
        assert r.status_code == 503 and "deadline" in r.text, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        _cpu_settles(heavy_server.proc.pid)
        r = http.post("/api/v1/rules", json={
            "name": "Never finishes",
            "construct": "PREFIX semcat: <https://w3id.org/semcat#> CONSTRUCT { ?this "
                         "semcat:classification <http://127.0.0.1:8000/id/classification/pii> } "
                         f"WHERE {{ ?this ?p ?o . {cross} }}"})
        assert r.status_code == 400 and "did not finish" in r.text, r.text
        assert http.get("/api/v1/rules/never-finishes").status_code == 404  # nothing written
        _cpu_settles(heavy_server.proc.pid)


@pytest.mark.slow
def test_an_export_past_its_deadline_is_stopped(tmp_path: Path) -> None:
    srv = Server(tmp_path, env={"SEMCAT_EXPORT_TIMEOUT_S": "0.3"}).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            r = http.get("/api/v1/export", headers={"Accept": "application/n-quads"})
            assert r.status_code == 200 and r.content  # the ontology at least, quickly
            triples = "".join(f"<http://example.org/s{i}> <http://example.org/p> "
                              f"\"{'x' * 200} {i}\" .\n" for i in range(200_000))
            assert http.put("/store", params={"graph": "http://example.org/big"},
                            content=triples.encode(), headers={"Content-Type": "text/turtle"},
                            timeout=300).status_code == 201
            assert srv.proc is not None
            _idle(srv.proc.pid)  # the load's projections (a full OWL RL run) are done
            r = http.get("/api/v1/export", headers={"Accept": "text/turtle"})
            assert r.status_code == 503 and "export ran past" in r.text, r.text
        assert srv.proc is not None
        _cpu_settles(srv.proc.pid)
    finally:
        srv.stop()
