"""The connector for a system with an API (connector kind 3 of issue 12): the portal POSTs a signed search request to
the system's endpoint and the system answers with the person's data, at once or later by a signed callback.

Configuration (stored on the data system; the signing secret is read from the environment variable it names, never
stored)::

    {"url": "https://crm.example.com/dsar/search", "secret_env": "CRM_WEBHOOK_SECRET",
     "identities": ["email", "customer_id"], "send_reference": false, "verify_answers": true,
     "timeout": 120, "max_answer_bytes": 67108864}

The request is signed per Standard Webhooks (headers ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``,
see ``datasystems.webhooks``) and its body follows the OpenDSR field names where they fit::

    {"request_id": "<opaque>", "subject_request_type": "access" | "portability", "submitted_time": "<ISO 8601>",
     "status_callback_urls": ["https://portal.example.org/api/connectors/<job public id>/callback/"],
     "subject_identities": [{"identity_type": "email", "identity_value": "...", "identity_format": "raw"}]}

``request_id`` is opaque (the job's search id) unless ``send_reference`` asks for the portal's case reference.
``identities`` names the identifiers sent (default: the e-mail address only, GDPR Art. 5(1)(c)); they go as OpenDSR
identity types (``customer_id`` as ``controller_customer_id``; ``phone`` as ``phone_number``; others by name).

The system answers, synchronously, 200 with::

    {"tables": [{"name": "customers", "columns": ["id", "email"], "rows": [[1, "a@example.com"]],
                 "provided_or_observed": true, "description": "..."}]}

checked strictly (``tables_from_answer``) and signed the same way when ``verify_answers`` is set; or 202 with
``{"callback_token": "...", "expected_completion_time": "<ISO 8601>"}``, raised as ``SearchPending``; the later
callback is verified by ``datasystems.webhooks.verify_callback`` and its payload (``callback_token``, ``request_id``
and ``tables``) read by ``tables_from_answer``.

An answer is one JSON document, read whole (up to ``max_answer_bytes``, default
``settings.DSAR_CONNECTOR_HTTP_MAX_BYTES``) and within ``timeout`` seconds for the whole exchange; a system with more
data than that is searched through another connector kind. Redirects are not followed; the standard library's HTTP
client is used, with certificate checks and the environment's proxy settings.

Changes (issue 13: erasure, rectification, restriction, a marketing objection) go to the same endpoint, signed the
same way, with the change instead of a search::

    {"request_id": "<the job's id>", "status_callback_urls": [...], "subject_request_type": "erasure" |
     "rectification" | "restriction" | "restriction_lift" | "marketing_objection", "submitted_time": "...",
     "dry_run": false, "subject_identities": [...],
     "changes": [{"table": "invoices", "action": "anonymise", "fields": {"address": "null", "email": "keyed_hash",
                  "name": {"fixed": "erased"}}}, {"table": "customers", "action": "update", "values": {...}}],
     "supplementary_statement": "...", "channels": ["email", "sms"]}

``dry_run: true`` asks only how many rows each table would change (``count``). The system batches on its side (the
portal's keyed-hash key is never sent: the system hashes with its own) and answers 200 with
``{"tables": [{"table": "invoices", "action": "anonymise", "rows": 12}, ...]}`` or 202 with a ``callback_token``
(raised as ``ChangePending``; the callback carries the same ``tables``).

Errors: a 5xx, a timeout or a refused connection is ConnectorTemporaryError (the job retries); a 4xx, a redirect, an
answer too large, unsigned or malformed is ConnectorError. Messages name the status and what is wrong, never the
body (it may hold personal data) or the secret. Nothing personal is logged.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from .. import webhooks
from ..change_rules import rules_check
from .base import (
    ConnectorError,
    ConnectorTemporaryError,
    Identifiers,
    SearchContext,
    SearchOutcome,
    SearchPending,
    TableResult,
)
from .changes import (
    ChangeInstruction,
    ChangeKind,
    ChangeOutcome,
    ChangePending,
    ChangeProgress,
    FieldStrategy,
    TableChange,
    TableInstruction,
)

logger = logging.getLogger(__name__)

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
REQUEST_TYPES = {"access", "portability"}
# OpenDSR identity types where one fits; the portal's own name otherwise.
IDENTITY_TYPES = {"email": "email", "customer_id": "controller_customer_id", "phone": "phone_number", "name": "name"}
MAX_TABLES = 200
MAX_COLUMNS = 1000
MAX_NAME = 200
MAX_TOKEN = 500
CHUNK = 64 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would send the signed request, identifiers included, somewhere the register does not name."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        return None


def _positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConnectorError(f"{key!r} must be a positive whole number.")
    return value


class HttpConnector:
    """Searches a system through its API, with Standard Webhooks signatures both ways."""

    kind = "http"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    # --- configuration ------------------------------------------------------------------------------------------

    def url(self) -> str:
        url = self.config.get("url")
        if not isinstance(url, str) or not url:
            raise ConnectorError("'url' must be the system's search endpoint (https://...).")
        problem = webhooks.outbound_url_problem(url)
        if problem is not None:
            # The request carries the person's identifiers and the answer their data (GDPR Art. 32(1)(a)).
            raise ConnectorError(
                {
                    "invalid": "'url' is not a valid URL.",
                    "scheme": "'url' must be an https:// URL with a host.",
                    "credentials": "'url' must not hold credentials: the request is authenticated by its signature.",
                    "insecure": "'url' must use https:// (plain http is allowed only for localhost).",
                }[problem]
            )
        return url

    def secret(self) -> str:
        """The signing secret, from the environment variable the configuration names."""
        name = self.config.get("secret_env")
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise ConnectorError("'secret_env' must name the environment variable that holds the signing secret.")
        value = os.environ.get(name, "").strip()
        if not value:
            raise ConnectorError(f"The environment variable {name} (the signing secret) is not set.")
        try:
            webhooks.check_secret(value)
        except webhooks.SecretError:
            raise ConnectorError(f"The environment variable {name} does not hold a base64 signing secret.") from None
        return value

    def identities(self) -> list[str]:
        value = self.config.get("identities", ["email"])
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(item, str) and item for item in value)
            or len(set(value)) != len(value)
        ):
            raise ConnectorError("'identities' must be a list of identifier names, such as [\"email\"].")
        return value

    def timeout(self) -> int:
        return _positive_int(self.config, "timeout", settings.DSAR_CONNECTOR_HTTP_TIMEOUT)

    def max_bytes(self) -> int:
        return _positive_int(self.config, "max_answer_bytes", settings.DSAR_CONNECTOR_HTTP_MAX_BYTES)

    def _validate(self) -> None:
        self.url()
        self.secret()
        self.identities()
        self.timeout()
        self.max_bytes()
        for key in ("send_reference", "verify_answers"):
            if not isinstance(self.config.get(key, False), bool):
                raise ConnectorError(f"{key!r} must be true or false.")
        # Issue 13: the change rules of the system's tables (sent with each change), when the register sets them.
        rules_check(self.config)

    # --- the interface ------------------------------------------------------------------------------------------

    def check(self) -> None:
        """The configuration is complete and the system's host accepts connections (no search is sent)."""
        self._validate()
        parts = urlsplit(self.url())
        port = parts.port or (443 if parts.scheme == "https" else 80)
        timeout = min(self.timeout(), settings.DSAR_CONNECTOR_CONNECT_TIMEOUT)
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout).close()
        except OSError as error:
            raise ConnectorTemporaryError(f"The system's host did not accept a connection ({type(error).__name__}).")

    def search(self, identifiers: Identifiers, *, context: SearchContext | None = None) -> SearchOutcome:
        """Send the signed search and read the answer; raise SearchPending when the system will answer later."""
        self._validate()
        context = context or SearchContext()
        if context.request_type not in REQUEST_TYPES:
            raise ConnectorError("The HTTP connector searches for access or portability requests only.")
        configured = self.identities()
        used = [name for name in configured if identifiers.get(name)]
        if not used:
            return SearchOutcome.no_identifier_known(configured)
        request_id = self._request_id(context)
        # OpenDSR's status_callback_urls: where a system that answers 202 posts its signed answer later.
        callbacks = {"status_callback_urls": [context.callback_url]} if context.callback_url else {}
        body = json.dumps(
            {
                "request_id": request_id,
                **callbacks,
                "subject_request_type": context.request_type,
                "submitted_time": (context.submitted_at or datetime.now(tz=UTC)).isoformat(),
                "subject_identities": [
                    {
                        "identity_type": IDENTITY_TYPES.get(name, name),
                        "identity_value": identifiers.get(name),
                        "identity_format": "raw",
                    }
                    for name in used
                ],
            },
            ensure_ascii=False,
        ).encode()
        status, headers, answer = self._post(body)
        if self.config.get("verify_answers", False):
            # Both answers: a forged 202 would leave the search waiting for a callback that never comes.
            try:
                webhooks.verify_signature(headers, answer, self.secret())
            except webhooks.SignatureError as error:
                raise ConnectorError(f"The system's answer failed its signature check: {error}") from None
        if status == 202:
            raise _pending(answer, request_id)
        try:
            payload = json.loads(answer)
        except ValueError:
            raise ConnectorError("The system's answer is not JSON.") from None
        if isinstance(payload, dict) and "request_id" in payload and payload["request_id"] != request_id:
            raise ConnectorError("The system's answer is for another request (its request_id differs).")
        tables = tables_from_answer(payload)
        logger.info("HTTP connector: %d table(s) in the answer.", len(tables))
        return SearchOutcome(identifiers_used=used, tables=tables)

    # --- changes (issue 13: erasure, rectification, restriction, marketing objection) ---------------------------

    def _change_body(
        self, identifiers: Identifiers, instruction: ChangeInstruction, context: SearchContext, *, dry_run: bool
    ) -> tuple[str, bytes] | None:
        used = [name for name in self.identities() if identifiers.get(name)]
        if not used:
            return None
        request_id = self._request_id(context)
        callbacks = {"status_callback_urls": [context.callback_url]} if context.callback_url and not dry_run else {}
        body = {
            "request_id": request_id,
            **callbacks,
            "subject_request_type": CHANGE_REQUEST_TYPES[instruction.kind],
            "submitted_time": (context.submitted_at or datetime.now(tz=UTC)).isoformat(),
            "dry_run": dry_run,
            "subject_identities": [
                {
                    "identity_type": IDENTITY_TYPES.get(name, name),
                    "identity_value": identifiers.get(name),
                    "identity_format": "raw",
                }
                for name in used
            ],
            "changes": [_change_json(change) for change in instruction.tables],
        }
        if instruction.supplementary_statement:
            body["supplementary_statement"] = instruction.supplementary_statement
        if instruction.channels:
            body["channels"] = list(instruction.channels)
        return request_id, json.dumps(body, ensure_ascii=False).encode()

    def _exchange(self, body: bytes) -> tuple[int, bytes]:
        status, headers, answer = self._post(body)
        if self.config.get("verify_answers", False):
            try:
                webhooks.verify_signature(headers, answer, self.secret())
            except webhooks.SignatureError as error:
                raise ConnectorError(f"The system's answer failed its signature check: {error}") from None
        return status, answer

    def count(
        self, identifiers: Identifiers, instruction: ChangeInstruction, *, context: SearchContext | None = None
    ) -> dict[str, int]:
        """Ask the system how many rows each table instruction would change (``"dry_run": true``, nothing changes);
        it must answer at once."""
        self._validate()
        prepared = self._change_body(identifiers, instruction, context or SearchContext(), dry_run=True)
        if prepared is None:
            return {change.table: 0 for change in instruction.tables}
        _, body = prepared
        status, answer = self._exchange(body)
        if status == 202:
            raise ConnectorError("The system must answer a count at once (it answered 202).")
        outcome = changes_from_answer(_json(answer), instruction)
        return {table.table: table.rows for table in outcome.tables}

    def apply_change(
        self,
        identifiers: Identifiers,
        instruction: ChangeInstruction,
        *,
        progress: ChangeProgress,
        context: SearchContext | None = None,
    ) -> ChangeOutcome:
        """Send the signed change to the system; 200 with per-table results, or 202 (raised as ChangePending: the
        system answers by a signed callback, read with ``changes_from_answer``). The system batches on its side;
        ``context.search_id`` (the job's id) is sent as ``request_id`` so a retried change is recognised as the
        same one. A run started again after the answer was recorded does not send it again."""
        self._validate()
        checkpoint = progress.checkpoint or {}
        if checkpoint.get("answered"):
            recorded = checkpoint.get("rows", {})
            return ChangeOutcome(
                tables=[TableChange(c.table, c.action, int(recorded.get(c.table, 0))) for c in instruction.tables]
            )
        prepared = self._change_body(identifiers, instruction, context or SearchContext(), dry_run=False)
        if prepared is None:
            return ChangeOutcome(tables=[TableChange(c.table, c.action, 0) for c in instruction.tables])
        request_id, body = prepared
        status, answer = self._exchange(body)
        if status == 202:
            pending = _pending(answer, request_id)
            raise ChangePending(pending.token, request_id=request_id)
        payload = _json(answer)
        if isinstance(payload, dict) and "request_id" in payload and payload["request_id"] != request_id:
            raise ConnectorError("The system's answer is for another request (its request_id differs).")
        outcome = changes_from_answer(payload, instruction)
        rows = {table.table: table.rows for table in outcome.tables}
        for table in outcome.tables:
            progress.batch_done({"answered": True, "rows": rows}, table=table.table, rows=table.rows)
        outcome.batches = len(outcome.tables)
        logger.info("HTTP connector: the system changed %d row(s) in %d table(s).", outcome.rows, len(outcome.tables))
        return outcome

    # --- the exchange -------------------------------------------------------------------------------------------

    def _request_id(self, context: SearchContext) -> str:
        if self.config.get("send_reference", False) and context.reference:
            return context.reference
        return context.search_id or uuid.uuid4().hex

    def _post(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        url = self.url()
        timeout = self.timeout()
        limit = self.max_bytes()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "dsar-portal",
            **webhooks.sign(body, self.secret()),
        }
        # url() allowed only http(s) URLs; the opener has no redirect handler that could lead elsewhere.
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ssl.create_default_context()), _NoRedirect
        )
        deadline = time.monotonic() + timeout
        try:
            response = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()  # the body is never read: it may echo the request
            if status >= 500:
                raise ConnectorTemporaryError(f"The system answered {status} (a server error); will try again.")
            if 300 <= status < 400:
                raise ConnectorError(f"The system answered {status} (a redirect); the connector does not follow it.")
            raise ConnectorError(f"The system refused the search: it answered {status}.")
        except TimeoutError:
            raise ConnectorTemporaryError("The system did not answer in time.") from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, ssl.SSLError):
                raise ConnectorError(f"The system's TLS certificate or connection failed ({type(reason).__name__}).")
            raise ConnectorTemporaryError(f"The system could not be reached ({type(reason).__name__}).") from None
        except (OSError, ValueError) as error:
            raise ConnectorTemporaryError(f"The system could not be reached ({type(error).__name__}).") from None
        with response:
            status = response.status
            if status not in (200, 202):
                raise ConnectorError(f"The system answered {status}; the connector expects 200 or 202.")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise ConnectorError(f"The system's answer is larger than the limit ({limit} bytes).")
            received = bytearray()
            try:
                while chunk := response.read1(CHUNK):
                    received += chunk
                    if len(received) > limit:
                        raise ConnectorError(f"The system's answer is larger than the limit ({limit} bytes).")
                    if time.monotonic() > deadline:
                        raise ConnectorTemporaryError("The system did not finish its answer in time.")
            except TimeoutError:
                raise ConnectorTemporaryError("The system did not finish its answer in time.") from None
            except (OSError, ValueError) as error:
                raise ConnectorTemporaryError(f"The system's answer broke off ({type(error).__name__}).") from None
            return status, dict(response.headers.items()), bytes(received)


