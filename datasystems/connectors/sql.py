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
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from django.conf import settings
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from ..change_rules import marketing_append, rectifiable_columns, rules_check, tables_for
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
from .changes import (
    KEYED_HASH_PREFIX,
    ChangeInstruction,
    ChangeKind,
    ChangeOutcome,
    ChangeProgress,
    FieldStrategy,
    TableAction,
    TableChange,
    TableInstruction,
    identifier_normalised,
    identifiers_from,
    keyed_hash,
    keyed_hash_fits,
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
    rules: Mapping[str, Any]


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
            rules=entry,
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
        tables = self._reflect()
        self._check_changes(tables)

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

    # --- changes (issue 13: erasure, rectification, restriction, marketing objection) ---------------------------

    def _depth(self, entry: _Entry) -> int:
        entries = self.entries()
        depth = 0
        while entry.via is not None:
            entry = entries[entry.via.table]
            depth += 1
        return depth

    def _ancestors(self, entry: _Entry) -> list[str]:
        entries = self.entries()
        names = []
        while entry.via is not None:
            names.append(entry.via.table)
            entry = entries[entry.via.table]
        return names

    def _plan(
        self, instruction: ChangeInstruction, tables: dict[str, sa.Table]
    ) -> list[tuple[_Entry, TableInstruction]]:
        """The instruction's tables, checked against the database, in the order they are changed: tables reached
        through others first (deepest first), the tables searched by identifiers last, so that a run started again
        after a crash still finds the person and, through them, the rest."""
        entries = self.entries()
        plan: list[tuple[_Entry, TableInstruction]] = []
        for change in instruction.tables:
            entry = entries.get(change.table)
            if entry is None:
                raise ConnectorError(f"The change names table {change.table!r}, which this system does not have.")
            self._check_change(entry, change, tables[entry.name], instruction.kind)
            plan.append((entry, change))
        deleted = {entry.name for entry, change in plan if change.action == TableAction.DELETE}
        for entry, change in plan:
            if change.action != TableAction.DELETE and deleted & set(self._ancestors(entry)):
                raise ConnectorError(
                    f"Table {entry.name!r} is kept or changed, but a table it belongs to is deleted: its rows would "
                    "be orphaned or refused. Delete it too, or keep the table it belongs to."
                )
        plan.sort(key=lambda item: (not item[0].via, -self._depth(item[0])))
        return plan

    def _check_change(self, entry: _Entry, change: TableInstruction, table: sa.Table, kind: ChangeKind) -> None:
        where = f"Table {entry.name!r}"
        if change.action in (TableAction.KEEP, TableAction.BEYOND_USE):
            return
        if len(table.primary_key.columns) != 1:
            raise ConnectorError(f"{where}: changes need a table with a one-column primary key (batches follow it).")
        links = {entry.via.column} if entry.via else set()
        links |= {
            other.via.references for other in self.entries().values() if other.via and other.via.table == entry.name
        }
        links |= {column.name for column in table.primary_key.columns}

        def column(name: str) -> sa.Column:
            if name not in table.c:
                raise ConnectorError(f"{where}: the change names a column {name!r} the table does not have.")
            if name in links:
                raise ConnectorError(
                    f"{where}: {name!r} is a key that links the tables; a change may not overwrite it."
                )
            return table.c[name]

        if change.action == TableAction.ANONYMISE:
            for item in change.fields:
                target = column(item.column)
                text = isinstance(target.type, sa.String)
                if item.strategy == FieldStrategy.NULL and not (target.nullable or text):
                    raise ConnectorError(f"{where}: {item.column!r} can be neither NULL nor empty.")
                if item.strategy != FieldStrategy.NULL and not text:
                    raise ConnectorError(f'{where}: {item.column!r} is not a text column: use "null".')
                if item.strategy == FieldStrategy.KEYED_HASH and not keyed_hash_fits(target.type.length):
                    raise ConnectorError(f'{where}: {item.column!r} is too short to hold a keyed hash: use "null".')
        elif change.action == TableAction.UPDATE:
            allowed = entry.rules.get("rectifiable") or []
            for name in change.values:
                if name not in allowed:
                    # Art. 16 through a connector only where the register says the column may be corrected.
                    raise ConnectorError(f"{where}: {name!r} is not listed as rectifiable for this system.")
                column(name)
        elif change.action == TableAction.FLAG:
            if kind == ChangeKind.SUPPRESS_MARKETING and marketing_append(entry.rules):
                raise ConnectorError(f'{where}: marketing "append" is for the demo application; use "set".')
            for name in change.values:
                column(name)

    def _check_changes(self, tables: dict[str, sa.Table]) -> None:
        """The register's change rules are well formed and name tables and columns the database has."""
        rules_check(self.config)
        for kind in (ChangeKind.ERASE, ChangeKind.RESTRICT, ChangeKind.SUPPRESS_MARKETING):
            self._plan(ChangeInstruction(kind=kind, tables=tables_for(self.config, kind)), tables)
        for name, columns in rectifiable_columns(self.config).items():
            correction = TableInstruction(name, TableAction.UPDATE, values=dict.fromkeys(columns))
            self._check_change(self.entries()[name], correction, tables[name], ChangeKind.RECTIFY)

    def count(self, identifiers: Identifiers, instruction: ChangeInstruction) -> dict[str, int]:
        """Rows each table instruction would change, changing nothing (kept tables and backups: 0)."""
        tables = self._reflect()
        plan = self._plan(instruction, tables)
        counts: dict[str, int] = {}
        try:
            with self.engine().connect() as connection:
                for entry, change in plan:
                    condition = _condition(entry, self.entries(), tables, identifiers)
                    if condition is None or change.action in (TableAction.KEEP, TableAction.BEYOND_USE):
                        counts[entry.name] = 0
                        continue
                    table = tables[entry.name]
                    statement = sa.select(sa.func.count()).select_from(table).where(condition, _pending(table, change))
                    counts[entry.name] = int(connection.execute(statement).scalar_one())
        except TEMPORARY as error:
            raise ConnectorTemporaryError(f"The database did not answer ({type(error).__name__}).") from None
        except sa.exc.DBAPIError as error:
            raise ConnectorError(f"The database refused the query ({type(error).__name__}).") from None
        return counts

    def apply_change(
        self, identifiers: Identifiers, instruction: ChangeInstruction, *, progress: ChangeProgress
    ) -> ChangeOutcome:
        """Carry the instruction out in batches of ``instruction.batch_size`` rows, each its own transaction: one
        statement per batch, ``UPDATE/DELETE ... WHERE key IN (SELECT key ... AND <still to change> AND key >
        <checkpoint> ORDER BY key LIMIT n) RETURNING key`` (only rows still to change: IS DISTINCT FROM, not yet
        hashed, still there); keyed hashes are computed in Python per batch and written with one ``UPDATE ... FROM
        unnest(keys[], hashes[])`` on PostgreSQL. COMMIT, then ``progress.batch_done``.

        A crash between a commit and ``batch_done`` leaves that batch changed but unrecorded: the run started again
        does not select its rows again (they no longer differ), so every row is changed exactly once. On PostgreSQL
        the batch being written is saved first (``progress.batch_begin``, when the engine offers it): the resumed run
        counts that batch's rows still to change, and when none are left records the batch's rows once, so the
        count is exact too (GDPR Art. 5(2): the proof and the answer say what was really done). Elsewhere the
        recorded count may miss that one batch."""
        if instruction.supplementary_statement:
            raise ConnectorError("This system has nowhere to store a supplementary statement: record it by hand.")
        tables = self._reflect()
        plan = self._plan(instruction, tables)
        checkpoint = dict(progress.checkpoint or {})
        done: list[str] = list(checkpoint.get("done", []))
        rows: dict[str, int] = dict(checkpoint.get("rows", {}))
        outcome = ChangeOutcome(tables=[])
        batch = max(1, instruction.batch_size)
        engine = self.engine()
        for entry, change in plan:
            condition = _condition(entry, self.entries(), tables, identifiers)
            active = condition is not None and change.action not in (TableAction.KEEP, TableAction.BEYOND_USE)
            if active and entry.name not in done:
                table = tables[entry.name]
                key = next(iter(table.primary_key.columns))
                pending = _pending(table, change)
                after = checkpoint.get("after") if checkpoint.get("table") == entry.name else None
                if _streams(engine):
                    # PostgreSQL: the person's rows still to change are read once, in key order, from a server-side
                    # cursor, a batch at a time; each batch is written by key (one statement) and committed on its
                    # own connection. (Picking each batch again with ORDER BY key LIMIT n lets the planner read all
                    # of the person's rows for every batch: quadratic at 200,000 rows.)
                    begin = getattr(progress, "batch_begin", None)
                    writing = checkpoint.get("writing")
                    if isinstance(writing, dict) and writing.get("table") == entry.name:
                        after = _recover_batch(engine, table, key, [condition, pending], writing, after)
                        if after == writing.get("last"):
                            rows[entry.name] = rows.get(entry.name, 0) + int(writing.get("rows", 0))
                            outcome.batches += 1
                            progress.batch_done(
                                {"done": list(done), "rows": dict(rows), "table": entry.name, "after": after},
                                table=entry.name,
                                rows=int(writing.get("rows", 0)),
                            )
                    where = [condition, pending] if after is None else [condition, pending, key > after]
                    try:
                        for chunk in _stream_batches(engine, table, key, change, where, batch):
                            if callable(begin):
                                batch_range = {"table": entry.name, "after": after, "last": chunk[-1][0]}
                                begin(
                                    {
                                        "done": list(done),
                                        "rows": dict(rows),
                                        "table": entry.name,
                                        "after": after,
                                        "writing": {**batch_range, "rows": len(chunk)},
                                    }
                                )
                            with engine.begin() as connection:
                                changed = _write_by_key(connection, table, key, change, instruction, chunk, pending)
                            after = chunk[-1][0]
                            rows[entry.name] = rows.get(entry.name, 0) + changed
                            outcome.batches += 1
                            progress.batch_done(
                                {"done": list(done), "rows": dict(rows), "table": entry.name, "after": after},
                                table=entry.name,
                                rows=changed,
                            )
                    except TEMPORARY as error:
                        raise ConnectorTemporaryError(
                            f"The database failed while changing {entry.name!r} ({type(error).__name__})."
                        ) from None
                    except sa.exc.DBAPIError as error:
                        raise ConnectorError(
                            f"The database refused the change to {entry.name!r} ({type(error).__name__})."
                        ) from None
                while not _streams(engine):
                    try:
                        with engine.begin() as connection:
                            where = [condition, pending] if after is None else [condition, pending, key > after]
                            keys, changed = _change_batch(connection, table, key, change, instruction, where, batch)
                            if not keys:
                                break
                    except TEMPORARY as error:
                        raise ConnectorTemporaryError(
                            f"The database failed while changing {entry.name!r} ({type(error).__name__})."
                        ) from None
                    except sa.exc.DBAPIError as error:
                        raise ConnectorError(
                            f"The database refused the change to {entry.name!r} ({type(error).__name__})."
                        ) from None
                    after = keys[-1]
                    rows[entry.name] = rows.get(entry.name, 0) + changed
                    outcome.batches += 1
                    progress.batch_done(
                        {"done": list(done), "rows": dict(rows), "table": entry.name, "after": after},
                        table=entry.name,
                        rows=changed,
                    )
                    if len(keys) < batch:
                        break
                done.append(entry.name)
            outcome.tables.append(TableChange(entry.name, change.action, rows.get(entry.name, 0)))
        return outcome

    def find_identifiers(
        self, hashes: Collection[str] | Mapping[str, str], hasher: Callable[[str, str], str]
    ) -> list[Identifiers]:
        """After a backup restore: the identifiers of the stored rows whose keyed hashes match a tombstone's (the
        tables searched by identifiers, streamed; values compared here and returned only, never logged)."""
        tables = self._reflect()
        yield_per = _positive_int(self.config, "yield_per", DEFAULT_YIELD_PER)
        wanted = set(hashes.values()) if isinstance(hashes, Mapping) else set(hashes)
        found: dict[tuple, Identifiers] = {}
        for entry in self.entries().values():
            if not entry.match:
                continue
            table = tables[entry.name]
            names = [match.identifier for match in entry.match]
            statement = sa.select(*(table.c[match.column] for match in entry.match))
            for values in _stream(self.engine(), statement, yield_per):
                named = {name: identifier_normalised(name, value) for name, value in zip(names, values, strict=True)}
                if any(value and hasher(name, value) in wanted for name, value in named.items()):
                    found.setdefault(tuple(sorted(named.items())), identifiers_from(named))
        return list(found.values())


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


def _emptied(column: sa.Column) -> Any:
    return None if column.nullable else ""


def _pending(table: sa.Table, change: TableInstruction) -> sa.ColumnElement[bool]:
    """Rows still to change: at least one named column differs from what the change sets (IS DISTINCT FROM; a
    keyed hash not yet applied). A row already changed is not selected again: a second run changes nothing."""
    if change.action == TableAction.DELETE:
        return sa.true()
    conditions = []
    if change.action == TableAction.ANONYMISE:
        for item in change.fields:
            column = table.c[item.column]
            text = isinstance(column.type, sa.String)
            if item.strategy == FieldStrategy.NULL:
                parts = [column.is_not(None)] if column.nullable else []
                if text:
                    parts.append(column != "")
                conditions.append(sa.and_(*parts) if parts else sa.false())
            elif item.strategy == FieldStrategy.FIXED:
                conditions.append(column.is_distinct_from(item.value))
            else:
                conditions.append(
                    sa.and_(
                        column.is_not(None),
                        column != "",
                        sa.not_(column.startswith(KEYED_HASH_PREFIX, autoescape=True)),
                    )
                )
    else:
        for name, value in change.values.items():
            conditions.append(table.c[name].is_distinct_from(value))
    return sa.or_(*conditions) if conditions else sa.false()


def _streams(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg2"


def _hashed_columns(change: TableInstruction) -> list[str]:
    return [item.column for item in change.fields if item.strategy == FieldStrategy.KEYED_HASH]


def _recover_batch(engine: Engine, table: sa.Table, key: sa.Column, where: list, writing: dict, after: Any) -> Any:
    """A run resumed after a crash while a batch was being written (``writing``: its key range and rows): when none
    of the person's rows in that range is still to change, the batch was committed; returns the key to carry on
    after (the batch's last key then, else ``after`` unchanged: the batch was not committed and is picked again)."""
    last = writing.get("last")
    rows = writing.get("rows")
    if last is None or not isinstance(rows, int) or rows <= 0:
        return after
    lower = writing.get("after")
    bounds = [key <= last] if lower is None else [key > lower, key <= last]
    with engine.connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).select_from(table).where(*where, *bounds)).scalar_one()
    return last if left == 0 else after


