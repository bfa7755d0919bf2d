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

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import DatabaseError, connections, models
from django.db.models import Q, QuerySet

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

DEFAULT_CHUNK_SIZE = 2000


@dataclass(frozen=True)
class _Table:
    name: str
    model: type[models.Model]
    columns: list[str]
    via: str
    match: dict[str, str]
    provided_or_observed: bool
    description: str


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


def _model_at(model: type[models.Model], path: str) -> type[models.Model]:
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if not field.is_relation or field.related_model is None:
            raise FieldError(part)
        model = field.related_model
    return model


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
DEMOCRM_CONFIG: dict[str, Any] = {
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
        },
        {
            "name": "order_lines",
            "model": "democrm.OrderLine",
            "via": "order__customer",
            "columns": ["order__order_number", "sku", "description", "quantity", "unit_price"],
            "description": "What each order contained.",
        },
        {
            "name": "marketing_preferences",
            "model": "democrm.MarketingPreference",
            "via": "customer",
            "columns": ["channel", "consent", "changed_at", "source"],
            "description": "Your marketing choices and when you made them.",
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
    ]
}
