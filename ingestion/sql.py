"""The SQL connector: a database's schemas, tables, views and columns through SQLAlchemy
inspection (SQLite, PostgreSQL, MariaDB/MySQL; any dialect SQLAlchemy inspects), with view
lineage parsed by lineage/sql.py and optional profiling.

    connector: sql
    workspace: acme
    config:
      url: postgresql://postgres@127.0.0.1:5432/shop   # no password in it
      password: {env: SHOP_PASSWORD}                     # or {file: /run/secrets/shop}
      schemas: [public, sales]                           # default: all but system schemas
      profile: true                                      # row counts, null fractions, distincts

What it yields, all on ``platform/{platform}`` (postgres, mysql, sqlite; or ``platform``):
a Database (``database``, default: the URL's database, or the SQLite file's stem), its Schemas
(``db.schema``; for MariaDB/MySQL, whose databases are schemas, the URL's database is both),
Tables and Views (``db.schema.table``, table comments as description, a view's SQL as its
``transformation``), Columns (``db.schema.table.column``: ``dataType``, ``position``,
``nullable``, ``defaultValue``, ``primaryKey``, ``references`` for a foreign key, comment as
description). A view ``derivedFrom`` the tables its SQL reads, and its columns ``derivedFrom``
(with ``copiedFrom`` / ``transformedFrom`` / ``aggregatedFrom``) or ``influencedBy`` the columns
they come from, as the lineage service and OpenLineage write them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import URL, Engine, ObjectKind, make_url

from graph_store.errors import InputError
from graph_store.keys import encode_segment
from ingestion.connector import Record, RunContext, SecretRef
from ingestion.sql_views import profile, view_lineage

__all__ = ["SqlConfig", "SqlConnector"]

DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
           "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}
PLATFORMS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite",
             "mssql": "mssql", "oracle": "oracle"}
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast", "mysql",
                            "performance_schema", "sys"})
UNKNOWN_TYPE = "UNKNOWN"


class SqlConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="SQLAlchemy URL without a password, e.g. "
                     "postgresql://user@host:5432/db, mysql://root@host/db, sqlite:///file.db")
    password: SecretRef | None = Field(None, description="The password, by reference.")
    database: str | None = Field(None, min_length=1, description="The database's name in the "
                                 "catalog (default: the URL's, or the SQLite file's stem).")
    platform: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                                 description="Platform slug (default: from the dialect).")
    schemas: list[str] | None = Field(None, description="Only these schemas.")
    exclude_schemas: list[str] = Field(default_factory=list, description="Not these schemas.")
    views: bool = Field(True, description="Ingest views and their lineage.")
    profile: bool = Field(False, description="Row counts, null fractions, distinct counts.")
    connect_timeout: int = Field(10, ge=1, le=600, description="Seconds to wait for the server.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except Exception:
            raise ValueError("not a database URL; write it like postgresql://user@host:5432/db, "
                             "mysql://root@127.0.0.1:3306/db or sqlite:///path/file.db") from None
        if url.password is not None:
            raise ValueError("the URL holds a password; give it by reference instead, as "
                             'password: {"env": "NAME"} or {"file": "/path"}')
        return value

    def engine_url(self) -> URL:
        url = make_url(self.url)
        url = url.set(drivername=DRIVERS.get(url.drivername, url.drivername))
        if self.password is not None:
            url = url.set(password=self.password.reveal("config.password").get_secret_value())
        return url


class SqlConnector:
    """Databases through SQLAlchemy inspection: schemas, tables, views, columns, keys, view lineage."""

    name: ClassVar[str] = "sql"
    config_model: ClassVar[type[BaseModel]] = SqlConfig
    # what the database says, replaced on every run; owners, tags, terms and other properties
    # people add to the ingested assets are kept
    owns: ClassVar[frozenset[str]] = frozenset({
        "type", "name", "qualifiedName", "workspace", "platform", "partOf", "description",
        "dataType", "position", "nullable", "defaultValue", "primaryKey", "references",
        "rowCount", "nullFraction", "distinctCount", "transformation", "derivedFrom",
        "copiedFrom", "transformedFrom", "aggregatedFrom", "influencedBy"})

    def source(self, config: SqlConfig) -> str:
        """``platform/database``, and ``/schema+schema`` when only some schemas are read: runs
        over other schemas of the same database then remove nothing of this one's."""
        url = make_url(config.url)
        chosen = f"/{'+'.join(sorted(config.schemas))}" if config.schemas else ""
        return f"{self._platform(config, url)}/{self._database(config, url)}{chosen}"

    @staticmethod
    def _platform(config: SqlConfig, url: URL) -> str:
        backend = url.get_backend_name()
        return config.platform or PLATFORMS.get(backend, backend)

    @staticmethod
    def _database(config: SqlConfig, url: URL) -> str:
        if config.database:
            return config.database
        if url.get_backend_name() == "sqlite":
            return Path(url.database or "memory").stem or "memory"
        if not url.database:
            raise InputError("config.database: the URL names no database; add it to the URL "
                             "or set database")
        return url.database

    def records(self, config: SqlConfig, context: RunContext) -> Iterator[Record]:
        url = make_url(config.url)
        engine = _engine(config)
        try:
            with engine.connect() as conn:
                yield from _Reader(config, context, conn, self._platform(config, url),
                                   self._database(config, url)).read()
        except sa.exc.SQLAlchemyError as e:
            raise InputError(_safe(config, e)) from None
        finally:
            engine.dispose()


