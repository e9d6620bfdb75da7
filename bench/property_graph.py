"""The property-graph projection (property_graph/) against a real Bolt server: how fast it
follows the change log, and a depth-5 lineage query in Cypher against the same SPARQL property
path on the embedded pyoxigraph store.

The server is ArcadeDB with its Bolt plugin, from the ``arcadedb-jvm`` package (a bundled JRE),
started here on a free loopback port: no Neo4j server is installable from the registries this
machine reaches. ``ArcadeDB`` is also what the tests start (tests/test_property_graph.py).

    .venv/bin/python -m bench.property_graph [--tables 400] [--chain 200] [--queries 50]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

PASSWORD = "semcat-bench"  # ArcadeDB wants 8 characters or more
DATABASE = "semcat"


def arcadedb_home() -> Path | None:
    """Where the arcadedb-jvm package keeps its jars and JRE (it is not imported: importing
    it starts an embedded JVM)."""
    spec = importlib.util.find_spec("arcadedb")
    if spec is None or not spec.submodule_search_locations:
        return None
    home = Path(next(iter(spec.submodule_search_locations)))
    return home if (home / "jars").is_dir() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ArcadeDB:
    """An ArcadeDB server with the Bolt plugin on 127.0.0.1, its databases in ``root``, one
    database (``semcat``) created on start; stopped and started again on the same ports and
    files, as an operator restarting it would."""

    def __init__(self, root: Path, *, heap_mb: int = 512) -> None:
        home = arcadedb_home()
        if home is None:
            raise RuntimeError("the arcadedb-jvm package is not installed: `make install` (the "
                               "dev extra) installs it")
        self.home, self.root, self.heap_mb = home, root, heap_mb
        self.bolt_port, self.http_port = free_port(), free_port()
        self.url = f"bolt://127.0.0.1:{self.bolt_port}"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def java(self) -> str:
        bundled = self.home / "jre" / "bin" / "java"
        return str(bundled) if bundled.exists() else shutil.which("java") or "java"

    def start(self, timeout: float = 120) -> ArcadeDB:
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.root / "server.log"
        self.proc = subprocess.Popen(
            [self.java, f"-Xmx{self.heap_mb}m", "-Dpolyglot.engine.WarnInterpreterOnly=false",
             f"-Darcadedb.server.rootPath={self.root}",
             f"-Darcadedb.server.rootPassword={PASSWORD}",
             "-Darcadedb.server.httpIncomingHost=127.0.0.1",
             f"-Darcadedb.server.httpIncomingPort={self.http_port}",
             "-Darcadedb.bolt.host=127.0.0.1", f"-Darcadedb.bolt.port={self.bolt_port}",
             f"-Darcadedb.server.defaultDatabases={DATABASE}[root]",
             "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
             "-cp", f"{self.home / 'jars'}/*", "com.arcadedb.server.ArcadeDBServer"],
            stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=self.root,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ArcadeDB stopped on start:\n{log.read_text()[-3000:]}")
            if "started in" in log.read_text(errors="replace").split("is starting up")[-1]:
                try:
                    socket.create_connection(("127.0.0.1", self.bolt_port), timeout=0.5).close()
                    return self
                except OSError:
                    pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"ArcadeDB did not start in {timeout} s:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def config(self, name: str = "semcat") -> Any:
        from property_graph import Neo4jConfig

        return Neo4jConfig(self.url, "root", PASSWORD, DATABASE, name)


def chain_id(i: int) -> str:
    return f"acme/table/pg/lake.chain.t{i}"


def lineage_chain(n: int, width: int = 3) -> list[dict[str, Any]]:
    """``n`` tables in a chain (each derived from the one before and from ``width`` - 1 side
    tables), so that a depth-5 walk stops well short of the end."""
    where = {"workspace": "acme", "platform": "platform/pg", "owners": ["team/lake"],
             "description": "A link of the lineage chain."}
    items: list[dict[str, Any]] = [
        {"id": "platform/pg", "type": "DataPlatform", "name": "Postgres"},
        {"id": "acme", "type": "Workspace", "name": "Acme"},
        {"id": "team/lake", "type": "Team", "name": "Lake"},
        {"id": "acme/database/pg/lake", "type": "Database", "name": "lake",
         "qualifiedName": "lake", **where},
        {"id": "acme/schema/pg/lake.chain", "type": "Schema", "name": "chain",
         "qualifiedName": "lake.chain", "partOf": "acme/database/pg/lake", **where}]
    table = {"type": "Table", "partOf": "acme/schema/pg/lake.chain", **where}
    for i in range(n):
        sides = [f"s{i}_{j}" for j in range(1, width)] if i else []
        items += [{"id": f"acme/table/pg/lake.chain.{s}", "name": s,
                   "qualifiedName": f"lake.chain.{s}", **table} for s in sides]
        sources = [chain_id(i - 1), *(f"acme/table/pg/lake.chain.{s}" for s in sides)] if i else []
        items.append({"id": chain_id(i), "name": f"t{i}", "qualifiedName": f"lake.chain.t{i}",
                      **table, **({"derivedFrom": sources} if sources else {})})
    return items


CYPHER_UPSTREAM = ("MATCH (a:Resource {iri: $iri})-[:DERIVED_FROM*1..5]->(b:Resource) "
                   "RETURN DISTINCT b.iri AS iri")
SPARQL_UPSTREAM = ("PREFIX semcat: <https://w3id.org/semcat#> SELECT DISTINCT ?b WHERE {{ "
                   "<{iri}> semcat:derivedFrom/semcat:derivedFrom?/semcat:derivedFrom?/"
                   "semcat:derivedFrom?/semcat:derivedFrom? ?b }}")


def main() -> None:
    from bench.synthetic import synthetic_assets
    from catalog import Catalog, Settings
    from property_graph.follower import PropertyGraphProjection

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tables", type=int, default=400, help="synthetic tables (10 columns each)")
    ap.add_argument("--chain", type=int, default=200, help="tables in the lineage chain")
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--writes", type=int, default=200, help="single-asset writes to follow")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="semcat-pg-bench-"))
    server = ArcadeDB(work / "arcadedb", heap_mb=1024).start()
    try:
        settings = Settings(data=work / "catalog", query_workers=0, incremental_reasoning=False,
                            classification_rules=False, rate_limit="")
        with Catalog.open(settings) as cat:
            assets = synthetic_assets(tables=args.tables) + lineage_chain(args.chain)
            t = time.perf_counter()
            for i in range(0, len(assets), 500):
                cat.assets.upsert_many(assets[i:i + 500], actor="bench")
            cat.settle()
            print(f"catalog: {len(assets)} assets written in {time.perf_counter() - t:.1f} s")
            projection = PropertyGraphProjection(cat, server.config())
            t = time.perf_counter()
            nodes = projection.rebuild()
            rebuild_s = time.perf_counter() - t
            rels = projection.writer.read("MATCH (:Resource)-[r]->(:Resource) RETURN count(r) AS n")
            print(f"rebuild: {nodes} nodes and {rels[0]['n']} relationships in {rebuild_s:.1f} s "
                  f"({nodes / rebuild_s:.0f} nodes/s)")
            projection.start()

            def write(i: int) -> None:
                cat.assets.upsert({**lineage_chain(1)[-1], "id": f"acme/table/pg/lake.chain.w{i}",
                                   "name": f"w{i}", "qualifiedName": f"lake.chain.w{i}",
                                   "derivedFrom": [chain_id(i % args.chain)]}, actor="bench")

            t = time.perf_counter()
            for i in range(args.writes):
                write(i)
            written_s = time.perf_counter() - t
            t = time.perf_counter()
            assert projection.wait(timeout=600), "the projection did not catch up"
            lag_s = time.perf_counter() - t
            print(f"follow: {args.writes} single-asset writes at {args.writes / written_s:.0f}/s; "
                  f"the graph had them {lag_s * 1e3:.0f} ms after the last write")
            projection.close()
            for i in range(args.writes, 2 * args.writes):  # while the projection is away
                write(i)
            projection = PropertyGraphProjection(cat, server.config())
            t = time.perf_counter()
            caught = projection.catch_up()
            catch_s = time.perf_counter() - t
            print(f"catch-up: {caught} changesets (one asset each) replayed in {catch_s:.2f} s "
                  f"({caught / catch_s:.0f} changesets/s)")
            starts = [f"{settings.base}/id/{chain_id(i)}"
                      for i in range(args.chain - 1, 5, -max(1, args.chain // args.queries))]
            cy, sp = [], []
            for iri in starts:
                t = time.perf_counter()
                got = {r["iri"] for r in projection.writer.read(CYPHER_UPSTREAM, iri=iri)}
                cy.append(time.perf_counter() - t)
                t = time.perf_counter()
                want = {r["b"].value for r in cat.sparql.query(
                    SPARQL_UPSTREAM.format(iri=iri), infer=False).rows()}
                sp.append(time.perf_counter() - t)
                assert got == want, (iri, got ^ want)
            c50, s50 = statistics.median(cy) * 1e3, statistics.median(sp) * 1e3
            c95, s95 = (sorted(x)[int(0.95 * (len(x) - 1))] * 1e3 for x in (cy, sp))
            print(f"depth-5 upstream lineage ({len(starts)} starts, {len(want)} assets each): "
                  f"Cypher over Bolt p50 {c50:.2f} ms / p95 {c95:.2f} ms, SPARQL path on "
                  f"pyoxigraph p50 {s50:.2f} ms / p95 {s95:.2f} ms (Cypher / SPARQL at p50 = "
                  f"{c50 / s50:.1f}x)")
            projection.close()
    finally:
        server.stop()
        if not os.environ.get("SEMCAT_BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
