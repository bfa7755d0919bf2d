"""The connector for an application inside this project (the demo organisation's CRM, ``democrm``): it searches the
application's models through the Django ORM, mapped by configuration.

Configuration (stored on the data system; no secrets needed, the models live in the portal's own database)::

    {"chunk_size": 2000,
     "tables": [
        {"name": "customers", "model": "democrm.Customer",
         "match": {"email": "email", "customer_id": "customer_number", "phone": "phone"},
         "columns": ["customer_number", "name", "email", ...], "description": "..."},
        {"name": "orders", "model": "democrm.Order", "via": "customer", "columns": [...]},
        {"name": "order_lines", "model": "democrm.OrderLine", "via": "order__customer",
         "columns": ["order__order_number", "sku", ...]},
        {"name": "insights", "model": "democrm.CustomerInsight", "via": "customer", "provided_or_observed": false}]}

Exactly one table has ``match``: the person's own record, found by any of the identifiers the portal holds for them
(each one verified by the identity step before a search runs). Every other table names ``via``, the path from its
model to that record. Columns may follow relations (``order__order_number``); without ``columns``, every plain field
but the keys. Rows are streamed from a server-side cursor in chunks, never loaded whole.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import DatabaseError, connections, models, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

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

DEFAULT_CHUNK_SIZE = 2000
# The item of a change outcome that records a stored supplementary statement (GDPR Art. 16).
STATEMENT = "supplementary_statement"


@dataclass(frozen=True)
class _Table:
    name: str
    model: type[models.Model]
    columns: list[str]
    via: str
    match: dict[str, str]
    provided_or_observed: bool
    description: str
    entry: Mapping[str, Any]


def _model(label: Any, where: str) -> type[models.Model]:
    if not isinstance(label, str) or label.count(".") != 1:
        raise ConnectorError(f"{where}: 'model' must be an 'app_label.ModelName'.")
    try:
        return apps.get_model(label)
    except LookupError:
        raise ConnectorError(f"{where}: there is no model {label}.")


def _default_columns(model: type[models.Model]) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if not field.primary_key and not field.is_relation]


class DemoAppConnector:
    """Searches an application of this project through its models (connector kind 1 of issue 12)."""

    kind = "demo_app"
    # Its check reads this project's models only, so the register's form runs it on every save (sql and http
    # checks reach the system over the network, so a save does not wait on them).
    checks_offline = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._tables: list[_Table] | None = None

    # --- configuration ------------------------------------------------------------------------------------------

    @property
    def chunk_size(self) -> int:
        value = self.config.get("chunk_size", DEFAULT_CHUNK_SIZE)
        if not isinstance(value, int) or value < 1:
            raise ConnectorError("'chunk_size' must be a positive whole number.")
        return value

    def tables(self) -> list[_Table]:
        if self._tables is None:
            self._tables = self._parse()
        return self._tables

    def _parse(self) -> list[_Table]:
        tables: list[_Table] = []
        names: set[str] = set()
        for position, entry in enumerate(config_list(self.config, "tables"), start=1):
            name = entry.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ConnectorError(f"Table {position} needs a 'name'.")
            where = f"Table {name!r}"
            if name in names:
                raise ConnectorError(f"{where} is configured twice.")
            names.add(name)
            model = _model(entry.get("model"), where)
            columns = entry.get("columns") or _default_columns(model)
            if not isinstance(columns, list) or not all(isinstance(column, str) and column for column in columns):
                raise ConnectorError(f"{where}: 'columns' must be a list of field names.")
            via = entry.get("via", "")
            match = config_match(entry, where) if "match" in entry else {}
            if not isinstance(via, str) or bool(via) == bool(match):
                raise ConnectorError(f"{where} needs either 'match' (the person's own record) or 'via', not both.")
            tables.append(
                _Table(
                    name=name,
                    model=model,
                    columns=list(columns),
                    via=via,
                    match={key: str(value) for key, value in match.items()},
                    provided_or_observed=bool(entry.get("provided_or_observed", True)),
                    description=str(entry.get("description", "")),
                    entry=entry,
                )
            )
        people = [table for table in tables if table.match]
        if len(people) != 1:
            raise ConnectorError(
                "Exactly one table needs 'match': the person's own record, found by their identifiers."
            )
        person = people[0]
        for table in tables:
            self._validate(table, person)
        return tables

    def _validate(self, table: _Table, person: _Table) -> None:
        """Build each query once without running it: Django refuses unknown fields and lookups."""
        where = f"Table {table.name!r}"
        try:
            for path in table.match.values():
                table.model.objects.filter(**{path: ""}).query.sql_with_params()
            if table.via:
                related = table.model.objects.filter(**{f"{table.via}__in": person.model.objects.values("pk")})
                related.query.sql_with_params()
                target = _model_at(table.model, table.via)
                if target is not person.model:
                    raise ConnectorError(f"{where}: 'via' must lead to {person.model._meta.label}.")
            table.model.objects.values_list(*table.columns).query.sql_with_params()
        except (FieldError, FieldDoesNotExist, ValueError, TypeError) as error:
            raise ConnectorError(f"{where}: a column, match or via path names no field ({type(error).__name__}).")

    # --- the interface ------------------------------------------------------------------------------------------

    def check(self) -> None:
        self.tables()
        self.chunk_size  # noqa: B018 (validates)
        self._check_changes()

    def search(self, identifiers: Identifiers) -> SearchOutcome:
        tables = self.tables()
        person = next(table for table in tables if table.match)
        used = [key for key in person.match if identifiers.get(key)]
        if not used:
            return SearchOutcome.no_identifier_known(person.match)
        found = Q()
        for key in used:
            found |= Q(**{person.match[key]: identifiers.get(key)})
        people = person.model.objects.filter(found).values("pk")
        chunk_size = self.chunk_size
        results = []
        for table in tables:
            if table is person:
                queryset = table.model.objects.filter(pk__in=people)
            else:
                queryset = table.model.objects.filter(**{f"{table.via}__in": people})
            rows = queryset.order_by("pk").values_list(*table.columns)
            results.append(
                TableResult(
                    name=table.name,
                    columns=list(table.columns),
                    rows=_stream(rows, chunk_size),
                    provided_or_observed=table.provided_or_observed,
                    description=table.description,
                    postgres=_postgres_source(rows),
                )
            )
        return SearchOutcome(identifiers_used=used, tables=results)

    # --- changes (issue 13: erasure, rectification, restriction, marketing objection) ---------------------------

    def _person(self) -> _Table:
        return next(table for table in self.tables() if table.match)

    def _found(self, identifiers: Identifiers) -> Q | None:
        """The person's own rows: any identifier the portal holds (each was verified before a change runs)."""
        person = self._person()
        used = [key for key in person.match if identifiers.get(key)]
        if not used:
            return None
        found = Q()
        for key in used:
            found |= Q(**{person.match[key]: identifiers.get(key)})
        return found

    def _rows(self, table: _Table, found: Q) -> QuerySet:
        person = self._person()
        if table is person:
            return table.model.objects.filter(found)
        return table.model.objects.filter(**{f"{table.via}__in": person.model.objects.filter(found).values("pk")})

    def _plan(self, instruction: ChangeInstruction) -> list[tuple[_Table, TableInstruction]]:
        """The instruction's tables, checked against the configuration, in the order they are changed: the tables
        reached through others first (deepest first), the person's own table last, so that a run started again
        after a crash still finds the person and, through them, the rest."""
        by_name = {table.name: table for table in self.tables()}
        plan: list[tuple[_Table, TableInstruction]] = []
        for change in instruction.tables:
            table = by_name.get(change.table)
            if table is None:
                raise ConnectorError(f"The change names table {change.table!r}, which this system does not have.")
            self._check_change(table, change, instruction.kind)
            plan.append((table, change))
        deleted = {table.model for table, change in plan if change.action == TableAction.DELETE}
        for table, change in plan:
            if change.action != TableAction.DELETE and table.via and deleted & set(_models_on(table.model, table.via)):
                raise ConnectorError(
                    f"Table {table.name!r} is kept or changed, but a table it belongs to is deleted: its rows would "
                    "go with it. Delete it too, or keep the table it belongs to."
                )
        plan.sort(key=lambda item: (bool(item[0].match), -len(item[0].via.split("__")) if item[0].via else 0))
        return plan

    def _check_change(self, table: _Table, change: TableInstruction, kind: ChangeKind) -> None:
        where = f"Table {table.name!r}"
        meta = table.model._meta

        def field(column: str) -> models.Field:
            try:
                found = meta.get_field(column)
            except FieldDoesNotExist:
                raise ConnectorError(f"{where}: the change names a column {column!r} the model does not have.")
            if not getattr(found, "concrete", False) or found.primary_key or found.is_relation:
                raise ConnectorError(f"{where}: {column!r} is a key or relation, which a change may not overwrite.")
            return found

        if change.action == TableAction.ANONYMISE:
            for item in change.fields:
                target = field(item.column)
                if item.strategy == FieldStrategy.NULL and not (target.null or target.empty_strings_allowed):
                    raise ConnectorError(f"{where}: {item.column!r} can be neither NULL nor empty.")
                if item.strategy != FieldStrategy.NULL and not target.empty_strings_allowed:
                    raise ConnectorError(f'{where}: {item.column!r} is not a text column: use "null".')
                if item.strategy == FieldStrategy.KEYED_HASH and not keyed_hash_fits(target.max_length):
                    raise ConnectorError(f'{where}: {item.column!r} is too short to hold a keyed hash: use "null".')
        elif change.action == TableAction.UPDATE:
            allowed = table.entry.get("rectifiable") or []
            for column in change.values:
                if column not in allowed:
                    # Art. 16 through a connector only where the register says the column may be corrected.
                    raise ConnectorError(f"{where}: {column!r} is not listed as rectifiable for this system.")
                field(column)
        elif change.action == TableAction.FLAG:
            for column in change.values:
                field(column)
            append = marketing_append(table.entry) if kind == ChangeKind.SUPPRESS_MARKETING else None
            if append:
                field(append["channels"])
                field(append["at"])

    def _statement_config(self) -> dict[str, Any] | None:
        rule = self.config.get("supplementary_statement")
        if rule is None:
            return None
        where = "'supplementary_statement'"
        if not isinstance(rule, Mapping):
            raise ConnectorError(f"{where} must be an object: model, link, text, at.")
        model = _model(rule.get("model"), where)
        try:
            link = model._meta.get_field(str(rule.get("link", "")))
            for key in ("text", "at"):
                model._meta.get_field(str(rule.get(key, "")))
        except FieldDoesNotExist:
            raise ConnectorError(f"{where}: 'link', 'text' and 'at' must name fields of {model._meta.label}.")
        if not link.is_relation or link.related_model is not self._person().model:
            raise ConnectorError(f"{where}: 'link' must lead to {self._person().model._meta.label}.")
        return {"model": model, "link": link.name, "text": rule["text"], "at": rule["at"]}

    def _check_changes(self) -> None:
        """The register's change rules are well formed and name tables and columns this system has."""
        rules_check(self.config)
        by_name = {table.name: table for table in self.tables()}
        for kind in (ChangeKind.ERASE, ChangeKind.RESTRICT, ChangeKind.SUPPRESS_MARKETING):
            self._plan(ChangeInstruction(kind=kind, tables=tables_for(self.config, kind)))
        for name, columns in rectifiable_columns(self.config).items():
            correction = TableInstruction(name, TableAction.UPDATE, values=dict.fromkeys(columns))
            self._check_change(by_name[name], correction, ChangeKind.RECTIFY)
        self._statement_config()

    def count(self, identifiers: Identifiers, instruction: ChangeInstruction) -> dict[str, int]:
        """Rows each table instruction would change, changing nothing (kept tables and backups: 0)."""
        plan = self._plan(instruction)
        found = self._found(identifiers)
        counts: dict[str, int] = {}
        for table, change in plan:
            if found is None or change.action in (TableAction.KEEP, TableAction.BEYOND_USE):
                counts[table.name] = 0
            else:
                counts[table.name] = self._pending(table, change, instruction, found).count()
        return counts

    def _pending(self, table: _Table, change: TableInstruction, instruction: ChangeInstruction, found: Q) -> QuerySet:
        """The person's rows of ``table`` still to change: a row already changed is not selected again, so a
        second run changes nothing (idempotence)."""
        rows = self._rows(table, found)
        append = marketing_append(table.entry) if instruction.kind == ChangeKind.SUPPRESS_MARKETING else None
        if append:
            # GDPR Art. 7(1): a history table keeps its rows; the latest row per channel that still differs gets a
            # new row after it.
            model = table.model
            group = [append["channels"], *(f.attname for f in model._meta.concrete_fields if f.is_relation)]
            latest = model.objects.filter(**{name: OuterRef(name) for name in group}).order_by(
                f"-{append['at']}", "-pk"
            )
            already = {column: change.values[column] for column in append["already"] if column in change.values}
            rows = rows.filter(pk=Subquery(latest.values("pk")[:1])).exclude(**already)
            if instruction.channels:
                rows = rows.filter(**{f"{append['channels']}__in": list(instruction.channels)})
            return rows
        return rows.filter(_still_to_change(table.model, change))

    def apply_change(
        self, identifiers: Identifiers, instruction: ChangeInstruction, *, progress: ChangeProgress
    ) -> ChangeOutcome:
        """Carry the instruction out in batches of ``instruction.batch_size`` rows: per batch one SELECT of the
        next primary keys after the checkpoint and one set-based statement (UPDATE ... WHERE pk IN, DELETE, a
        bulk UPDATE for keyed hashes, a bulk INSERT for appended marketing rows). The application lives in the
        portal's database, so each batch and its ``progress.batch_done`` commit together: a crash loses neither."""
        plan = self._plan(instruction)
        found = self._found(identifiers)
        checkpoint = dict(progress.checkpoint or {})
        done: list[str] = list(checkpoint.get("done", []))
        rows: dict[str, int] = dict(checkpoint.get("rows", {}))
        outcome = ChangeOutcome(tables=[])
        statement = self._statement_config() if instruction.supplementary_statement else None
        if instruction.supplementary_statement and statement is None:
            raise ConnectorError("This system has nowhere to store a supplementary statement (see its configuration).")
        if statement and found is not None and STATEMENT not in done:
            with transaction.atomic():
                added = self._statement_add(statement, instruction.supplementary_statement, found)
                done.append(STATEMENT)
                rows[STATEMENT] = added
                progress.batch_done({"done": list(done), "rows": dict(rows)}, table=STATEMENT, rows=added)
            outcome.batches += 1
        if statement:
            outcome.tables.append(TableChange(STATEMENT, TableAction.UPDATE, rows.get(STATEMENT, 0)))
        batch = max(1, instruction.batch_size)
        for table, change in plan:
            active = found is not None and change.action not in (TableAction.KEEP, TableAction.BEYOND_USE)
            if active and table.name not in done:
                after = checkpoint.get("after") if checkpoint.get("table") == table.name else None
                while True:
                    with transaction.atomic():
                        pending = self._pending(table, change, instruction, found)
                        if after is not None:
                            pending = pending.filter(pk__gt=after)
                        keys = list(pending.order_by("pk").values_list("pk", flat=True)[:batch])
                        if not keys:
                            break
                        changed = self._change_batch(table, change, instruction, keys)
                        after = keys[-1]
                        rows[table.name] = rows.get(table.name, 0) + changed
                        progress.batch_done(
                            {"done": list(done), "rows": dict(rows), "table": table.name, "after": after},
                            table=table.name,
                            rows=changed,
                        )
                    outcome.batches += 1
                    if len(keys) < batch:
                        break
                done.append(table.name)
            outcome.tables.append(TableChange(table.name, change.action, rows.get(table.name, 0)))
        return outcome

    def _change_batch(
        self, table: _Table, change: TableInstruction, instruction: ChangeInstruction, keys: list[Any]
    ) -> int:
        model = table.model
        selected = model.objects.filter(pk__in=keys)
        if change.action == TableAction.DELETE:
            _, deleted = selected.delete()
            return deleted.get(model._meta.label, 0)
        if change.action == TableAction.ANONYMISE:
            plain = {
                item.column: _emptied(model, item.column) if item.strategy == FieldStrategy.NULL else item.value
                for item in change.fields
                if item.strategy != FieldStrategy.KEYED_HASH
            }
            hashed = [item.column for item in change.fields if item.strategy == FieldStrategy.KEYED_HASH]
            if not hashed:
                return selected.update(**plain)
            if not instruction.hash_key:
                raise ConnectorError("The change needs the key for keyed hashes, and none was given.")
            objects = []
            for key, *values in selected.values_list("pk", *hashed):
                row = model(pk=key, **plain)
                for column, value in zip(hashed, values, strict=True):
                    length = model._meta.get_field(column).max_length
                    if value and not str(value).startswith(KEYED_HASH_PREFIX):
                        value = keyed_hash(instruction.hash_key, str(value), max_length=length)
                    setattr(row, column, value)
                objects.append(row)
            return model.objects.bulk_update(objects, [*plain, *hashed])
        append = marketing_append(table.entry) if instruction.kind == ChangeKind.SUPPRESS_MARKETING else None
        if append:
            now = timezone.now()
            copies = []
            for row in selected:
                row.pk = None
                row._state.adding = True
                for column, value in {**change.values, append["at"]: now}.items():
                    setattr(row, column, value)
                copies.append(row)
            return len(model.objects.bulk_create(copies))
        return selected.filter(_still_to_change(model, change)).update(**change.values)

    def _statement_add(self, statement: dict[str, Any], text: str, found: Q) -> int:
        """GDPR Art. 16: the person's supplementary statement, stored once with each of their records."""
        model = statement["model"]
        person_keys = list(self._person().model.objects.filter(found).values_list("pk", flat=True))
        added = 0
        for key in person_keys:
            link = {f"{statement['link']}_id": key}
            if not model.objects.filter(**link, **{statement["text"]: text}).exists():
                model.objects.create(**link, **{statement["text"]: text, statement["at"]: timezone.now()})
                added += 1
        return added

    def find_identifiers(
        self, hashes: Collection[str] | Mapping[str, str], hasher: Callable[[str, str], str]
    ) -> list[Identifiers]:
        """After a backup restore: the identifiers of the stored records whose keyed hashes match a tombstone's
        (the values are compared here and returned to the caller only; never logged or stored)."""
        person = self._person()
        names = list(person.match)
        wanted = set(hashes.values()) if isinstance(hashes, Mapping) else set(hashes)
        found: dict[tuple, Identifiers] = {}
        rows = person.model.objects.order_by("pk").values_list(*(person.match[name] for name in names))
        for values in _stream(rows, self.chunk_size):
            named = {name: identifier_normalised(name, value) for name, value in zip(names, values, strict=True)}
            if any(value and hasher(name, value) in wanted for name, value in named.items()):
                key = tuple(sorted(named.items()))
                found.setdefault(key, identifiers_from(named))
        return list(found.values())


