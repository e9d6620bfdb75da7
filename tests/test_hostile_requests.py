"""No request can take the server down, and every bad input is a 4xx (issue 10, items 10 and 11).

Against a real server: the queries that overflowed pyoxigraph's native stack, a hypothesis run of
SPARQL shapes around and far beyond the limits, the inputs that answered 500, and schemathesis
over the whole OpenAPI as an admin and as a viewer. After each, the server still answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Server, demo_copy
from tests.test_api_keys import cli_key

P = "<http://example.org/p>"
A = "<http://example.org/a>"


def _alive(srv: Server) -> None:
    assert srv.proc is not None and srv.proc.poll() is None, "the server process died"
    assert httpx.get(srv.url + "/healthz", timeout=10).status_code == 200


def _ask(srv: Server, text: str, *, update: bool = False) -> httpx.Response:
    kind = "application/sparql-update" if update else "application/sparql-query"
    return httpx.post(srv.url + "/sparql", content=text.encode(), timeout=60,
                      headers={"Content-Type": kind, "Accept": "application/sparql-results+json"})


# -- item 10: the shapes that killed the process --------------------------------------------------
CRASHERS = {
    "5,000 nested parentheses": ("SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000
                                 + ") }", "SEMCAT_SPARQL_MAX_DEPTH", False),
    "5,000 nested braces": ("SELECT * WHERE " + "{" * 5000 + "?s ?p ?o" + "}" * 5000,
                            "SEMCAT_SPARQL_MAX_DEPTH", False),
    "3,000 nested OPTIONALs": ("SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 3000
                               + "}" * 3000 + "}", "SEMCAT_SPARQL_MAX_DEPTH", False),
    "20,000 triple patterns": ("SELECT * WHERE { " + " ".join(f"?s{i} {P} ?o{i} ."
                                                              for i in range(20000)) + "}",
                               "SEMCAT_SPARQL_MAX_PATTERNS", False),
    "20,000 additions": ("SELECT * WHERE { ?s ?p ?o FILTER(" + "+".join(["1"] * 20000)
                         + " > 0) }", "SEMCAT_SPARQL_MAX_PATTERNS", False),
    "an update of 10,000 nested braces": ("INSERT { ?s ?p ?o } WHERE " + "{" * 10000
                                          + "?s ?p ?o" + "}" * 10000,
                                          "SEMCAT_SPARQL_MAX_DEPTH", True),
    "nesting behind an escaped IRI's '#'": (
        "INSERT { <urn:a> <urn:b> ?x } WHERE { VALUES ?v { <http://a\\u0041#> } BIND("
        + "(" * 100000 + "1" + ")" * 100000 + " AS ?x) }", "SEMCAT_SPARQL_MAX_DEPTH", True),
    "a regex of 99,999,999 repetitions": ('SELECT * WHERE { ?s ?p ?o FILTER(REGEX(STR(?o), '
                                          '"a{99999999}")) }', "repeats 99,999,999 times", False),
}


@pytest.mark.parametrize("name", list(CRASHERS))
def test_the_shapes_that_crashed_the_server_are_refused_by_name(server: Server,
                                                                  name: str) -> None:
    text, limit, update = CRASHERS[name]
    r = _ask(server, text, update=update)
    assert r.status_code == 400, r.text[:300]
    assert limit in r.text, r.text[:300]
    _alive(server)


def test_legal_large_requests_still_work(server: Server) -> None:
    """The limits leave room: a bulk INSERT DATA of 5,000 triples, a VALUES list of 10,000
    IRIs and 50 levels of nesting are answered."""
    data = " ".join(f"<http://example.org/bulk/{i}> {P} {i} ." for i in range(5000))
    r = _ask(server, f"INSERT DATA {{ GRAPH <http://example.org/g/bulk> {{ {data} }} }}",
             update=True)
    assert r.status_code == 204, r.text[:300]
    values = " ".join(f"<http://example.org/bulk/{i}>" for i in range(10000))
    r = _ask(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?s {{ {values} }} ?s {P} ?o }}")
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] == "5000"
    r = _ask(server, "SELECT * WHERE " + "{" * 50 + f"?s {P} 7" + "}" * 50)
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 1


def _nested(depth: int, kind: str) -> str:
    if kind == "paren":
        return "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * depth + "true" + ")" * depth + ") }"
    if kind == "brace":
        return "SELECT * WHERE " + "{" * depth + "?s ?p ?o" + "}" * depth + " LIMIT 1"
    if kind == "optional":
        return ("SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * depth + "}" * depth
                + "} LIMIT 1")
    if kind == "blank":  # nested blank-node property lists
        return "ASK { ?s ?p " + f"[ {P} " * depth + "1" + " ]" * depth + " }"
    return "ASK { ?s ?p " + "( " * depth + "1" + " )" * depth + " }"  # nested collections


# sizes well inside, around and far beyond the default limits (100 deep, 1,000 joins)
SIZES = st.one_of(st.integers(1, 120), st.integers(900, 1100), st.integers(1100, 25000))
SHAPES = st.one_of(
    st.builds(_nested, SIZES,
              st.sampled_from(["paren", "brace", "optional", "blank", "list"])),
    st.builds(lambda n, sep: "ASK { { " + sep.join(f"{A} {P} {A}" for _ in range(n)) + " } }",
              SIZES, st.sampled_from([" . ", " } UNION { "])),
    st.builds(lambda n: "SELECT * WHERE { ?s " + "/".join([P] * n) + " ?o } LIMIT 1", SIZES),
    st.builds(lambda n, ch: f'ASK {{ ?s ?p "{ch * n}" }}',
              st.one_of(st.integers(0, 1000), st.integers(500_000, 1_200_000)),
              st.sampled_from(["x", "é", "{", "\\\\"])),
    st.builds(lambda pattern, flags: f'SELECT * WHERE {{ ?s ?p ?o FILTER(REGEX(STR(?o), '
              f'"{pattern}", "{flags}")) }} LIMIT 5',
              st.from_regex(r"[a-z.(|)]{0,6}(\{[0-9]{1,9}(,[0-9]{0,9})?\})?[a-z*+?]{0,4}",
                            fullmatch=True), st.sampled_from(["", "i", "s"])),
    st.builds(lambda n: "INSERT { ?s ?p ?o } WHERE " + "{" * n + "?s ?p ?o" + "}" * n, SIZES),
)


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(text=SHAPES)
def test_no_sparql_shape_brings_a_5xx_or_the_server_down(server: Server, text: str) -> None:
    r = _ask(server, text, update=text.startswith("INSERT"))
    assert r.status_code < 500, (text[:200], r.status_code, r.text[:300])
    if r.status_code == 400 and "SEMCAT_SPARQL" in r.text:
        assert "limit" in r.text
    _alive(server)


# -- item 11: every bad input is a 4xx ------------------------------------------------------------
DEEP = "[" * 5000 + "]" * 5000
BAD = [
    ("GET", "/api/v1/assets?type=a%20b", None, None),
    ("GET", "/api/v1/assets/a%20b/explain", None, None),
    ("GET", "/api/v1/assets/acme/%25ZZ", None, None),
    ("GET", "/api/v1/attributes/a%20b", None, None),
    ("POST", "/api/v1/assets", {"type": "Database", "name": "x", "qualifiedName": "a\x00b",
                                "platform": "platform/pg"}, None),
    ("POST", "/api/v1/assets", {"type": "Database", "name": "x", "qualifiedName": "a<>b",
                                "platform": "platform/pg"}, None),
    ("GET", "/api/v1/assets?cursor=" + DEEP, None, None),
    ("GET", "/api/v1/search?q=x&cursor=" + DEEP, None, None),
    ("GET", "/api/v1/search?q=x&updatedAfter=P99999999999Y", None, None),
    ("GET", "/api/v1/search?q=x&updatedBefore=PT99999999999999999999H", None, None),
    ("POST", "/api/v1/keys", {"subject": "user/x", "workspace": "acme", "role": "viewer",
                              "expires_days": 1e308}, None),
    ("GET", "/api/v1/audit?cursor=29211451679702138880", None, None),
    ("GET", "/api/v1/audit?cursor=-1", None, None),
    ("POST", "/api/v1/assets", None, ("{" * 3000 + "}" * 3000, "application/json")),
    ("POST", "/api/v1/assets", None, ('{"a":' * 900 + "1" + "}" * 900, "application/json")),
    ("POST", "/api/v1/assets:bulk", None, ("[" + '{"a":' * 900 + "1" + "}" * 900 + "]",
                                           "application/json")),
    ("PATCH", "/api/v1/assets/acme/table/pg/db.s.t", None, ('{"a":' * 900 + "1" + "}" * 900,
                                                            "application/merge-patch+json")),
    ("POST", "/store?graph=http://example.org/g/deep", None,
     ('{"@id":"http://a",' + '"http://p":{' * 5000 + '"@value":1' + "}" * 5000 + "}",
      "application/ld+json")),
    ("POST", "/store?graph=http://example.org/g/deep", None,
     ('{"@id":"http://a",' + '"http://p":{' * 500 + '"@value":1' + "}" * 500 + "}",
      "application/ld+json")),
]


@pytest.mark.parametrize("method,path,body,raw", BAD,
                         ids=[f"{m} {p[:60]}" for m, p, _, raw in BAD])
def test_bad_input_is_a_4xx_problem(server: Server, method: str, path: str,
                                    body: object, raw: tuple[str, str] | None) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        if raw is not None:
            r = http.request(method, path, content=raw[0].encode(),
                             headers={"Content-Type": raw[1]})
        else:
            r = http.request(method, path, json=body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), r.text[:200]
    _alive(server)


def test_a_text_plain_body_is_not_taken_for_json(server: Server) -> None:
    asset = ('{"type": "Database", "workspace": "default", "platform": "platform/pg", '
             '"qualifiedName": "plain_text_db", "name": "plain_text_db"}')
    with httpx.Client(base_url=server.url, timeout=60) as http:
        r = http.post("/api/v1/assets", content=asset, headers={"Content-Type": "text/plain"})
        assert r.status_code == 415 and "application/json" in r.json()["detail"]
        listed = http.get("/api/v1/assets", params={"q": "plain_text_db"}).text
        assert "plain_text_db" not in listed
        r = http.post("/api/v1/assets", content=asset,
                      headers={"Content-Type": "application/json"})
        assert r.status_code in (200, 201), r.text


# -- schemathesis over the whole OpenAPI ----------------------------------------------------------
@pytest.fixture(scope="module")
def demo_srv(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo catalog of its own (the fuzzer writes), anonymous access off; no rate limits
    (tests/test_rate_limits.py has them): the fuzzer is after server errors, as fast as it can."""
    data = demo_copy(demo_template, tmp_path_factory, "fuzzed")
    srv = Server(data, env={"SEMCAT_OPEN": "0", "SEMCAT_RATE_LIMIT": "",
                            "SEMCAT_MAX_CONCURRENT_QUERIES": "8"}).start()
    yield srv
    srv.stop()


