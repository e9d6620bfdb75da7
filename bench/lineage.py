"""Lineage walks at scale, beside pyoxigraph's own property paths on the same store.

A synthetic warehouse of ``--tables`` tables (default 100,000) in 20 layers, ten columns each
(1,000,000 columns with ``--columns 10``), each table derived from one or two tables of the layer
above and each column from a column of its table's sources, is bulk-loaded into an on-disk
pyoxigraph store under /tmp (built once and kept). Then, for random tables of the top layer that
something derives from:

- ``LineageGraph.walk`` downstream at table level (column edges lifted to tables) at depth 1, 5
  and 20 (bounded at 10,000 nodes: ``partial`` counts the walks that met the bound);
- the SPARQL a pyoxigraph user would write for "everything downstream": the table-level path
  ``^semcat:derivedFrom+`` and the column-level one lifted to tables, on the same store.

    python -m bench.lineage                      # 100,000 tables, 1,000,000 columns
    python -m bench.lineage --tables 10000       # a quick run

Target (issue 13): downstream impact at depth 20 p95 <= 100 ms at table level.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, Store

from bench._common import TMP, table, write_results
from graph_store.oxigraph_store import OxigraphStore
from graph_store.protocol import Dataset
from lineage.traversal import LineageGraph

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("-n", type=int, default=30, help="walks per depth")
    args = parser.parse_args(argv)
    path = Path(TMP) / f"semcat-bench-lineage-{args.tables}-{args.columns}"
    if not (path / "built").exists():
        path.mkdir(parents=True, exist_ok=True)
        build(path, args.tables, args.columns)
    store = OxigraphStore(path, derived="http://127.0.0.1:8000/graph/inferred")
    raw = Store.read_only(str(path))
    graph = LineageGraph(store, lambda text: store.query(text, dataset=Dataset()))  # type: ignore[arg-type,misc]
    rng = random.Random(1)
    derived_from = NamedNode(SC + "derivedFrom")
    starts: list[NamedNode] = []
    while len(starts) < args.n:  # tables something is derived from: an impact to walk
        s = NamedNode(f"{ID}table/pg/l0.t{rng.randrange(args.tables // LAYERS)}")
        if next(iter(store.quads(None, derived_from, s)), None) is not None:
            starts.append(s)
    rows = []
    results: dict[str, dict[str, float]] = {}
    for depth in (1, 5, 20):
        times, sizes, partial = [], [], 0
        for s in starts:
            t = time.perf_counter()
            walk = graph.walk([s], ("downstream",), depth, "table")
            times.append((time.perf_counter() - t) * 1000)
            sizes.append(len(walk.nodes))
            partial += walk.partial
        rows.append([f"semcat walk, table level, depth {depth}", round(statistics.median(times), 1),
                     round(pct(times, 95), 1), round(statistics.median(sizes)), partial])
        results[f"walk_depth_{depth}"] = {"p50_ms": statistics.median(times),
                                          "p95_ms": pct(times, 95), "partial": partial}
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
    walk20 = results["walk_depth_20"]["p50_ms"]
    path_all = results["pyoxigraph column paths lifted to tables"]["p50_ms"]
    print(f"semcat depth-20 walk / pyoxigraph lifted column paths (medians): "
          f"{walk20 / path_all:.2f}x")
    write_results(f"lineage_{args.tables}", {"tables": args.tables, "columns": args.columns,
                                             **results})


if __name__ == "__main__":
    main()
