"""An HTTP system's later answer to a change it accepted with 202 (``ChangePending``): it posts the result to
``/api/connectors/changes/<job public id>/callback/``, signed per Standard Webhooks with the system's secret
(``datasystems.webhooks.verify_callback``: signature, timestamp, replay), like a search's answer
(``fulfilment.callbacks``)::

    {"callback_token": "<the token of the 202>", "request_status": "completed",
     "tables": [{"table": "customers", "action": "delete", "rows": 12}, ...]}
    {"callback_token": "...", "request_status": "cancelled", "reason": "..."}   # could not be done

- GDPR Art. 5(1)(f), 32: accepted only with a good signature from the system's own secret, a fresh timestamp, a
  message id not seen before and the token the system gave for this change; anything else changes nothing.
- GDPR Art. 5(2): the result is recorded per table like a worker's (``services.job_finish``); a table the register
  keeps or anonymises carries its Art. 17(3) ground and reason from the register (Art. 12(4)), as a worker's does.
- A job finished already (the same answer delivered again) is acknowledged and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction

from datasystems.change_rules import ChangeRuleError
from datasystems.connectors.changes import ChangeKind, TableAction
from fulfilment.callbacks import CallbackResult, callback_result, signed_answer
from requests_app.locks import request_lock

from . import services
from .models import FINISHED_JOB_STATUSES, ChangeJob, ChangeJobStatus

logger = logging.getLogger(__name__)

COMPLETED = "completed"
CANCELLED = {"cancelled", "canceled", "failed"}
ACTIONS = {action.value for action in TableAction}


def _items(payload: Mapping) -> list[services.Item]:
    tables = payload.get("tables", [])
    if not isinstance(tables, list):
        raise ValueError("tables must be a list.")
    items = []
    for table in tables:
        if not isinstance(table, Mapping) or not isinstance(table.get("table"), str) or not table["table"]:
            raise ValueError("Each table needs its name in table.")
        action, rows = table.get("action"), table.get("rows", 0)
        if action not in ACTIONS:
            raise ValueError("Each table's action must be one of " + ", ".join(sorted(ACTIONS)) + ".")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise ValueError("Each table's rows must be a whole number, 0 or more.")
        items.append(services.Item(table=table["table"][:100], action=action, rows=rows))
    return items


def callback_receive(*, public_id: str, headers: Mapping[str, str], body: bytes) -> CallbackResult:
    """Verify and apply one callback. 404 unknown job; 401 bad signature or replay; 400 a signed answer that does not
    fit; 200 applied, or finished already (idempotent); 409 not waiting for an answer."""
    job = (
        ChangeJob.objects.select_related("system", "run")
        .filter(public_id=public_id, connector="http")
        .exclude(public_id="")
        .first()
    )
    checked = signed_answer(
        job,
        what="change",
        headers=headers,
        body=body,
        finished=job is not None and job.status in FINISHED_JOB_STATUSES,
        waiting=job is not None and job.status == ChangeJobStatus.WAITING,
    )
    if isinstance(checked, CallbackResult):
        return checked
    payload = checked
    status = payload.get("request_status", COMPLETED)
    if status in CANCELLED:
        reason = payload.get("reason")
        reason = reason.strip() if isinstance(reason, str) and reason.strip() else "no reason given"
        return _finish(job, items=None, reason=f"The system could not make the change: {reason}"[:500])
    if status != COMPLETED:
        return callback_result(400, "rejected", "request_status must be 'completed' or 'cancelled'.")
    try:
        items = _items(payload)
    except ValueError as error:
        return callback_result(400, "rejected", str(error))
    return _finish(job, items=items, reason="")


def _with_grounds(job: ChangeJob, items: list[services.Item]) -> list[services.Item]:
    """GDPR Art. 17(3), 12(4): the system's answer names tables and rows only; the ground and reason of each table
    come from the register's rules for the change, as for a worker's result (``services.items_from_outcome``)."""
    try:
        rules = services.table_instructions(job.system, ChangeKind(job.run.kind), job.run.payload or {})
    except ChangeRuleError:
        return items
    by_table = {rule.table: rule for rule in rules}
    for item in items:
        rule = by_table.get(item.table)
        if rule is not None and not item.ground:
            item.ground, item.reason = rule.ground, rule.reason
    return items


def _finish(job: ChangeJob, *, items: list[services.Item] | None, reason: str) -> CallbackResult:
    with transaction.atomic():
        request_lock(job.request_id)
        locked = ChangeJob.objects.select_for_update(of=("self",)).select_related("system", "run").get(pk=job.pk)
        if locked.status != ChangeJobStatus.WAITING:
            return callback_result(200, "already_received")
        if items is None:
            services.job_not_done(locked, reason=reason, actor_kind="system")
        else:
            services.job_finish(
                locked,
                items=_with_grounds(locked, items),
                actor_kind="system",
                reason=f"{locked.system.name}: answered by signed callback",
            )
    return callback_result(200, "received")
