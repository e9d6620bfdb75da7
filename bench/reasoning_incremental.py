"""Incremental OWL 2 RL maintenance at catalog scale (run from ``bench.reasoning``).

An on-disk catalog of synthetic assets is built (SHACL off, as a bulk migration would), reasoned
once, then reopened as shipped (SHACL on) for single-asset upserts: a new description, a lineage
edge added or dropped, a column's PII classification added or dropped (which moves it to another
access partition, its inferences along). Each run times the whole write
(``AssetService.upsert``: validation, change log, store, inference) and the inference step alone
(``IncrementalReasoner.last.seconds``); the first run has incremental reasoning off, the second
on, after catching up with the first run's writes from the change log. Last, the maintained
inferred graphs are compared with what a fresh full ``reason()`` writes.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench._common import table, wait_idle
from bench.synthetic import batches, synthetic_assets

TARGET_P95_MS = 25.0


def _changes(assets: list[dict[str, Any]], n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` single-asset edits of tables and columns, each a whole new document."""
    rng = random.Random(seed)
    current = {a["id"]: dict(a) for a in assets if a.get("type") in ("Table", "Column")}
    tables = [k for k, a in current.items() if a["type"] == "Table"]
    raw = [k for k in tables if "_raw." in k]
    staged = [k for k in tables if "_raw." not in k]
    keys = list(current)
    columns = [k for k, a in current.items() if a["type"] == "Column"]
    out = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.4:
            doc = current[rng.choice(keys)]
            doc["description"] = f"{doc.get('description', '')} (edit {i})"[-300:]
        elif kind < 0.7:
            doc = current[rng.choice(staged)]
            sources = list(doc.get("derivedFrom", []))
            if sources and rng.random() < 0.5:
                sources.pop(rng.randrange(len(sources)))
            else:
                sources.append(rng.choice(raw))
            doc["derivedFrom"] = sorted(set(sources))
            if not doc["derivedFrom"]:
                del doc["derivedFrom"]
        else:  # a PII classification added or dropped: the column changes partition
            doc = current[rng.choice(columns)]
            if doc.get("classifications"):
                del doc["classifications"]
            else:
                doc["classifications"] = ["classification/pii/email"]
        out.append(dict(doc))
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _timed_run(cat: Any, changes: list[dict[str, Any]]) -> dict[str, Any]:
    writes: list[float] = []
    inference: list[float] = []
    modes: dict[str, int] = {}
    for doc in changes:
        before = cat.inference.last
        t = time.perf_counter()
        cat.assets.upsert(doc, actor="bench")
        writes.append(time.perf_counter() - t)
        last = cat.inference.last
        if last is not None and last is not before:
            inference.append(last.seconds)
            modes[last.mode] = modes.get(last.mode, 0) + 1
    out: dict[str, Any] = {"writes": len(writes), "modes": modes,
                           "write_p50_ms": pct(writes, 0.5), "write_p95_ms": pct(writes, 0.95),
                           "write_mean_ms": statistics.mean(writes) * 1000}
    if inference:
        out |= {"inference_p50_ms": pct(inference, 0.5),
                "inference_p95_ms": pct(inference, 0.95),
                "inference_max_ms": max(inference) * 1000}
    return out


def _inferred(cat: Any) -> set[str]:
    root = cat.layout.inferred_root
    return {str(q) for g in cat.reasoner.graphs() if g != root
            for q in cat.store.quads(None, None, None, g)}


def run_incremental(conn: Connection, n_assets: int, n_changes: int, tmp: str) -> None:
    """The benchmark, in a child process: sends its results (or the traceback) back."""
    try:
        conn.send(_run(n_assets, n_changes, tmp))
    except BaseException:
        conn.send({"error": traceback.format_exc()})
        raise


