"""Per-caller limits (issue 12, item 3): a request rate and a cap on running SPARQL queries, 429
with Retry-After beyond them; instance admins are not limited. Against a real server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Server

HEAVY = "SELECT * WHERE { ?s ?p ?o . ?s2 ?p2 ?o2 } ORDER BY ?o ?o2 LIMIT 1"


def _key(data: Path, *args: str) -> dict[str, str]:
    r = subprocess.run([sys.executable, "-m", "semcat", "keys", "create", "--data", str(data),
                        *args], cwd=ROOT, text=True, capture_output=True, check=True)
    return {"Authorization": f"Bearer {r.stdout.strip().splitlines()[-1]}"}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str],
                                                                         dict[str, str]]]:
    srv = Server(tmp_path_factory.mktemp("limits"), env={
        "SEMCAT_OPEN": "0", "SEMCAT_RATE_LIMIT": "8/second", "SEMCAT_MAX_CONCURRENT_QUERIES": "1",
        # a deadline long enough for a query worker to start on a busy machine, which alone
        # took over 2 s in a full run of the suite
        "SEMCAT_QUERY_TIMEOUT_S": "5"}).start()
    admin = _key(srv.data, "--user", "admin", "--admin")
    viewer = _key(srv.data, "--user", "user/viewer", "--allow-unknown")
    triples = "".join(f"<http://example.org/s{i}> <http://example.org/p> {i} .\n"
                      for i in range(3_000))
    r = httpx.put(srv.url + "/store", params={"graph": "http://example.org/big"}, timeout=60,
                  headers={**admin, "Content-Type": "text/turtle"}, content=triples.encode())
    assert r.status_code == 201, r.text
    # both query workers up and over the current snapshot before the tests time deadlines
    with ThreadPoolExecutor(2) as pool:
        warm = list(pool.map(lambda _: httpx.get(srv.url + "/sparql", headers=admin, timeout=60,
                                                 params={"query": "ASK { ?s ?p ?o }"}), range(2)))
    assert [w.status_code for w in warm] == [200, 200]
    yield srv, admin, viewer
    srv.stop()


def test_over_the_rate_a_caller_gets_429_with_retry_after(
        limited: tuple[Server, dict[str, str], dict[str, str]]) -> None:
    srv, admin, viewer = limited
    with httpx.Client(base_url=srv.url, timeout=30) as http:
        answers = [http.get("/api/v1/me", headers=viewer) for _ in range(20)]
        codes = [r.status_code for r in answers]
        assert codes[0] == 200 and 429 in codes, codes
        refused = next(r for r in answers if r.status_code == 429)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/rate-limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        # an admin is not limited, and the viewer's limit is its own
        assert {http.get("/api/v1/me", headers=admin).status_code for _ in range(20)} == {200}


def test_one_caller_runs_so_many_queries_at_once(
        limited: tuple[Server, dict[str, str], dict[str, str]]) -> None:
    srv, admin, viewer = limited
    heavy: list[httpx.Response] = []

    def run_heavy() -> None:
        heavy.append(httpx.get(srv.url + "/sparql", params={"query": HEAVY}, headers=viewer,
                               timeout=60))

    time.sleep(1.2)  # a fresh rate window
    thread = threading.Thread(target=run_heavy)
    thread.start()
    try:
        time.sleep(0.7)  # the heavy query holds the viewer's one slot until its deadline
        second = httpx.get(srv.url + "/sparql", params={"query": "ASK {}"}, headers=viewer,
                           timeout=30)
        assert second.status_code == 429 and second.headers["retry-after"] == "1", second.text
        assert second.headers["content-type"].startswith("text/plain")  # the SPARQL error form
        other = httpx.get(srv.url + "/sparql", params={"query": "ASK {}"}, headers=admin,
                          timeout=30)
        assert other.status_code == 200  # others are not held up
    finally:
        thread.join()
    assert heavy[0].status_code == 503
    time.sleep(1.2)
    again = httpx.get(srv.url + "/sparql", params={"query": "ASK {}"}, headers=viewer, timeout=30)
    assert again.status_code == 200, again.text  # the slot is free once the query has stopped
