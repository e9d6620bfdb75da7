"""The cost of deriving access before a write is logged (issue 10): single-asset writes on the
on-disk demo catalog through the Catalog facade, beside pyoxigraph applying the same change
directly, in one run.

Writes timed (each a whole ``Catalog`` write: diff, routing with rule conclusions, lineage
propagation, containment and roll-up, SHACL, authorisation, the durable log, the store and the
projections that follow inside the write):
- ``describe``: a column's description (nothing moves);
- ``pii-toggle``: PII added to / removed from a raw column with downstream lineage (the column
  and everything downstream move between partitions in the same changeset);
- ``restrict``: a table classified Restricted and back (its columns move with it);
- ``rule``: a classification rule created and deleted (every column it matches moves).
``direct`` is pyoxigraph's own ``update`` of the changed statements on a copy of the store.

    python -m bench.write_routing            # 100 writes per kind
    python -m bench.write_routing --quick    # 20
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pyoxigraph import Store

from bench._common import TMP, table, write_results
from catalog import Catalog, Settings

RAW_EMAIL = "acme/column/postgres/shop.public.customers.email"
COLUMN = "acme/column/postgres/shop.public.orders.sales_channel"
TABLE = "acme/table/postgres/shop.public.orders"
RULE = {"id": "rule/bench-notes", "name": "Note columns",
        "construct": "CONSTRUCT { ?this semcat:classification <classification/pii/name> } "
                     "WHERE { ?this a semcat:Column ; semcat:name ?n . "
                     "FILTER(CONTAINS(?n, \"note\")) }"}


def timed(fn: Callable[[int], object], n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 20 if args.quick else 100
    work = Path(tempfile.mkdtemp(dir=TMP, prefix="semcat-bench-routing-"))
    try:
        with Catalog.open(Settings(data=work / "data")) as cat:
            cat.load_demo()
            cat.load_demo_governance()
            cat.search.wait(vectors=False)
            base = cat.layout.id_base
            results: dict[str, list[float]] = {}
            results["describe"] = timed(lambda i: cat.assets.patch(
                COLUMN, {"description": f"status {i}"}, actor="bench"), n)
            results["pii-toggle"] = timed(lambda i: cat.assets.patch(
                RAW_EMAIL, {"classifications": None if i % 2 == 0 else
                            ["classification/pii/email"]}, actor="bench"), n)
            before = cat.assets.get(TABLE).get("classifications")
            results["restrict"] = timed(lambda i: cat.assets.patch(TABLE, {
                "classifications": ["classification/sensitivity/restricted"] if i % 2 == 0
                else before}, actor="bench"), n)
            rule_n = max(4, n // 10)
            results["rule"] = timed(lambda i: cat.rules.create(RULE, actor="bench") if i % 2 == 0
                                    else cat.rules.delete(RULE["id"], actor="bench"), rule_n)
        store = Store(str(work / "data" / "store"))
        iri = f"<{base}{COLUMN}>"
        desc = "<https://w3id.org/semcat#description>"
        graph = "<http://127.0.0.1:8000/graph/acme/general>"
        direct = timed(lambda i: store.update(
            f"DELETE {{ GRAPH {graph} {{ {iri} {desc} ?d }} }} INSERT {{ GRAPH {graph} {{ "
            f"{iri} {desc} 'direct {i}' }} }} WHERE {{ OPTIONAL {{ GRAPH {graph} {{ {iri} "
            f"{desc} ?d }} }} }}"), n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    payload: dict[str, dict[str, float]] = {}
    d50 = statistics.median(direct) * 1000
    rows.append(("direct (pyoxigraph update)", len(direct), round(d50, 2),
                 round(p(direct, 0.95), 2), 1.0))
    for kind, values in results.items():
        m = statistics.median(values) * 1000
        payload[kind] = {"n": len(values), "p50_ms": round(m, 2),
                         "p95_ms": round(p(values, 0.95), 2), "ratio_to_direct": round(m / d50, 1)}
        rows.append((kind, len(values), round(m, 2), round(p(values, 0.95), 2), round(m / d50, 1)))
    payload["direct"] = {"n": len(direct), "p50_ms": round(d50, 3)}
    print(table(("write", "n", "p50 ms", "p95 ms", "p50 / direct"), rows))
    write_results("write_routing", payload)


if __name__ == "__main__":
    main()
