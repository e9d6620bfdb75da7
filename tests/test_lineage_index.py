"""The in-memory lineage index (issue 13) answers what the SPARQL steps answer: the same
walks and paths on the demo, for an admin and for a restricted caller, in every direction and
at both levels; and it follows every write at once, never lending a hidden column's edge to
its table."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pyoxigraph import NamedNode, Quad

from catalog import Catalog, Settings
from graph_store.changeset import Changeset
from graph_store.overlay import Restricted, scratch
from graph_store.protocol import Dataset, QuadSource
from lineage.index import LineageIndex
from lineage.traversal import DERIVED_FROM, PART_OF, TYPE, Direction, Level, LineageGraph, Walk
from tests.access_scenario import CUSTOMERS, EMAIL, load
from tests.test_lineage import BOB, ORDERS, two_tables

SEMCAT = "https://w3id.org/semcat#"
DIRECTIONS: list[tuple[Direction, ...]] = [("upstream",), ("downstream",),
                                           ("upstream", "downstream")]
LEVELS: list[Level] = ["table", "column"]


def graphs(cat: Catalog, **bounds: int) -> tuple[LineageGraph, LineageGraph]:
    """The caller's lineage stepped through the index, and by SPARQL as before it."""
    readable = cat.access.readable()
    source: QuadSource = cat.store if readable is None else Restricted(cat.store, readable)
    dataset = cat.access.restrict(Dataset())

    def select(text: str) -> Any:
        return cat.store.query(text, dataset=dataset)

    return (LineageGraph(source, cat.lineage_index.view(readable), **bounds),
            LineageGraph(source, select, **bounds))


def walks(cat: Catalog, start: NamedNode, depth: int = 4, **bounds: int
          ) -> Iterator[tuple[str, Walk, Walk]]:
    indexed, by_sparql = graphs(cat, **bounds)
    for directions in DIRECTIONS:
        for level in LEVELS:
            label = f"{start.value} {directions} {level}"
            yield (label, indexed.walk([start], directions, depth, level),
                   by_sparql.walk([start], directions, depth, level))


def assert_same(cat: Catalog, starts: list[NamedNode], depth: int = 4, **bounds: int) -> None:
    for start in starts:
        for label, a, b in walks(cat, start, depth, **bounds):
            assert a == b, label
            assert list(a.nodes) == list(b.nodes), label  # the same breadth-first order