# The change kinds as sent to a system (OpenDSR's request types where one fits).
CHANGE_REQUEST_TYPES = {
    ChangeKind.ERASE: "erasure",
    ChangeKind.RECTIFY: "rectification",
    ChangeKind.RESTRICT: "restriction",
    ChangeKind.LIFT_RESTRICTION: "restriction_lift",
    ChangeKind.SUPPRESS_MARKETING: "marketing_objection",
}


def _change_json(change: TableInstruction) -> dict[str, Any]:
    item: dict[str, Any] = {"table": change.table, "action": str(change.action)}
    if change.fields:
        item["fields"] = {
            field.column: {"fixed": field.value} if field.strategy == FieldStrategy.FIXED else str(field.strategy)
            for field in change.fields
        }
    if change.values:
        item["values"] = dict(change.values)
    return item


def _json(answer: bytes) -> Any:
    try:
        return json.loads(answer)
    except ValueError:
        raise ConnectorError("The system's answer is not JSON.") from None


def changes_from_answer(payload: Any, instruction: ChangeInstruction) -> ChangeOutcome:
    """A system's answer to a change (synchronous, or a callback's payload), checked strictly:
    ``{"tables": [{"table": "customers", "action": "delete", "rows": 1}, ...]}`` (the form the change engine's
    callback reads too), one entry per table of the instruction, each with the whole number of rows changed
    (``action`` optional; when given, the instruction's). Anything else is a ConnectorError naming what is wrong,
    never a value."""
    if not isinstance(payload, dict) or not isinstance(payload.get("tables"), list):
        raise ConnectorError("The system's answer must be a JSON object with a 'tables' list.")
    asked = {change.table: change for change in instruction.tables}
    rows: dict[str, int] = {}
    for position, table in enumerate(payload["tables"], start=1):
        where = f"Table {position} of the system's answer"
        if not isinstance(table, dict) or set(table) - {"table", "rows", "action"}:
            raise ConnectorError(f"{where} must be an object with 'table' and 'rows'.")
        name, count = table.get("table"), table.get("rows")
        if not isinstance(name, str) or name not in asked:
            raise ConnectorError(f"{where} names a table the change did not ask about.")
        if name in rows:
            raise ConnectorError(f"{where} repeats the name of another table.")
        if "action" in table and table["action"] != asked[name].action:
            raise ConnectorError(f"{where}: its 'action' is not the one the change asked for.")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ConnectorError(f"{where}: 'rows' must be a whole number, 0 or more.")
        rows[name] = count
    missing = [name for name in asked if name not in rows]
    if missing:
        raise ConnectorError(f"The system's answer says nothing of {len(missing)} table(s) of the change.")
    return ChangeOutcome(tables=[TableChange(name, asked[name].action, rows[name]) for name in asked])


