"""GraphQL beside REST + SPARQL for the same page: 50 assets with their owners and lineage.

The demo catalog (`semcat demo`, built once under /tmp and kept) is served by a real uvicorn
(`semcat serve`, anonymous callers as admin, as `make demo` serves). In one run, interleaved so
that both meet the same load, each round times:

- **GraphQL**: one POST /graphql asking for the first 50 assets the analytics team owns (dbt
  marts, dashboards, pipelines: 47 of them with lineage) with id, name, type, description, their
  owners (id, name) and their lineage one edge away both ways (id, name of each node);
- **REST + SPARQL**: what a client without GraphQL sends for the same answer: GET
  /api/v1/assets?owner=team/analytics&limit=50 (owner ids come with each asset), then one
  SPARQL query for the owners' names and the neighbours one edge away (derivedFrom, consumes,
  produces, both ways) of the 50 assets.

The page is filtered by owner, not by type: REST's list by type goes to the store and takes
seconds on the demo (a SPARQL ORDER BY over every typed asset), which would hide the rest.

It prints p50 / p95 of each and the ratio GraphQL / (REST + SPARQL); target (issue 17) ≤ 1.5.
GraphQL does somewhat more than the SPARQL query: its lineage is the REST lineage walk, which
also lifts column edges to their tables.

    python -m bench.graphql              # 200 rounds
    python -m bench.graphql --rounds 50  # a quick run
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench._common import ROOT, TMP, Server, table, wait_idle, write_results

DEMO = Path(TMP) / "semcat-bench-graphql-demo"
PAGE = 50
QUERY = """query($n: Int!) { assets(owner: "team/analytics", limit: $n) { items {
  id name type description
  owners { id name }
  lineage(depth: 1) { upstream { id name } downstream { id name } } } } }"""
SPARQL = """PREFIX semcat: <https://w3id.org/semcat#>
SELECT ?asset ?rel ?other ?name WHERE {{
  VALUES ?asset {{ {values} }}
  {{ ?asset semcat:owner ?other BIND("owner" AS ?rel) }}
  UNION {{ ?asset semcat:derivedFrom|semcat:consumes ?other BIND("upstream" AS ?rel) }}
  UNION {{ ?other semcat:produces ?asset BIND("upstream" AS ?rel) }}
  UNION {{ ?other semcat:derivedFrom|semcat:consumes ?asset BIND("downstream" AS ?rel) }}
  UNION {{ ?asset semcat:produces ?other BIND("downstream" AS ?rel) }}
  OPTIONAL {{ ?other semcat:name ?name }}
}}"""


def demo() -> Path:
    if not (DEMO / "store").exists():
        print(f"building the demo catalog in {DEMO} (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "semcat", "demo", "--data", str(DEMO)], cwd=ROOT,
                       check=True, capture_output=True)
    return DEMO


def graphql_page(client: httpx.Client) -> list[dict[str, Any]]:
    r = client.post("/graphql", json={"query": QUERY, "variables": {"n": PAGE}})
    r.raise_for_status()
    body = r.json()
    assert "errors" not in body, body["errors"]
    items: list[dict[str, Any]] = body["data"]["assets"]["items"]
    return items


def rest_page(client: httpx.Client) -> list[dict[str, Any]]:
    r = client.get("/api/v1/assets", params={"owner": "team/analytics", "limit": PAGE})
    r.raise_for_status()
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def sparql_neighbours(client: httpx.Client, base: str, ids: list[str]) -> list[dict[str, Any]]:
    values = " ".join(f"<{base}{i}>" for i in ids)
    r = client.post("/sparql", data={"query": SPARQL.format(values=values)},
                    headers={"Accept": "application/sparql-results+json"})
    r.raise_for_status()
    rows: list[dict[str, Any]] = r.json()["results"]["bindings"]
    return rows


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with Server(demo()) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        assert srv.proc is not None
        wait_idle(srv.proc.pid)
        # ids are relative to the @base of every REST body: {base}/id/
        base = client.get("/api/v1/assets", params={"limit": 1}).json()["@context"][1]["@base"]
        rest_items = rest_page(client)
        got = graphql_page(client)
        assert [i["id"] for i in got] == [i["id"] for i in rest_items]  # the same page
        edges = sum(len(i["lineage"]["upstream"]) + len(i["lineage"]["downstream"])
                    for i in got if i["lineage"])
        rows = sparql_neighbours(client, base, [i["id"] for i in rest_items])
        assert edges and rows, "the page should have lineage and owners to fetch"
        for _ in range(10):  # warm up both paths
            graphql_page(client)
            sparql_neighbours(client, base, [i["id"] for i in rest_page(client)])
        timings: dict[str, list[float]] = {"graphql": [], "rest": [], "sparql": [],
                                           "rest+sparql": []}
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            graphql_page(client)
            t1 = time.perf_counter()
            items = rest_page(client)
            t2 = time.perf_counter()
            sparql_neighbours(client, base, [i["id"] for i in items])
            t3 = time.perf_counter()
            timings["graphql"].append(t1 - t0)
            timings["rest"].append(t2 - t1)
            timings["sparql"].append(t3 - t2)
            timings["rest+sparql"].append(t3 - t1)
    figures = {name: percentiles(ts) for name, ts in timings.items()}
    ratio = (figures["graphql"][0] / figures["rest+sparql"][0],
             figures["graphql"][1] / figures["rest+sparql"][1])
    print(f"page of {PAGE} assets owned by team/analytics in the demo catalog: {edges} lineage "
          f"neighbours in GraphQL, {len(rows)} SPARQL rows (owners and neighbours); "
          f"{args.rounds} rounds")
    print(table(["request", "p50 ms", "p95 ms"],
                [[name, p50, p95] for name, (p50, p95) in figures.items()]))
    print(f"GraphQL / (REST + SPARQL): p50 {ratio[0]:.2f}x, p95 {ratio[1]:.2f}x "
          "(target <= 1.5x)")
    path = write_results("graphql", {
        "rounds": args.rounds, "page": PAGE, "lineage_neighbours": edges,
        "ms": {k: {"p50": v[0], "p95": v[1]} for k, v in figures.items()},
        "ratio": {"p50": ratio[0], "p95": ratio[1]}})
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
