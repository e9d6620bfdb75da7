"""The SQL connector against real databases: SQLite (a file), PostgreSQL and MariaDB on
127.0.0.1 (issue 14). Each test creates its own schema (PostgreSQL) or database (MariaDB) with a
unique name and drops it afterwards. An unreachable server skips its tests, saying how to
provide one, except under CI (CI=true), where it fails them."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from catalog import Catalog

PG_USERS = ("postgres", "root")
PG = "postgresql+psycopg://{user}@127.0.0.1:5432/test"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/{db}"
HOW = {"postgres": "start PostgreSQL on 127.0.0.1:5432 with trust authentication for user "
                   "postgres (or root) and a database `test` (apt-get install postgresql)",
       "mariadb": "start MariaDB on 127.0.0.1:3306 with user root, empty password, and a "
                  "database `test` (apt-get install mariadb-server)"}


@dataclass
class Source:
    """A database made for one test: its run config, names, and a way to change it."""

    backend: str
    platform: str
    database: str
    schema: str
    config: dict[str, Any]
    execute: Callable[[str], None]
    comments: bool
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def run_config(self, **extra: Any) -> dict[str, Any]:
        return {"connector": "sql", "workspace": "acme", "config": {**self.config, **extra}}

    def key(self, kind: str, *names: str) -> str:
        return f"acme/{kind}/{self.platform}/{'.'.join((self.database, self.schema, *names))}"


def unavailable(backend: str, error: Exception) -> None:
    reason = f"{backend} is not reachable ({type(error).__name__}); {HOW[backend]}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"under CI every server must be there: {reason}")
    pytest.skip(reason)


def connect(url: str) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5},
                              poolclass=sa.pool.NullPool)
    with engine.connect():
        pass
    return engine


def postgres_engine() -> tuple[sa.Engine, str]:
    error: Exception | None = None
    for user in PG_USERS:
        try:
            return connect(PG.format(user=user)), user
        except sa.exc.OperationalError as e:
            error = e
    assert error is not None
    unavailable("postgres", error)
    raise AssertionError("unreachable")


def mariadb_admin() -> sa.Engine:
    try:
        return connect(MARIADB.format(db="test"))
    except sa.exc.OperationalError as e:
        unavailable("mariadb", e)
        raise


def tables_sql(backend: str, prefix: str) -> list[str]:
    """Two tables with keys, defaults and comments, a view joining them, a scratch table."""
    p = prefix
    if backend == "mariadb":
        return [
            "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL COMMENT "
            "'Full name', email VARCHAR(100) DEFAULT 'none') COMMENT='People who buy'",
            "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, amount DECIMAL(12,2) NOT "
            "NULL DEFAULT 0, FOREIGN KEY (customer_id) REFERENCES customers(id))",
            "CREATE VIEW big_orders AS SELECT o.id, o.amount * 2 AS doubled, c.name FROM orders o "
            "JOIN customers c ON c.id = o.customer_id WHERE o.amount > 10",
            "CREATE TABLE scratch (x INT)",
            "INSERT INTO customers VALUES (1, 'Ana', NULL), (2, 'Bo', 'bo@x')",
            "INSERT INTO orders VALUES (1, 1, 20), (2, 2, 5), (3, NULL, 30), (4, 1, 50)",
        ]
    out = [
        f"CREATE TABLE {p}customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT "
        "DEFAULT 'none')",
        f"CREATE TABLE {p}orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES "
        f"{p}customers(id), amount NUMERIC(12,2) NOT NULL DEFAULT 0)",
        f"CREATE VIEW {p}big_orders AS SELECT o.id, o.amount * 2 AS doubled, c.name FROM "
        f"{p}orders o JOIN {p}customers c ON c.id = o.customer_id WHERE o.amount > 10",
        f"CREATE TABLE {p}scratch (x INTEGER)",
        f"INSERT INTO {p}customers VALUES (1, 'Ana', NULL), (2, 'Bo', 'bo@x')",
        f"INSERT INTO {p}orders VALUES (1, 1, 20), (2, 2, 5), (3, NULL, 30), (4, 1, 50)",
    ]
    if backend == "postgres":
        out += [f"COMMENT ON TABLE {p}customers IS 'People who buy'",
                f"COMMENT ON COLUMN {p}customers.name IS 'Full name'"]
    return out


def sqlite_source(tmp_path: Path) -> Source:
    path = tmp_path / "shop.db"

    def execute(sql: str) -> None:
        with sqlite3.connect(path) as db:
            db.execute(sql)

    for sql in tables_sql("sqlite", ""):
        execute(sql)
    return Source("sqlite", "sqlite", "shop", "main", {"url": f"sqlite:///{path}"}, execute,
                  comments=False)


def postgres_source() -> Source:
    engine, user = postgres_engine()
    schema = f"semcat_{uuid.uuid4().hex[:10]}"

    def execute(sql: str) -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(sql))

    execute(f"CREATE SCHEMA {schema}")
    source = Source("postgres", "postgres", "test", schema,
                    {"url": f"postgresql://{user}@127.0.0.1:5432/test", "schemas": [schema]},
                    execute, comments=True)
    source.cleanup.append(lambda: execute(f"DROP SCHEMA {schema} CASCADE"))
    for sql in tables_sql("postgres", f"{schema}."):
        execute(sql)
    return source


def mariadb_source() -> Source:
    admin = mariadb_admin()
    db = f"semcat_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {db}"))
    engine = sa.create_engine(MARIADB.format(db=db), poolclass=sa.pool.NullPool)

    def execute(sql: str) -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(sql))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {db}"))

    source = Source("mariadb", "mysql", db, db, {"url": f"mysql://root@127.0.0.1:3306/{db}"},
                    execute, comments=True, cleanup=[drop])
    for sql in tables_sql("mariadb", ""):
        execute(sql)
    return source


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    made = {"sqlite": lambda: sqlite_source(tmp_path), "postgres": postgres_source,
            "mariadb": mariadb_source}[request.param]()
    try:
        yield made
    finally:
        for step in made.cleanup:
            step()


def select(cat: Catalog, sparql: str) -> list[dict[str, str]]:
    rows = cat.sparql.query("PREFIX semcat: <https://w3id.org/semcat#> " + sparql).rows()
    return [{k: v.value for k, v in row.items() if v is not None}  # type: ignore[attr-defined]
            for row in rows]


# --- what arrives ---------------------------------------------------------------------------


def test_tables_views_columns_keys_and_comments_arrive(source: Source, catalog: Catalog) -> None:
    report = catalog.ingestion.run(source.run_config())
    assert report.ok and report.failed == 0, report.to_json()
    # database, schema, 3 tables, 1 view, 3 + 3 + 1 + 3 columns
    assert (report.added, report.updated, report.removed) == (16, 0, 0), report.to_json()
    assert catalog.assets.get(f"acme/database/{source.platform}/{source.database}")["type"] \
        == "Database"
    schema = catalog.assets.get(f"acme/schema/{source.platform}/{source.database}."
                                f"{source.schema}")
    assert schema["partOf"] == f"acme/database/{source.platform}/{source.database}"
    customers = catalog.assets.get(source.key("table", "customers"))
    assert customers["type"] == "Table" and customers["partOf"] == schema["id"]
    view = catalog.assets.get(source.key("view", "big_orders"))
    assert view["type"] == "View" and "big_orders" in view["qualifiedName"]
    assert "amount" in view["transformation"].lower()  # the view's SQL
    key = catalog.assets.get(source.key("column", "customers", "id"))
    assert key["primaryKey"] is True and key["nullable"] is False and key["position"] == 1
    assert "INT" in key["dataType"].upper()
    name = catalog.assets.get(source.key("column", "customers", "name"))
    assert name["nullable"] is False and "primaryKey" not in name
    email = catalog.assets.get(source.key("column", "customers", "email"))
    assert email["nullable"] is True and "none" in email["defaultValue"]
    fk = catalog.assets.get(source.key("column", "orders", "customer_id"))
    assert fk["references"] == [source.key("column", "customers", "id")]
    if source.comments:
        assert customers["description"] == "People who buy"
        assert name["description"] == "Full name"
    only = f"/{source.schema}" if "schemas" in source.config else ""
    assert email["ingestionSource"] == report.source == \
        f"sql:{source.platform}/{source.database}{only}"


def test_view_lineage_is_queryable(source: Source, catalog: Catalog) -> None:
    assert catalog.ingestion.run(source.run_config()).ok
    view = source.key("view", "big_orders")
    tables = select(catalog, f"SELECT ?t WHERE {{ <{catalog.layout.iri(view)}> "
                             "semcat:derivedFrom ?t }")
    assert {catalog.layout.key(r["t"]) for r in tables} == {
        source.key("table", "orders"), source.key("table", "customers")}
    doubled = catalog.layout.iri(source.key("column", "big_orders", "doubled"))
    amount = catalog.layout.iri(source.key("column", "orders", "amount"))
    edges = select(catalog, f"SELECT ?p WHERE {{ <{doubled}> ?p <{amount}> }}")
    assert {r["p"].rsplit("#", 1)[-1] for r in edges} >= {"derivedFrom", "transformedFrom"}
    name = source.key("column", "big_orders", "name")
    assert catalog.assets.get(name)["copiedFrom"] == [source.key("column", "customers", "name")]
    # the lineage service walks the same edges
    found = catalog.lineage.lineage(view, direction="upstream", depth=1)
    assert {n["id"] for n in found["nodes"]} >= {source.key("table", "orders"),
                                                 source.key("table", "customers")}


def test_rerun_changes_nothing(source: Source, catalog: Catalog) -> None:
    first = catalog.ingestion.run(source.run_config())
    seq = catalog.journal.applied_seq
    again = catalog.ingestion.run(source.run_config())
    assert (again.added, again.updated, again.removed, again.failed) == (0, 0, 0, 0)
    assert again.unchanged == first.added
    assert catalog.journal.applied_seq == seq  # not one changeset
    assert [v.version for v in catalog.assets.versions(source.key("column", "orders",
                                                                  "customer_id"))] == [1]


def test_dropped_table_is_removed_and_its_history_kept(source: Source, catalog: Catalog) -> None:
    assert catalog.ingestion.run(source.run_config()).ok
    scratch = source.key("table", "scratch")
    column = source.key("column", "scratch", "x")
    prefix = "" if source.backend != "postgres" else f"{source.schema}."
    source.execute(f"DROP TABLE {prefix}scratch")
    report = catalog.ingestion.run(source.run_config())
    assert (report.removed, report.added, report.updated, report.failed) == (2, 0, 0, 0)
    for key in (scratch, column):
        with pytest.raises(Exception, match="deleted"):
            catalog.assets.get(key)
        assert catalog.assets.get(key, version=1)["name"] in ("scratch", "x")
    source.execute(f"CREATE TABLE {prefix}scratch (x INTEGER)")  # back: created anew
    report = catalog.ingestion.run(source.run_config())
    assert report.added == 2 and catalog.assets.get(scratch)["version"] == 3


def test_profiling_counts_rows_nulls_and_distinct_values(source: Source,
                                                         catalog: Catalog) -> None:
    report = catalog.ingestion.run(source.run_config(profile=True))
    assert report.ok, report.to_json()
    assert catalog.assets.get(source.key("table", "orders"))["rowCount"] == 4
    fk = catalog.assets.get(source.key("column", "orders", "customer_id"))
    assert float(fk["nullFraction"]) == 0.25 and fk["distinctCount"] == 2
    assert "rowCount" not in catalog.assets.get(source.key("view", "big_orders"))
    again = catalog.ingestion.run(source.run_config(profile=True))
    assert again.updated == 0 and again.added == 0, again.to_json()


def test_a_failing_batch_falls_back_to_table_by_table(source: Source, catalog: Catalog,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema is read in batches (one query each on PostgreSQL); when a batch fails as a
    whole, every table is read on its own, in the same transaction, to the same assets."""
    first = catalog.ingestion.run(source.run_config())
    assert first.ok and first.added == 16, first.to_json()

    def failing(self: sa.Inspector, *args: Any, **kwargs: Any) -> Any:
        with self._operation_context() as conn:  # a real error in the database's transaction
            conn.execute(sa.text("SELECT no_such_column_anywhere"))

    for name in ("get_multi_columns", "get_multi_pk_constraint", "get_multi_foreign_keys",
                 "get_multi_table_comment"):
        monkeypatch.setattr(sa.engine.reflection.Inspector, name, failing)
    again = catalog.ingestion.run(source.run_config())
    assert (again.added, again.updated, again.removed, again.failed) == (0, 0, 0, 0), \
        again.to_json()
    assert again.unchanged == first.added and not again.warnings, again.to_json()