def _stream_batches(
    engine: Engine, table: sa.Table, key: sa.Column, change: TableInstruction, where: list, batch: int
) -> Iterator[list[tuple]]:
    """The rows ``where`` picks (key, then the columns to hash), in key order, ``batch`` at a time, from a
    server-side cursor on a connection of its own (read only, rolled back when done or abandoned)."""
    columns = [key, *(table.c[name] for name in _hashed_columns(change))]
    statement = sa.select(*columns).where(*where).order_by(key)
    with engine.connect() as reader:
        result = reader.execution_options(stream_results=True, yield_per=batch).execute(statement)
        for partition in result.partitions(batch):
            yield [tuple(row) for row in partition]


def _write_by_key(
    connection: sa.Connection,
    table: sa.Table,
    key: sa.Column,
    change: TableInstruction,
    instruction: ChangeInstruction,
    chunk: list[tuple],
    pending: sa.ColumnElement[bool],
) -> int:
    """One PostgreSQL statement for a batch read by ``_stream_batches``: ``... WHERE key = ANY(keys[])`` (still to
    change: a row another run changed meanwhile is left alone), or, with keyed hashes, ``UPDATE ... FROM
    unnest(keys[], hashes[])``."""
    hashed = _hashed_columns(change)
    keys = [row[0] for row in chunk]
    by_key = key == sa.any_(sa.bindparam("dsar_keys", keys, type_=postgresql.ARRAY(key.type)))
    if change.action == TableAction.DELETE:
        return connection.execute(sa.delete(table).where(by_key)).rowcount
    if change.action in (TableAction.UPDATE, TableAction.FLAG):
        return connection.execute(sa.update(table).where(by_key, pending).values(dict(change.values))).rowcount
    plain = {
        item.column: _emptied(table.c[item.column]) if item.strategy == FieldStrategy.NULL else item.value
        for item in change.fields
        if item.strategy != FieldStrategy.KEYED_HASH
    }
    if not hashed:
        return connection.execute(sa.update(table).where(by_key, pending).values(plain)).rowcount
    if not instruction.hash_key:
        raise ConnectorError("The change needs the key for keyed hashes, and none was given.")
    lengths = [table.c[name].type.length for name in hashed]
    arrays: dict[str, list] = {"dsar_keys": keys}
    for n, length in enumerate(lengths):
        arrays[f"dsar_{n}"] = [
            keyed_hash(instruction.hash_key, str(value), max_length=length)
            if value and not str(value).startswith(KEYED_HASH_PREFIX)
            else value
            for value in (row[1 + n] for row in chunk)
        ]
    batch_table = (
        sa.func.unnest(
            sa.bindparam("dsar_keys", type_=postgresql.ARRAY(key.type)),
            *(sa.bindparam(f"dsar_{n}", type_=postgresql.ARRAY(table.c[name].type)) for n, name in enumerate(hashed)),
        )
        .table_valued("dsar_key", *(f"dsar_{n}" for n in range(len(hashed))))
        .render_derived(name="dsar_batch")
    )
    assignments = {name: batch_table.c[f"dsar_{n}"] for n, name in enumerate(hashed)}
    statement = sa.update(table).where(key == batch_table.c.dsar_key).values({**plain, **assignments})
    return connection.execute(statement, arrays).rowcount