def _model_at(model: type[models.Model], path: str) -> type[models.Model]:
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if not field.is_relation or field.related_model is None:
            raise FieldError(part)
        model = field.related_model
    return model


def _models_on(model: type[models.Model], path: str) -> list[type[models.Model]]:
    """The models a ``via`` path passes through, the last (the person's) included."""
    found = []
    for part in path.split("__"):
        model = model._meta.get_field(part).related_model
        found.append(model)
    return found


def _emptied(model: type[models.Model], column: str) -> Any:
    return None if model._meta.get_field(column).null else ""


def _still_to_change(model: type[models.Model], change: TableInstruction) -> Q:
    """Rows where at least one named column differs from what the change sets (``IS DISTINCT FROM``)."""
    conditions: list[Q] = []
    if change.action == TableAction.ANONYMISE:
        for item in change.fields:
            column = item.column
            target = model._meta.get_field(column)
            if item.strategy == FieldStrategy.NULL:
                condition = Q(**{f"{column}__isnull": False}) if target.null else Q()
                if target.empty_strings_allowed:
                    condition &= ~Q(**{column: ""})
            elif item.strategy == FieldStrategy.FIXED:
                condition = ~Q(**{column: item.value})
            else:
                condition = (
                    Q(**{f"{column}__isnull": False})
                    & ~Q(**{column: ""})
                    & ~Q(**{f"{column}__startswith": KEYED_HASH_PREFIX})
                )
            conditions.append(condition)
    else:
        for column, value in change.values.items():
            conditions.append(Q(**{f"{column}__isnull": False}) if value is None else ~Q(**{column: value}))
    if not conditions:
        return Q()
    return reduce(operator.or_, conditions)