def test_foreign_keys_in_a_cycle_resolve_in_one_run(tmp_path: Path, catalog: Catalog) -> None:
    """Two tables referring to each other: whichever comes first refers to a column written
    later, so the run completes it at its end; a re-run then changes nothing."""
    path = tmp_path / "cycle.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id));"
                         "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));")
    config = {"connector": "sql", "workspace": "acme", "batch_size": 2,
              "config": {"url": f"sqlite:///{path}"}}
    report = catalog.ingestion.run(config)
    assert report.ok and report.added == 8 and not report.warnings, report.to_json()
    a_b = catalog.assets.get("acme/column/sqlite/cycle.main.a.b_id")
    b_a = catalog.assets.get("acme/column/sqlite/cycle.main.b.a_id")
    assert a_b["references"] == ["acme/column/sqlite/cycle.main.b.id"]
    assert b_a["references"] == ["acme/column/sqlite/cycle.main.a.id"]
    again = catalog.ingestion.run(config)
    assert again.unchanged == 8 and again.updated == again.added == 0, again.to_json()


def test_runs_over_other_schemas_remove_nothing_of_this_one(catalog: Catalog) -> None:
    """PostgreSQL: two configs reading different schemas of one database are two sources."""
    first, second = postgres_source(), postgres_source()
    try:
        assert catalog.ingestion.run(first.run_config()).added == 16
        report = catalog.ingestion.run(second.run_config())
        assert report.added == 15 and report.removed == 0, report.to_json()  # the db is shared
        assert catalog.assets.get(first.key("table", "orders"))["version"] == 1
    finally:
        for made in (first, second):
            for step in made.cleanup:
                step()