def _change_batch(
    connection: sa.Connection,
    table: sa.Table,
    key: sa.Column,
    change: TableInstruction,
    instruction: ChangeInstruction,
    where: list[sa.ColumnElement[bool]],
    batch: int,
) -> tuple[list[Any], int]:
    """The next batch: at most ``batch`` of the rows ``where`` picks, in key order, changed by one set-based
    statement (two where keyed hashes are computed here). Returns the batch's keys and the rows changed."""
    chosen = sa.select(key).where(*where).order_by(key).limit(batch)
    hashed = [item.column for item in change.fields if item.strategy == FieldStrategy.KEYED_HASH]
    plain = {
        item.column: _emptied(table.c[item.column]) if item.strategy == FieldStrategy.NULL else item.value
        for item in change.fields
        if item.strategy != FieldStrategy.KEYED_HASH
    }
    if change.action in (TableAction.UPDATE, TableAction.FLAG):
        plain = dict(change.values)
    dialect = connection.dialect
    if not hashed:
        if change.action == TableAction.DELETE:
            statement = sa.delete(table)
            returning = dialect.delete_returning
        else:
            statement = sa.update(table).values(plain)
            returning = dialect.update_returning
        if returning:
            # One statement: UPDATE/DELETE ... WHERE key IN (SELECT key ... ORDER BY key LIMIT n) RETURNING key.
            keys = list(connection.execute(statement.where(key.in_(chosen)).returning(key)).scalars())
            return sorted(keys), len(keys)
        keys = list(connection.execute(chosen).scalars())
        if not keys:
            return [], 0
        return keys, connection.execute(statement.where(key.in_(keys))).rowcount
    if not instruction.hash_key:
        raise ConnectorError("The change needs the key for keyed hashes, and none was given.")
    current = connection.execute(
        sa.select(key, *(table.c[name] for name in hashed)).where(*where).order_by(key).limit(batch)
    ).all()
    if not current:
        return [], 0
    lengths = [table.c[name].type.length for name in hashed]
    data = [
        (
            row[0],
            *(
                keyed_hash(instruction.hash_key, str(value), max_length=length)
                if value and not str(value).startswith(KEYED_HASH_PREFIX)
                else value
                for value, length in zip(row[1:], lengths, strict=True)
            ),
        )
        for row in current
    ]
    keys = [row[0] for row in current]
    if dialect.name == "postgresql":
        # UPDATE ... FROM unnest(keys[], hashes[]) AS batch(key, hash) WHERE key = batch.key: one statement, the
        # batch's values sent as one array per column (cheap to send and to plan, whatever the batch size).
        arrays = {"dsar_keys": keys, **{f"dsar_{n}": [row[1 + n] for row in data] for n in range(len(hashed))}}
        batch_table = (
            sa.func.unnest(
                sa.bindparam("dsar_keys", type_=postgresql.ARRAY(key.type)),
                *(
                    sa.bindparam(f"dsar_{n}", type_=postgresql.ARRAY(table.c[name].type))
                    for n, name in enumerate(hashed)
                ),
            )
            .table_valued("dsar_key", *(f"dsar_{n}" for n in range(len(hashed))))
            .render_derived(name="dsar_batch")
        )
        assignments = {name: batch_table.c[f"dsar_{n}"] for n, name in enumerate(hashed)}
        statement = sa.update(table).where(key == batch_table.c.dsar_key).values({**plain, **assignments})
        return keys, connection.execute(statement, arrays).rowcount
    # Elsewhere (SQLite in the tests): one UPDATE with a CASE per hashed column.
    assignments = {
        name: sa.case({row[0]: row[1 + n] for row in data}, value=key, else_=table.c[name])
        for n, name in enumerate(hashed)
    }
    statement = sa.update(table).where(key.in_(keys)).values({**plain, **assignments})
    return keys, connection.execute(statement).rowcount


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
