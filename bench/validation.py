"""What SHACL validation costs on the write path, beside no validation and beside pySHACL.

1. Bulk ingest of the same synthetic assets into two fresh on-disk catalogs, one validating
   every write (core shapes + 20 custom attribute shapes) and one with validation off.
2. Single-asset writes (PATCH of a description and a custom attribute) on a catalog of
   ``--assets`` assets: p50/p95 with validation on and off.
3. Validating a whole data graph: semcat's compiled validator beside pySHACL, same data.

Targets: single-asset write p95 <= 15 ms with validation at 100,000 assets; bulk ingest with
validation >= 50% of the rate without.

    python -m bench.validation            # 100,000 assets (about 5 minutes)
    python -m bench.validation --quick    # 10,000 assets
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import TMP, machine, table, write_results
from bench.synthetic import synthetic_assets
from catalog import Catalog, Settings
from catalog.attributes import AttributeSpec

KINDS = ("string", "integer", "decimal", "boolean", "date")


def attribute_specs(n: int = 20) -> list[AttributeSpec]:
    """Twenty attributes of every kind, on tables and columns, with realistic constraints."""
    specs = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        extra: dict[str, Any] = {}
        if kind == "string":
            extra = {"pattern": r"^[A-Z]{2}-\d+$"} if i % 2 else {"values": ["gold", "silver"]}
        elif kind in ("integer", "decimal"):
            extra = {"minInclusive": 0, "maxInclusive": 1000}
        elif kind == "date":
            extra = {"minInclusive": "2000-01-01"}
        specs.append(AttributeSpec(name=f"attr{i}", label=f"Attribute {i}", datatype=kind,
                                   appliesTo=["Table"] if i % 2 else ["Column"], **extra))
    return specs


def value(spec: AttributeSpec, rng: random.Random) -> Any:
    kind = spec.datatype
    if kind == "string":
        return rng.choice(["gold", "silver"]) if spec.values else f"CC-{rng.randint(1, 999)}"
    if kind == "integer":
        return rng.randint(0, 1000)
    if kind == "decimal":
        return f"{rng.uniform(0, 1000):.2f}"
    if kind == "boolean":
        return rng.random() < 0.5
    return f"20{rng.randint(10, 29)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"


def with_values(items: list[dict[str, Any]], specs: list[AttributeSpec]) -> list[dict[str, Any]]:
    rng = random.Random(7)
    out = []
    for item in items:
        applicable = [s for s in specs if item["type"] in s.appliesTo]
        out.append({**item, **{s.name: value(s, rng) for s in applicable[:4]}})
    return out


def open_catalog(path: Path, validate: bool, specs: list[AttributeSpec]) -> Catalog:
    cat = Catalog.open(Settings(data=path, validate_writes=validate))
    for spec in specs:
        cat.attributes.define(spec, actor="bench", create=True)
    return cat


def ingest(path: Path, validate: bool, parts: list[list[dict[str, Any]]],
           specs: list[AttributeSpec]) -> tuple[float, int]:
    cat = open_catalog(path, validate, specs)
    triples = 0
    start = time.perf_counter()
    for part in parts:
        cat.assets.upsert_many(part, actor="bench")
    seconds = time.perf_counter() - start
    triples = sum(1 for _ in cat.store.quads())
    cat.close()
    return seconds, triples


def single_writes(cat: Catalog, keys: list[str], n: int) -> dict[str, list[float]]:
    rng = random.Random(3)
    times: dict[str, list[float]] = {"on": [], "off": []}
    check = cat.journal.check
    for i in range(2 * n):
        mode = "on" if i % 2 == 0 else "off"
        cat.journal.check = check if mode == "on" else None
        key = rng.choice(keys)
        start = time.perf_counter()
        cat.assets.patch(key, {"description": f"edit {i}", "attr5": f"AB-{i}"}, actor="bench")
        times[mode].append(time.perf_counter() - start)
    cat.journal.check = check
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def whole_graph(cat: Catalog, limit: int) -> dict[str, float]:
    """Our validator over every node vs pySHACL over the same exported graph."""
    import pyshacl
    from rdflib import Dataset, Graph

    start = time.perf_counter()
    report = cat.validate()
    ours = time.perf_counter() - start
    buffer = __import__("io").BytesIO()
    cat.export(buffer, "application/n-quads")
    ds = Dataset()
    ds.parse(data=buffer.getvalue(), format="nquads")
    data = Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        data.add((s, p, o))
    start = time.perf_counter()
    conforms, _, _ = pyshacl.validate(data, shacl_graph=data, inference="none",
                                      allow_warnings=True)
    theirs = time.perf_counter() - start
    return {"triples": len(data), "nodes": report.focus_nodes, "semcat_s": ours,
            "pyshacl_s": theirs, "semcat_conforms": report.conforms, "pyshacl_conforms": conforms}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--assets", type=int, default=100_000, help="catalog size for single writes")
    ap.add_argument("--ingest-tables", type=int, default=2000, help="tables (x11 assets) for the "
                    "validation on/off ingest comparison")
    ap.add_argument("--writes", type=int, default=300, help="single writes per mode")
    ap.add_argument("--pyshacl-tables", type=int, default=300,
                    help="tables (x11 assets) of the whole-graph comparison")
    ap.add_argument("--quick", action="store_true", help="10,000 assets, fewer writes")
    args = ap.parse_args(argv)
    if args.quick:
        args.assets, args.ingest_tables, args.writes, args.pyshacl_tables = 10_000, 500, 100, 100
    specs = attribute_specs()
    results: dict[str, Any] = {"machine": machine(), "args": vars(args)}
    with tempfile.TemporaryDirectory(prefix="semcat-bench-validation-", dir=TMP) as d:
        tmp = Path(d)
        items = with_values(synthetic_assets(args.ingest_tables, 10), specs)
        parts = [items[i:i + 2000] for i in range(0, len(items), 2000)]
        rows = []
        for validate in (True, False):
            seconds, triples = ingest(tmp / f"ingest-{validate}", validate, parts, specs)
            rows.append((validate, len(items), triples, seconds))
        on, off = rows[0][3], rows[1][3]
        print(f"bulk ingest of {len(items):,} assets with 20 custom attribute shapes active")
        print(table(["validation", "assets", "quads in store", "seconds", "assets/s"],
                    [("on" if v else "off", n, t, f"{s:.2f}", f"{n / s:,.0f}")
                     for v, n, t, s in rows]))
        ratio = off / on
        print(f"with validation: {ratio:.0%} of the rate without (target >= 50%: "
              f"{'MET' if ratio >= 0.5 else 'NOT MET'})\n")
        results["ingest"] = {"on_s": on, "off_s": off, "assets": len(items), "ratio": ratio}

        tables = max(1, args.assets // 11)
        big = with_values(synthetic_assets(tables, 10), specs)
        cat = open_catalog(tmp / "big", True, specs)
        start = time.perf_counter()
        for i in range(0, len(big), 5000):
            cat.assets.upsert_many(big[i:i + 5000], actor="bench")
        print(f"built a catalog of {len(big):,} assets in {time.perf_counter() - start:.1f} s")
        keys = [cat.layout.key(cat.layout.iri(b["id"])) for b in big if b["type"] == "Table"]
        times = single_writes(cat, keys, args.writes)
        stats = {m: {"p50_ms": pct(t, 0.5), "p95_ms": pct(t, 0.95),
                     "mean_ms": statistics.mean(t) * 1000} for m, t in times.items()}
        print(table(["validation", "writes", "p50 ms", "p95 ms", "mean ms"],
                    [(m, len(times[m]), f"{s['p50_ms']:.2f}", f"{s['p95_ms']:.2f}",
                      f"{s['mean_ms']:.2f}") for m, s in stats.items()]))
        p95 = stats["on"]["p95_ms"]
        print(f"single-asset write p95 with validation at {len(big):,} assets: {p95:.1f} ms "
              f"(target <= 15 ms: {'MET' if p95 <= 15 else 'NOT MET'})\n")
        results["single"] = {"assets": len(big), **stats}
        cat.close()

        small = open_catalog(tmp / "small", True, specs)
        small.assets.upsert_many(with_values(synthetic_assets(args.pyshacl_tables, 10), specs),
                                 actor="bench")
        whole = whole_graph(small, args.pyshacl_tables)
        small.close()
        print(f"whole-graph validation of {whole['triples']:,} triples ({whole['nodes']:,} nodes):"
              f" semcat {whole['semcat_s']:.2f} s, pySHACL {whole['pyshacl_s']:.2f} s "
              f"({whole['pyshacl_s'] / whole['semcat_s']:.0f}x); conforms: semcat "
              f"{whole['semcat_conforms']}, pySHACL {whole['pyshacl_conforms']}")
        results["whole_graph"] = whole
    print(f"wrote {write_results('validation', results)}")


if __name__ == "__main__":
    main()