def _stream(queryset: QuerySet, chunk_size: int) -> Iterator[Sequence]:
    """Rows as tuples, fetched ``chunk_size`` at a time (a server-side cursor on PostgreSQL); runs when iterated."""
    try:
        yield from queryset.iterator(chunk_size=chunk_size)
    except DatabaseError as error:
        raise ConnectorTemporaryError(
            f"The application's database failed while reading ({type(error).__name__})."
        ) from None


def _postgres_source(queryset: QuerySet) -> PostgresSource | None:
    """The queryset's SQL for the COPY fast path, where the application's database is PostgreSQL (None on SQLite,
    the embedded default, which keeps the row-by-row path). The SQL and its parameters are Django's own, compiled
    as for ``cursor.execute``: values stay parameters."""
    alias = queryset.db
    if connections[alias].vendor != "postgresql":
        return None
    sql, params = queryset.query.get_compiler(using=alias).as_sql()
    return PostgresSource(connection=lambda: _django_connection(alias), sql=sql, params=tuple(params))


@contextmanager
def _django_connection(alias: str) -> Iterator[Any]:
    """The portal's own connection (the demo application's tables live in the portal's database), inside a
    transaction that ends here, on one snapshot (REPEATABLE READ, unless an outer transaction already chose), so
    the JSON and the CSV hold the same rows. Database errors are temporary, as for the row-by-row path."""
    from django.db import transaction

    connection = connections[alias]
    try:
        outermost = not connection.in_atomic_block
        with transaction.atomic(using=alias), connection.wrap_database_errors:
            connection.ensure_connection()
            if outermost:
                with connection.connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield connection.connection
            transaction.set_rollback(True, using=alias)  # only read: nothing to keep
    except DatabaseError as error:
        raise ConnectorTemporaryError(
            f"The application's database failed while reading ({type(error).__name__})."
        ) from None


