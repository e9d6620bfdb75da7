"""The remote SPARQL store (``graph_store/remote_store.py``) beside the embedded one, on LUBM.

The same LUBM triples, spread over PARTITIONS named graphs as the catalog spreads assets over
access partitions, go into the embedded store (on disk), ``oxigraph serve`` and Virtuoso (both
started here, on loopback), through ``GraphStore.apply`` in changesets of CHUNK quads. Then a
handful of LUBM queries run through ``GraphStore.query`` (the remote time includes HTTP and
turning the answer back into pyoxigraph results) over three datasets:

- ``union``: everything (an admin's default dataset);
- ``listed``: every graph named explicitly (how Virtuoso's union is sent; asserted-only queries);
- ``partitioned``: half of the graphs as FROM and FROM NAMED (a caller who may read half).

Last, one asset upsert through a whole catalog's write path, on each of the two Oxigraphs.

    python -m bench.remote_store              # LUBM(1), 5 repetitions
    python -m bench.remote_store --reps 3 --scale 10
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode, Quad, RdfFormat, parse

from bench._common import LUBM, TMP, median_ms, table, write_results
from catalog import Catalog, Settings
from graph_store.changeset import Changeset
from graph_store.oxigraph_store import OxigraphStore
from graph_store.protocol import Dataset, GraphStore
from graph_store.remote_servers import RunningServer, ServerUnavailable, start_oxigraph, start_virtuoso
from graph_store.remote_store import RemoteStore

PARTITIONS = 20
CHUNK = 2_000
QUERIES = ("q01", "q03", "q05", "q07", "q09", "q11", "q14")
GRAPH = "http://bench.example/graph/p{}"


def lubm_quads(scale: int) -> list[Quad]:
    """LUBM's triples, each subject's in one of PARTITIONS graphs."""
    data = gzip.decompress((LUBM / f"lubm{scale}.nt.gz").read_bytes())
    graphs = [NamedNode(GRAPH.format(i)) for i in range(PARTITIONS)]
    return [Quad(q.subject, q.predicate, q.object, graphs[zlib.crc32(str(q.subject).encode()) % PARTITIONS])
            for q in parse(data, format=RdfFormat.N_TRIPLES)]


def load(store: GraphStore, quads: list[Quad]) -> float:
    t = time.perf_counter()
    for i in range(0, len(quads), CHUNK):
        store.apply(Changeset("bench", "load", "", (), tuple(quads[i:i + CHUNK])))
    store.flush()
    return time.perf_counter() - t


def datasets() -> dict[str, Dataset]:
    graphs = tuple(NamedNode(GRAPH.format(i)) for i in range(PARTITIONS))
    half = graphs[::2]
    return {"union": Dataset(), "listed": Dataset(default=graphs, named=graphs),
            "partitioned": Dataset(default=half, named=half)}


def timed(store: GraphStore, text: str, dataset: Dataset, reps: int) -> tuple[float, int]:
    rows = len(list(store.query(text, dataset=dataset)))  # type: ignore[call-overload]  # warm
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        list(store.query(text, dataset=dataset))  # type: ignore[call-overload]
        times.append(time.perf_counter() - t)
    return median_ms(times), rows


def run(reps: int, scale: int) -> dict[str, Any]:
    texts = {q: (LUBM / "queries" / f"{q}.rq").read_text() for q in QUERIES}
    quads = lubm_quads(scale)
    print(f"LUBM({scale}): {len(quads):,} quads in {PARTITIONS} graphs", flush=True)
    results: dict[str, Any] = {"scale": scale, "quads": len(quads), "partitions": PARTITIONS,
                               "reps": reps, "stores": {}}
    with tempfile.TemporaryDirectory(dir=TMP) as tmp:
        servers: list[RunningServer] = []
        stores: dict[str, GraphStore] = {"embedded": OxigraphStore(Path(tmp) / "embedded")}
        for name, start in (("oxigraph serve", start_oxigraph), ("virtuoso", start_virtuoso)):
            try:
                server = start(Path(tmp) / name.split()[0])
            except ServerUnavailable as e:
                print(f"{name}: skipped ({e})")
                continue
            servers.append(server)
            stores[name] = RemoteStore(server.endpoints)
        try:
            for name, store in stores.items():
                seconds = load(store, quads)
                print(f"{name}: loaded in {seconds:.1f} s ({len(quads) / seconds:,.0f} quads/s)",
                      flush=True)
                entry: dict[str, Any] = {"load_s": seconds, "queries": {}}
                for q, text in texts.items():
                    entry["queries"][q] = {mode: timed(store, text, ds, reps)
                                           for mode, ds in datasets().items()}
                results["stores"][name] = entry
        finally:
            for store in stores.values():
                store.close()
            for server in servers:
                server.stop()
    return results


def catalog_writes(n: int) -> dict[str, float]:
    """Median ms of one asset upsert through the whole write path (SHACL, routing, the log,
    the store, inference inline), on the embedded store and on ``oxigraph serve``."""
    ws = {"workspace": "bench", "platform": "platform/pg"}
    medians: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=TMP) as tmp:
        try:
            server: RunningServer | None = start_oxigraph(Path(tmp) / "oxigraph")
        except ServerUnavailable as e:
            print(f"oxigraph serve: skipped ({e})")
            server = None
        for name in ("embedded", "oxigraph serve"):
            if name != "embedded" and server is None:
                continue
            store_url = server.endpoints.query if name != "embedded" and server else None
            settings = Settings(data=Path(tmp) / name.split()[0], store_url=store_url,
                                query_workers=0, background_projections=False)
            with Catalog.open(settings) as cat:
                cat.assets.upsert({"type": "Database", "qualifiedName": "db", "name": "db",
                                   **ws}, actor="bench")
                times = []
                for i in range(n):
                    t = time.perf_counter()
                    cat.assets.upsert({"type": "Schema", "qualifiedName": f"db.s{i}",
                                       "name": f"s{i}", "partOf": "bench/database/pg/db", **ws},
                                      actor="bench")
                    times.append(time.perf_counter() - t)
            medians[name] = median_ms(times)
            print(f"{name}: one asset upsert {medians[name]:.1f} ms (median of {n})", flush=True)
        if server is not None:
            server.stop()
    return medians


def report(results: dict[str, Any]) -> None:
    stores = results["stores"]
    base = stores["embedded"]["queries"]
    for mode in ("union", "listed", "partitioned"):
        rows = []
        for q in QUERIES:
            row: list[Any] = [q, base[q][mode][1], base[q][mode][0]]
            for name in stores:
                if name != "embedded":
                    ms, n = stores[name]["queries"][q][mode]
                    row += [ms, ms / base[q][mode][0] if base[q][mode][0] else None,
                            "ok" if n == base[q][mode][1] else f"rows {n}"]
            rows.append(row)
        headers = ["query", "rows", "embedded ms"]
        for name in stores:
            if name != "embedded":
                headers += [f"{name} ms", "x embedded", "same"]
        print(f"\n{mode} dataset (median of {results['reps']}):")
        print(table(headers, rows))
    print("\ncost of the partitioned dataset (half the graphs as FROM / FROM NAMED) over the "
          "union, per store (median over the queries of the per-query ratio):")
    rows = []
    for name, entry in stores.items():
        ratios = sorted(entry["queries"][q]["partitioned"][0] / entry["queries"][q]["union"][0]
                        for q in QUERIES)
        listed = sorted(entry["queries"][q]["listed"][0] / entry["queries"][q]["union"][0]
                        for q in QUERIES)
        rows.append([name, ratios[len(ratios) // 2], listed[len(listed) // 2],
                     results["quads"] / entry["load_s"]])
    print(table(["store", "partitioned / union", "listed / union", "load quads/s"], rows))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="timed runs per query and dataset")
    ap.add_argument("--writes", type=int, default=30, help="catalog upserts timed per store")
    ap.add_argument("--scale", type=int, default=1, choices=(1, 10), help="LUBM scale")
    args = ap.parse_args(argv)
    results = run(args.reps, args.scale)
    report(results)
    results["catalog_upsert_ms"] = catalog_writes(args.writes)
    print(f"\nwritten to {write_results('remote_store', results)}")


if __name__ == "__main__":
    main()
