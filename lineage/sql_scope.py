"""Column lineage of one query, walked over sqlglot's scopes (for lineage/sql.py).

sqlglot qualifies the query (``qualify_tables``, then ``qualify_columns`` against the catalog's
columns, which also expands ``SELECT *``) and splits it into scopes (``build_scope``): the query,
its CTEs, derived tables, subqueries and union branches. This module walks those scopes and says,
for every output column, which base-table columns it comes from and how (OpenLineage's column
lineage facet 1.2):

- DIRECT: the column's value is computed from the source: IDENTITY (copied), TRANSFORMATION
  (computed row by row: ``upper(x)``, ``a + b``, a CASE branch's value), AGGREGATION (over rows:
  ``sum(x)``, also as a window function). Through CTEs and subqueries the strongest step wins.
- INDIRECT, on one column: WINDOW (in that column's PARTITION BY or window ORDER BY) and
  CONDITIONAL (in a CASE/IF condition or an aggregate's FILTER clause).
- INDIRECT, on every column, because they decide which rows there are: JOIN (ON/USING), FILTER
  (WHERE, HAVING, QUALIFY, and everything a subquery in them reads), GROUP_BY and SORT (ORDER BY),
  in the query and in every CTE or derived table its rows come from. A column used that way
  counts with everything it was computed from (``WHERE rn = 1`` names the window's columns).

sqlglot's own ``sqlglot.lineage`` follows DIRECT paths one column at a time; it has no INDIRECT
edges and guesses nothing it is unsure of, so the walk is done here over the same scopes.

What cannot be resolved is reported, not guessed: a column that could come from two tables, a
column or table the catalog does not know, a ``SELECT *`` over a table whose columns are unknown
(its output columns are then incomplete, and ``complete`` is False).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.optimizer.scope import Scope, ScopeType, build_scope, find_all_in_scope
from sqlglot.schema import MappingSchema

from lineage.sql_names import Catalog, Naming

Dep = tuple[str, str, str, str]  # source table, source column, type, subtype
DIRECT, INDIRECT = "DIRECT", "INDIRECT"
_STRENGTH = {"IDENTITY": 0, "TRANSFORMATION": 1, "AGGREGATION": 2}
_ROW_CLAUSES = (("where", "FILTER"), ("having", "FILTER"), ("qualify", "FILTER"),
                ("group", "GROUP_BY"), ("order", "SORT"))
# window functions that pick another row's value rather than aggregate rows
_NAVIGATION = (exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.NthValue)
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")


@dataclass
class QueryLineage:
    """The output columns of a query (in order) and what each is made of."""

    names: list[str]
    deps: list[set[Dep]]
    expressions: list[str]
    rows: set[Dep]          # INDIRECT dependencies of every output column
    complete: bool          # False when a SELECT * added columns nobody knows
    sources: list[str]      # base tables read, qualified
    unresolved: list[str] = field(default_factory=list)


@dataclass
class _Result:
    names: list[str] = field(default_factory=list)
    deps: list[set[Dep]] = field(default_factory=list)
    expressions: list[list[exp.Expr | str]] = field(default_factory=list)  # shown at the end
    rows: set[Dep] = field(default_factory=set)
    stars: list[tuple[Scope, str]] = field(default_factory=list)  # (scope, alias) behind a *
    index: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, deps: set[Dep], expression: list[exp.Expr | str]) -> None:
        self.index.setdefault(name, len(self.names))
        self.names.append(name)
        self.deps.append(deps)
        self.expressions.append(expression)


def analyse_query(query: exp.Query, naming: Naming, catalog: Catalog, *,
                  database: exp.Identifier | None, schema: exp.Identifier | None) -> QueryLineage:
    """Lineage of ``query`` (already normalised by ``naming``); the tree is rewritten in place."""
    qualify_tables(query, db=schema, catalog=database, dialect=naming.dialect)
    tables: dict[str, str] = {}
    known: dict[str, object] = {}
    unresolved: list[str] = []
    seen: set[int] = set()
    first = build_scope(query)
    for scope in first.traverse() if first else ():
        for source in scope.sources.values():
            if not isinstance(source, exp.Table) or id(source) in seen:
                continue
            if isinstance(source.this, exp.DynamicIdentifier):
                unresolved.append(f"{source.this.sql(naming.dialect)}: a table named at run time "
                                  "is not followed")
            if not isinstance(source.this, exp.Identifier):
                continue
            seen.add(id(source))
            name = naming.qualified(source, database, schema)
            # one single-part stand-in per table, so sqlglot's schema need not know how many
            # parts each name has (its MappingSchema wants the same depth for every table)
            stand_in = next((k for k, v in tables.items() if v == name), f"__semcat_{len(tables)}")
            tables[stand_in] = name
            source.set("this", exp.to_identifier(stand_in, quoted=True))
            source.set("db", None)
            source.set("catalog", None)
            if (columns := catalog.columns(name)) is not None:
                known[stand_in] = dict.fromkeys(columns, "UNKNOWN")
    try:
        qualify_columns(query, MappingSchema(known, dialect=naming.dialect, normalize=False),
                        dialect=naming.dialect)
    except OptimizeError as e:
        unresolved.append(f"sqlglot could not qualify every column ({e}); the rest is resolved "
                          "table by table")
    root = build_scope(query)
    walker = _Walker(tables, catalog, naming, unresolved)
    result = walker.walk(root) if root else _Result()
    for scope, alias in result.stars:  # only where the output's columns stay unknown
        star = scope.sources.get(alias)
        name = tables.get(star.name, alias) if isinstance(star, exp.Table) else alias
        walker.report(f"SELECT * over {name}: its columns are unknown, so the columns it adds "
                      "are not listed")
    shown = [" | ".join(dict.fromkeys(walker.display(x) if isinstance(x, exp.Expr) else x
                                      for x in e)) for e in result.expressions]
    return QueryLineage(result.names, result.deps, shown, result.rows,
                        complete=not result.stars, sources=sorted(set(tables.values())),
                        unresolved=walker.unresolved)


class _Walker:
    def __init__(self, tables: dict[str, str], catalog: Catalog, naming: Naming,
                 unresolved: list[str]) -> None:
        self.tables = tables
        self.catalog = catalog
        self.naming = naming
        self.unresolved = unresolved
        self.done: dict[int, _Result] = {}

    def report(self, reason: str) -> None:
        if reason not in self.unresolved:
            self.unresolved.append(reason)

    def walk(self, scope: Scope) -> _Result:
        """A scope's output columns; a recursive CTE's reference to itself adds nothing."""
        key = id(scope.expression)  # a recursive CTE's reference is a scope of its own
        if key in self.done:
            return self.done[key]
        self.done[key] = _Result()
        node = scope.expression
        if isinstance(node, exp.SetOperation):
            result = self._set_operation(scope)
        elif isinstance(node, exp.Select):
            result = self._select(scope)
        elif isinstance(node, exp.Subquery) and scope.subquery_scopes:
            result = self.walk(scope.subquery_scopes[0])
        elif inner := [s for s in scope.sources.values()
                       if isinstance(s, Scope) and isinstance(s.expression, exp.Query)]:
            result = self.walk(inner[0])  # LATERAL (SELECT ...): a derived table
        else:
            result = self._udtf(scope)
        self.done[key] = result
        return result

    # -- scopes ------------------------------------------------------------------------------

    def _select(self, scope: Scope) -> _Result:
        select = scope.expression
        result = _Result()
        for projection in select.expressions:
            if _is_star(projection):
                aliases = [projection.table] if isinstance(projection, exp.Column) \
                    else list(scope.selected_sources)
                for alias in aliases:
                    self._expand_star(scope, alias, result)
                continue
            value = projection.this if isinstance(projection, exp.Alias) else projection
            result.add(projection.alias_or_name, self._projection(scope, value), [value])
        self.done[id(select)] = result  # ORDER BY may name an output column
        for _, source in scope.selected_sources.values():
            if isinstance(source, Scope):
                result.rows |= self.walk(source).rows
        for key, role in _ROW_CLAUSES:
            if clause := select.args.get(key):
                result.rows |= self._indirect(scope, clause, role)
        for join in select.args.get("joins") or ():
            for key in ("on", "using"):
                if condition := join.args.get(key):
                    for part in condition if isinstance(condition, list) else [condition]:
                        result.rows |= self._indirect(scope, part, "JOIN")
        return result

    def _set_operation(self, scope: Scope) -> _Result:
        branches = [self.walk(s) for s in scope.set_operation_scopes]
        first = branches[0] if branches else _Result()
        result = _Result(stars=[s for b in branches for s in b.stars])
        for i, name in enumerate(first.names):
            deps = set().union(*(b.deps[i] for b in branches if i < len(b.deps)))
            result.add(name, deps, [x for b in branches if i < len(b.expressions)
                                    for x in b.expressions[i]])
        if any(len(b.names) != len(first.names) for b in branches) and not result.stars:
            self.report(f"the branches of a {type(scope.expression).__name__.upper()} have "
                        "different numbers of columns")
        for b in branches:
            result.rows |= b.rows
        if order := scope.expression.args.get("order"):
            for column in order.find_all(exp.Column):
                if (at := result.index.get(column.name)) is not None:
                    result.rows |= {(t, c, INDIRECT, "SORT") for t, c, _, _ in result.deps[at]}
        return result

    def _udtf(self, scope: Scope) -> _Result:
        """UNNEST(o.items), LATERAL VIEW explode(...): every column it makes is computed from
        the columns in its call; ``index`` stays empty so any name is looked up through it."""
        deps = {_compose(d, DIRECT, "TRANSFORMATION")
                for column in scope.expression.find_all(exp.Column)
                for d in self.resolve(scope, column)}
        result = _Result(rows=set())
        result.deps = [deps]
        return result

    # -- clauses -----------------------------------------------------------------------------

    def _projection(self, scope: Scope, value: exp.Expr) -> set[Dep]:
        deps: set[Dep] = set()
        for column in find_all_in_scope(value, exp.Column):
            kind, subtype = _role(column, value)
            deps |= {_compose(d, kind, subtype) for d in self.resolve(scope, column)}
        for sub in self._subqueries(scope, value):
            kind, subtype = _role(sub.expression, value)
            inner = self.walk(sub)
            deps |= {_compose(d, kind, subtype) for d in (inner.deps[0] if inner.deps else ())}
            deps |= {d if kind == DIRECT else (d[0], d[1], INDIRECT, subtype) for d in inner.rows}
        return deps

    def _indirect(self, scope: Scope, clause: exp.Expr, role: str) -> set[Dep]:
        """Everything ``clause`` reads, as INDIRECT ``role`` dependencies."""
        found: set[Dep] = set()
        for column in find_all_in_scope(clause, exp.Column):
            found |= self.resolve(scope, column, clause=clause)
        for sub in self._subqueries(scope, clause):
            inner = self.walk(sub)
            found |= inner.rows.union(*inner.deps)
        return {(t, c, INDIRECT, role) for t, c, _, _ in found}

    def _subqueries(self, scope: Scope, node: exp.Expr) -> Iterator[Scope]:
        scopes = {id(s.expression): s for s in scope.subquery_scopes}
        for query in find_all_in_scope(node, *exp.UNWRAPPED_QUERIES):
            if query is not node and id(query) in scopes:
                yield scopes[id(query)]

    # -- names -------------------------------------------------------------------------------

    def resolve(self, scope: Scope, column: exp.Column, clause: exp.Expr | None = None) -> set[Dep]:
        """The base columns ``column`` (read in ``scope``) stands for."""
        if _is_star(column):
            return set()
        name = column.name
        if column.table:
            owner: Scope | None = scope
            while owner is not None and column.table not in owner.sources:
                owner = owner.parent
            if owner is None:
                self.report("columns read through PIVOT or UNPIVOT are not followed" if scope.pivots
                            else f"{self.display(column)}: no table or subquery is called "
                            f"{column.table!r} here")
                return set()
            return self._from_source(owner, column.table, name)
        if clause is not None and clause.key == "order" and isinstance(scope.expression, exp.Select):
            result = self.done.get(id(scope.expression))
            if result is not None and (i := result.index.get(name)) is not None:
                return result.deps[i]  # ORDER BY an output column's alias
        owner = scope
        while owner is not None:
            picked = self._pick([(owner, a) for a in owner.selected_sources], name)
            if picked is not None:
                return self._from_source(*picked, name) if picked else set()
            owner = owner.parent if owner.scope_type is ScopeType.SUBQUERY else None
        if len(scope.selected_sources) == 1:  # valid SQL: it is there, the catalog is behind
            return self._from_source(scope, next(iter(scope.selected_sources)), name)
        self.report(f"column {name!r} is not in any table the query reads "
                    f"({self.describe([(scope, a) for a in scope.selected_sources])})")
        return set()

    def _pick(self, candidates: list[tuple[Scope, str]],
              name: str) -> tuple[Scope, str] | tuple[()] | None:
        """Which source a column named ``name`` comes from: the one that has it, or else the
        one source whose columns are unknown; () when it could be several (reported); None
        when none of them can have it."""
        known = [(c, self._has(c[0].sources.get(c[1]), name)) for c in candidates]
        has = [c for c, h in known if h]
        maybe = [c for c, h in known if h is None]
        if len(has) == 1 or (not has and len(maybe) == 1):
            return has[0] if has else maybe[0]
        if has or maybe:
            self.report(f"column {name!r} could come from "
                        f"{self.describe(has or maybe, ' or ')}; not resolved")
            return ()
        return None

    def _from_source(self, scope: Scope, alias: str, name: str) -> set[Dep]:
        source = scope.sources.get(alias)
        if isinstance(source, exp.Table):
            table = self.tables.get(source.name)
            if table is None:
                return set()
            columns = self.catalog.columns(table)
            if columns is not None and name not in columns:
                self.report(f"column {name!r} is not among the catalog's columns of {table}")
            return {(table, name, DIRECT, "IDENTITY")}
        if not isinstance(source, Scope):
            return set()
        inner = self.walk(source)
        if (i := inner.index.get(name)) is not None:
            return inner.deps[i]
        if isinstance(source.expression, exp.UDTF) or source.scope_type is ScopeType.UDTF:
            return inner.deps[0] if inner.deps else set()
        if inner.stars:  # SELECT * over a table whose columns are unknown: look through it
            picked = self._pick(inner.stars, name)
            if picked is not None:
                return self._from_source(*picked, name) if picked else set()
        self.report(f"column {name!r} is not an output of {alias!r}")
        return set()

    def _has(self, source: exp.Table | Scope | None, name: str) -> bool | None:
        if isinstance(source, exp.Table):
            columns = self.catalog.columns(self.tables.get(source.name, ""))
            return None if columns is None else name in columns
        if isinstance(source, Scope):
            inner = self.walk(source)
            if name in inner.index:
                return True
            return None if inner.stars or source.scope_type is ScopeType.UDTF else False
        return None

    def _expand_star(self, scope: Scope, alias: str, result: _Result) -> None:
        """A * sqlglot left alone because some columns are unknown: list the known ones."""
        source = scope.sources.get(alias)
        if isinstance(source, exp.Table):
            table = self.tables.get(source.name, alias)
            columns = self.catalog.columns(table)
            if columns is None:
                result.stars.append((scope, alias))
                return
            names: Iterable[str] = columns
        elif isinstance(source, Scope):
            inner = self.walk(source)
            names = inner.names
            result.stars.extend(inner.stars)
        else:
            return
        for name in names:
            result.add(name, self._from_source(scope, alias, name), [f"{alias}.{name}"])

    def describe(self, candidates: list[tuple[Scope, str]], sep: str = ", ") -> str:
        def one(scope: Scope, alias: str) -> str:
            source = scope.sources.get(alias)
            table = self.tables.get(source.name) if isinstance(source, exp.Table) else None
            return f"{alias} ({table})" if table and table.split(".")[-1] != alias else table or alias
        return sep.join(one(*c) for c in candidates) or "no tables"

    def display(self, node: exp.Expr) -> str:
        """``node`` as SQL in its dialect, quoting only the names that need it."""
        copy = node.copy()
        for table in copy.find_all(exp.Table):
            if (name := self.tables.get(table.name)) is not None:
                table.set("this", exp.to_identifier(name))
        for identifier in copy.find_all(exp.Identifier):
            identifier.set("quoted", not _PLAIN.match(identifier.this))
        return copy.sql(dialect=self.naming.dialect)


def _is_star(node: exp.Expr) -> bool:
    return isinstance(node, exp.Star) or (isinstance(node, exp.Column) and node.is_star)


def _role(node: exp.Expr, root: exp.Expr) -> tuple[str, str]:
    """How the value at ``node`` reaches the projection ``root``."""
    aggregated, wrapped = False, False
    while node is not root and node.parent is not None:
        parent, key = node.parent, node.arg_key
        if isinstance(parent, exp.Window) and key in ("partition_by", "order"):
            return INDIRECT, "WINDOW"
        if (isinstance(parent, exp.If) and key == "this") or \
                (isinstance(parent, exp.Case) and key == "this") or \
                (isinstance(parent, exp.Filter) and key == "expression"):
            return INDIRECT, "CONDITIONAL"
        if isinstance(parent, exp.AggFunc) and not isinstance(parent, _NAVIGATION):
            aggregated = True
        if not isinstance(parent, exp.Subquery | exp.Paren) and not _same_column(parent):
            wrapped = True
        node = parent
    return DIRECT, "AGGREGATION" if aggregated else "TRANSFORMATION" if wrapped else "IDENTITY"


def _same_column(node: exp.Expr) -> bool:
    """COALESCE(o.id, c.id): how sqlglot spells the column of ``JOIN ... USING (id)``; the value
    is the one column's, whichever side has it."""
    if not isinstance(node, exp.Coalesce):
        return False
    values = [node.this, *node.expressions]
    return all(isinstance(v, exp.Column) for v in values) and len({v.name for v in values}) == 1


def _compose(dep: Dep, kind: str, subtype: str) -> Dep:
    """``dep`` seen through one more step; the strongest DIRECT step wins."""
    table, column, dep_kind, dep_subtype = dep
    if kind == INDIRECT:
        return table, column, INDIRECT, subtype
    if dep_kind == INDIRECT:
        return dep
    return table, column, DIRECT, max(dep_subtype, subtype, key=_STRENGTH.__getitem__)