def test_what_people_add_to_ingested_assets_is_kept(tmp_path: Path, catalog: Catalog) -> None:
    """Owners, tags and a steward's description survive re-runs (a description the database
    does not have is no reason to drop one a person wrote); overwrite_edits replaces the edit."""
    source = sqlite_source(tmp_path)
    assert catalog.ingestion.run(source.run_config()).ok
    catalog.assets.upsert_many([{"id": "user/ana", "type": "User", "name": "Ana Lima"},
                                {"id": "tag/gold", "type": "Tag", "name": "gold"}], actor="ana")
    table = source.key("table", "orders")
    catalog.assets.patch(table, {"owners": ["user/ana"], "tags": ["tag/gold"],
                                 "description": "Orders, by hand"}, actor="ana")
    report = catalog.ingestion.run(source.run_config())
    # SQLite has no comment: the database says nothing against the steward's words
    assert report.unchanged == 16 and report.kept_edits == 0, report.to_json()
    doc = catalog.assets.get(table)
    assert doc["owners"] == ["user/ana"] and doc["tags"] == ["tag/gold"]
    assert doc["description"] == "Orders, by hand" and doc["version"] == 2
    forced = catalog.ingestion.run({**source.run_config(), "overwrite_edits": True})
    assert forced.updated == 1 and forced.kept_edits == 0, forced.to_json()
    doc = catalog.assets.get(table)  # the database's word (none), on demand
    assert "description" not in doc and doc["owners"] == ["user/ana"]
    assert catalog.ingestion.run(source.run_config()).unchanged == 16


