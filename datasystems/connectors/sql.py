"""The connector for an external SQL database, reached by a URL with its own credentials (connector kind 2 of
issue 12), through SQLAlchemy Core.

Configuration (stored on the data system; the URL, which holds the password, is read from the environment variable
it names, never stored)::

    {"url_env": "CRM_DATABASE_URL", "schema": "public", "connect_timeout": 10, "statement_timeout": 300,
     "yield_per": 5000,
     "tables": [
        {"name": "customers", "table": "customer", "match": {"email": {"column": "email_address", "lower": true},
                                                             "customer_id": "customer_ref"},
         "columns": ["customer_ref", "full_name", "email_address"], "description": "..."},
        {"name": "orders", "table": "sales_order",
         "via": {"table": "customers", "column": "customer_id", "references": "id"},
         "columns": ["order_no", "placed_on", "total"]},
        {"name": "scores", "table": "risk_score", "via": {...}, "provided_or_observed": false}]}

A table with ``match`` is searched by the person's identifiers (any of them: each was verified before a search runs);
a table with ``via`` holds rows whose ``column`` points at ``references`` in another configured table. Tables and
columns are reflected from the database and every query is built with ``select()``/``where()``: identifiers travel
only as bound parameters, never in the SQL text, and the engine hides parameters from its logs and error messages
(``hide_parameters=True``), so a person's e-mail address never reaches a log. Rows stream from a server-side cursor
(``stream_results``/``yield_per``). A database that does not answer raises ConnectorTemporaryError (the job retries);
a configuration that names an unknown table or column raises ConnectorError with a message fit for staff.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from django.conf import settings
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from .base import (
    ConnectorError,
    ConnectorTemporaryError,
    Identifiers,
    PostgresSource,
    SearchOutcome,
    TableResult,
    config_list,
    config_match,
)

DEFAULT_YIELD_PER = 5000
# The connectors' engines log under their own name. With SQLAlchemy's logging at DEBUG (someone chasing a problem),
# the engine would log every row it reads: personal data. A filter on this logger drops those DEBUG records and keeps
# the INFO ones (statements, parameters hidden) for whoever turns SQLAlchemy's logging on; it stays quiet otherwise.
ENGINE_LOGGING_NAME = "dsar_connector"


def _no_rows(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


logging.getLogger(f"sqlalchemy.engine.Engine.{ENGINE_LOGGING_NAME}").addFilter(_no_rows)
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Errors that mean "not now" rather than "never": the connection, the network, the server's own limits.
TEMPORARY = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, sa.exc.DisconnectionError)


@dataclass(frozen=True)
class _Match:
    identifier: str
    column: str
    lower: bool


@dataclass(frozen=True)
class _Via:
    table: str
    column: str
    references: str


@dataclass(frozen=True)
class _Entry:
    name: str
    table: str
    columns: list[str]
    match: tuple[_Match, ...]
    via: _Via | None
    provided_or_observed: bool
    description: str


def _positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConnectorError(f"{key!r} must be a positive whole number.")
    return value


def _parse_match(entry: Mapping[str, Any], where: str) -> tuple[_Match, ...]:
    matches = []
    for identifier, spec in config_match(entry, where).items():
        if isinstance(spec, str):
            column, lower = spec, False
        elif isinstance(spec, Mapping) and isinstance(spec.get("column"), str):
            column, lower = spec["column"], bool(spec.get("lower", False))
        else:
            raise ConnectorError(f"{where}: each 'match' entry is a column name or {{'column': ..., 'lower': true}}.")
        matches.append(_Match(identifier=identifier, column=column, lower=lower))
    return tuple(matches)


def _parse_via(entry: Mapping[str, Any], where: str) -> _Via:
    via = entry.get("via")
    if not isinstance(via, Mapping) or not all(
        isinstance(via.get(key), str) for key in ("table", "column", "references")
    ):
        raise ConnectorError(f"{where}: 'via' needs 'table' (another configured table), 'column' and 'references'.")
    return _Via(table=via["table"], column=via["column"], references=via["references"])


def _parse(config: Mapping[str, Any]) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for position, entry in enumerate(config_list(config, "tables"), start=1):
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConnectorError(f"Table {position} needs a 'name'.")
        where = f"Table {name!r}"
        if name in entries:
            raise ConnectorError(f"{where} is configured twice.")
        table = entry.get("table", name)
        columns = entry.get("columns")
        if not isinstance(table, str) or not table:
            raise ConnectorError(f"{where}: 'table' must be the database table's name.")
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c for c in columns):
            raise ConnectorError(f"{where} needs 'columns': the list of columns to return.")
        if ("match" in entry) == ("via" in entry):
            raise ConnectorError(f"{where} needs either 'match' (identifiers to look up) or 'via', not both.")
        entries[name] = _Entry(
            name=name,
            table=table,
            columns=list(columns),
            match=_parse_match(entry, where) if "match" in entry else (),
            via=_parse_via(entry, where) if "via" in entry else None,
            provided_or_observed=bool(entry.get("provided_or_observed", True)),
            description=str(entry.get("description", "")),
        )
    for entry in entries.values():
        # Every chain of 'via' must end at a table searched by identifiers, without going round in a circle.
        seen = {entry.name}
        current = entry
        while current.via is not None:
            if current.via.table not in entries:
                raise ConnectorError(
                    f"Table {current.name!r}: 'via' names {current.via.table!r}, which is not configured."
                )
            current = entries[current.via.table]
            if current.name in seen:
                raise ConnectorError(f"Table {entry.name!r}: its 'via' links go round in a circle.")
            seen.add(current.name)
    return entries


class SqlConnector:
    """Searches an external SQL database with SQLAlchemy Core (any dialect SQLAlchemy speaks; tested on PostgreSQL)."""

    kind = "sql"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._entries: dict[str, _Entry] | None = None
        self._engine: Engine | None = None

    # --- configuration ------------------------------------------------------------------------------------------

    def entries(self) -> dict[str, _Entry]:
        if self._entries is None:
            self._entries = _parse(self.config)
        return self._entries

    def _url(self) -> sa.URL:
        name = self.config.get("url_env")
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise ConnectorError("'url_env' must name the environment variable that holds the database URL.")
        value = os.environ.get(name, "").strip()
        if not value:
            raise ConnectorError(f"The environment variable {name} (the database URL) is not set.")
        # dj-database-url's and Heroku's spelling; SQLAlchemy knows only "postgresql".
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        try:
            url = sa.make_url(value)
        except sa.exc.ArgumentError:
            # Never the value: it holds the password.
            raise ConnectorError(
                f"The environment variable {name} does not hold a database URL SQLAlchemy understands."
            ) from None
        if url.drivername == "postgresql":
            # SQLAlchemy 2.1 picks psycopg 3 for a bare "postgresql" URL; the portal ships psycopg2.
            url = url.set(drivername="postgresql+psycopg2")
        return url

    def _connect_args(self, url: sa.URL) -> dict[str, Any]:
        connect_timeout = _positive_int(self.config, "connect_timeout", settings.DSAR_CONNECTOR_CONNECT_TIMEOUT)
        statement_timeout = _positive_int(self.config, "statement_timeout", settings.DSAR_CONNECTOR_STATEMENT_TIMEOUT)
        backend = url.get_backend_name()
        if backend == "postgresql":
            return {"connect_timeout": connect_timeout, "options": f"-c statement_timeout={statement_timeout * 1000}"}
        if backend in {"mysql", "mariadb"}:
            return {"connect_timeout": connect_timeout, "read_timeout": statement_timeout}
        if backend == "sqlite":
            return {"timeout": connect_timeout}
        return {}

    def engine(self) -> Engine:
        if self._engine is None:
            url = self._url()
            try:
                self._engine = sa.create_engine(
                    url,
                    # Identifiers are personal data: keep them out of SQLAlchemy's logs and exception messages.
                    hide_parameters=True,
                    logging_name=ENGINE_LOGGING_NAME,
                    # A worker holds no idle connections to other organisations' systems between jobs.
                    poolclass=NullPool,
                    connect_args=self._connect_args(url),
                )
            except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError):
                raise ConnectorError(f"No database driver for {url.get_backend_name()!r} URLs is installed.")
        return self._engine

    def _reflect(self) -> dict[str, sa.Table]:
        entries = self.entries()
        schema = self.config.get("schema")
        if schema is not None and not isinstance(schema, str):
            raise ConnectorError("'schema' must be a schema name.")
        metadata = sa.MetaData(schema=schema or None)
        tables: dict[str, sa.Table] = {}
        try:
            with self.engine().connect() as connection:
                for entry in entries.values():
                    try:
                        tables[entry.name] = sa.Table(entry.table, metadata, autoload_with=connection)
                    except sa.exc.NoSuchTableError:
                        raise ConnectorError(f"Table {entry.name!r}: the database has no table {entry.table!r}.")
        except TEMPORARY as error:
            raise ConnectorTemporaryError(f"The database did not answer ({type(error).__name__}).") from None
        for entry in entries.values():
            needed = [*entry.columns, *(match.column for match in entry.match)]
            if entry.via is not None:
                needed.append(entry.via.column)
                if entry.via.references not in tables[entry.via.table].c:
                    raise ConnectorError(
                        f"Table {entry.name!r}: {entry.via.table!r} has no column {entry.via.references!r}."
                    )
            for column in needed:
                if column not in tables[entry.name].c:
                    raise ConnectorError(f"Table {entry.name!r}: {entry.table!r} has no column {column!r}.")
        return tables

    # --- the interface ------------------------------------------------------------------------------------------

    def check(self) -> None:
        _positive_int(self.config, "yield_per", DEFAULT_YIELD_PER)
        self._reflect()

    def search(self, identifiers: Identifiers) -> SearchOutcome:
        entries = self.entries()
        yield_per = _positive_int(self.config, "yield_per", DEFAULT_YIELD_PER)
        configured = list(dict.fromkeys(match.identifier for entry in entries.values() for match in entry.match))
        used = [identifier for identifier in configured if identifiers.get(identifier)]
        if not used:
            return SearchOutcome.no_identifier_known(configured)
        tables = self._reflect()
        results = []
        for entry in entries.values():
            condition = _condition(entry, entries, tables, identifiers)
            table = tables[entry.name]
            postgres = None
            if condition is None:
                rows: Iterator[Sequence] = iter(())
            else:
                order = list(table.primary_key.columns) or [table.c[entry.columns[0]]]
                statement = sa.select(*(table.c[column] for column in entry.columns)).where(condition).order_by(*order)
                rows = _stream(self.engine(), statement, yield_per)
                postgres = _postgres_source(self.engine(), statement)
            results.append(
                TableResult(
                    name=entry.name,
                    columns=list(entry.columns),
                    rows=rows,
                    provided_or_observed=entry.provided_or_observed,
                    description=entry.description,
                    postgres=postgres,
                )
            )
        return SearchOutcome(identifiers_used=used, tables=results)


def _condition(
    entry: _Entry, entries: dict[str, _Entry], tables: dict[str, sa.Table], identifiers: Identifiers
) -> sa.ColumnElement[bool] | None:
    """The WHERE clause that picks the person's rows of ``entry``, or None when no identifier it needs is known.

    Values are bound parameters (``column == value`` compiles to ``column = %(param)s``), never SQL text.
    """
    table = tables[entry.name]
    if entry.via is not None:
        parent = tables[entry.via.table]
        parent_condition = _condition(entries[entry.via.table], entries, tables, identifiers)
        if parent_condition is None:
            return None
        keys = sa.select(parent.c[entry.via.references]).where(parent_condition)
        return table.c[entry.via.column].in_(keys)
    clauses = []
    for match in entry.match:
        value = identifiers.get(match.identifier)
        if not value:
            continue
        column = table.c[match.column]
        if match.lower:
            clauses.append(sa.func.lower(column) == sa.bindparam(None, value.lower(), type_=sa.String()))
        elif _is_integer(column) and not value.isdigit():
            # A customer number typed with letters cannot be a key in a numeric column: it matches nothing, rather
            # than failing the whole search on the database's type error.
            clauses.append(sa.false())
        else:
            clauses.append(
                column == sa.bindparam(None, int(value) if _is_integer(column) else value, type_=column.type)
            )
    return sa.or_(*clauses) if clauses else None


def _is_integer(column: sa.Column) -> bool:
    try:
        return issubclass(column.type.python_type, int) and not issubclass(column.type.python_type, bool)
    except NotImplementedError:
        return False


def _stream(engine: Engine, statement: sa.Select, yield_per: int) -> Iterator[tuple]:
    """The statement's rows as tuples, ``yield_per`` at a time from a server-side cursor; runs when iterated, and
    holds its connection only until the rows are read (or the iterator is closed)."""
    try:
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=yield_per).execute(statement)
            for partition in result.partitions():
                yield from map(tuple, partition)
    except TEMPORARY as error:
        # "from None": the driver's own message may quote a value the server saw, and a logged traceback would
        # carry it (hide_parameters covers SQLAlchemy's part only).
        raise ConnectorTemporaryError(f"The database failed while reading ({type(error).__name__}).") from None
    except sa.exc.DBAPIError as error:
        raise ConnectorError(f"The database refused the query ({type(error).__name__}).") from None


def _postgres_source(engine: Engine, statement: sa.Select) -> PostgresSource | None:
    """The statement for the COPY fast path, where the database is PostgreSQL reached through psycopg2 (any other
    database keeps the row-by-row path). Compiled by SQLAlchemy for that dialect: the identifiers stay bound
    parameters (``%(param_1)s``), handed to the driver with their values, never written into the SQL here."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg2":
        return None
    compiled = statement.compile(dialect=engine.dialect)
    return PostgresSource(connection=lambda: _dbapi_connection(engine), sql=str(compiled), params=dict(compiled.params))


@contextmanager
def _dbapi_connection(engine: Engine) -> Iterator[Any]:
    """A driver connection of the engine (its timeouts and hidden parameters as configured), in a read-only
    transaction on one snapshot so the JSON and the CSV hold the same rows; rolled back when the block ends.

    A COPY is one statement, so the system's ``statement_timeout`` bounds a whole table's export here (the default
    300 s is tens of millions of rows), where the row-by-row path's server-side cursor is bounded per fetch."""
    dbapi = engine.dialect.dbapi
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            with raw.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield raw
            raw.rollback()
    except TEMPORARY as error:
        raise ConnectorTemporaryError(f"The database did not answer ({type(error).__name__}).") from None
    except (dbapi.OperationalError, dbapi.InterfaceError) as error:
        # "from None": the driver's message may quote a value the server saw.
        raise ConnectorTemporaryError(f"The database failed while reading ({type(error).__name__}).") from None
    except dbapi.Error as error:
        raise ConnectorError(f"The database refused the query ({type(error).__name__}).") from None
