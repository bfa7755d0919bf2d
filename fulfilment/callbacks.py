"""The HTTP connector's later answer (connector kind 3 of issue 12): a system that accepted a search with 202 posts
the person's data to ``/api/connectors/<job public id>/callback/``, signed per Standard Webhooks with the system's
secret (``datasystems.webhooks.verify_callback``: signature, timestamp, replay).

The payload (OpenDSR field names where they fit)::

    {"callback_token": "<the token of the 202>", "request_id": "<the opaque id the portal sent>",
     "request_status": "completed", "tables": [...]}          # tables as datasystems.connectors.http reads them
    {"callback_token": "...", "request_status": "cancelled", "reason": "..."}   # could not be searched

``completed`` with no tables is a search that found nothing. The rules:

- GDPR Art. 5(1)(d), (f), 32: an answer is accepted only with a good signature from the system's own secret, a
  fresh timestamp, a message id not seen before, and the token the system gave for this search; anything else
  changes nothing.
- UK GDPR Art. 15(1A): the search is recorded like a worker's (``services.job_finish``).
- A job finished already (a second delivery of the same answer under a new message id) is acknowledged and
  changes nothing: never a second set of parts.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from datasystems import webhooks
from datasystems.connectors.base import ConnectorError, connector_for
from datasystems.connectors.http import tables_from_answer
from requests_app.locks import request_lock

from . import services
from .models import FINISHED_JOB_STATUSES, JobStatus, SearchJob

logger = logging.getLogger(__name__)

COMPLETED = "completed"
CANCELLED = {"cancelled", "canceled", "failed"}


@dataclass(frozen=True)
class CallbackResult:
    """What the endpoint answers: an HTTP status and a short JSON-able body (no personal data)."""

    status: int
    body: Mapping[str, str]


def callback_result(status: int, outcome: str, detail: str = "") -> CallbackResult:
    body = {"status": outcome}
    if detail:
        body["detail"] = detail
    return CallbackResult(status, body)


def signed_answer(
    job: Any, *, what: str, headers: Mapping[str, str], body: bytes, finished: bool, waiting: bool
) -> dict | CallbackResult:
    """The payload of an HTTP system's signed answer for ``job`` (a search here, a change in ``changes``), or the
    answer refusing it. GDPR Art. 5(1)(f), 32: 404 unknown job; 503 the system's secret is not configured; 401 a bad
    signature, a stale timestamp or a replay; 200 the job finished already (idempotent); 409 it is not waiting for
    an answer; 400 the token is not the one the system gave for this job."""
    if job is None:
        return callback_result(404, "unknown")
    try:
        secret = connector_for(job.system.connector, job.system.connector_config).secret()
    except ConnectorError:
        logger.warning("callback for %s job %s: the system's signing secret is not configured", what, job.pk)
        return callback_result(503, "unavailable")
    try:
        payload = webhooks.verify_callback(headers, body, secret)
    except (webhooks.SignatureError, webhooks.SecretError) as error:
        logger.warning("callback for %s job %s refused: %s", what, job.pk, error)
        return callback_result(401, "refused", str(error))
    if finished:
        return callback_result(200, "already_received")
    if not waiting:
        return callback_result(409, "not_waiting")
    token = payload.get("callback_token")
    if not isinstance(token, str) or not job.callback_token or not hmac.compare_digest(token, job.callback_token):
        return callback_result(400, "rejected", f"The callback_token does not match the {what}.")
    return payload


def callback_receive(*, public_id: str, headers: Mapping[str, str], body: bytes) -> CallbackResult:
    """Verify and apply one callback. 404 unknown job; 401 bad signature or replay; 400 a signed answer that does
    not fit (wrong token, malformed tables); 200 applied, or finished already (idempotent); 409 not waiting for an
    answer (still running, or failed)."""
    job = (
        SearchJob.objects.select_related("system", "compilation")
        .filter(public_id=public_id, connector="http")
        .exclude(public_id="")
        .first()
    )
    checked = signed_answer(
        job,
        what="search",
        headers=headers,
        body=body,
        finished=job is not None and job.status in FINISHED_JOB_STATUSES,
        waiting=job is not None and job.status == JobStatus.WAITING,
    )
    if isinstance(checked, CallbackResult):
        return checked
    payload = checked
    request_id = payload.get("request_id")
    if request_id is not None and request_id != job.public_id:
        # A system configured to send the case reference gets it back as request_id: accept that too.
        if request_id != job.request.reference:
            return callback_result(400, "rejected", "The request_id is not this search's.")
    status = payload.get("request_status", COMPLETED)
    if status in CANCELLED:
        reason = payload.get("reason")
        reason = reason if isinstance(reason, str) and reason.strip() else "no reason given"
        return _finish(job, searched=False, reason=f"The system could not search: {reason.strip()}"[:500], tables=[])
    if status != COMPLETED:
        return callback_result(400, "rejected", "request_status must be 'completed' or 'cancelled'.")
    try:
        tables = tables_from_answer(payload)
    except ConnectorError as error:
        return callback_result(400, "rejected", str(error))
    if job.compilation.portability:
        tables = [table for table in tables if table.provided_or_observed]  # GDPR Art. 20(1)
    return _finish(job, searched=True, reason="", tables=tables)


def _finish(job: SearchJob, *, searched: bool, reason: str, tables: list) -> CallbackResult:
    written: list[str] = []
    try:
        parts = services.write_parts(tables, written)
        with transaction.atomic():
            request_lock(job.request_id)
            locked = (
                SearchJob.objects.select_for_update(of=("self",)).select_related("system", "request").get(pk=job.pk)
            )
            if locked.status != JobStatus.WAITING:
                # Another delivery finished it a moment ago: that one counts, never both.
                transaction.on_commit(lambda: services.discard_parts(written))
                return callback_result(200, "already_received")
            configured = locked.system.connector_config.get("identities") or ["email"]
            known = services.identifiers_of(locked.request)
            identifiers_used = [name for name in configured if isinstance(name, str) and known.get(name)]
            services.job_finish(
                locked,
                searched=searched,
                reason=reason,
                identifiers_used=identifiers_used if searched else [],
                parts=parts,
                worker="callback",
                actor_kind="system",
                move_reason=f"{locked.system.name}: answered by signed callback",
            )
    except BaseException:
        services.discard_parts(written)
        raise
    logger.info("search job %s finished by callback (%s table(s))", job.pk, len(parts))
    return callback_result(200, "received")
