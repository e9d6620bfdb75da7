"""The cost of access control: /sparql and search for a caller who may read one workspace of
ten (10% of the assets), beside an admin and beside no access control, on the same store.

Modes, in one run over one on-disk store:
- ``direct``: pyoxigraph queried in-process over the union of all graphs (no HTTP, no checks);
- ``direct-reader``: pyoxigraph over the reader's graph list (the raw cost of the restriction);
- ``open``: the server with anonymous access on (no credential checks: no access control);
- ``admin``: the server, an admin API key (credential check, union dataset);
- ``reader``: the server, a key for a viewer of one workspace (dataset = its partition graphs).

Target: reader latency <= 1.5 x admin latency (medians), per query. LIMITs stay below what the
reader can see, so that both stop early: otherwise the reader scans its whole partition for a
LIMIT the admin fills from the first matches, which measures the data, not the access control.

    python -m bench.access              # 100,000 assets
    python -m bench.access --quick      # 10,000 assets, fewer repetitions
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pyoxigraph import NamedNode, Store

from bench._common import TMP, Server, median_ms, table, write_results
from bench.synthetic import WS, synthetic_assets
from catalog import Catalog, Settings

SC = "https://w3id.org/semcat#"
BASE = "http://127.0.0.1:8000"
WORKSPACES = 10
TARGET = 1.5
QUERIES = {
    "tables-of-schema": f"SELECT ?t WHERE {{ ?t a <{SC}Table> ; <{SC}partOf> ?s . "
                        f"?s <{SC}name> 'sales_marts' }}",
    "pii-columns": f"SELECT ?c ?n WHERE {{ ?c <{SC}classification> ?k ; <{SC}partOf> ?t . "
                   f"?t <{SC}name> ?n }}",
    "lineage-path": f"SELECT DISTINCT ?u WHERE {{ ?t a <{SC}Table> ; <{SC}name> ?n ; "
                    f"<{SC}derivedFrom>+ ?u FILTER(STRSTARTS(?n, 'fct_order')) }}",
    "columns-by-type": f"SELECT ?ty (COUNT(?c) AS ?n) WHERE {{ ?c a <{SC}Column> ; "
                       f"<{SC}dataType> ?ty }} GROUP BY ?ty",
    "owned-and-tagged": f"SELECT ?t WHERE {{ ?t <{SC}owner> ?o ; <{SC}tag> ?g . "
                        f"?o a <{SC}Team> }} LIMIT 100",
    "name-lookup": f"SELECT ?s WHERE {{ ?s <{SC}name> 'customer_key' }}",
    "count-by-class": "SELECT ?k (COUNT(?s) AS ?n) WHERE { ?s a ?k } GROUP BY ?k",
}
SEARCHES = ("customer email", "order status", "invoice", "payment refund", "shipment carrier",
            "daily sales", "ledger entry", "campaign session", "stock level warehouse",
            "employee", "subscription churn", "product price", "ticket support",
            "address", "coupon", "page view", "supplier", "budget finance", "lead opportunity",
            "review")


def _rename(value: Any, ws: str) -> Any:
    if isinstance(value, str):
        return ws + value[len(WS):] if value == WS or value.startswith(WS + "/") else value
    if isinstance(value, list):
        return [_rename(v, ws) for v in value]
    return value


def workspaces_of_assets(total: int) -> list[list[dict[str, Any]]]:
    """``WORKSPACES`` copies of the synthetic warehouse, one per workspace (directory once)."""
    tables = max(10, total // WORKSPACES // 11)
    base = synthetic_assets(tables=tables, columns=10)
    shared = [a for a in base if not str(a.get("id", "")).startswith(WS)]
    own = [a for a in base if str(a.get("id", "")).startswith(WS)]
    out = [shared]
    for i in range(WORKSPACES):
        ws = f"ws{i}"
        out.append([{k: (_rename(v, ws) if k in ("id", "workspace", "partOf", "derivedFrom")
                         else v) for k, v in a.items()} for a in own])
    return out


def build(data: Path, total: int) -> int:
    """An on-disk catalog; returns how many assets it holds."""
    n = 0
    settings = Settings(data=data, validate_writes=False, incremental_reasoning=False,
                        classification_rules=False)
    with Catalog.open(settings) as cat:
        for group in workspaces_of_assets(total):
            for i in range(0, len(group), 2000):
                cat.assets.upsert_many(group[i:i + 2000], actor="bench", message="bench")
            n += len(group)
        cat.search.wait(vectors=False)
    return n


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    fn()  # warm-up
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return median_ms(times), out


def reader_graphs(store: Store) -> list[NamedNode]:
    """What the reader's dataset holds: ws0's partition graphs and the instance graphs."""
    keep = []
    for g in store.named_graphs():
        rest = g.value.removeprefix(f"{BASE}/graph/")  # type: ignore[union-attr]
        if (rest.startswith("ws0/") and ("%7C" not in rest or "%7Cws0%7C" in rest)) or rest in (
                "directory", "ontology", "ontology/custom", "shapes"):
            keep.append(g)
    return keep  # type: ignore[return-value]


def direct(data: Path, reps: int) -> dict[str, dict[str, Any]]:
    store = Store(str(data / "store"))
    graphs = reader_graphs(store)
    out: dict[str, dict[str, Any]] = {}
    for name, q in QUERIES.items():
        ms, rows = timed(lambda q=q: len(list(store.query(q, use_default_graph_as_union=True))),
                         reps)
        ms_r, rows_r = timed(lambda q=q: len(list(store.query(q, default_graph=graphs,
                                                              named_graphs=graphs))), reps)
        out[name] = {"direct": ms, "direct_rows": rows, "direct-reader": ms_r,
                     "direct-reader_rows": rows_r}
    return out  # the store closes as it goes out of scope, before a server opens it


def endpoint(url: str, token: str | None, reps: int) -> dict[str, dict[str, Any]]:
    headers = {"X-API-Key": token} if token else {}
    out: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=url, timeout=300, headers=headers) as c:
        for name, q in QUERIES.items():
            def run(q: str = q) -> int:
                r = c.get("/sparql", params={"query": q},
                          headers={"Accept": "application/sparql-results+json"})
                r.raise_for_status()
                return len(r.json()["results"]["bindings"])
            out[name] = dict(zip(("ms", "rows"), timed(run, reps), strict=True))
        search_ms = []
        totals = []
        for q in SEARCHES:
            def find(q: str = q) -> int:
                r = c.get("/api/v1/search", params={"q": q, "mode": "keyword", "limit": 10})
                r.raise_for_status()
                return int(r.json().get("total", 0))
            ms, total = timed(find, max(3, reps // 2))
            search_ms.append(ms)
            totals.append(total)
        out["search (keyword + facets)"] = {"ms": statistics.median(search_ms),
                                            "rows": sum(totals)}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.access", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="10,000 assets, 5 repetitions")
    args = ap.parse_args(argv)
    total, reps = (10_000, 5) if args.quick else (args.assets, args.reps)
    root = Path(tempfile.mkdtemp(prefix="semcat-bench-access-", dir=TMP))
    data = root / "data"
    try:
        t = time.perf_counter()
        n = build(data, total)
        print(f"built {n:,} assets in {WORKSPACES} workspaces in {time.perf_counter() - t:.0f} s")
        results = direct(data, reps)
        keys = {}
        with Catalog.open(Settings(data=data)) as cat:
            _, keys["admin"] = cat.keys.create("user/root", admin=True, label="bench")
            _, keys["reader"] = cat.keys.create("user/reader", workspace="ws0", role="viewer",
                                                label="bench")
        with Server(data, env={"SEMCAT_OPEN": "1"}) as srv:
            for name, r in endpoint(srv.url, None, reps).items():
                results.setdefault(name, {}).update({"open": r["ms"], "open_rows": r["rows"]})
        with Server(data, env={"SEMCAT_OPEN": "0"}) as srv:
            for who in ("admin", "reader"):
                for name, r in endpoint(srv.url, keys[who], reps).items():
                    results[name].update({who: r["ms"], f"{who}_rows": r["rows"]})
        rows = []
        for name, r in results.items():
            ratio = r["reader"] / r["admin"] if r.get("admin") else None
            rows.append([name, r.get("direct"), r.get("direct-reader"), r["open"], r["admin"],
                         r["reader"], ratio, "yes" if ratio and ratio <= TARGET else "NO",
                         r["admin_rows"], r["reader_rows"]])
        print(table(["query", "direct ms", "direct reader ms", "open ms", "admin ms",
                     "reader ms", "reader/admin", f"<= {TARGET}x", "admin rows", "reader rows"],
                    rows))
        path = write_results("access", {"assets": n, "reps": reps, "results": results})
        print(f"results: {path}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
