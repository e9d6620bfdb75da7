"""Lineage from SQL (issue 13, item 4): which tables and columns a statement reads to write which.

The SQL may be a view definition, a dbt model's compiled SQL, an OpenLineage ``sql`` facet or a
query-log entry. sqlglot parses and qualifies it (names resolved against the catalog's columns
and the default database and schema, with the dialect's case rules, ``SELECT *`` expanded from
known columns); lineage/sql_scope.py walks the result. Edges follow OpenLineage's column lineage
facet 1.2, so an OpenLineage event and a parsed view give the catalog the same shape.

What cannot be resolved is reported in ``SqlLineage.unresolved`` rather than guessed: a table the
catalog does not know, a column that could come from two tables, a ``SELECT *`` over unknown
columns, an ``INSERT`` without a column list into a table of unknown columns.

    lin = lineage_from_sql("CREATE VIEW marts.v AS SELECT id, amount FROM raw.orders",
                           dialect="snowflake", schema={"raw.orders": ["id", "amount"]})
    lin.target, lin.sources  # ('marts.v', ('raw.orders',))
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError

from graph_store.errors import InputError
from lineage.sql_names import Catalog, Naming, Schema
from lineage.sql_scope import DIRECT, Dep, analyse_query

__all__ = ["ColumnEdge", "Schema", "SqlLineage", "lineage_from_script", "lineage_from_sql"]


@dataclass(frozen=True)
class ColumnEdge:
    """One input column feeding one output column, as OpenLineage's columnLineage facet says.

    DIRECT subtypes: IDENTITY, TRANSFORMATION, AGGREGATION. INDIRECT subtypes: JOIN, FILTER,
    GROUP_BY, SORT (on every output column: they decide which rows there are), WINDOW and
    CONDITIONAL (on the column whose window or CASE uses them). For a plain SELECT without a
    ``target`` the target table is ``""``.
    """

    source: tuple[str, str]  # (qualified table, column)
    target: tuple[str, str]
    type: Literal["DIRECT", "INDIRECT"]
    subtype: str
    expression: str  # the SQL producing the target column (DIRECT edges); "" for INDIRECT


@dataclass(frozen=True)
class SqlLineage:
    """What one statement reads and writes; ``unresolved`` says what it could not tell."""

    target: str | None  # table written, or the ``target`` given for a plain SELECT
    sources: tuple[str, ...]  # tables read, qualified
    columns: tuple[ColumnEdge, ...]
    unresolved: tuple[str, ...]  # human-readable reasons


def lineage_from_sql(sql: str, *, dialect: str, schema: Schema | Mapping[str, Sequence[str]],
                     target: str | None = None, default_database: str | None = None,
                     default_schema: str | None = None) -> SqlLineage:
    """Lineage of one statement (SELECT, INSERT ... SELECT, CREATE TABLE/VIEW AS, MERGE, UPDATE).

    ``schema`` is what the catalog knows: ``{"db.schema.table": [columns]}`` or a ``Schema``.
    ``target`` names the table a plain SELECT defines (a view or dbt model). Unqualified tables
    take ``default_database`` and ``default_schema``, written as SQL would write them (quote
    one to keep its case). Several statements are refused: use ``lineage_from_script``.
    Raises InputError for SQL that does not parse (with its line and column).
    """
    reader = _Reader(dialect, schema, default_database, default_schema)
    statements = _parse(sql, reader.naming)
    if len(statements) != 1:
        raise InputError(f"the SQL holds {len(statements)} statements; lineage_from_sql reads "
                         "one (lineage_from_script reads a script statement by statement)")
    return reader.statement(statements[0], target)


def lineage_from_script(sql: str, *, dialect: str, schema: Schema | Mapping[str, Sequence[str]],
                        default_database: str | None = None,
                        default_schema: str | None = None) -> tuple[SqlLineage, ...]:
    """Lineage of each statement of a script that reads or writes a table, in order.

    Later statements see the tables earlier ones created (their columns are learned from the
    CREATE), and ``USE`` changes the defaults, as the database would.
    """
    reader = _Reader(dialect, schema, default_database, default_schema)
    found = []
    for statement in _parse(sql, reader.naming):
        if isinstance(statement, exp.Use):
            reader.use(statement)
            continue
        lineage = reader.statement(statement, None)
        if lineage.target or lineage.sources or lineage.unresolved:
            found.append(lineage)
    return tuple(found)


def _parse(sql: str, naming: Naming) -> list[exp.Expr]:
    try:
        statements = sqlglot.parse(sql, read=naming.dialect)
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        line, column = first.get("line"), first.get("col")
        where = f" at line {line}, column {column}" if line else ""
        near = f" near {first['highlight']!r}" if first.get("highlight") else ""
        description = re.sub(r"<Token token_type: TokenType\.\w+, text: ([^,]*),[^>]*>", r"'\1'",
                             str(first.get("description", e)))
        raise InputError(f"the SQL does not parse as {naming.name}{where}{near}: {description}",
                         line=line, column=column) from None
    except TokenError as e:
        at = re.search(r"from (\d+):(\d+)", str(e.__cause__ or e))
        offset = int(at.group(2)) if at else int(getattr(e, "start", 0) or 0)
        line = sql.count("\n", 0, offset) + 1
        column = offset - sql.rfind("\n", 0, offset)
        raise InputError(f"the SQL does not parse as {naming.name} at line {line}, column "
                         f"{column}: {e.__cause__ or e} (an unclosed quote?)",
                         line=line, column=column) from None
    found = [s for s in statements if s is not None]
    if not found:
        raise InputError("the SQL holds no statement")
    return found


class _Reader:
    """One call's dialect, catalog and defaults, applied statement by statement."""

    def __init__(self, dialect: str, schema: Schema | Mapping[str, Sequence[str]],
                 database: str | None, default_schema: str | None) -> None:
        try:
            self.naming = Naming(dialect)
        except ValueError as e:
            raise InputError(f"unknown SQL dialect {dialect!r}: {e}") from None
        self.catalog = Catalog(schema, self.naming)
        self.database = self.naming.default(database)
        self.schema = self.naming.default(default_schema)

    def use(self, statement: exp.Use) -> None:
        self.naming.normalise(statement)
        parts = [exp.to_identifier(p.name, quoted=True) for p in statement.this.parts] \
            if isinstance(statement.this, exp.Table) else []
        kind = (statement.text("kind") or "").upper()
        if parts and kind == "DATABASE":
            self.database = parts[-1]
        elif parts:
            self.schema = parts[-1]
            self.database = parts[-2] if len(parts) > 1 else self.database

    def statement(self, statement: exp.Expr, target: str | None) -> SqlLineage:
        self.naming.normalise(statement)
        try:
            if isinstance(statement, exp.Insert):
                return self._insert(statement)
            if isinstance(statement, exp.Create):
                return self._create(statement)
            if isinstance(statement, exp.Merge | exp.Update | exp.Delete):
                return self._change(statement)
            if isinstance(statement, exp.Query):
                return self._lineage(statement, self._target(target), None)[0]
        except SqlglotError as e:  # e.g. an alias used twice
            raise InputError(f"sqlglot could not analyse the statement: {e}") from None
        if isinstance(statement, exp.Command):
            return SqlLineage(None, (), (), (f"sqlglot reads {statement.name.upper()} statements "
                                             "only as opaque commands; no lineage",))
        if statement.find(exp.Select):  # e.g. Snowflake's INSERT ALL
            return SqlLineage(None, (), (), (f"{type(statement).__name__} statements are not read "
                                             "yet; the SELECTs in this one are not followed",))
        return SqlLineage(None, (), (), ())

    def _target(self, text: str | None) -> str | None:
        if not text:
            return None
        table = exp.to_table(text, dialect=self.naming.dialect)
        self.naming.normalise(table)
        return self.naming.qualified(table, self.database, self.schema)

    def _table(self, table: exp.Expr) -> tuple[str, list[str] | None]:
        """A written table's name, and its column list if the statement gives one."""
        columns = None
        if isinstance(table, exp.Schema):
            columns = [c.name for c in table.expressions]
            table = table.this
        assert isinstance(table, exp.Table)
        return self.naming.qualified(table, self.database, self.schema), columns

    def _insert(self, statement: exp.Insert) -> SqlLineage:
        target, columns = self._table(statement.this)
        query = _query(statement.expression, statement.args.get("with_"))
        if query is None:  # INSERT ... VALUES
            return SqlLineage(target, (), (), ())
        notes = []
        if columns is None and not statement.args.get("by_name"):
            known = self.catalog.columns(target)
            # PARTITION (dt = '2024-06-30'): the SELECT does not give the static partitions
            fixed = {e.this.name for e in _partition(statement.this) if isinstance(e, exp.EQ)}
            columns = [c for c in known if c not in fixed] if known is not None else None
            if columns is None:
                notes.append(f"INSERT INTO {target} lists no columns and the catalog does not know "
                             f"{target}'s columns, so the SELECT's columns are not matched to them")
                columns = []
        return self._lineage(query, target, columns, notes)[0]

    def _create(self, statement: exp.Create) -> SqlLineage:
        target, columns = self._table(statement.this)
        query = _query(statement.expression, statement.args.get("with_"))
        if query is None:
            if columns:  # CREATE TABLE t (a INT, ...): later statements of a script know it
                self.catalog.learn(target, columns)
            return SqlLineage(target, (), (), ())
        lineage, names = self._lineage(query, target, columns)
        if names is not None:
            self.catalog.learn(target, names)
        return lineage

    def _change(self, statement: exp.Merge | exp.Update | exp.Delete) -> SqlLineage:
        """MERGE, UPDATE and DELETE, each read as the SELECTs that compute what they write.

        MERGE: one SELECT per WHEN clause, over the source joined to the target on the ON
        condition and filtered by the clause's condition. The target's own columns in ON only
        match rows, so they are not edges; the target counts as a source only when its columns
        feed what is written (``SET total = t.total + s.amount``).
        """
        table = statement.this
        target, _ = self._table(table)
        selects: list[exp.Select] = []
        if isinstance(statement, exp.Merge):
            using, on = statement.args["using"], statement.args.get("on")
            whens = statement.args.get("whens")
            for when in whens.expressions if whens else ():
                pairs = _assignments(when.args.get("then"), using.alias_or_name)
                if not pairs:
                    continue
                select = exp.select(*pairs).from_(using.copy()).join(table.copy(), on=on)
                selects.append(select.where(when.args["condition"])
                               if when.args.get("condition") else select)
        else:
            pairs = _assignments(statement) if isinstance(statement, exp.Update) else []
            select = exp.select(*(pairs or [exp.alias_(exp.Literal.number(1), "x", quoted=True)]))
            select = select.from_(table.copy())
            for key in ("from_", "using"):
                for source in _as_list(statement.args.get(key)):
                    select = select.join(source.this if isinstance(source, exp.From) else source)
            for join in statement.args.get("joins") or ():
                select = select.join(join)
            if where := statement.args.get("where"):
                select = select.where(where.this)
            selects.append(select)
        parts = [self._lineage(s, target, None, reads_target=False)[0] for s in selects]
        edges = sorted({e for p in parts for e in p.columns}, key=_order)
        sources = {s for p in parts for s in p.sources} | {e.source[0] for e in edges}
        unresolved = list(dict.fromkeys(r for p in parts for r in p.unresolved))
        if isinstance(statement, exp.Delete):
            edges, sources = [], sources - {target}
        return SqlLineage(target, tuple(sorted(sources)), tuple(edges), tuple(unresolved))

    def _lineage(self, query: exp.Query, target: str | None, columns: list[str] | None,
                 notes: Sequence[str] = (),
                 reads_target: bool = True) -> tuple[SqlLineage, list[str] | None]:
        """Edges from ``query`` into ``target``: by position into ``columns`` if given, else
        by the query's own output names; and the target's columns, when all are known."""
        q = analyse_query(query, self.naming, self.catalog, database=self.database,
                          schema=self.schema)
        unresolved = [*q.unresolved, *notes]
        unresolved += [f"table {t} is not in the catalog; its columns are only those the SQL "
                       "names" for t in q.sources if self.catalog.columns(t) is None
                       and (reads_target or t != target)]
        names: Sequence[str | None] = q.names
        if columns is not None and columns:
            if not q.complete:
                unresolved.append(f"the SELECT's columns are not all known, so they are not "
                                  f"matched to {target}'s columns by position")
                names = []
            elif len(columns) != len(q.names):
                unresolved.append(f"{target} is given {len(columns)} columns but the SELECT "
                                  f"makes {len(q.names)}")
                names = []
            else:
                names = [self.naming.out(c) for c in columns]
        elif columns is not None:
            names = []
        elif target:
            names = [None if n.startswith("_col_") else n for n in q.names]
            unresolved += [f"output column {i + 1} of the SELECT into {target} has no name"
                           for i, n in enumerate(names) if n is None]
        edges = set()
        for i, name in enumerate(names):
            if name is not None:
                edges |= {_edge(d, (target or "", name), q.expressions[i]) for d in q.deps[i]}
                edges |= {_edge(d, (target or "", name), "") for d in q.rows}
        if not reads_target:  # MERGE/UPDATE: matching the target's own rows is no edge
            edges = {e for e in edges if not (e.source[0] == target and e.subtype == "JOIN")}
            q.sources = [s for s in q.sources if s != target]
        lineage = SqlLineage(target, tuple(q.sources), tuple(sorted(edges, key=_order)),
                             tuple(dict.fromkeys(unresolved)))
        complete = q.complete and len(names) == len(q.names) and None not in names
        return lineage, [n for n in names if n is not None] if complete else None


