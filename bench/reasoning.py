"""Full OWL 2 RL materialisation: ``Catalog.reason()`` beside ``reasonable`` run directly on the
same triples, and beside ``owlrl`` (LUBM(1) only: it is slow, and capped).

Per scale, LUBM data + univ-bench are loaded into an on-disk catalog through ``Catalog.load``
(which materialises by itself: the load time includes the first full materialisation). Then,
each in its own process (so peak memory is its own, and a runaway can be killed):

1. ``Catalog.reason()`` twice (first materialisation, then a rematerialisation that replaces
   the inferred graphs), and LUBM query timings over the result: ``infer=true`` (the union of
   all graphs) and ``infer=false`` (an explicit list of the asserted graphs) through
   ``SparqlService.query``, and the same two datasets on ``GraphStore.query`` directly (no
   semcat SPARQL layer), to show what the explicit graph list costs. The asserted graphs the
   reasoner read are dumped to N-Triples for the next two.
2. ``reasonable`` directly: ``PyReasoner.load_file`` of that file + ``reason()``.
3. ``owlrl``: rdflib parse of that file (not timed) + ``DeductiveClosure(OWLRL_Semantics)``.

Target: ``Catalog.reason()`` <= 2 x ``reasonable`` direct.

Then incremental maintenance (``reasoning.incremental``) at catalog scale: synthetic assets
(``bench.synthetic``: tables with ten columns each, table and column lineage, owners, tags, PII)
in an on-disk catalog, ``reason()`` once, then single-asset upserts (a description, a lineage
edge added or dropped, a column's PII classification added or dropped), timed as whole writes (SHACL, log,
store, inference) and as the inference step alone; first with incremental reasoning off, then
on (after catching up with the first run's writes from the change log). Finally the maintained
inferred graphs are compared with a fresh full ``reason()``.

Target: a single-asset change with incremental inference p95 <= 25 ms at 100,000 assets.

    python -m bench.reasoning            # LUBM(1), LUBM(10), incremental at 100,000 assets
    python -m bench.reasoning --quick    # LUBM(1), incremental at 5,000 assets
    python -m bench.reasoning --part incremental --assets 100000
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench._common import LUBM, TMP, machine, table, wait_idle, write_results
from bench.reasoning_incremental import pct

TARGET = 2.0
QUERIES = ("q02", "q06", "q09", "q11", "q14")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the three workers, each in a fresh process ----------------------------------------------------
def _catalog_worker(conn: Connection, data: str, dump: str, reps: int) -> None:
    from pyoxigraph import DefaultGraph, RdfFormat

    from catalog import Catalog, Settings
    from graph_store.protocol import Dataset

    texts = {q: (LUBM / "queries" / f"{q}.rq").read_text() for q in QUERIES}
    with Catalog.open(Settings(data=Path(data))) as cat:
        wait_idle(os.getpid())  # compactions left by the load are not reasoning time
        first = cat.reason()
        second = cat.reason()
        asserted = cat.sparql.asserted_dataset()
        everything = tuple(cat.store.named_graphs())
        listed = Dataset(default=(*everything, DefaultGraph()), named=everything)
        wait_idle(os.getpid())
        queries = []
        for q, text in texts.items():
            runs: dict[str, Any] = {
                "semcat infer=true": lambda text=text: cat.sparql.query(text).raw,
                "semcat infer=false": lambda text=text: cat.sparql.query(text, infer=False).raw,
                "store union": lambda text=text: cat.store.query(text, dataset=Dataset()),
                "store asserted list": lambda text=text: cat.store.query(text, dataset=asserted),
                "store all-graphs list": lambda text=text: cat.store.query(text, dataset=listed),
            }
            row: dict[str, Any] = {"query": q, "ms": {}, "rows": {}}
            for _ in range(reps + 1):  # the first pass warms caches and is not kept
                for name, run in runs.items():
                    t = time.perf_counter()
                    n = sum(1 for _ in run())
                    row["ms"].setdefault(name, []).append((time.perf_counter() - t) * 1000)
                    row["rows"][name] = n
            row["ms"] = {k: statistics.median(v[1:]) for k, v in row["ms"].items()}
            queries.append(row)
        with open(dump, "wb") as f:
            for g in cat.reasoner.sources():
                cat.store.dump(f, RdfFormat.N_TRIPLES, graph=g)
        graphs = len(asserted.default or ()) - 1  # less the (empty) default graph
        wait_idle(os.getpid())
        writes = _lubm_writes(cat, 40)
    conn.send({"first": _report(first), "second": _report(second), "queries": queries,
               "asserted_graphs": graphs, "peak_mb": _peak_mb(), "writes": writes})


def _lubm_writes(cat: Any, n: int) -> dict[str, Any]:
    """``n`` single writes through class expressions, each undone by the next."""
    dept = "http://www.Department0.University0.edu"
    writes: list[float] = []
    inference: list[float] = []
    modes: dict[str, int] = {}
    for i in range(n):
        k = i // 4
        facts = (f"<{dept}/Bench{k}> a ub:Person ; ub:takesCourse <{dept}/Course{k % 10}>"
                 if i % 4 < 2 else f"<{dept}/FullProfessor{k % 5}> ub:headOf <{dept}>")
        verb = "INSERT" if i % 2 == 0 else "DELETE"
        before = cat.inference.last
        t = time.perf_counter()
        cat.sparql.update(f"PREFIX ub: <http://swat.cse.lehigh.edu/onto/univ-bench.owl#> "
                          f"{verb} DATA {{ {facts} }}", actor="bench")
        writes.append(time.perf_counter() - t)
        last = cat.inference.last
        if last is not None and last is not before:
            inference.append(last.seconds)
            modes[last.mode] = modes.get(last.mode, 0) + 1
    return {"writes": n, "modes": modes, "write_p50_ms": pct(writes, 0.5),
            "write_p95_ms": pct(writes, 0.95),
            "inference_p50_ms": pct(inference, 0.5) if inference else None,
            "inference_p95_ms": pct(inference, 0.95) if inference else None}


def _report(r: Any) -> dict[str, Any]:
    return {"seconds": r.seconds, "reasoner_seconds": r.reasoner_seconds, "asserted": r.asserted,
            "inferred": r.inferred, "dropped": r.dropped, "dropped_by_rule": r.dropped_by_rule,
            "phases": r.phases}


def _reasonable_worker(conn: Connection, dump: str, triples: int) -> None:
    import reasonable

    t = time.perf_counter()
    reasoner = reasonable.PyReasoner()
    reasoner.load_file(dump)
    loaded = time.perf_counter() - t
    out = reasoner.reason()
    seconds = time.perf_counter() - t
    conn.send({"seconds": seconds, "load_seconds": loaded, "output": len(out),
               "inferred": len(out) - triples, "peak_mb": _peak_mb()})


def _owlrl_worker(conn: Connection, dump: str) -> None:
    import owlrl
    import rdflib

    g = rdflib.Graph()
    g.parse(dump, format="nt")
    before = len(g)
    t = time.perf_counter()
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    seconds = time.perf_counter() - t
    invalid = sum(1 for s, _, _ in g if isinstance(s, rdflib.Literal))
    conn.send({"seconds": seconds, "inferred": len(g) - before, "literal_subjects": invalid,
               "peak_mb": _peak_mb()})


def _in_child(target: Any, args: tuple[Any, ...], cap: float) -> dict[str, Any] | None:
    """Run ``target(conn, *args)`` in a spawned process; None if it ran past ``cap`` seconds."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(child, *args), daemon=True)
    proc.start()
    try:
        if parent.poll(cap):
            return parent.recv()  # type: ignore[no-any-return]
        return None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(30)