def test_refused_assets_fail_alone_with_their_errors(tmp_path: Path, catalog: Catalog) -> None:
    """A governance rule the source cannot meet (every view needs a reviewer) fails the view and
    its columns, each with its error, and the rest of the batch is written."""
    from catalog.attributes import AttributeSpec

    catalog.attributes.define(AttributeSpec(name="reviewer", label="Reviewer", datatype="string",
                                            appliesTo=["View"], required=True),
                              actor="admin", create=True)
    source = sqlite_source(tmp_path)
    report = catalog.ingestion.run(source.run_config())
    assert (report.added, report.failed) == (12, 4), report.to_json()
    assert not report.ok and report.complete
    failed = {e.id: e.message for e in report.errors}
    view = source.key("view", "big_orders")
    assert set(failed) == {view, *(source.key("column", "big_orders", c)
                                   for c in ("id", "doubled", "name"))}
    assert "reviewer" in failed[view]
    assert catalog.assets.get(source.key("table", "orders"))["name"] == "orders"


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_a_broken_view_arrives_with_a_warning(backend: str, tmp_path: Path,
                                              catalog: Catalog) -> None:
    """SQLite and MariaDB keep a view whose table was dropped; the database cannot describe its
    columns (nor, on MariaDB, its comment), so it arrives without them and without lineage to
    the missing table, and the report says why; the rest of the run is unaffected."""
    source = sqlite_source(tmp_path) if backend == "sqlite" else mariadb_source()
    try:
        source.execute("CREATE VIEW broken AS SELECT x FROM scratch")
        source.execute("DROP TABLE scratch")
        report = catalog.ingestion.run(source.run_config())
    finally:
        for step in source.cleanup:
            step()
    assert report.ok and report.added == 15, report.to_json()  # scratch and x gone, broken in
    broken = catalog.assets.get(source.key("view", "broken"))
    assert "derivedFrom" not in broken and "scratch" in broken["transformation"]
    assert any("broken" in w and "could not be read" in w for w in report.warnings), \
        report.warnings
    assert any("scratch" in w and "not in the catalog" in w for w in report.warnings), \
        report.warnings