def _pending(answer: bytes, request_id: str) -> SearchPending:
    try:
        payload = json.loads(answer)
    except ValueError:
        raise ConnectorError("The system accepted the search for later, but its answer is not JSON.") from None
    token = payload.get("callback_token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN or not token.isprintable():
        raise ConnectorError("The system accepted the search for later, but gave no usable 'callback_token'.")
    expected_by = None
    raw = payload.get("expected_completion_time")
    if raw is not None:
        try:
            expected_by = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            expected_by = None
        if expected_by is None or expected_by.tzinfo is None:
            raise ConnectorError("The system's 'expected_completion_time' is not an ISO 8601 time with a zone.")
    return SearchPending(token, request_id=request_id, expected_by=expected_by)


def _is_cell(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    return isinstance(value, float) and math.isfinite(value)


def tables_from_answer(payload: Any) -> list[TableResult]:
    """The tables of a system's answer (synchronous, or a callback's payload), checked strictly.

    Each table needs a ``name`` (unique), ``columns`` (unique names), ``rows`` (lists as long as ``columns``, of
    strings, numbers, booleans or nulls), ``provided_or_observed`` (a boolean: whether the data is in scope for
    portability, GDPR Art. 20(1) and EDPB WP242 rev.01 s.2; a system must say, the portal does not guess) and an
    optional ``description``. Anything else is a ConnectorError naming the table and what is wrong, never a value.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("tables"), list):
        raise ConnectorError("The system's answer must be a JSON object with a 'tables' list.")
    tables = payload["tables"]
    if len(tables) > MAX_TABLES:
        raise ConnectorError(f"The system's answer has more than {MAX_TABLES} tables.")
    results: list[TableResult] = []
    names: set[str] = set()
    for position, table in enumerate(tables, start=1):
        where = f"Table {position} of the system's answer"
        if not isinstance(table, dict):
            raise ConnectorError(f"{where} is not an object.")
        unknown = set(table) - {"name", "columns", "rows", "provided_or_observed", "description"}
        if unknown:
            raise ConnectorError(f"{where} has unknown fields: {', '.join(sorted(unknown)[:5])[:200]}.")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or not name.isprintable():
            raise ConnectorError(f"{where} needs a 'name' (up to {MAX_NAME} characters).")
        if name in names:
            raise ConnectorError(f"{where} repeats the name of another table.")
        names.add(name)
        columns = table.get("columns")
        if (
            not isinstance(columns, list)
            or not columns
            or len(columns) > MAX_COLUMNS
            or not all(isinstance(c, str) and c.strip() and len(c) <= MAX_NAME and c.isprintable() for c in columns)
            or len(set(columns)) != len(columns)
        ):
            raise ConnectorError(f"{where} needs 'columns': a list of distinct column names.")
        rows = table.get("rows")
        if not isinstance(rows, list):
            raise ConnectorError(f"{where} needs 'rows': a list of rows.")
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, list) or len(row) != len(columns):
                raise ConnectorError(f"{where}: row {number} does not have {len(columns)} values, one per column.")
            if not all(_is_cell(cell) for cell in row):
                raise ConnectorError(
                    f"{where}: row {number} holds a value that is not a string, number, boolean or null."
                )
        provided = table.get("provided_or_observed")
        if not isinstance(provided, bool):
            raise ConnectorError(f"{where} needs 'provided_or_observed': true or false.")
        description = table.get("description", "")
        if not isinstance(description, str):
            raise ConnectorError(f"{where}: 'description' must be text.")
        results.append(
            TableResult(
                name=name,
                columns=list(columns),
                rows=[tuple(row) for row in rows],
                row_count=len(rows),
                provided_or_observed=provided,
                description=description,
            )
        )
    return results