# -- one scale -------------------------------------------------------------------------------------
def run_scale(scale: int, *, reps: int, owlrl_cap: float, tmp: Path) -> dict[str, Any]:
    from catalog import Catalog, Settings

    data, dump = tmp / "semcat", tmp / "asserted.ttl"  # N-Triples; reasonable reads it as Turtle
    ontology = tmp / "univ-bench.rdf"  # RDF/XML; Catalog.load tells formats by extension
    shutil.copyfile(LUBM / "univ-bench.owl", ontology)
    print(f"LUBM({scale}): loading through Catalog.load ...", flush=True)
    with Catalog.open(Settings(data=data)) as cat:
        t = time.perf_counter()
        cat.load([ontology, LUBM / f"lubm{scale}.nt.gz"], actor="bench")
        load_s = time.perf_counter() - t
        last = cat.inference.last
        load_inference = {"mode": last.mode if last else None,
                          "seconds": last.seconds if last else None,
                          "state": cat.inference_status().state}
    print(f"LUBM({scale}): loaded in {load_s:.1f} s; Catalog.reason() ...", flush=True)
    semcat = _in_child(_catalog_worker, (str(data), str(dump), reps), 3600)
    assert semcat is not None
    triples = semcat["first"]["asserted"]
    print(f"LUBM({scale}): reasonable directly ...", flush=True)
    direct = _in_child(_reasonable_worker, (str(dump), triples), 3600)
    owl = None
    if scale == 1:
        print(f"LUBM({scale}): owlrl (capped at {owlrl_cap:g} s) ...", flush=True)
        owl = _in_child(_owlrl_worker, (str(dump),), owlrl_cap)
    return {"scale": scale, "load_seconds": load_s, "load_inference": load_inference,
            "semcat": semcat, "reasonable": direct,
            "owlrl": owl if owl is not None else ("capped" if scale == 1 else None),
            "owlrl_cap": owlrl_cap}