def _query(node: exp.Expr | None, with_: exp.With | None = None) -> exp.Query | None:
    """The query of an INSERT or CREATE, unwrapped, with a WITH written before the INSERT."""
    while isinstance(node, exp.Subquery) and not node.alias:
        node = node.this
    if not isinstance(node, exp.Select | exp.SetOperation):
        return None
    if with_ is not None:
        if own := node.args.get("with_"):
            own.set("expressions", [*with_.expressions, *own.expressions])
        else:
            node.set("with_", with_)
    return node


def _partition(into: exp.Expr) -> list[exp.Expr]:
    table = into.this if isinstance(into, exp.Schema) else into
    partition = table.args.get("partition") if isinstance(table, exp.Table) else None
    return list(partition.expressions) if isinstance(partition, exp.Partition) else []


def _assignments(action: exp.Expr | None, source: str = "") -> list[exp.Expr]:
    """``SET a = x`` and ``INSERT (a) VALUES (x)`` as the projections ``x AS a``; MERGE's
    ``UPDATE SET *`` and ``INSERT *`` (Databricks) as ``source.*``: columns matched by name."""
    if isinstance(action, exp.Update | exp.Insert) and source and (
            isinstance(action.this, exp.Star) or [type(e) for e in action.expressions] == [exp.Star]):
        return [exp.column(exp.Star(), table=exp.to_identifier(source, quoted=True))]
    if isinstance(action, exp.Update):
        pairs = [(eq.this, eq.expression) for eq in action.expressions if isinstance(eq, exp.EQ)]
    elif isinstance(action, exp.Insert) and isinstance(action.this, exp.Tuple) \
            and isinstance(action.expression, exp.Tuple):
        pairs = list(zip(action.this.expressions, action.expression.expressions, strict=False))
    else:
        return []
    return [exp.alias_(value.copy(), column.name, quoted=True) for column, value in pairs]


def _as_list(value: object) -> list[exp.Expr]:
    if value is None:
        return []
    return [v for v in value if isinstance(v, exp.Expr)] if isinstance(value, list) \
        else [value] if isinstance(value, exp.Expr) else []


def _edge(dep: Dep, target: tuple[str, str], expression: str) -> ColumnEdge:
    table, column, kind, subtype = dep
    return ColumnEdge((table, column), target, "DIRECT" if kind == DIRECT else "INDIRECT",
                      subtype, expression if kind == DIRECT else "")


def _order(edge: ColumnEdge) -> tuple[str, ...]:
    return (*edge.target, edge.type, *edge.source, edge.subtype)