def _driver(backend: str) -> None:
    """The drivers semcat installs, imported here so that a broken install is a clear error
    (SQLAlchemy imports them again by name)."""
    try:
        if backend == "postgresql":
            import psycopg  # noqa: F401
        elif backend in ("mysql", "mariadb"):
            import pymysql  # noqa: F401
    except ImportError as e:
        raise InputError(f"the {backend} driver does not import ({e}); reinstall semcat") from None


def _engine(config: SqlConfig) -> Engine:
    url = config.engine_url()
    backend = url.get_backend_name()
    _driver(backend)
    args: dict[str, Any] = {}
    if backend in ("postgresql", "mysql", "mariadb"):
        args["connect_timeout"] = config.connect_timeout
    try:
        return sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)
    except (ImportError, sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as e:
        raise InputError(f"config.url: no SQLAlchemy driver for {url.drivername!r} ({e})") from None


def _safe(config: SqlConfig, e: Exception) -> str:
    """The database's error, without the SQL echoed and without the password."""
    orig = getattr(e, "orig", None) or e
    text = " ".join(str(orig).split()) or type(orig).__name__
    if config.password is not None:
        try:
            secret = config.password.reveal().get_secret_value()
        except InputError:
            secret = ""
        if secret:
            text = text.replace(secret, "**********")
    where = make_url(config.url).render_as_string(hide_password=True)
    return f"cannot read the database {where}: {text}"


class _Reader:
    def __init__(self, config: SqlConfig, context: RunContext, conn: sa.Connection,
                 platform: str, database: str) -> None:
        self.config = config
        self.context = context
        self.conn = conn
        self.insp = sa.inspect(conn)
        self.platform = platform
        self.database = database
        self.ws = context.workspace
        self.backend = conn.dialect.name
        self.comments: dict[str, Any] = {}

    def key(self, kind: str, qn: str) -> str:
        return f"{self.ws}/{kind}/{self.platform}/{encode_segment(qn)}"

    def asset(self, kind: str, qn: str, name: str, **extra: Any) -> Record:
        return {"type": kind, "name": name, "qualifiedName": qn, "workspace": self.ws,
                "platform": f"platform/{self.platform}",
                **{k: v for k, v in extra.items() if v is not None and v != []}}

    def schemas(self) -> list[str]:
        if self.backend in ("mysql", "mariadb") and not self.config.schemas:
            names = [str(self.conn.dialect.default_schema_name)]  # databases are its schemas
        else:
            names = self.insp.get_schema_names()
        chosen = [s for s in names if s and (s in self.config.schemas if self.config.schemas
                                            else s not in SYSTEM_SCHEMAS)
                  and s not in self.config.exclude_schemas]
        missing = sorted(set(self.config.schemas or ()) - set(names))
        if missing:
            raise InputError(f"config.schemas: no schema {', '.join(map(repr, missing))} in the "
                             f"database; it has {', '.join(s for s in names if s)}")
        return chosen

    def read(self) -> Iterator[Record]:
        schemas = self.schemas()  # the first round trip: a bad connection fails here
        db = self.database
        yield self.asset("Database", db, db)
        for schema in schemas:
            sqn = f"{db}.{schema}"
            yield self.asset("Schema", sqn, schema, partOf=self.key("database", db))
            yield from self.tables(schema, sqn)

    def tables(self, schema: str, sqn: str) -> Iterator[Record]:
        insp = self.insp
        tables = insp.get_table_names(schema=schema)
        views = insp.get_view_names(schema=schema) if self.config.views else []
        # the whole schema in a few queries where the dialect batches them (PostgreSQL; others
        # go table by table inside SQLAlchemy); what a batch lacks is read on its own, as before
        kind = ObjectKind.TABLE | ObjectKind.VIEW if views else ObjectKind.TABLE
        found = self.batched(insp.get_multi_columns, schema, kind)
        columns = {name: list(found[name]) if name in found else self.columns(name, schema)
                   for name in [*tables, *views]}
        pks = self.batched(insp.get_multi_pk_constraint, schema, ObjectKind.TABLE)
        foreign = self.batched(insp.get_multi_foreign_keys, schema, ObjectKind.TABLE)
        self.comments = self.batched(insp.get_multi_table_comment, schema, kind)
        known = {f"{sqn}.{t}": [c["name"] for c in cols] for t, cols in columns.items()}
        self.views = {f"{sqn}.{v}" for v in views}
        fks: dict[str, dict[str, str]] = {}
        for table in tables:
            fks[table] = {}
            for fk in foreign[table] if table in foreign else \
                    insp.get_foreign_keys(table, schema=schema):
                target = f"{self.database}.{fk.get('referred_schema') or schema}.{fk['referred_table']}"
                for mine, theirs in zip(fk["constrained_columns"], fk["referred_columns"], strict=False):
                    fks[table][mine] = self.key("column", f"{target}.{theirs}")
        # tables referred to come first, so that a foreign key names a column already written
        order = _referred_first(tables, {t: {k.rsplit(".", 2)[-2] for k in refs.values()}
                                         for t, refs in fks.items()})
        for table in order:
            primary = pks[table] if table in pks else insp.get_pk_constraint(table, schema=schema)
            pk = set(primary.get("constrained_columns") or [])
            stats = profile(self.conn, schema, table, columns[table], self.context) \
                if self.config.profile else None
            yield from self.table("Table", sqn, table, columns[table], pk, fks[table], stats,
                                  comment=self.comment(table, schema))
        for view in views:
            definition = _definition(insp, view, schema)
            yield from self.view(sqn, view, columns[view], definition, known)

    def batched(self, read: Callable[..., dict[Any, Any]], schema: str,
                kind: ObjectKind) -> dict[str, Any]:
        """One of the inspector's ``get_multi_*`` for a whole schema, by table or view name;
        nothing where the dialect has none or the batch fails as a whole (SQLite: a view over a
        table dropped since), so that each is then read on its own."""
        try:
            with self.conn.begin_nested():  # PostgreSQL: an error must not end the transaction
                found = read(schema=schema, kind=kind)
        except (NotImplementedError, sa.exc.SQLAlchemyError):
            return {}
        return {name: value for (_, name), value in found.items()}

    def columns(self, name: str, schema: str) -> list[Any]:
        """A table's or view's columns; none, with a warning, for one the database cannot
        describe (a SQLite or MariaDB view over a table dropped since)."""
        try:
            with self.conn.begin_nested():  # PostgreSQL: an error must not end the transaction
                return list(self.insp.get_columns(name, schema=schema))
        except sa.exc.SQLAlchemyError as e:
            orig = getattr(e, "orig", None) or e
            self.context.warn(f"{schema}.{name}: its columns could not be read "
                              f"({' '.join(str(orig).split())}); it is ingested without them")
            return []

    def comment(self, table: str, schema: str) -> str | None:
        try:
            if table in self.comments:
                found = self.comments[table]
            else:
                with self.conn.begin_nested():  # PostgreSQL: an error must not end the transaction
                    found = self.insp.get_table_comment(table, schema=schema)
            text = found.get("text")
        except NotImplementedError:  # SQLite has no comments
            return None
        except sa.exc.SQLAlchemyError:  # a MariaDB view over a table dropped since
            return None
        return text or None

    def table(self, kind: str, sqn: str, name: str, columns: list[Any], pk: set[str],
              fks: dict[str, str], stats: dict[str, Any] | None, *, comment: str | None = None,
              extra: dict[str, Any] | None = None,
              lineage: dict[str, dict[str, Any]] | None = None) -> Iterator[Record]:
        tqn = f"{sqn}.{name}"
        table_key = self.key("view" if kind == "View" else "table", tqn)
        yield self.asset(kind, tqn, name, partOf=self.key("schema", sqn), description=comment,
                         rowCount=stats["rows"] if stats else None, **(extra or {}))
        for position, c in enumerate(columns, start=1):
            col = c["name"]
            default = c.get("default")
            s = stats["columns"].get(col) if stats else None
            yield self.asset("Column", f"{tqn}.{col}", col, partOf=table_key,
                             dataType=_type(c["type"], self.conn.dialect), position=position,
                             # a key column is NOT NULL (SQLite reports some as nullable)
                             nullable=bool(c.get("nullable", True)) and col not in pk,
                             defaultValue=str(default) if default is not None else None,
                             primaryKey=True if col in pk else None,
                             references=[fks[col]] if col in fks else None,
                             description=c.get("comment") or None,
                             **(s or {}), **((lineage or {}).get(col) or {}))

    def view(self, sqn: str, name: str, columns: list[Any], definition: str | None,
             known: dict[str, list[str]]) -> Iterator[Record]:
        extra: dict[str, Any] = {"transformation": definition.strip() if definition else None}
        by_column: dict[str, dict[str, Any]] = {}
        if definition:
            tables, by_column = view_lineage(
                definition, backend=self.backend, target=f"{sqn}.{name}", known=known,
                views=self.views, database=self.database, schema=sqn.rsplit(".", 1)[-1], context=self.context,
                key=self.key)
            extra["derivedFrom"] = tables
        yield from self.table("View", sqn, name, columns, set(), {}, None,
                              comment=self.comment(name, sqn.rsplit(".", 1)[-1]), extra=extra,
                              lineage=by_column)


def _definition(insp: sa.Inspector, view: str, schema: str) -> str | None:
    try:
        text = insp.get_view_definition(view, schema=schema)
    except (NotImplementedError, sa.exc.SQLAlchemyError):
        return None
    return str(text) if text else None


def _type(t: Any, dialect: sa.Dialect) -> str:
    if isinstance(t, sa.types.NullType):
        return UNKNOWN_TYPE
    try:
        text = t.compile(dialect=dialect)
    except Exception:
        text = str(t) if type(t).__str__ is not object.__str__ else ""
    return str(text).strip() or UNKNOWN_TYPE


def _referred_first(tables: list[str], refers: dict[str, set[str]]) -> list[str]:
    """``tables`` ordered so that a table comes after those its foreign keys refer to (where
    the keys form no cycle), else in the database's order."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(t: str) -> None:
        if state.get(t):
            return
        state[t] = 1
        for other in sorted(refers.get(t, ())):
            if other in refers and other != t:
                visit(other)
        state[t] = 2
        order.append(t)

    for t in tables:
        visit(t)
    return order
