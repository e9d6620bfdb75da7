"""Lineage walks at scale: through the in-memory index, by SPARQL per layer, and beside
pyoxigraph's own property paths on the same store.

A synthetic warehouse of ``--tables`` tables (default 100,000) in 20 layers, ten columns each
(1,000,000 columns with ``--columns 10``), each table derived from one or two tables of the layer
above and each column from a column of its table's sources, is bulk-loaded into an on-disk
pyoxigraph store under /tmp (built once and kept). The ``LineageIndex`` is built from it (its
time, the process's RSS growth, and the memory Python allocated for it, traced on a second
build). Then, for random tables of the top layer that something derives from:

- ``LineageGraph.walk`` downstream at table level (column edges lifted to tables) at depth 1, 5
  and 20 (bounded at 10,000 nodes: ``partial`` counts the walks that met the bound), stepping
  through the index, and by one SPARQL query per layer (on the first ``--sparql-n`` starts:
  seconds per deep walk); both must give the same walks;
- the SPARQL a pyoxigraph user would write for "everything downstream": the table-level path
  ``^semcat:derivedFrom+`` and the column-level one lifted to tables, on the same store.

    python -m bench.lineage                      # 100,000 tables, 1,000,000 columns
    python -m bench.lineage --tables 10000       # a quick run

Target (issue 13): downstream impact at depth 20 p95 <= 100 ms at table level.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, Store

from bench._common import TMP, table, write_results
from graph_store.oxigraph_store import OxigraphStore
from graph_store.protocol import Dataset
from lineage.index import LineageIndex
from lineage.traversal import LineageGraph, Walk

SC = "https://w3id.org/semcat#"
ID = "http://127.0.0.1:8000/id/acme/"
TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LAYERS = 20
PREFIX = f"PREFIX semcat: <{SC}> "


def build(path: Path, tables: int, columns: int, seed: int = 7) -> None:
    """The synthetic warehouse as quads, bulk-loaded (outside any change log: the walks are
    what is measured)."""
    rng = random.Random(seed)
    graph = NamedNode("http://127.0.0.1:8000/graph/acme/general")
    derived, part_of, name = (NamedNode(SC + p) for p in ("derivedFrom", "partOf", "name"))
    per_layer = tables // LAYERS
    store = Store(str(path))
    t = time.perf_counter()

    def quads() -> object:
        for layer in range(LAYERS):
            for i in range(per_layer):
                tbl = NamedNode(f"{ID}table/pg/l{layer}.t{i}")
                yield Quad(tbl, TYPE, NamedNode(SC + "Table"), graph)
                yield Quad(tbl, name, Literal(f"t{i}"), graph)
                sources = [] if layer == 0 else rng.sample(range(per_layer), rng.choice((1, 2)))
                for s in sources:
                    yield Quad(tbl, derived, NamedNode(f"{ID}table/pg/l{layer - 1}.t{s}"), graph)
                for c in range(columns):
                    col = NamedNode(f"{ID}column/pg/l{layer}.t{i}.c{c}")
                    yield Quad(col, TYPE, NamedNode(SC + "Column"), graph)
                    yield Quad(col, part_of, tbl, graph)
                    for s in sources:
                        yield Quad(col, derived, NamedNode(
                            f"{ID}column/pg/l{layer - 1}.t{s}.c{rng.randrange(columns)}"), graph)
            print(f"  layer {layer + 1} of {LAYERS} ({time.perf_counter() - t:.0f} s)",
                  file=sys.stderr)

    store.bulk_extend(quads())  # type: ignore[arg-type]
    store.flush()
    (path / "built").write_text(f"{tables} tables, {columns} columns each\n")


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def built_index(store: OxigraphStore) -> tuple[LineageIndex, dict[str, float]]:
    """The index, its build time and RSS growth; then what Python allocates for it, traced on
    a second build (tracing slows the build, so the timed one runs untraced)."""
    index = LineageIndex(store, threading.RLock())
    before = rss_mb()
    t = time.perf_counter()
    index.build()
    figures = {"build_s": time.perf_counter() - t, "rss_growth_mb": rss_mb() - before}
    tracemalloc.start()
    traced = LineageIndex(store, threading.RLock())
    traced.build()
    figures["traced_mb"] = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    del traced
    gc.collect()  # the builds' garbage is not charged to the first walks
    return index, figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("-n", type=int, default=30, help="walks per depth")
    parser.add_argument("--sparql-n", type=int, default=10,
                        help="walks per depth by SPARQL (a deep one takes seconds)")
    args = parser.parse_args(argv)
    path = Path(TMP) / f"semcat-bench-lineage-{args.tables}-{args.columns}"
    if not (path / "built").exists():
        path.mkdir(parents=True, exist_ok=True)
        build(path, args.tables, args.columns)
    store = OxigraphStore(path, derived="http://127.0.0.1:8000/graph/inferred")
    raw = Store.read_only(str(path))
    index, built = built_index(store)
    print(f"index: built in {built['build_s']:.1f} s, {built['traced_mb']:.0f} MB allocated "
          f"(RSS +{built['rss_growth_mb']:.0f} MB)", file=sys.stderr)

    def select(text: str) -> Any:
        return store.query(text, dataset=Dataset())

    graphs = {"index": LineageGraph(store, index.view(None)), "SPARQL": LineageGraph(store, select)}
    rng = random.Random(1)
    derived_from = NamedNode(SC + "derivedFrom")
    starts: list[NamedNode] = []
    while len(starts) < args.n:  # tables something is derived from: an impact to walk
        s = NamedNode(f"{ID}table/pg/l0.t{rng.randrange(args.tables // LAYERS)}")
        if next(iter(store.quads(None, derived_from, s)), None) is not None:
            starts.append(s)
    rows = []
    results: dict[str, dict[str, float]] = {"index": built}
    walks: dict[tuple[str, int], list[Walk]] = {}
    for label, graph in graphs.items():
        for depth in (1, 5, 20):
            times, sizes, partial = [], [], 0
            found = walks[label, depth] = []
            for s in starts[:args.n if label == "index" else args.sparql_n]:
                t = time.perf_counter()
                walk = graph.walk([s], ("downstream",), depth, "table")
                times.append((time.perf_counter() - t) * 1000)
                found.append(walk)
                sizes.append(len(walk.nodes))
                partial += walk.partial
            rows.append([f"walk via {label}, table level, depth {depth} ({len(times)} walks)",
                         round(statistics.median(times), 1), round(pct(times, 95), 1),
                         round(statistics.median(sizes)), partial])
            results[f"walk_{label}_depth_{depth}"] = {
                "p50_ms": statistics.median(times), "p95_ms": pct(times, 95),
                "partial": partial, "walks": len(times)}
    differ = sum(a != b for depth in (1, 5, 20)
                 for a, b in zip(walks["index", depth], walks["SPARQL", depth], strict=False))
    queries = {
        "pyoxigraph ^derivedFrom+ (tables only)":
            "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ ?d semcat:derivedFrom+ <{s}> }}",
        "pyoxigraph column paths lifted to tables":
            "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{ ?c semcat:partOf <{s}> . "
            "?d semcat:derivedFrom+ ?c . ?d semcat:partOf ?t }}",
    }
    for label, text in queries.items():
        times, sizes = [], []
        for s in starts:
            t = time.perf_counter()
            solutions = list(raw.query(PREFIX + text.format(s=s.value),  # type: ignore[arg-type]
                                        use_default_graph_as_union=True))
            times.append((time.perf_counter() - t) * 1000)
            sizes.append(int(solutions[0]["n"].value))
        rows.append([label, round(statistics.median(times), 1), round(pct(times, 95), 1),
                     round(statistics.median(sizes)), 0])
        results[label] = {"p50_ms": statistics.median(times), "p95_ms": pct(times, 95)}
    print(f"downstream of a top-layer table: {args.tables:,} tables, "
          f"{args.tables * args.columns:,} columns; ms")
    print(table(["walk", "p50", "p95", "nodes (median)", "partial"], rows))
    print(f"index: built in {built['build_s']:.1f} s; {built['traced_mb']:.0f} MB allocated "
          f"by Python (RSS +{built['rss_growth_mb']:.0f} MB); walks differing from SPARQL's: "
          f"{differ}")
    walk20 = results["walk_index_depth_20"]["p95_ms"]
    print(f"target: depth-20 p95 <= 100 ms: {walk20:.1f} ms, "
          f"{'met' if walk20 <= 100 else 'NOT met'}")
    write_results(f"lineage_{args.tables}", {"tables": args.tables, "columns": args.columns,
                                             "walks_differing": differ, **results})
    if differ:
        raise SystemExit("the index and SPARQL walks differ")


if __name__ == "__main__":
    main()
