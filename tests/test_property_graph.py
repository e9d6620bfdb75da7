"""The property-graph projection (issue 18, item 4) against a real Bolt/openCypher server:
ArcadeDB with its Bolt plugin (the ``arcadedb-jvm`` package), started here on free loopback
ports, read and written with the official ``neo4j`` driver. The projection must hold what
SPARQL says the store holds, follow writes and deletes, resume after a stop, rebuild to the
same graph, and answer a depth-5 lineage walk as the SPARQL property path does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.property_graph import (
    CYPHER_UPSTREAM,
    SPARQL_UPSTREAM,
    ArcadeDB,
    arcadedb_home,
    chain_id,
)
from bench.property_graph import lineage_chain as chain
from bench.synthetic import synthetic_assets
from catalog import Catalog, Settings
from graph_store.errors import InputError
from property_graph import Neo4jConfig, follow
from property_graph.cypher import GraphWriter
from property_graph.follower import PropertyGraphProjection
from property_graph.mapping import local_name, relationship_type
from tests.conftest import ROOT, Server

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
GLOSSARY: list[dict[str, Any]] = [
    {"id": "glossary/sales", "type": "Glossary", "name": "Sales glossary"},
    {"id": "glossary/sales/churn", "type": "GlossaryTerm", "name": "Churn",
     "description": "Customers who left in a period.", "partOf": "glossary/sales"},
]


@pytest.fixture(scope="session")
def arcadedb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArcadeDB]:
    if arcadedb_home() is None:
        message = "the arcadedb-jvm package is not installed: `make install` (its dev extra)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = ArcadeDB(tmp_path_factory.mktemp("arcadedb")).start()
    try:
        yield server
    finally:
        server.stop()


_names = iter(range(1_000_000))


@pytest.fixture
def config(arcadedb: ArcadeDB) -> Neo4jConfig:
    """A projection of its own on the shared server: its own IRIs and its own position."""
    return arcadedb.config(f"test-{next(_names)}")


def small_catalog(cat: Catalog) -> None:
    items = [*synthetic_assets(tables=8, columns=8), *GLOSSARY]
    for item in items:
        if item["type"] == "Table":
            item["terms"] = ["glossary/sales/churn"]
    cat.assets.upsert_many(items, actor="test")
    cat.settle()


def open_catalog(path: Path | None, base: str) -> Catalog:
    return Catalog.open(Settings(data=path, base_iri=base, query_workers=0))


def base_of(config: Neo4jConfig) -> str:
    return f"http://{config.name}.example.org"


def graph_counts(p: PropertyGraphProjection, base: str) -> tuple[Counter[str], Counter[str]]:
    """Nodes per label and relationships per type, of this catalog's IRIs only."""
    nodes: Counter[str] = Counter()
    for r in p.writer.read("MATCH (n:Resource) WHERE n.iri STARTS WITH $b "
                           "RETURN labels(n) AS labels", b=base):
        nodes.update(r["labels"])
    rels = Counter({r["t"]: r["c"] for r in p.writer.read(
        "MATCH (a:Resource)-[r]->(b:Resource) WHERE a.iri STARTS WITH $b "
        "RETURN type(r) AS t, count(r) AS c", b=base)})
    return nodes, rels


