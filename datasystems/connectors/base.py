"""The one interface every connector offers, and how the portal finds the connector for a data system.

A data system in the register names a connector by key (``settings.DSAR_CONNECTORS``, dotted paths, pluggable like
the verification methods) and stores its configuration. The configuration never holds a secret: it names the
environment variables that do. A connector is asked to search for one person by the identifiers the portal holds
and answers with what it searched, which identifiers it used, and the tables it found, rows streamed.

UK GDPR Art. 15(1A) (Data (Use and Access) Act 2025): a controller need only make a reasonable and proportionate
search; the search record built from a ``SearchOutcome`` is how the portal shows it made one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

IDENTIFIER_FIELDS = ("email", "phone", "customer_id", "name")


class ConnectorError(Exception):
    """Permanent: the configuration is wrong (an unknown table or column, a missing setting). The job fails with this
    message, which is written for staff and never holds personal data or a secret."""


class ConnectorTemporaryError(ConnectorError):
    """Transient: the system did not answer in time, or refused the connection. The job retries with backoff."""


class SearchPending(Exception):  # noqa: N818 (not an error: the search goes on elsewhere)
    """The system accepted the search and will answer later, by a signed callback (an HTTP connector answering 202).

    Not a ConnectorError: the job neither fails nor retries. It records ``token`` (the system's callback token; the
    callback's payload carries it as ``callback_token``, see ``datasystems.webhooks.verify_callback``) and
    ``request_id`` (the opaque id the portal sent), and waits for the callback. ``expected_by`` is when the system
    said it would answer, if it said. Nothing here is personal data.
    """

    def __init__(self, token: str, *, request_id: str = "", expected_by: datetime | None = None) -> None:
        super().__init__("The system will answer later by a signed callback.")
        self.token = token
        self.request_id = request_id
        self.expected_by = expected_by


@dataclass(frozen=True)
class SearchContext:
    """What a connector that talks to another system may send about the request besides the identifiers.

    ``search_id`` is opaque and stable for one search (the job's id), so a retried search is recognised by the
    system as the same one; ``reference`` is the portal's case reference, sent only where a system's configuration
    asks for it (data minimisation, GDPR Art. 5(1)(c)). ``callback_url`` is where a system that answers later posts
    its signed answer (the job's random public id is in it, never a sequential key).
    """

    request_type: str = "access"  # "access" (Art. 15) or "portability" (Art. 20)
    search_id: str = ""
    reference: str = ""
    submitted_at: datetime | None = None
    callback_url: str = ""


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    """Digits only, keeping a leading + (``07700 900001`` and ``07700-900001`` are one number)."""
    value = value.strip()
    digits = re.sub(r"\D", "", value)
    return f"+{digits}" if value.startswith("+") and digits else digits


@dataclass(frozen=True)
class Identifiers:
    """What finds a person in a system; all optional. Build with ``Identifiers.of(...)`` to normalise them."""

    email: str = ""
    phone: str = ""
    customer_id: str = ""
    name: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        *,
        email: str = "",
        phone: str = "",
        customer_id: str = "",
        name: str = "",
        extra: Mapping[str, str] | None = None,
    ) -> Identifiers:
        return cls(
            email=normalise_email(email),
            phone=normalise_phone(phone),
            customer_id=customer_id.strip(),
            name=" ".join(name.split()),
            extra={key: value.strip() for key, value in (extra or {}).items() if value and value.strip()},
        )

    def get(self, key: str) -> str:
        """The value of a named identifier (a field, or a key of ``extra``), or "" when the portal has none."""
        if key in IDENTIFIER_FIELDS:
            return getattr(self, key)
        return self.extra.get(key, "")

    def __repr__(self) -> str:
        # Never the values: a repr ends up in tracebacks and logs.
        present = [key for key in (*IDENTIFIER_FIELDS, *self.extra) if self.get(key)]
        return f"Identifiers(present={present})"


@dataclass(frozen=True)
class PostgresSource:
    """The same rows as a table's ``rows``, as a query the part writer can hand to PostgreSQL's COPY, so that the
    database writes the JSON and CSV and Python stays off the per-row path (issue 12, "Speed and memory").

    ``connection`` opens a DB-API (psycopg2) connection to the database the rows live in, inside a transaction
    that is rolled back when the block ends (the writer only reads); ``sql`` is the SELECT, with ``%s`` or
    ``%(name)s`` placeholders, that returns the table's columns in order; ``params`` its values. The values are
    bound by the driver, never written into the SQL by a connector; table and column names come from the
    register's configuration. A connector offers this only where the database is PostgreSQL.
    """

    connection: Callable[[], AbstractContextManager[Any]]
    sql: str
    params: Sequence[Any] | Mapping[str, Any]


@dataclass
class TableResult:
    """One table (or collection) found for the person."""

    name: str
    columns: list[str]
    rows: Iterable[Sequence]  # may be a generator: streamed, never materialised (a person may have millions of rows)
    row_count: int | None = None
    # GDPR Art. 20(1) and EDPB WP242 rev.01 s.2: portability covers data the person provided, observed data
    # included; inferred or derived data is False here (it is still in an access answer, Art. 15).
    provided_or_observed: bool = True
    description: str = ""
    # Optional: the rows as a PostgreSQL query, for the COPY fast path. ``rows`` stays the reference: whoever does
    # not know this (or whose database is not PostgreSQL) iterates ``rows``, with the same result.
    postgres: PostgresSource | None = None


@dataclass
class SearchOutcome:
    identifiers_used: list[str]  # the names of the identifier fields used (never their values)
    tables: list[TableResult]
    searched: bool = True
    not_searched_reason: str = ""

    @classmethod
    def no_identifier_known(cls, searched_by: Sequence[str]) -> SearchOutcome:
        """Not searched: the portal holds none of the identifiers this system is searched by (the reason goes in the
        search record, UK GDPR Art. 15(1A): a search that could not be made is recorded, with why)."""
        return cls(
            identifiers_used=[],
            tables=[],
            searched=False,
            not_searched_reason=(
                "None of the identifiers this system is searched by (" + ", ".join(searched_by) + ") is known for "
                "the person."
            ),
        )


@runtime_checkable
class Connector(Protocol):
    kind: str  # "demo_app" | "sql" | "http" | "manual"

    def __init__(self, config: Mapping[str, Any]) -> None: ...

    def check(self) -> None:
        """Raise ConnectorError (ConnectorTemporaryError when unreachable) with a safe message if misconfigured."""

    def search(self, identifiers: Identifiers) -> SearchOutcome:
        """Find the person's data; tables come back with rows streamed. A connector that sends the search to another
        system (http) also takes a keyword-only ``context: SearchContext`` and may raise SearchPending."""


def connector_keys() -> list[str]:
    """The connector kinds this installation offers (the keys of ``settings.DSAR_CONNECTORS``)."""
    return list(getattr(settings, "DSAR_CONNECTORS", {}))


def connector_for(key: str, config: Mapping[str, Any]) -> Connector:
    """The connector named ``key`` in ``settings.DSAR_CONNECTORS``, built with the data system's ``config``."""
    path = getattr(settings, "DSAR_CONNECTORS", {}).get(key)
    if not path:
        raise ConnectorError(f"No connector called {key!r} is configured (settings.DSAR_CONNECTORS).")
    try:
        connector_class = import_string(path)
    except ImportError:
        raise ConnectorError(f"The connector {key!r} names a class that cannot be imported: {path}.")
    if not isinstance(config, Mapping):
        raise ConnectorError(f"The configuration of a {key!r} connector must be an object.")
    return connector_class(config)


def config_list(config: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """A list of objects from a connector's configuration, or ConnectorError with a message saying what is wrong."""
    value = config.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(item, Mapping) for item in value):
        raise ConnectorError(f"The configuration needs {key!r}: a non-empty list of objects.")
    return value


def config_match(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A table's ``match``: which identifier finds the person in which column (``{"email": "email_address"}``)."""
    match = table.get("match")
    if not isinstance(match, Mapping) or not match:
        raise ConnectorError(f"{where} needs 'match': which identifier is looked up in which column.")
    for identifier in match:
        if not isinstance(identifier, str) or not identifier:
            raise ConnectorError(f"{where}: 'match' keys must be identifier names such as 'email'.")
    return dict(match)
