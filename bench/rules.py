"""Cost of classification rules, lineage propagation and tag inheritance on single-asset writes.

A synthetic warehouse (bench/synthetic.py: 2,000 tables x 10 columns = 22k assets, table- and
column-level lineage, PII columns) in an on-disk store, with two rules (e-mail and phone columns
by name and type) and an inheritable tag. Then ~200 single-asset upserts through the Catalog,
alternating with the classifier switched on and off, of four kinds: a description edit (rules
rerun, nothing changes), a data-type flip of an e-mail column (a rule's conclusion appears or
goes, and propagates downstream), a classification toggled on a raw column (propagation
downstream) and a lineage edge toggled. Prints p50/p95 of the whole write with and without
the classifier, their ratio, and the classifier's own time inside the write (apart from its
``on_derived`` subscribers, i.e. the search index refreshing what changed, shown separately).

    python -m bench.rules            # 2,000 tables
    python -m bench.rules --quick    # 200 tables, 60 writes
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._common import TMP, table, write_results
from bench.synthetic import batches, synthetic_assets
from catalog import Catalog, Settings
from graph_store.changeset import Changeset

RULES = [
    {"id": "rule/email-columns", "name": "E-mail columns",
     "construct": "CONSTRUCT { ?this semcat:classification <classification/pii/email> } WHERE "
                  "{ ?this a semcat:Column ; semcat:name ?n ; semcat:dataType ?t . "
                  'FILTER(REGEX(?n, "(^|_)e_?mail($|_)", "i") && REGEX(?t, "CHAR|TEXT", "i")) }'},
    {"id": "rule/phone-columns", "name": "Phone columns",
     "construct": "CONSTRUCT { ?this semcat:classification <classification/pii/phone> } WHERE "
                  "{ ?this a semcat:Column ; semcat:name ?n ; semcat:dataType ?t . "
                  'FILTER(REGEX(?n, "phone", "i") && REGEX(?t, "CHAR|TEXT", "i")) }'},
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def build(data: Path, tables: int) -> tuple[list[dict[str, Any]], float, float]:
    """Load the warehouse (classifier off, SHACL off: loading is not what is measured), then
    reopen with the classifier on, which catches up with one full run; returns the items, the
    load time and the time of a full run."""
    items = synthetic_assets(tables=tables)
    with Catalog.open(Settings(data=data, validate_writes=False,
                               classification_rules=False)) as cat:
        started = time.perf_counter()
        for batch in batches(items, 2000):
            cat.assets.upsert_many(batch, actor="bench")
        load = time.perf_counter() - started
        cat.sparql.update("PREFIX semcat: <https://w3id.org/semcat#> INSERT DATA { "
                          f"<{cat.layout.id_base}tag/tier-1> semcat:inheritable true }}",
                          actor="bench")
        for rule in RULES:
            cat.rules.put(rule["id"], rule, actor="bench")
    with Catalog.open(Settings(data=data)) as cat:  # catches up with one full run
        assert cat.classifier.up_to() == cat.journal.applied_seq
        full = cat.classifier.reapply().seconds  # and once more, timed on its own
    return items, load, full


def writes(items: list[dict[str, Any]], n: int, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """``n`` single-asset edits, each restoring what the previous edit of its asset changed."""
    rng = random.Random(seed)
    columns = [a for a in items if a["type"] == "Column"]
    emails = [a for a in columns if "email" in a["name"]]
    raw = [a for a in columns if "_raw." in a["qualifiedName"]]
    derived = [a for a in columns if a.get("derivedFrom")]
    current = {a["id"]: a for a in items}
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(n):
        kind = ("describe", "retype", "classify", "lineage")[i % 4]
        pool = {"describe": columns, "retype": emails, "classify": raw, "lineage": derived}[kind]
        target = copy.deepcopy(current[rng.choice(pool)["id"]])
        if kind == "describe":
            target["description"] = f"{target['description'].split(' (edit')[0]} (edit {i})"
        elif kind == "retype":
            target.pop("classifications", None)  # let the rule decide
            target["dataType"] = "NUMBER(38,0)" if "CHAR" in target["dataType"] else "VARCHAR"
        elif kind == "classify":
            had = target.pop("classifications", None)
            if not had:
                target["classifications"] = ["classification/pii/phone"]
        else:
            original = next(a for a in items if a["id"] == target["id"])["derivedFrom"]
            target["derivedFrom"] = [] if target.get("derivedFrom") else original
            if not target["derivedFrom"]:
                del target["derivedFrom"]
        current[target["id"]] = target
        out.append((kind, target))
    return out


def run(tables: int, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=TMP, prefix="semcat-bench-rules-") as tmp:
        data = Path(tmp) / "data"
        items, load, full = build(data, tables)
        timings: dict[bool, list[float]] = {True: [], False: []}
        inside: list[float] = []
        inside_by_kind: dict[str, list[float]] = {}
        refresh: list[float] = []
        kind = ""
        by_kind: dict[tuple[str, bool], list[float]] = {}
        with Catalog.open(Settings(data=data)) as cat:
            on_applied = cat.classifier.on_applied
            subscribers = [0.0]  # time spent in on_derived subscribers (the search index)

            def subscriber(callback: Callable[[set[str]], None]) -> Callable[[set[str]], None]:
                def timed_callback(subjects: set[str]) -> None:
                    started = time.perf_counter()
                    callback(subjects)
                    subscribers[0] += time.perf_counter() - started
                return timed_callback

            cat.classifier.on_derived[:] = [subscriber(c) for c in cat.classifier.on_derived]
            replace_graphs = cat.store.replace_graphs
            created = [0]  # derived graphs met for the first time: created with a store flush

            def counting(*args: Any) -> None:
                created[0] += 1
                replace_graphs(*args)

            cat.store.replace_graphs = counting  # type: ignore[method-assign]

            def timed(cs: Changeset) -> None:
                subscribers[0] = 0.0
                started = time.perf_counter()
                on_applied(cs)
                if cat.classifier.enabled:
                    inside.append(time.perf_counter() - started - subscribers[0])
                    inside_by_kind.setdefault(kind, []).append(inside[-1])
                    refresh.append(subscribers[0])

            callbacks = cat.journal.on_applied
            callbacks[callbacks.index(on_applied)] = timed
            for i, (kind, item) in enumerate(writes(items, n)):
                enabled = (i // 4) % 2 == 0  # each kind in both modes, in alternating blocks
                cat.classifier.enabled = enabled
                started = time.perf_counter()
                cat.assets.upsert(item, actor="bench")
                seconds = time.perf_counter() - started
                timings[enabled].append(seconds)
                by_kind.setdefault((kind, enabled), []).append(seconds)
            cat.classifier.enabled = True
            derived = len({q for g in cat.classifier.graphs() for q in
                           cat.store.quads(None, None, None, g)})
    on, off = timings[True], timings[False]
    return {
        "assets": len(items), "tables": tables, "writes": n, "load_s": load,
        "full_run_s": full, "derived_quads": derived,
        "on_p50_ms": percentile(on, 50), "on_p95_ms": percentile(on, 95),
        "off_p50_ms": percentile(off, 50), "off_p95_ms": percentile(off, 95),
        "classifier_p50_ms": percentile(inside, 50), "classifier_p95_ms": percentile(inside, 95),
        "new_graphs": created[0],
        "subscribers_p50_ms": percentile(refresh, 50),
        "subscribers_p95_ms": percentile(refresh, 95),
        "ratio_p50": statistics.median(on) / statistics.median(off),
        "ratio_p95": percentile(on, 95) / percentile(off, 95),
        "by_kind_ms": {f"{k}/{'on' if e else 'off'}": [percentile(v, 50), percentile(v, 95)]
                       for (k, e), v in sorted(by_kind.items())},
        "classifier_by_kind_ms": {k: [percentile(v, 50), percentile(v, 95)]
                                  for k, v in sorted(inside_by_kind.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 tables, 60 writes")
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    tables, n = (200, 60) if args.quick else (args.tables, args.writes)
    result = run(tables, n)
    print(f"{result['assets']:,} assets; loaded in {result['load_s']:.1f} s; full run "
          f"(rules, propagation, inheritance) {result['full_run_s']:.2f} s; "
          f"{result['derived_quads']:,} derived quads\n")
    print(table(["single-asset write", "p50 ms", "p95 ms"], [
        ["classifier on", result["on_p50_ms"], result["on_p95_ms"]],
        ["classifier off", result["off_p50_ms"], result["off_p95_ms"]],
        ["classifier itself", result["classifier_p50_ms"], result["classifier_p95_ms"]],
        ["its subscribers (search)", result["subscribers_p50_ms"],
         result["subscribers_p95_ms"]],
    ]))
    print()
    print(table(["kind/mode", "p50 ms", "p95 ms"],
                [[k, *v] for k, v in result["by_kind_ms"].items()]))
    print()
    print(table(["classifier, by kind", "p50 ms", "p95 ms"],
                [[k, *v] for k, v in result["classifier_by_kind_ms"].items()]))
    print(f"\n{result['new_graphs']} derived graphs created during the writes (one store flush "
          "each; assets whose classification moves them to a new access partition)")
    print(f"ratio on/off: p50 {result['ratio_p50']:.2f}x, p95 {result['ratio_p95']:.2f}x")
    if not args.quick:
        print(f"wrote {write_results('rules', result)}")


if __name__ == "__main__":
    main()
