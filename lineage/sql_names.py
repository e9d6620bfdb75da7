"""How a SQL dialect spells names, and what the catalog knows about them (for lineage/sql.py).

Names come out in one form so the catalog can map them to assets: the dialect's own resolution
(sqlglot's ``normalize_identifiers``: Postgres folds unquoted names to lower case, Snowflake to
upper case, Spark ignores case, BigQuery ignores case except in table names), then a name that
Snowflake holds in upper case is written in lower case, because ``ORDERS``, ``orders`` and
``"ORDERS"`` are one table there and the catalog names it ``orders``. A quoted mixed-case name
(``"Orders"``) keeps its case: it is a different table from ``orders``. The one name this cannot
tell apart is Snowflake's quoted lower-case ``"orders"``, which comes out like ``ORDERS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

_S = NormalizationStrategy
_FOLDS_UPPER = (_S.UPPERCASE, _S.CASE_INSENSITIVE_UPPERCASE)
_COLUMNS_IGNORE_CASE = (_S.CASE_INSENSITIVE, _S.CASE_INSENSITIVE_UPPERCASE,
                        _S.CASE_INSENSITIVE_EXCEPT_TABLES)
_TABLES_IGNORE_CASE = (_S.CASE_INSENSITIVE, _S.CASE_INSENSITIVE_UPPERCASE)


@runtime_checkable
class Schema(Protocol):
    """What the catalog knows about a table's columns.

    ``table`` is the qualified name as lineage writes it (``db.schema.table``, as many parts as
    the SQL and the defaults give); the answer is the column names in table order, or None when
    the catalog does not know the table. Column order matters: ``INSERT INTO t SELECT ...``
    without a column list maps columns by position.
    """

    def columns(self, table: str) -> Sequence[str] | None: ...


class Naming:
    """One dialect's rules for names, in the form lineage writes them."""

    def __init__(self, dialect: str) -> None:
        self.dialect = Dialect.get_or_raise(dialect)
        self.name = dialect
        self.strategy = self.dialect.normalization_strategy
        self._folds_upper = self.strategy in _FOLDS_UPPER

    def out(self, name: str) -> str:
        """A resolved name as written: Snowflake's ``ORDERS`` is ``orders``."""
        return name.lower() if self._folds_upper and name == name.upper() else name

    def column(self, name: str) -> str:
        """A column name as the catalog gives it (the database's own spelling)."""
        return name.lower() if self.strategy in _COLUMNS_IGNORE_CASE else self.out(name)

    def table_part(self, name: str) -> str:
        """A part of a table name as the catalog gives it (the database's own spelling)."""
        return name.lower() if self.strategy in _TABLES_IGNORE_CASE else self.out(name)

    def default(self, text: str | None) -> exp.Identifier | None:
        """A default database or schema as SQL would write it (quote it to keep its case)."""
        if not text:
            return None
        if len(text) > 1 and text[0] == text[-1] and text[0] in "\"`[":
            name = self.table_part(text.strip("\"`[]"))
        elif self.strategy in (*_TABLES_IGNORE_CASE, *_FOLDS_UPPER, _S.LOWERCASE):
            name = text.lower()
        else:
            name = text
        return exp.to_identifier(name, quoted=True)

    def normalise(self, expression: exp.Expr) -> exp.Expr:
        """Rewrite every identifier in place to the form lineage writes (see the module doc)."""
        kept: dict[int, str] = {}
        if self.strategy is _S.CASE_INSENSITIVE_EXCEPT_TABLES:
            # sqlglot can only tell a BigQuery table from a column when it is qualified, so an
            # unqualified table (resolved against the default dataset) would lose its case
            ctes = {c.alias_or_name.lower() for c in expression.find_all(exp.CTE)}
            kept = {id(t.this): t.name for t in expression.find_all(exp.Table)
                    if isinstance(t.this, exp.Identifier) and t.name.lower() not in ctes}
        expression = normalize_identifiers(expression, dialect=self.dialect)
        for identifier in expression.find_all(exp.Identifier):
            if id(identifier) in kept:
                identifier.set("this", kept[id(identifier)])
            elif self._folds_upper:
                identifier.set("this", self.out(identifier.this))
            # quoted, so no later sqlglot step folds the case again
            identifier.set("quoted", True)
        return expression

    def qualified(self, table: exp.Table, database: exp.Identifier | None,
                  schema: exp.Identifier | None) -> str:
        """``table``'s name with the defaults filled in as sqlglot's qualify_tables does."""
        parts = [p.name for p in table.parts]
        if len(parts) == 1 and schema is not None:
            parts.insert(0, schema.name)
        if len(parts) == 2 and database is not None:
            parts.insert(0, database.name)
        return ".".join(parts)


class Catalog:
    """The catalog's columns of the tables one call reads, asked once per table.

    Tables created earlier in the same script are learned (``learn``) so that later statements
    resolve against them, the way the database would.
    """

    def __init__(self, schema: Schema | Mapping[str, Sequence[str]], naming: Naming) -> None:
        self._naming = naming
        self._asked: dict[str, tuple[str, ...] | None] = {}
        if isinstance(schema, Mapping):
            self._mapping: dict[str, Sequence[str]] | None = {
                ".".join(naming.table_part(p) for p in key.split(".")): cols
                for key, cols in schema.items()}
            self._schema: Schema | None = None
        else:
            self._mapping, self._schema = None, schema

    def columns(self, table: str) -> tuple[str, ...] | None:
        if table not in self._asked:
            found = (self._mapping.get(table) if self._mapping is not None
                     else self._schema.columns(table) if self._schema is not None else None)
            self._asked[table] = None if found is None else tuple(
                dict.fromkeys(self._naming.column(c) for c in found))
        return self._asked[table]

    def learn(self, table: str, columns: Sequence[str]) -> None:
        self._asked[table] = tuple(columns)