def report(results: list[dict[str, Any]]) -> None:
    rows = []
    for r in results:
        s, d, o = r["semcat"], r["reasonable"], r["owlrl"]
        first = s["first"]
        ratio = first["seconds"] / d["seconds"]
        rows.append([f"LUBM({r['scale']})", first["asserted"], first["seconds"],
                     first["reasoner_seconds"], s["second"]["seconds"], first["inferred"],
                     first["dropped"], d["seconds"], d["inferred"], ratio,
                     "yes" if ratio <= TARGET else "NO",
                     o["seconds"] if isinstance(o, dict) else o,
                     o["inferred"] if isinstance(o, dict) else None,
                     o["literal_subjects"] if isinstance(o, dict) else None,
                     s["peak_mb"], d["peak_mb"]])
    print(f"\nFull materialisation (seconds); target Catalog.reason() <= {TARGET:g} x reasonable "
          "direct")
    print(table(["data", "asserted", "reason()", "in reasonable", "re-run", "inferred kept",
                 "dropped", "reasonable", "its inferred", "ratio", "meets", "owlrl",
                 "owlrl inferred", "owlrl literal subj", "peak MB semcat", "peak MB reasonable"],
                rows))
    for r in results:
        first = r["semcat"]["first"]
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in first["phases"].items())
        li, w = r["load_inference"], r["semcat"]["writes"]
        print(f"LUBM({r['scale']}): Catalog.reason() phases: {phases}; dropped by rule: "
              f"{first['dropped_by_rule']}; Catalog.load took {r['load_seconds']:.1f} s, its "
              f"last inference step {li['mode']} in {li['seconds'] or 0:.2f} s, inferred graphs "
              f"{li['state']} after it")
        print(f"LUBM({r['scale']}): {w['writes']} single writes through class expressions, ms: "
              f"write p50 {w['write_p50_ms']:.1f}, p95 {w['write_p95_ms']:.1f}; inference step "
              f"p50 {w['inference_p50_ms'] or 0:.1f}, p95 {w['inference_p95_ms'] or 0:.1f}; "
              f"modes {w['modes']}")
    for r in results:
        q_rows = []
        for q in r["semcat"]["queries"]:
            ms, n = q["ms"], q["rows"]
            q_rows.append([q["query"], n["semcat infer=true"], n["semcat infer=false"],
                           ms["semcat infer=true"], ms["semcat infer=false"], ms["store union"],
                           ms["store asserted list"], ms["store all-graphs list"],
                           ms["store all-graphs list"] / max(ms["store union"], 1e-9)])
        print(f"\nLUBM({r['scale']}) queries after reason(), median ms. infer=false is an explicit "
              f"list of {r['semcat']['asserted_graphs']} asserted graphs; 'all-graphs list' names "
              "every graph, so it answers like the union: its ratio is the cost of the list alone")
        print(table(["query", "rows infer", "rows asserted", "semcat infer=true",
                     "semcat infer=false", "store union", "store asserted list",
                     "store all-graphs list", "all-list/union"],
                    q_rows))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.reasoning",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=int, nargs="+", choices=(1, 10), default=[1, 10])
    ap.add_argument("--quick", action="store_true", help="LUBM(1) only")
    ap.add_argument("--reps", type=int, default=5, help="timed runs per query and dataset")
    ap.add_argument("--owlrl-cap", type=float, default=300.0,
                    help="seconds before owlrl is stopped and reported as capped")
    ap.add_argument("--part", choices=("all", "lubm", "incremental"), default="all")
    ap.add_argument("--assets", type=int, default=100_000,
                    help="catalog size for the incremental benchmark")
    ap.add_argument("--changes", type=int, default=200, help="single-asset upserts per run")
    args = ap.parse_args(argv)
    if args.quick:
        args.scale = [1]
        args.assets = min(args.assets, 5_000)
    print(f"load average {os.getloadavg()[0]:.2f} (shared machine: numbers are noisy)")
    results = []
    if args.part in ("all", "lubm"):
        for scale in args.scale:
            with tempfile.TemporaryDirectory(prefix=f"semcat-bench-reason{scale}-", dir=TMP) as d:
                results.append(run_scale(scale, reps=args.reps, owlrl_cap=args.owlrl_cap,
                                         tmp=Path(d)))
        report(results)
    incremental = None
    if args.part in ("all", "incremental"):
        from bench.reasoning_incremental import report_incremental, run_incremental

        with tempfile.TemporaryDirectory(prefix="semcat-bench-incremental-", dir=TMP) as d:
            incremental = _in_child(run_incremental, (args.assets, args.changes, d), 7200)
        assert incremental is not None, "the incremental benchmark ran out of time"
        report_incremental(incremental)
    path = write_results("reasoning" if args.part == "all" else f"reasoning_{args.part}",
                         {"args": vars(args), "target_ratio": TARGET, "machine_at_end": machine(),
                          "scales": results, "incremental": incremental})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
