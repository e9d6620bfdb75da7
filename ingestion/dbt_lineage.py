"""Column lineage of a dbt model from its compiled SQL, parsed by lineage/sql.py (sqlglot).

Table lineage comes from the manifest (``depends_on``); this adds which columns of the
relations a model reads feed each of its columns, with the same properties the SQL connector's
views and OpenLineage events write (``derivedFrom`` + ``copiedFrom`` / ``transformedFrom`` /
``aggregatedFrom``, ``influencedBy``, ``transformation``). SQL that does not parse is a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from graph_store.errors import InputError
from lineage.edge_kinds import ColumnEdges, add_column_edge, sorted_edges
from lineage.sql import lineage_from_sql

__all__ = ["DIALECTS", "column_lineage"]

# dbt adapter → sqlglot dialect, where the names differ
DIALECTS: Final = {"sqlserver": "tsql", "fabric": "tsql", "synapse": "tsql",
                   "databricks": "databricks", "spark": "spark", "glue": "spark",
                   "postgres": "postgres", "redshift": "redshift", "materialize": "postgres"}
MAX_NOTES: Final = 3


def column_lineage(sql: str, *, adapter: str, target: str, columns: dict[str, list[str]],
                   key: Callable[[str], str], warn: Callable[[str], None], label: str
                   ) -> dict[str, dict[str, Any]]:
    """Per column of ``target`` (a ``db.schema.table`` of ``columns``), the lineage properties
    to the columns of the relations its SQL reads (ids made by ``key("db.schema.table.col")``).
    ``warn`` hears one line per model whose SQL does not parse or whose lineage is partial."""
    database, schema, _ = target.split(".", 2) if target.count(".") >= 2 else (None, None, None)
    try:
        found = lineage_from_sql(sql, dialect=DIALECTS.get(adapter, adapter), schema=columns,
                                 target=target, default_database=database, default_schema=schema)
    except Exception as e:  # SQL sqlglot cannot read is a warning, never the run's end
        detail = e.detail if isinstance(e, InputError) else f"{type(e).__name__}: {e}"
        warn(f"{label}: no column lineage from its compiled SQL: {detail}")
        return {}
    if found.unresolved:
        more = len(found.unresolved) - MAX_NOTES
        warn(f"{label}: column lineage is partial: {'; '.join(found.unresolved[:MAX_NOTES])}"
             + (f" (and {more} more)" if more > 0 else ""))
    tables = {t.casefold(): t for t in columns}
    names = {t: {c.casefold(): c for c in cols} for t, cols in columns.items()}
    own = names.get(tables.get(target.casefold(), target), {})
    by_column: ColumnEdges = {}
    for edge in found.columns:
        table = tables.get(edge.source[0].casefold())
        column = own.get(edge.target[1].casefold())
        source = names[table].get(edge.source[1].casefold()) if table is not None else None
        if column is None or source is None or table is None or table == target:
            continue  # a column of a relation not catalogued, or the model reading itself
        add_column_edge(by_column, column, key(f"{table}.{source}"), edge.type, edge.subtype,
                        edge.expression)
    return sorted_edges(by_column)