def _real_key(srv: Server, key: str, kind: str) -> str:
    """A schemathesis config that puts a real asset of ``kind`` (one the caller can read) in
    every {key}, so the fuzzer reaches reads, patches and deletes of existing assets."""
    with httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=60) as http:
        items = http.get("/api/v1/assets", params={"type": kind, "limit": 1}).json()["items"]
    assert items, f"the caller sees no {kind}"
    return f'[parameters]\n"path.key" = "{items[0]["id"]}"\n'


@pytest.mark.slow
@pytest.mark.parametrize("who,kind", [("admin", None), ("admin", "Table"), ("viewer", "Column")])
def test_schemathesis_finds_no_server_error(demo_srv: Server, who: str, kind: str | None,
                                            tmp_path: Path) -> None:
    """Random ids first, then a real table as an admin and a real column as a viewer."""
    args = ("--user", "user/asha.patel", "--admin") if who == "admin" else (
        "--user", "user/asha.patel", "--workspace", "acme", "--role", "viewer")
    key = cli_key(demo_srv.data, *args)
    config = tmp_path / "schemathesis.toml"
    config.write_text(_real_key(demo_srv, key, kind) if kind else "")
    st_bin = Path(sys.executable).with_name("st")
    r = subprocess.run(
        [str(st_bin), "--config-file", str(config), "run", f"{demo_srv.url}/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", "15", "--workers", "2",
         "--seed", str(len(who) + len(kind or "")),
         "--request-timeout", "60", "--suppress-health-check", "all", "--no-color",
         "--generation-database", "none", "-H", f"X-API-Key: {key}",
         # an endless stream by design (heartbeats keep it open); test_events.py checks its
         # parameters and refusals
         "--exclude-path", "/api/v1/events",
         "--report", "ndjson", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path)  # its example cache stays out of the checkout
    summary = r.stdout[-4000:]
    assert r.returncode == 0, summary
    tested = re.search(r"(\d+) generated, (\d+) passed", r.stdout)
    assert tested and int(tested.group(1)) > 600, summary  # the run really exercised the API
    _alive(demo_srv)