def lineage_nodes(cat: Catalog) -> list[NamedNode]:
    """Every asset with a lineage or partOf statement, sampled evenly to keep the test fast."""
    found = {q.subject for p in ("derivedFrom", "consumes", "produces")
             for q in cat.store.quads(None, NamedNode(SEMCAT + p), None)}
    found |= {q.object for q in cat.store.quads(None, DERIVED_FROM, None)}
    nodes = sorted(n for n in found if isinstance(n, NamedNode))
    return nodes[::max(1, len(nodes) // 40)]


def iri(cat: Catalog, key: str) -> NamedNode:
    return NamedNode(cat.layout.iri(key))


def test_the_index_walks_the_demo_as_sparql_does(demo_catalog: Catalog) -> None:
    starts = lineage_nodes(demo_catalog)
    assert len(starts) >= 20
    assert_same(demo_catalog, starts)
    # where the bounds cut a walk, they cut it alike
    assert_same(demo_catalog, [iri(demo_catalog, ORDERS)], depth=10, max_nodes=7)
    assert_same(demo_catalog, [iri(demo_catalog, ORDERS)], depth=10, max_edges=9)
    indexed, by_sparql = graphs(demo_catalog)
    for a in starts[:8]:
        for b in starts[-8:]:
            for level in LEVELS:
                assert indexed.paths(a, b, 10, level, 5) == by_sparql.paths(a, b, 10, level, 5)


@pytest.fixture(scope="module")
def scoped() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        load(c)
        who = {**_column("acme", "reports", "who", from_=[EMAIL]),
               "declassifies": ["classification/pii"]}  # hashed, as email_hash is: not PII
        c.assets.upsert_many([_table("acme", "reports"), who], actor="admin")
        yield c


def _table(ws: str, name: str) -> dict[str, str]:
    return {"type": "Table", "workspace": ws, "platform": "platform/pg", "name": name,
            "qualifiedName": f"db.s.{name}", "partOf": f"{ws}/schema/pg/db.s"}


def _column(ws: str, table: str, name: str, from_: list[str] | None = None) -> dict[str, Any]:
    return {"type": "Column", "workspace": ws, "platform": "platform/pg", "name": name,
            "qualifiedName": f"db.s.{table}.{name}", "partOf": f"{ws}/table/pg/db.s.{table}",
            "dataType": "TEXT", **({"derivedFrom": from_} if from_ else {})}


def test_a_restricted_caller_walks_alike_and_never_through_a_hidden_column(
        scoped: Catalog) -> None:
    reports = iri(scoped, "acme/table/pg/db.s.reports")
    customers = iri(scoped, CUSTOMERS)
    admin = graphs(scoped)[0].walk([customers], ("downstream",), 3, "table")
    assert reports.value in admin.nodes  # reports.who is derived from customers.email
    with scoped.access.acting_as(BOB):  # contractors see no PII: the e-mail column is hidden
        seen = Restricted(scoped.store, scoped.access.readable() or frozenset())
        starts = sorted({q.subject for q in seen.quads(None, PART_OF, None)
                         if isinstance(q.subject, NamedNode)}, key=str)
        assert customers in starts and iri(scoped, EMAIL) not in starts
        assert iri(scoped, "acme/column/pg/db.s.reports.who") in starts  # only e-mail hides
        assert_same(scoped, starts)
        for start in starts:
            for label, walk, _ in walks(scoped, start):
                assert scoped.layout.iri(EMAIL) not in walk.nodes, label
                assert not any(scoped.layout.iri(EMAIL) in e[:2] for e in walk.edges), label
        down = graphs(scoped)[0].walk([customers], ("downstream",), 3, "table")
        assert reports.value not in down.nodes and not down.edges


def test_the_index_follows_every_write(catalog: Catalog) -> None:
    catalog.assets.upsert_many([*two_tables("a", "b"), _table("acme", "c"),
                                _column("acme", "a", "x"), _column("acme", "b", "y"),
                                _column("acme", "c", "z")], actor="admin")
    a, b, c = (iri(catalog, f"acme/table/pg/db.s.{t}") for t in "abc")
    x, y, z = (iri(catalog, f"acme/column/pg/db.s.{t}.{col}") for t, col in
               (("a", "x"), ("b", "y"), ("c", "z")))

    def down(level: Level = "table", start: NamedNode = a) -> set[str]:
        indexed, by_sparql = graphs(catalog)
        walk = indexed.walk([start], ("downstream",), 3, level)
        assert walk == by_sparql.walk([start], ("downstream",), 3, level)
        return set(walk.nodes) - {start.value}

    assert down() == set()
    catalog.lineage.add_edge("acme/table/pg/db.s.a", "acme/table/pg/db.s.b", actor="alice")
    assert down() == {b.value}
    catalog.lineage.remove_edge("acme/table/pg/db.s.a", "acme/table/pg/db.s.b", actor="alice")
    assert down() == set()
    # a column edge lifts to the tables, and goes with the column
    catalog.assets.upsert(_column("acme", "b", "y", from_=["acme/column/pg/db.s.a.x"]),
                          actor="alice")
    assert down() == {b.value} and down("column", x) == {y.value}
    catalog.sparql.update(f"DELETE {{ ?c <{PART_OF.value}> ?t }} "
                          f"INSERT {{ ?c <{PART_OF.value}> <{c.value}> }} "
                          f"WHERE {{ BIND(<{y.value}> AS ?c) ?c <{PART_OF.value}> ?t }}",
                          actor="alice", message="move y to c")
    assert down() == {c.value}
    catalog.assets.delete("acme/column/pg/db.s.b.y", actor="alice")
    assert down() == set() and down("column", x) == set()
    # derivesInto states a derivedFrom the other way round
    catalog.sparql.update(f"INSERT DATA {{ <{x.value}> <{SEMCAT}derivesInto> <{z.value}> }}",
                          actor="alice")
    assert down() == {c.value} and down("column", x) == {z.value}
    catalog.sparql.update(f"DELETE DATA {{ <{x.value}> <{SEMCAT}derivesInto> <{z.value}> }}",
                          actor="alice")
    assert down() == set()


def test_following_changes_ends_where_a_fresh_scan_does() -> None:
    """Random writes of every kind the index keeps (duplicates in several graphs, edges from a
    column to itself, columns moving between tables, derivesInto), followed one changeset at
    a time: every caller's steps are then those of an index built afresh from the store."""
    rng = random.Random(13)
    nodes = [NamedNode(f"urn:n{i}") for i in range(12)]
    gs = [NamedNode(f"urn:g{i}") for i in range(3)]
    terms = [TYPE, DERIVED_FROM, NamedNode(SEMCAT + "derivesInto"), PART_OF,
             NamedNode(SEMCAT + "consumes"), NamedNode(SEMCAT + "produces")]
    store = scratch([Quad(n, TYPE, NamedNode(SEMCAT + "Column"), gs[0]) for n in nodes])
    followed = LineageIndex(store, threading.RLock())
    followed.build()
    held: set[Quad] = set(store.quads())
    for seq in range(1, 300):
        p = rng.choice(terms)
        o = NamedNode(SEMCAT + rng.choice(("Pipeline", "Table"))) if p == TYPE else \
            rng.choice(nodes)
        q = Quad(rng.choice(nodes), p, o, rng.choice(gs))
        removed, added = ((q,), ()) if q in held else ((), (q,))
        cs = Changeset("test", "", "", removed, added, seq=seq)
        store.apply(cs)
        followed.on_applied(cs)
        held.symmetric_difference_update({q})
    fresh = LineageIndex(store, threading.RLock())
    frontier = [n.value for n in nodes]
    for readable in (None, frozenset({gs[0].value}), frozenset({gs[0].value, gs[1].value})):
        for (direction,) in DIRECTIONS[:2]:
            for level in LEVELS:
                assert sorted(followed.steps(frontier, direction, level, readable)) == \
                    sorted(fresh.steps(frontier, direction, level, readable))