def _run(n_assets: int, n_changes: int, tmp: str) -> dict[str, Any]:
    from catalog import Catalog, Settings

    data = Path(tmp) / "semcat"
    tables = max(10, round((n_assets - 40) / 11))
    assets = synthetic_assets(tables=tables, columns=10)
    result: dict[str, Any] = {"assets": len(assets), "changes": n_changes}
    t = time.perf_counter()
    with Catalog.open(Settings(data=data, validate_writes=False)) as cat:
        for batch in batches(assets, 5_000):
            cat.assets.upsert_many(batch, actor="bench")
        result["build_seconds"] = time.perf_counter() - t
        print(f"incremental: {len(assets):,} assets built in {result['build_seconds']:.0f} s; "
              "reason() ...", flush=True)
        wait_idle(os.getpid())
        report = cat.reason()
        result["reason"] = {"seconds": report.seconds, "asserted": report.asserted,
                            "inferred": report.inferred}
    changes = _changes(assets, 2 * n_changes)
    print(f"incremental: reasoned in {report.seconds:.0f} s ({report.inferred:,} inferred); "
          f"{n_changes} upserts without incremental inference ...", flush=True)
    with Catalog.open(Settings(data=data, incremental_reasoning=False)) as cat:
        wait_idle(os.getpid())
        result["without"] = _timed_run(cat, changes[:n_changes])
    print("incremental: catching up, then upserts with incremental inference ...", flush=True)
    t = time.perf_counter()
    with Catalog.open(Settings(data=data)) as cat:
        caught = cat.inference.last
        result["catch_up"] = {"seconds": time.perf_counter() - t,
                              "inference_seconds": caught.seconds if caught else None,
                              "mode": caught.mode if caught else None, "changesets": n_changes}
        wait_idle(os.getpid())
        result["with"] = _timed_run(cat, changes[n_changes:])
        print("incremental: comparing with a full reason() ...", flush=True)
        maintained = _inferred(cat)
        cat.reason()
        full = _inferred(cat)
        result["matches_full"] = maintained == full
        result["missing"] = sorted(full - maintained)[:5]
        result["stale"] = sorted(maintained - full)[:5]
    return result


def report_incremental(r: dict[str, Any]) -> None:
    if "error" in r:
        print(f"incremental benchmark failed:\n{r['error']}")
        return
    rows = []
    for name in ("without", "with"):
        run = r[name]
        rows.append([f"incremental reasoning {'on' if name == 'with' else 'off'}", run["writes"],
                     run["write_p50_ms"], run["write_p95_ms"], run.get("inference_p50_ms"),
                     run.get("inference_p95_ms"), run.get("inference_max_ms"),
                     ", ".join(f"{k} {v}" for k, v in run["modes"].items()) or "-"])
    p95 = r["with"].get("inference_p95_ms", float("inf"))
    extra = r["with"]["write_p95_ms"] - r["without"]["write_p95_ms"]
    print(f"\nSingle-asset upserts at {r['assets']:,} assets (on-disk, SHACL on), ms. Target: "
          f"incremental inference p95 <= {TARGET_P95_MS:g} ms: "
          f"{'met' if p95 <= TARGET_P95_MS else 'NOT met'} ({p95:.1f} ms); it adds "
          f"{extra:.1f} ms to the whole write's p95 (the rest is validation, the log, the store "
          "and the other projections: search index, audit, classification rules)")
    print(table(["run", "writes", "write p50", "write p95", "inference p50", "inference p95",
                 "inference max", "modes"], rows))
    c, reason = r["catch_up"], r["reason"]
    print(f"build {r['build_seconds']:.0f} s; reason() {reason['seconds']:.1f} s "
          f"({reason['asserted']:,} asserted, {reason['inferred']:,} inferred); catch-up of "
          f"{c['changesets']} changesets on open: {c['mode']} in "
          f"{(c['inference_seconds'] or 0):.2f} s; maintained inferred graphs equal a full "
          f"reason(): {'yes' if r['matches_full'] else 'NO'}")
    if not r["matches_full"]:
        print(f"  missing {r['missing']}\n  stale {r['stale']}")
