"""The SQL connector's view lineage (parsed with lineage/sql.py) and profiling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import sqlalchemy as sa

from graph_store.errors import InputError
from ingestion.connector import RunContext
from lineage.edge_kinds import ColumnEdges, add_column_edge, sorted_edges
from lineage.sql import lineage_from_sql

__all__ = ["profile", "view_lineage"]

DIALECTS: Final = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql",
                   "sqlite": "sqlite", "mssql": "tsql"}


def view_lineage(definition: str, *, backend: str, target: str, known: dict[str, list[str]],
                 views: set[str], database: str, schema: str, context: RunContext,
                 key: Callable[[str, str], str]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The tables a view reads (their ids), and per view column the lineage properties to its
    source columns. SQL that does not parse or names unknown tables is a warning, not a failure."""
    try:
        found = lineage_from_sql(definition, dialect=DIALECTS.get(backend, backend), schema=known,
                                 target=target, default_database=database, default_schema=schema)
    except Exception as e:  # SQL sqlglot cannot read is a warning, never the run's end
        detail = e.detail if isinstance(e, InputError) else f"{type(e).__name__}: {e}"
        context.warn(f"view {target}: no lineage from its SQL: {detail}")
        return [], {}
    names = {t.casefold(): t for t in known}

    def table_of(qualified: str) -> str | None:
        return names.get(qualified.casefold())

    tables = []
    for source in found.sources:
        t = table_of(source)
        if t is not None and t.casefold() != target.casefold():
            tables.append(key("view" if t in views else "table", t))
    for note in found.unresolved:
        context.warn(f"view {target}: {note}")
    by_column: ColumnEdges = {}
    columns_of = {t: {c.casefold(): c for c in cols} for t, cols in known.items()}
    own = columns_of.get(table_of(target) or target, {})
    for edge in found.columns:
        t = table_of(edge.source[0])
        column = own.get(edge.target[1].casefold())
        if t is None or column is None:
            continue
        source_column = columns_of[t].get(edge.source[1].casefold(), edge.source[1])
        add_column_edge(by_column, column, key("column", f"{t}.{source_column}"), edge.type,
                        edge.subtype, edge.expression)
    return sorted(set(tables)), sorted_edges(by_column)


def profile(conn: sa.Connection, schema: str, table: str, columns: list[Any],
            context: RunContext) -> dict[str, Any] | None:
    """Row count, and per column its null fraction and distinct count, in one query; a column
    type that cannot be counted distinctly (JSON, BLOB on some servers) gets a null fraction
    only. None (and a warning) when the table cannot be read."""
    t = sa.table(table, *(sa.column(c["name"]) for c in columns), schema=schema
                 if conn.dialect.name != "sqlite" else None)
    names = [c["name"] for c in columns]

    def run(distinct: bool) -> Any:
        parts: list[Any] = [sa.func.count()]
        for n in names:
            parts.append(sa.func.count(t.c[n]))
            if distinct:
                parts.append(sa.func.count(sa.distinct(t.c[n])))
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            return conn.execute(sa.select(*parts).select_from(t)).one()

    try:
        try:
            row, distinct = run(True), True
        except sa.exc.SQLAlchemyError:
            row, distinct = run(False), False
    except sa.exc.SQLAlchemyError as e:
        context.warn(f"table {schema}.{table} could not be profiled: "
                     f"{type(getattr(e, 'orig', e)).__name__}")
        return None
    rows = int(row[0])
    out: dict[str, Any] = {"rows": rows, "columns": {}}
    step = 2 if distinct else 1
    for i, n in enumerate(names):
        non_null = int(row[1 + i * step])
        fraction = (rows - non_null) / rows if rows else 0.0
        # the canonical xsd:decimal (as the store keeps it), so that a re-run compares equal
        stats: dict[str, Any] = {"nullFraction": f"{fraction:.4f}".rstrip("0").rstrip(".")}
        if distinct:
            stats["distinctCount"] = int(row[2 + i * step])
        out["columns"][n] = stats
    return out