def sparql_counts(cat: Catalog) -> tuple[Counter[str], Counter[str]]:
    """The same, as SPARQL reads the asserted data graphs: a node per typed resource, labelled
    with its classes and their superclasses; an edge per IRI statement between two of them."""
    skip = ", ".join(f"<{g.value}>" for g in (cat.layout.ontology, cat.layout.custom_ontology,
                                              cat.layout.shapes))
    typed = f"GRAPH ?g {{ ?s a ?t }} FILTER(isIRI(?s) && ?g NOT IN ({skip}))"
    pairs = {(r["s"].value, local_name(r["c"].value)) for r in cat.sparql.query(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT DISTINCT ?s ?c WHERE { "
        f"{typed} ?t rdfs:subClassOf* ?c FILTER(isIRI(?c)) }}", infer=False).rows()}
    nodes = Counter(label for _, label in pairs)
    nodes["Resource"] = len({s for s, _ in pairs})
    edges = {(relationship_type(r["p"].value), r["s"].value, r["o"].value)
             for r in cat.sparql.query(
                 f"SELECT DISTINCT ?s ?p ?o WHERE {{ {typed} GRAPH ?h {{ ?s ?p ?o }} "
                 f"FILTER(isIRI(?o) && ?p != <{RDF_TYPE}> && ?h NOT IN ({skip})) "
                 f"FILTER EXISTS {{ GRAPH ?k {{ ?o a ?u }} FILTER(?k NOT IN ({skip})) }} }}",
                 infer=False).rows()}
    return nodes, Counter(t for t, _, _ in edges)


def test_initial_projection_matches_sparql(config: Neo4jConfig) -> None:
    base = base_of(config)
    with open_catalog(None, base) as cat:
        small_catalog(cat)
        p = PropertyGraphProjection(cat, config)
        try:
            assert p.catch_up() == 0  # an empty graph: copied whole, not replayed
            assert p.position == cat.journal.applied_seq == p.writer.position()
            nodes, rels = graph_counts(p, base)
            want_nodes, want_rels = sparql_counts(cat)
            assert nodes == want_nodes
            assert rels == want_rels
            # the mapping the docs promise: labels, relationship types, typed properties
            for kind in ("Table", "Column", "Schema", "Database", "Tag", "Team", "User",
                         "Classification", "GlossaryTerm", "Glossary", "DataAsset", "Asset"):
                assert nodes[kind] > 0, kind
            for rel in ("PART_OF", "DERIVED_FROM", "OWNER", "TAG", "CLASSIFICATION",
                        "GLOSSARY_TERM", "PLATFORM", "WORKSPACE"):
                assert rels[rel] > 0, rel
            col = p.writer.read("MATCH (c:Column)-[:PART_OF]->(t:Table)-[:PART_OF]->(s:Schema)"
                                " WHERE c.iri STARTS WITH $b RETURN c.position AS pos, "
                                "c.name AS name, c.dataType AS dt LIMIT 1", b=base)
            assert isinstance(col[0]["pos"], int) and col[0]["name"] and col[0]["dt"]
        finally:
            p.close()


def test_writes_and_deletes_follow(config: Neo4jConfig) -> None:
    base = base_of(config)
    with open_catalog(None, base) as cat:
        small_catalog(cat)
        p = follow(cat, config)
        assert p is not None
        try:
            assert p.wait(timeout=60)
            table = next(a for a in synthetic_assets(tables=8, columns=8) if a["type"] == "Table")
            iri = f"{base}/id/{table['id']}"
            cat.assets.upsert({**table, "name": "renamed", "tags": ["tag/gdpr"]}, actor="test")
            cat.assets.upsert({"id": "acme/dashboard/snowflake/x", "type": "Dashboard", "name": "X",
                               "qualifiedName": "x",
                               "workspace": "acme", "platform": "platform/snowflake",
                               "derivedFrom": [table["id"]]}, actor="test")
            assert p.wait(timeout=60)
            row = p.writer.read("MATCH (t:Table {iri: $iri}) OPTIONAL MATCH (t)-[:TAG]->(g) "
                                "RETURN t.name AS name, collect(g.name) AS tags", iri=iri)
            assert row == [{"name": "renamed", "tags": ["GDPR"]}]
            assert p.writer.read("MATCH (:Dashboard {iri: $d})-[:DERIVED_FROM]->(t) "
                                 "RETURN t.iri AS iri", d=f"{base}/id/acme/dashboard/snowflake/x") == \
                [{"iri": iri}]
            columns = [a["id"] for a in synthetic_assets(tables=8, columns=8)
                       if a.get("partOf") == table["id"]]
            cat.assets.delete("acme/dashboard/snowflake/x", actor="test")
            for column in columns:
                cat.assets.delete(column, actor="test")
            assert p.wait(timeout=60)
            assert p.writer.existing([f"{base}/id/{k}" for k in
                                      ["acme/dashboard/snowflake/x", *columns, table["id"]]]) == {iri}
            assert graph_counts(p, base) == sparql_counts(cat)
        finally:
            p.close()


def test_restart_catches_up_without_duplicates(config: Neo4jConfig, tmp_path: Path) -> None:
    base = base_of(config)
    with open_catalog(tmp_path / "cat", base) as cat:
        small_catalog(cat)
        p = follow(cat, config)
        assert p is not None and p.wait(timeout=60)
        p.close()
        stopped_at = p.position
        cat.assets.upsert_many([*GLOSSARY, {"id": "glossary/sales/arr", "type": "GlossaryTerm",
                                            "name": "ARR", "partOf": "glossary/sales"}],
                               actor="test")
        cat.assets.delete("glossary/sales/churn", actor="test")
        cat.settle()
    with open_catalog(tmp_path / "cat", base) as cat:  # the catalog restarts too
        p = PropertyGraphProjection(cat, config)
        try:
            assert p.writer.position() == stopped_at < cat.journal.applied_seq
            assert p.catch_up() == cat.journal.applied_seq - stopped_at
            assert p.writer.position() == cat.journal.applied_seq
            assert graph_counts(p, base) == sparql_counts(cat)
            assert p.writer.read("MATCH (n:Resource) WHERE n.iri STARTS WITH $b "
                                 "WITH n.iri AS iri, count(*) AS c WHERE c > 1 RETURN iri",
                                 b=base) == []
            assert p.catch_up() == 0  # nothing is replayed twice
            assert p.writer.read("MATCH (g:GlossaryTerm) WHERE g.iri STARTS WITH $b "
                                 "RETURN g.name AS name", b=base) == [{"name": "ARR"}]
            # a graph ahead of the log (the catalog restored from an older backup) is rebuilt
            p.writer.set_position(cat.journal.applied_seq + 10)
            assert p.catch_up() == 0 and p.writer.position() == cat.journal.applied_seq
            assert graph_counts(p, base) == sparql_counts(cat)
        finally:
            p.close()


def snapshot(p: PropertyGraphProjection, base: str) -> tuple[list[Any], list[Any]]:
    nodes = sorted((r["iri"], sorted(r["labels"]), sorted(r["props"].items())) for r in p.writer.read(
        "MATCH (n:Resource) WHERE n.iri STARTS WITH $b RETURN n.iri AS iri, labels(n) AS labels,"
        " properties(n) AS props", b=base))
    rels = sorted((r["a"], r["t"], r["b"]) for r in p.writer.read(
        "MATCH (a:Resource)-[r]->(b:Resource) WHERE a.iri STARTS WITH $b "
        "RETURN a.iri AS a, type(r) AS t, b.iri AS b", b=base))
    return nodes, rels


def test_rebuild_equals_incremental_and_lineage_matches_sparql(config: Neo4jConfig) -> None:
    base = base_of(config)
    with open_catalog(None, base) as cat:
        p = follow(cat, config)
        assert p is not None
        try:
            cat.assets.upsert_many(chain(12)[:10], actor="test")  # then asset by asset
            for item in chain(12)[10:]:
                cat.assets.upsert(item, actor="test")
            cat.sparql.update(  # a class that changes: its node is relabelled
                "PREFIX semcat: <https://w3id.org/semcat#> INSERT { GRAPH ?g { ?t a semcat:View } }"
                f" WHERE {{ GRAPH ?g {{ ?t a semcat:Table }} FILTER(?t = <{base}/id/{chain_id(3)}>) }}",
                actor="test")
            assert p.wait(timeout=60)
            incremental = snapshot(p, base)
            assert [iri for iri, labels, _ in incremental[0] if "View" in labels] == \
                [f"{base}/id/{chain_id(3)}"]
            for start in (11, 9, 6):
                iri = f"{base}/id/{chain_id(start)}"
                cypher = {r["iri"] for r in p.writer.read(CYPHER_UPSTREAM, iri=iri)}
                sparql = {r["b"].value for r in cat.sparql.query(
                    SPARQL_UPSTREAM.format(iri=iri), infer=False).rows()}
                assert cypher == sparql
                assert f"{base}/id/{chain_id(start - 5)}" in cypher
                assert f"{base}/id/{chain_id(start - 6)}" not in cypher  # at depth 6
            p.rebuild()
            assert snapshot(p, base) == incremental
        finally:
            p.close()


def test_a_malformed_url_is_refused_before_anything_is_written() -> None:
    with open_catalog(None, "http://bad.example.org") as cat, pytest.raises(InputError) as e:
        PropertyGraphProjection(cat, Neo4jConfig("http://127.0.0.1:7474"))
    assert "SEMCAT_NEO4J_URL" in e.value.detail


def test_settings_enable_it() -> None:
    assert Settings(data=None).property_graph() is None
    got = Settings(data=None, neo4j_url="neo4j://db:7687", neo4j_user="u",
                   neo4j_password="p", neo4j_database="graph").property_graph()
    assert got == Neo4jConfig("neo4j://db:7687", "u", "p", "graph")
    with pytest.raises(ValueError, match="SEMCAT_NEO4J_URL 'http://db:7474' is not a Bolt URL"):
        Settings(data=None, neo4j_url="http://db:7474")


@pytest.mark.slow  # three server starts
def test_a_served_catalog_projects_its_rest_writes(arcadedb: ArcadeDB, tmp_path: Path) -> None:
    """`semcat serve` with SEMCAT_NEO4J_* set follows its writes, and after a restart resumes
    from the graph's position."""
    config = arcadedb.config()  # the default projection name, as a deployment has it
    base = "http://served.example.org"
    env = {"SEMCAT_NEO4J_URL": config.url, "SEMCAT_NEO4J_USER": config.user or "",
           "SEMCAT_NEO4J_PASSWORD": config.password or "",
           "SEMCAT_NEO4J_DATABASE": config.database or "", "SEMCAT_BASE_IRI": base,
           "SEMCAT_QUERY_WORKERS": "0"}
    reader = GraphWriter(config)
    schema = chain(1)[:5]
    table = chain(1)[-1]

    def until(seq: int) -> None:
        deadline = time.monotonic() + 60
        while (reader.position() or 0) < seq:
            assert time.monotonic() < deadline, f"the graph stayed at {reader.position()}"
            time.sleep(0.2)

    srv = Server(tmp_path / "cat", env=env).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            for item in [*schema, table]:
                r = http.put(f"/api/v1/assets/{item['id']}", json=item)
                assert r.status_code in (200, 201), r.text
            until(int(r.headers["Semcat-Position"]))
            assert reader.read("MATCH (t:Table {iri: $i})-[:PART_OF]->(:Schema)-[:PART_OF]->"
                               "(d:Database) RETURN d.name AS db", i=f"{base}/id/{table['id']}") \
                == [{"db": "lake"}]
    finally:
        srv.stop()
    srv = Server(tmp_path / "cat", env={k: v for k, v in env.items() if "NEO4J" not in k},
                 port=srv.port).start()  # a write the graph does not see
    try:
        r = httpx.delete(f"{srv.url}/api/v1/assets/{table['id']}", timeout=30)
        assert r.status_code == 204, r.text
        gone_at = int(r.headers["Semcat-Position"])
    finally:
        srv.stop()
    assert (reader.position() or 0) < gone_at
    srv = Server(tmp_path / "cat", env=env, port=srv.port).start()
    try:
        until(gone_at)
        assert reader.existing([f"{base}/id/{table['id']}"]) == set()
        assert reader.existing([f"{base}/id/{schema[-1]['id']}"]) == {f"{base}/id/{schema[-1]['id']}"}
    finally:
        srv.stop()
        reader.close()


@pytest.mark.slow  # three CLI processes, each opening the catalog
def test_cli_rebuilds_and_reports_the_position(config: Neo4jConfig, tmp_path: Path) -> None:
    base = base_of(config)
    data = tmp_path / "cat"
    with open_catalog(data, base) as cat:
        cat.assets.upsert_many(chain(8), actor="test")
        applied = cat.journal.applied_seq
    env = {**os.environ, "SEMCAT_NEO4J_URL": config.url, "SEMCAT_NEO4J_USER": config.user or "",
           "SEMCAT_NEO4J_PASSWORD": config.password or "",
           "SEMCAT_NEO4J_DATABASE": config.database or "", "SEMCAT_BASE_IRI": base,
           "SEMCAT_QUERY_WORKERS": "0", "COLUMNS": "200"}

    def semcat(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "semcat", "graph-projection", *args,
                               "--data", str(data)], cwd=ROOT, text=True, capture_output=True,
                              env={**env, **extra})

    r = semcat("rebuild", "--yes")
    assert r.returncode == 0, r.stderr
    assert f"projected {len(chain(8))} nodes up to changeset {applied}" in r.stderr
    r = semcat("status", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["position"] == applied  # the default projection name's
    r = semcat("status", SEMCAT_NEO4J_URL="")
    assert r.returncode == 2 and "set SEMCAT_NEO4J_URL" in r.stderr
    r = semcat("status", SEMCAT_NEO4J_URL="http://127.0.0.1:7474")
    assert r.returncode == 2 and "is not a Bolt URL" in r.stderr
    reader = GraphWriter(arcadedb_config(config))
    try:
        assert len(reader.existing([f"{base}/id/{a['id']}" for a in chain(8)])) == len(chain(8))
    finally:
        reader.close()


def arcadedb_config(config: Neo4jConfig) -> Neo4jConfig:
    """The same server and database under the default projection name, as the CLI has it."""
    return Neo4jConfig(config.url, config.user, config.password, config.database)


def test_the_docs_cypher_examples_answer_rows(config: Neo4jConfig) -> None:
    """Every ```cypher block of docs/property-graph.md runs on a projected catalog."""
    text = (ROOT / "docs" / "property-graph.md").read_text()
    blocks = re.findall(r"^```cypher\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 5
    with open_catalog(None, base_of(config)) as cat:
        small_catalog(cat)
        cat.assets.upsert_many(chain(8), actor="test")
        p = PropertyGraphProjection(cat, config)
        try:
            p.catch_up()
            for cypher in blocks:
                assert p.writer.read(cypher), f"no rows from:\n{cypher}"
        finally:
            p.close()


@pytest.mark.slow  # a second server, stopped and started again
def test_an_outage_of_the_bolt_server_delays_the_graph_not_the_writes(tmp_path: Path) -> None:
    server = ArcadeDB(tmp_path / "arcadedb").start()
    try:
        base = "http://outage.example.org"
        with open_catalog(None, base) as cat:
            p = follow(cat, server.config())
            assert p is not None
            try:
                cat.assets.upsert_many(chain(3), actor="test")
                assert p.wait(timeout=60)
                server.stop()
                started = time.monotonic()
                cat.assets.upsert_many(chain(6)[len(chain(3)):], actor="test")
                assert time.monotonic() - started < 10  # the write did not wait for the graph
                assert not p.wait(timeout=3) and p.error  # the graph is behind, and says why
                server.start()
                assert p.wait(timeout=60)  # retried until the server came back
                assert p.error is None
                assert graph_counts(p, base) == sparql_counts(cat)
            finally:
                p.close()
    finally:
        server.stop()