# The demo organisation's CRM, mapped: what the demo's register entry for its CRM stores as configuration.
# Its change rules (issue 13, ``datasystems.change_rules``) say what erasure, restriction, rectification and a
# marketing objection do to each table.
TAX_RECORDS = (
    "Invoices and what they were for are accounting records we must keep for six years (Companies Act 2006 s.388, "
    "VAT Regulations 1995 reg.31)."
)
DEMOCRM_CONFIG: dict[str, Any] = {
    # GDPR Art. 16: a supplementary statement is kept with the customer's record.
    "supplementary_statement": {
        "model": "democrm.SupplementaryStatement",
        "link": "customer",
        "text": "statement",
        "at": "received_at",
    },
    "tables": [
        {
            "name": "customers",
            "model": "democrm.Customer",
            "match": {"email": "email", "customer_id": "customer_number", "phone": "phone"},
            "columns": [
                "customer_number",
                "name",
                "email",
                "phone",
                "date_of_birth",
                "address_line",
                "city",
                "postcode",
                "country",
                "created",
            ],
            "description": "Your customer record: the details you gave us.",
            "erasure": {
                "action": "anonymise",
                "fields": {
                    "name": {"fixed": "Erased customer"},
                    "email": "keyed_hash",
                    "phone": "null",
                    "date_of_birth": "null",
                    "address_line": "null",
                    "city": "null",
                    "postcode": "null",
                },
                "ground": "erasure_legal_obligation",
                "reason": "Only the customer number is kept, as the account holder of the invoices we must keep. "
                + TAX_RECORDS,
            },
            "restriction": {"column": "restricted"},
            "rectifiable": ["name", "phone", "date_of_birth", "address_line", "city", "postcode", "country"],
        },
        {
            "name": "accounts",
            "model": "democrm.Account",
            "via": "customer",
            "columns": ["username", "plan", "status", "opened", "last_login"],
            "description": "Your online account.",
        },
        {
            "name": "orders",
            "model": "democrm.Order",
            "via": "customer",
            "columns": [
                "order_number",
                "placed_at",
                "status",
                "currency",
                "total",
                "delivery_address",
                "payment_reference",
            ],
            "description": "Your orders (card details are held by our payment provider, not by us).",
            "erasure": {
                "action": "anonymise",
                "fields": {"delivery_address": "null", "payment_reference": "keyed_hash"},
                "ground": "erasure_legal_obligation",
                "reason": "The orders stay, without your delivery address or payment reference. " + TAX_RECORDS,
            },
        },
        {
            "name": "order_lines",
            "model": "democrm.OrderLine",
            "via": "order__customer",
            "columns": ["order__order_number", "sku", "description", "quantity", "unit_price"],
            "description": "What each order contained.",
            "erasure": {"action": "keep", "ground": "erasure_legal_obligation", "reason": TAX_RECORDS},
        },
        {
            "name": "marketing_preferences",
            "model": "democrm.MarketingPreference",
            "via": "customer",
            "columns": ["channel", "consent", "changed_at", "source"],
            "description": "Your marketing choices and when you made them.",
            # GDPR Art. 21(3) and 7(1): an objection appends a "no" for each channel; the history stays as evidence.
            "marketing": {
                "append": {"consent": False, "source": "Objection to direct marketing"},
                "channels": "channel",
                "at": "changed_at",
                "already": ["consent"],
            },
        },
        {
            "name": "support_tickets",
            "model": "democrm.SupportTicket",
            "via": "customer",
            "columns": ["reference", "subject", "status", "channel", "opened_at", "closed_at"],
            "description": "Your questions to customer service.",
        },
        {
            "name": "ticket_messages",
            "model": "democrm.TicketMessage",
            "via": "ticket__customer",
            "columns": ["ticket__reference", "sent_at", "author", "agent_name", "body"],
            "description": "The messages in each support conversation.",
        },
        {
            "name": "events",
            "model": "democrm.Event",
            "via": "customer",
            "columns": ["occurred_at", "kind", "path", "ip_address", "user_agent", "device", "time_zone", "session_id"],
            "description": "What our website and app recorded of your visits (observed data).",
        },
        {
            "name": "insights",
            "model": "democrm.CustomerInsight",
            "via": "customer",
            "columns": ["computed_at", "segment", "churn_risk", "predicted_annual_value", "model_version"],
            "provided_or_observed": False,
            "description": "What we worked out about you from your orders and visits (inferred, not provided).",
        },
        {
            "name": "marketing_profiles",
            "model": "democrm.MarketingProfile",
            "via": "customer",
            "columns": ["segment", "offer_propensity", "computed_at", "model_version", "profiling_stopped"],
            "provided_or_observed": False,
            "description": "The marketing segment we put you in and our estimate of how likely you are to take up "
            "an offer (inferred, not provided).",
            # GDPR Art. 21(2)-(3): profiling related to direct marketing stops; the segment and score are cleared.
            "marketing": {
                "set": {"profiling_stopped": True, "segment": "", "offer_propensity": None},
                "channel": "profiling",
            },
        },
        {
            "name": "ad_audiences",
            "model": "democrm.AdAudienceMember",
            "via": "customer",
            "columns": ["audience", "platform", "email_sha256", "added_at", "excluded"],
            "description": "The advertising audiences we upload your hashed e-mail address to, so that the "
            "advertising platform shows you our ads.",
            # GDPR Art. 21(3): excluded, so the next sync removes the person from the platform's audience.
            "marketing": {"set": {"excluded": True}, "channel": "audiences"},
        },
    ],
}
