"""The change engine (issue 13): carrying a decision out in every data system that holds the person's data.

One ``ChangeRun`` per decision (an erasure, a rectification, a restriction or its lifting, a marketing suppression),
one ``ChangeJob`` per data system, run by a worker through the system's connector (set-based, in bounded batches,
resumable from the checkpoint saved after each batch) or, for a system whose connector cannot change data, by its
owner through a task (``changes.manual_tasks``). The rules (LAW.md §6(b)-(e)):

- GDPR Art. 17(1): erasure reaches every system that holds the person's data; Art. 17(3) exceptions are recorded per
  table with their ground and reason (``ChangeItem``), and are the parts not done in the answer (Art. 12(4)).
- GDPR Art. 16, 18(1), 18(3), 21(3): rectification, restriction and its lifting, and the end of direct marketing are
  carried out the same way; a marketing objection needs no approval and starts at once (Art. 21(3)).
- GDPR Art. 5(2), 24: destructive changes (erasure, rectification) and restrictions need the case handler's
  approval, and above ``settings.DSAR_CHANGE_DPO_APPROVAL_ROWS`` rows the DPO's as well, a different person.
- GDPR Art. 32: a job is run by at most one worker at a time; a worker that finds the job's run token changed (it
  was swept and started again) stops at once (``ChangeSuperseded``).

Jobs take IDs only; the job rows are the source of truth.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from datasystems.change_rules import ChangeRuleError, erasure_instruction, tables_for
from datasystems.connectors.base import (
    ConnectorError,
    ConnectorTemporaryError,
    Identifiers,
    SearchContext,
    connector_for,
)
from datasystems.connectors.changes import (
    ALL_MARKETING_CHANNELS,
    ChangeInstruction,
    ChangeKind,
    ChangeOutcome,
    ChangePending,
    ChangeSuperseded,
    TableAction,
    TableInstruction,
)
from datasystems.models import DataSystem
from datasystems.selectors import active_systems
from dsar_portal import crypto
from fulfilment.manual_tasks import task_days
from fulfilment.manual_tasks import task_due_date as search_task_due_date
from fulfilment.services import (
    callback_timeout,
    identifiers_of,
    job_claim,
    max_attempts,
    queued_timeout,
    running_timeout,
)
from recipientnotices.services import notices_plan
from requests_app import deadlines
from requests_app.audit import event_record
from requests_app.clock import calendar_for
from requests_app.lifecycle import Lifecycle
from requests_app.locks import request_lock
from requests_app.marketing import is_direct_marketing_objection
from requests_app.models import DataSubjectRequest, EventKind, Right, Status

from .models import (
    FINISHED_JOB_STATUSES,
    LIVE_RUN_STATUSES,
    ChangeItem,
    ChangeJob,
    ChangeJobStatus,
    ChangeRun,
    ErasureTombstone,
    RunStatus,
)
from .signals import change_run_finished

logger = logging.getLogger(__name__)

APPROVE = "changes.approve_changes"
APPROVE_LARGE = "changes.approve_large_changes"
HASH_PURPOSE = "erasure-keyed-hash"

# Kinds that need a person's approval before anything changes (Art. 5(2), 24); a marketing objection is absolute
# and is carried out at once (Art. 21(3)).
NEEDS_APPROVAL = frozenset({ChangeKind.ERASE, ChangeKind.RECTIFY, ChangeKind.RESTRICT, ChangeKind.LIFT_RESTRICTION})
# Destructive kinds: above the size threshold the DPO approves as well.
DESTRUCTIVE = frozenset({ChangeKind.ERASE, ChangeKind.RECTIFY})
# Kinds whose recipients are told (Art. 19).
NOTIFIED = frozenset({ChangeKind.ERASE, ChangeKind.RECTIFY, ChangeKind.RESTRICT, ChangeKind.LIFT_RESTRICTION})

RUN_LIFECYCLE = Lifecycle(
    name="change run",
    model=ChangeRun,
    transitions={
        RunStatus.PLANNED: frozenset({RunStatus.AWAITING_APPROVAL, RunStatus.RUNNING, RunStatus.CANCELLED}),
        RunStatus.AWAITING_APPROVAL: frozenset({RunStatus.APPROVED, RunStatus.CANCELLED}),
        RunStatus.APPROVED: frozenset({RunStatus.RUNNING}),
        RunStatus.RUNNING: frozenset({RunStatus.DONE, RunStatus.PARTLY_DONE, RunStatus.FAILED}),
        # Staff retry a failed system's change: the run runs again until every job is finished.
        RunStatus.PARTLY_DONE: frozenset({RunStatus.RUNNING}),
        RunStatus.FAILED: frozenset({RunStatus.RUNNING}),
        RunStatus.DONE: frozenset(),
        RunStatus.CANCELLED: frozenset(),
    },
    event_kind=EventKind.CHANGE_RUN_STATUS_CHANGED,
)

JOB_LIFECYCLE = Lifecycle(
    name="change job",
    model=ChangeJob,
    transitions={
        ChangeJobStatus.QUEUED: frozenset({ChangeJobStatus.RUNNING, ChangeJobStatus.WAITING}),
        # Back to queued: a transient error, retried. Waiting: an HTTP system answers later by a signed callback.
        ChangeJobStatus.RUNNING: frozenset(
            {ChangeJobStatus.DONE, ChangeJobStatus.FAILED, ChangeJobStatus.QUEUED, ChangeJobStatus.WAITING}
        ),
        # The system owner's task or the HTTP system's callback finishes it; a callback that never comes fails it.
        ChangeJobStatus.WAITING: frozenset({ChangeJobStatus.DONE, ChangeJobStatus.FAILED}),
        ChangeJobStatus.FAILED: frozenset({ChangeJobStatus.QUEUED, ChangeJobStatus.WAITING}),
        ChangeJobStatus.DONE: frozenset(),
    },
    event_kind=EventKind.CHANGE_JOB_STATUS_CHANGED,
)


class ChangeError(Exception):
    """A rule refuses the action; the message is for staff."""


def batch_rows() -> int:
    """Rows a connector commits in one batch (bounded, so a crash loses at most one batch's work)."""
    return max(1, int(getattr(settings, "DSAR_CHANGE_BATCH_ROWS", 5000)))


def dpo_threshold() -> int:
    """Above this many rows a destructive change needs the DPO's approval as well."""
    return int(getattr(settings, "DSAR_CHANGE_DPO_APPROVAL_ROWS", 10_000))


def hash_key() -> bytes:
    """The key of keyed-hash anonymisation and of the erasure tombstone: derived from the portal's key material each
    time it is needed, never stored with an instruction or put in a broker message."""
    return crypto.derived_key(HASH_PURPOSE)


def keyed_hash(value: str) -> str:
    """Hex HMAC-SHA256 of a normalised identifier under ``hash_key()`` (the tombstone's hashes)."""
    return hmac.new(hash_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def is_changing(connector_key: str) -> bool:
    """Whether the connector kind carries changes out itself (has ``apply_change``); the others get a task for the
    system's owner."""
    path = getattr(settings, "DSAR_CONNECTORS", {}).get(connector_key)
    if not path:
        return False
    try:
        return callable(getattr(import_string(path), "apply_change", None))
    except ImportError:
        return False


# --- Planning ----------------------------------------------------------------------------------------------------


def _rectify_values(payload: Mapping[str, Any], system: DataSystem) -> Mapping[str, Any]:
    systems = payload.get("systems") if isinstance(payload, Mapping) else None
    values = systems.get(str(system.pk)) if isinstance(systems, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def payload_channels(kind: ChangeKind, payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The marketing channels a suppression stops (its payload's ``channels``; empty: every channel)."""
    if kind != ChangeKind.SUPPRESS_MARKETING or not isinstance(payload, Mapping):
        return ()
    channels = payload.get("channels") or ()
    return tuple(str(channel) for channel in channels) if isinstance(channels, list | tuple) else ()


def table_instructions(system: DataSystem, kind: ChangeKind, payload: Mapping[str, Any]) -> list[TableInstruction]:
    """What happens to each table of ``system`` for a change of ``kind`` (the register's change rules; for
    rectification, the approved corrected values in the run's payload; for a marketing suppression, the tables of
    the channels it stops). Raises ChangeRuleError."""
    if kind == ChangeKind.RECTIFY:
        return [
            TableInstruction(table=str(table), action=TableAction.UPDATE, values=dict(values))
            for table, values in _rectify_values(payload, system).items()
            if isinstance(values, Mapping) and values
        ]
    return tables_for(system.connector_config, kind, channels=payload_channels(kind, payload))


def instruction_for(run: ChangeRun, system: DataSystem) -> ChangeInstruction:
    """The connector's instruction for one system, built when it is needed (the hash key is derived there, never
    stored)."""
    kind = ChangeKind(run.kind)
    payload = run.payload or {}
    return ChangeInstruction(
        kind=kind,
        tables=table_instructions(system, kind, payload),
        batch_size=batch_rows(),
        hash_key=hash_key(),
        supplementary_statement=str(payload.get("statement", "")) if kind == ChangeKind.RECTIFY else "",
        channels=payload_channels(kind, payload),
    )


def systems_for(kind: ChangeKind, payload: Mapping[str, Any]) -> list[DataSystem]:
    """The active systems a change of ``kind`` reaches: erasure every one (Art. 17(1)); restriction and its lifting
    those with a restriction rule, or carried out by hand (Art. 18(1)); marketing those with a marketing purpose or
    rule (Art. 21(3)); rectification those the approved correction names (Art. 16)."""
    systems = list(active_systems().prefetch_related("purposes"))
    if kind == ChangeKind.ERASE:
        return systems
    if kind == ChangeKind.RECTIFY:
        return [system for system in systems if _rectify_values(payload, system)]
    chosen = []
    for system in systems:
        try:
            rules = tables_for(system.connector_config, kind, channels=payload_channels(kind, payload))
        except ChangeRuleError:
            rules = [None]  # a malformed rule: planned, so the job fails visibly rather than skipping the system
        if kind == ChangeKind.SUPPRESS_MARKETING:
            if rules or any(purpose.for_marketing for purpose in system.purposes.all()):
                chosen.append(system)
        elif rules or not is_changing(system.connector):
            chosen.append(system)
    return chosen


def _estimate(system: DataSystem, kind: ChangeKind, payload: Mapping[str, Any], identifiers: Identifiers) -> int:
    """Rows the change would touch in ``system`` (``connector.count``), 0 when it cannot say."""
    if not is_changing(system.connector):
        return 0
    try:
        connector = connector_for(system.connector, system.connector_config)
        instruction = ChangeInstruction(
            kind=kind,
            tables=table_instructions(system, kind, payload),
            batch_size=batch_rows(),
            channels=payload_channels(kind, payload),
        )
        return sum(int(rows) for rows in connector.count(identifiers, instruction).values())
    except ConnectorError as error:
        logger.warning("change estimate for system %s failed: %s", system.pk, error)
        return 0


def needs_dpo(run: ChangeRun) -> bool:
    """A destructive change above the threshold needs the DPO's approval as well (Art. 5(2), 24)."""
    return run.kind in DESTRUCTIVE and run.rows_estimate > dpo_threshold()


def change_run_start(
    *,
    request: DataSubjectRequest,
    kind: str,
    actor: AbstractBaseUser | None,
    payload: dict | None = None,
    systems: Sequence[DataSystem] | None = None,
    approved: bool = False,
) -> ChangeRun:
    """Plan a change of ``kind`` for the request's person: one job per system holding their data for that kind
    (``systems_for``, or the ``systems`` given), rows estimated by each changing connector. A marketing suppression
    starts at once (Art. 21(3)); the other kinds wait for approval (``change_run_approve``), unless ``approved``:
    the caller's decision is the first approval (the actor's, recorded); above the threshold a destructive kind still
    waits for the DPO's, a different person's. Idempotent: a live run of the same kind is returned as it is."""
    kind = ChangeKind(kind)
    payload = dict(payload or {})
    with transaction.atomic():
        locked = request_lock(request.pk)
        live = ChangeRun.objects.filter(request=locked, kind=kind, status__in=LIVE_RUN_STATUSES).first()
        if live is not None:
            return live
        chosen = list(systems) if systems is not None else systems_for(kind, payload)
        identifiers = identifiers_of(locked)
        run = ChangeRun.objects.create(request=locked, kind=kind, created_by=actor, payload=payload)
        event_record(
            request_id=locked.pk,
            kind=EventKind.CHANGE_RUN_STATUS_CHANGED,
            actor=actor,
            actor_kind="staff" if actor is not None else "system",
            to_status=RunStatus.PLANNED,
            reason=f"{run.get_kind_display()} planned in {len(chosen)} system(s)",
        )
        total = 0
        for system in chosen:
            estimate = _estimate(system, kind, payload, identifiers)
            total += estimate
            ChangeJob.objects.create(
                run=run,
                request=locked,
                system=system,
                connector=system.connector,
                rows_estimate=estimate,
                public_id=secrets.token_urlsafe(24),
            )
        run.rows_estimate = total
        run.save(update_fields=["rows_estimate", "updated_at"])
        if kind not in NEEDS_APPROVAL:
            _launch(run, reason="Started at once: an objection to direct marketing needs no approval (Art. 21(3))")
        elif approved and actor is not None:
            RUN_LIFECYCLE.move(
                run,
                RunStatus.AWAITING_APPROVAL,
                actor=actor,
                actor_kind="staff",
                reason="Approved with the decision",
                changes={"approved_by": actor, "approved_at": timezone.now()},
            )
            # Above the threshold the DPO's approval is a second person's, given on the case page.
            if not needs_dpo(run):
                RUN_LIFECYCLE.move(run, RunStatus.APPROVED, actor=actor, actor_kind="staff", reason="Approved")
                _launch(run, reason="Started after approval")
        else:
            RUN_LIFECYCLE.move(
                run,
                RunStatus.AWAITING_APPROVAL,
                actor=actor,
                actor_kind="staff" if actor is not None else "system",
                reason=f"About {total} row(s) to change; waiting for approval",
            )
    return run


def suppression_channels(request: DataSubjectRequest) -> tuple[str, ...]:
    """The marketing an objection to direct marketing stops: every channel (e-mail, SMS, post, phone, ad-platform
    audiences, profiling for marketing). The objection form asks for no channels, and needs none: the objection is
    to direct marketing as such, which "includes profiling to the extent that it is related to such direct
    marketing" (GDPR Art. 21(2)-(3)), and the portal keeps the address out of all marketing
    (``MarketingSuppression``); stopping a channel the person did not name harms no one (LAW.md §6(e))."""
    return ALL_MARKETING_CHANNELS


def marketing_suppress(*, request_id: int) -> ChangeRun | None:
    """An objection to direct marketing in progress is carried out at once in every system that markets, without
    approval (GDPR Art. 21(3): the person's data "shall no longer be processed for such purposes"), in every channel
    it stops (``suppression_channels``, in the run's payload so that each connector knows what to stop). Once per
    request: a request with a suppression run keeps it. The time to suppression is the run's ``finished_at``, when
    the last system's change finished. Returns the run, or None when the request is not such an objection in
    progress."""
    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or request.status != Status.IN_PROGRESS or not is_direct_marketing_objection(request):
        return None
    existing = ChangeRun.objects.filter(request=request, kind=ChangeKind.SUPPRESS_MARKETING).exclude(
        status=RunStatus.CANCELLED
    )
    if existing.exists():
        return existing.order_by("pk").first()
    return change_run_start(
        request=request,
        kind=ChangeKind.SUPPRESS_MARKETING,
        actor=None,
        payload={"channels": list(suppression_channels(request))},
    )


def may_approve(run: ChangeRun, user: AbstractBaseUser) -> bool:
    """Whether ``user`` can give the approval the run waits for now: the case handler's first (changes.approve_
    changes), then above the threshold the DPO's (changes.approve_large_changes), by someone else."""
    if run.status != RunStatus.AWAITING_APPROVAL or not user.has_perm(APPROVE):
        return False
    if run.approved_by_id is None:
        return True
    return (
        needs_dpo(run)
        and run.dpo_approved_by_id is None
        and run.approved_by_id != user.pk
        and (user.has_perm(APPROVE_LARGE))
    )


def change_run_approve(*, run: ChangeRun, actor: AbstractBaseUser) -> ChangeRun:
    """Approve a planned change (the view asked for a fresh second factor first, GDPR Art. 32(1)(b)). The first
    approval is the case handler's; a destructive change above ``dpo_threshold()`` rows then waits for the DPO's,
    who must be a different person (Art. 5(2), 24). With every approval given the jobs start. Raises ChangeError
    when the rules refuse (already approved, not allowed, the same person twice)."""
    if not actor.has_perm(APPROVE):
        raise ChangeError(_("You may not approve changes in the data systems."))
    with transaction.atomic():
        request_lock(run.request_id)
        locked = ChangeRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != RunStatus.AWAITING_APPROVAL:
            raise ChangeError(_("This change was approved already, or is no longer waiting for approval."))
        now = timezone.now()
        if locked.approved_by_id is None:
            locked.approved_by, locked.approved_at = actor, now
            locked.save(update_fields=["approved_by", "approved_at", "updated_at"])
            if needs_dpo(locked):
                event_record(
                    request_id=locked.request_id,
                    kind=EventKind.CHANGE_RECORDED,
                    actor=actor,
                    actor_kind="staff",
                    reason=f"First approval of change run {locked.pk}; over {dpo_threshold()} rows, the DPO must "
                    "approve as well",
                )
                _copy(run, locked)
                return run
        elif needs_dpo(locked) and locked.dpo_approved_by_id is None:
            if locked.approved_by_id == actor.pk:
                raise ChangeError(
                    _("You approved this change already. A change this large needs the DPO's approval as well.")
                )
            if not actor.has_perm(APPROVE_LARGE):
                raise ChangeError(_("A change this large needs the DPO's approval."))
            locked.dpo_approved_by, locked.dpo_approved_at = actor, now
            locked.save(update_fields=["dpo_approved_by", "dpo_approved_at", "updated_at"])
        else:
            raise ChangeError(_("This change was approved already."))
        RUN_LIFECYCLE.move(locked, RunStatus.APPROVED, actor=actor, actor_kind="staff", reason="Approved")
        _launch(locked, reason="Started after approval")
    _copy(run, locked)
    return run


def change_run_cancel(*, run: ChangeRun, actor: AbstractBaseUser, reason: str) -> ChangeRun:
    """Cancel a run before it started (the decision changed); nothing was changed in any system."""
    reason = reason.strip()
    if not reason:
        raise ChangeError(_("Say why the change is cancelled."))
    RUN_LIFECYCLE.move(run, RunStatus.CANCELLED, actor=actor, actor_kind="staff", reason=reason[:500])
    return run


def _copy(target: ChangeRun, source: ChangeRun) -> None:
    for model_field in ChangeRun._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))


def _enqueue_job(job_id: int) -> None:
    from . import tasks

    tasks.run_change_job.delay(job_id)


def removes_identifiers(system: DataSystem) -> bool:
    """Whether erasing in ``system`` removes the identifiers the person is found by there: its own record (the table
    searched by ``match``) is deleted, or the matched columns themselves are anonymised. Only columns of that table
    count: a match through a relation (``customer__email``) finds the person in a record another system keeps."""
    tables = system.connector_config.get("tables") if isinstance(system.connector_config, Mapping) else None
    for table in tables if isinstance(tables, list) else []:
        match = table.get("match") if isinstance(table, Mapping) else None
        if not isinstance(match, Mapping):
            continue
        columns = {value.get("column") if isinstance(value, Mapping) else value for value in match.values()}
        own = {column for column in columns if isinstance(column, str) and column and "__" not in column}
        if not own:
            continue
        try:
            rule = erasure_instruction(table)
        except ChangeRuleError:
            continue
        if rule.action == TableAction.DELETE or own & {change.column for change in rule.fields}:
            return True
    return False


def _working_days_later(day: date, working_days: int, jurisdiction: str, overrides) -> date:
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if deadlines.is_working_day(day, jurisdiction, overrides):
            counted += 1
    return day


def task_due_date(
    *,
    kind: str,
    legal_due: date,
    given_on: date,
    jurisdiction: str,
    working_days: int,
    overrides=deadlines.NO_OVERRIDES,
) -> date:
    """The day a system owner's change task is due, from the dates it needs (no clock inside).

    - GDPR Art. 21(3): the end of direct marketing is acted on at once: the task is due the next working day after it
      was given (``deadlines.direct_marketing_target_date``).
    - GDPR Art. 12(3), 17(1) "without undue delay": any other change is due when a search task of the request would
      be, ``working_days`` working days before the request's legal due date, leaving time to answer. A task given
      after that day (a retry, a restriction lifted later) is due ``working_days`` working days after it was given,
      and while the request's legal due date is still ahead, never after it.
    """
    if kind == ChangeKind.SUPPRESS_MARKETING:
        return deadlines.direct_marketing_target_date(given_on, jurisdiction)
    due = search_task_due_date(legal_due, jurisdiction, working_days=working_days, overrides=overrides)
    if due >= given_on:
        return due
    later = _working_days_later(given_on, working_days, jurisdiction, overrides)
    return min(later, legal_due) if legal_due >= given_on else later


def _task_due(job: ChangeJob, kind: str, now: datetime) -> date:
    request = DataSubjectRequest.objects.only("due_on", "jurisdiction").get(pk=job.request_id)
    return task_due_date(
        kind=kind,
        legal_due=request.due_on,
        given_on=timezone.localdate(now),
        jurisdiction=request.jurisdiction,
        working_days=task_days(),
        overrides=calendar_for(request.jurisdiction).overrides,
    )


def _launch(run: ChangeRun, *, reason: str) -> None:
    """Inside the planning or approving transaction: the run starts; a changing connector's job is queued for the
    workers when this commits, any other system's becomes its owner's task.

    GDPR Art. 17(1) in every system: an erasure that removes the identifiers the person is found by (for example the
    CRM's own customer record, which other systems find the person through) is held back until every other system
    of the run has finished, so that none of them loses the way to the person's data. A held job stays queued
    without ``enqueued_at``; ``run_check`` releases it."""
    now = timezone.now()
    RUN_LIFECYCLE.move(run, RunStatus.RUNNING, actor_kind="system", reason=reason, changes={"started_at": now})
    jobs = list(ChangeJob.objects.filter(run=run, status=ChangeJobStatus.QUEUED).select_related("system"))
    held: set[int] = set()
    if run.kind == ChangeKind.ERASE:
        removers = {job.pk for job in jobs if is_changing(job.connector) and removes_identifiers(job.system)}
        if removers and len(removers) < len(jobs):
            held = removers
    for job in jobs:
        if job.pk in held:
            continue
        if is_changing(job.connector):
            job.enqueued_at = now
            job.save(update_fields=["enqueued_at", "updated_at"])
            transaction.on_commit(lambda job_id=job.pk: _enqueue_job(job_id))
        else:
            JOB_LIFECYCLE.move(
                job,
                ChangeJobStatus.WAITING,
                actor_kind="system",
                reason=f"{job.system.name}: a task for the system owner",
                changes={"enqueued_at": now, "due_on": _task_due(job, run.kind, now)},
            )
    run_id = run.pk
    transaction.on_commit(lambda: run_check(run_id=run_id))


# --- Running a job -----------------------------------------------------------------------------------------------


class DbProgress:
    """The job's ChangeProgress: the checkpoint it resumes from, saved with the rows and batches on the job's row in
    its own transaction after every committed batch. Raises ChangeSuperseded when the run no longer owns the job."""

    def __init__(self, job_id: int, token: str, checkpoint: Mapping[str, Any]) -> None:
        self.job_id = job_id
        self.token = token
        self.checkpoint: dict[str, Any] = dict(checkpoint)

    def _locked(self) -> ChangeJob:
        job = (
            ChangeJob.objects.select_for_update()
            .filter(pk=self.job_id, run_token=self.token, status=ChangeJobStatus.RUNNING)
            .first()
        )
        if job is None:
            raise ChangeSuperseded()
        return job

    def batch_begin(self, checkpoint: Mapping[str, Any]) -> None:
        """The batch about to be committed in the system, saved first: a run resumed after a crash between that
        commit and ``batch_done`` asks the system whether it was committed, and records its rows once (Art. 5(2))."""
        with transaction.atomic():
            job = self._locked()
            job.checkpoint = dict(checkpoint)
            job.save(update_fields=["checkpoint", "updated_at"])
        self.checkpoint = dict(checkpoint)

    def batch_done(self, checkpoint: Mapping[str, Any], *, table: str, rows: int) -> None:
        with transaction.atomic():
            job = self._locked()
            table_rows = dict(job.table_rows)
            table_rows[table] = int(table_rows.get(table, 0)) + int(rows)
            job.checkpoint = dict(checkpoint)
            job.table_rows = table_rows
            job.rows_changed += int(rows)
            job.batches += 1
            job.save(update_fields=["checkpoint", "table_rows", "rows_changed", "batches", "updated_at"])
        self.checkpoint = dict(checkpoint)


def _job_start(job_id: int, worker: str) -> tuple[ChangeJob, str] | None:
    """Take the job for this run; None when it is not ours to run (finished, waiting, running elsewhere, or its run
    not started)."""
    with transaction.atomic():
        job = ChangeJob.objects.get(pk=job_id)
        request_lock(job.request_id)
        job = ChangeJob.objects.select_for_update(of=("self",)).select_related("run").get(pk=job_id)
        if job.run.status != RunStatus.RUNNING:
            return None
        taken_over = job.status == ChangeJobStatus.RUNNING
        token = job_claim(
            job, lifecycle=JOB_LIFECYCLE, queued=ChangeJobStatus.QUEUED, running=ChangeJobStatus.RUNNING, worker=worker
        )
        if token is None:
            return None
        if taken_over:
            event_record(
                request_id=job.request_id,
                kind=EventKind.CHANGE_RECORDED,
                actor_kind="system",
                reason=f"Change job {job.pk} taken over by a new run (attempt {job.attempts}), from its checkpoint",
            )
        return job, token


def _locked_run(job_id: int, token: str) -> ChangeJob | None:
    """Inside a transaction: the job locked (request first), if this run still owns it."""
    job = ChangeJob.objects.get(pk=job_id)
    request_lock(job.request_id)
    job = ChangeJob.objects.select_for_update(of=("self",)).select_related("system", "run").get(pk=job_id)
    if job.status != ChangeJobStatus.RUNNING or job.run_token != token:
        return None
    return job


def job_run(*, job_id: int, worker: str = "") -> str:
    """Run one change job: the connector carries the instruction out set-based in batches from the job's checkpoint,
    each batch saved (``DbProgress``), and the result recorded per table (``ChangeItem``). Idempotent: a job not
    queued (or not presumed lost) is left alone. Returns the job's status after the run. Raises
    ConnectorTemporaryError (after putting the job back in the queue) for the task's retry, until
    ``max_attempts``."""
    started = _job_start(job_id, worker)
    if started is None:
        return ChangeJob.objects.values_list("status", flat=True).get(pk=job_id)
    job, token = started
    system = DataSystem.objects.get(pk=job.system_id)
    try:
        request = DataSubjectRequest.objects.get(pk=job.request_id)
        instruction = instruction_for(job.run, system)
        connector = connector_for(system.connector, system.connector_config)
        progress = DbProgress(job_id, token, job.checkpoint)
        if "context" in inspect.signature(connector.apply_change).parameters:
            # A system reached over HTTP learns the job's stable id (a retried change is the same change) and where
            # to post its later answer (the job's random public id, never its key).
            context = SearchContext(search_id=job.public_id, callback_url=callback_url(job))
            outcome = connector.apply_change(identifiers_of(request), instruction, progress=progress, context=context)
        else:
            outcome = connector.apply_change(identifiers_of(request), instruction, progress=progress)
    except ChangeSuperseded:
        return ChangeJob.objects.values_list("status", flat=True).get(pk=job_id)
    except ChangePending as pending:
        return _job_pending(job_id, token, pending)
    except ConnectorTemporaryError as error:
        if not _job_error(job_id, token, str(error), temporary=True):
            raise
        return ChangeJobStatus.FAILED
    except ConnectorError as error:
        _job_error(job_id, token, str(error), temporary=False)
        return ChangeJobStatus.FAILED
    except Exception:
        logger.exception("change job %s stopped on an unexpected error", job_id)
        _job_error(job_id, token, "The change stopped on an unexpected error (see the worker's log).", temporary=False)
        return ChangeJobStatus.FAILED
    with transaction.atomic():
        locked = _locked_run(job_id, token)
        if locked is None:
            return ChangeJob.objects.values_list("status", flat=True).get(pk=job_id)
        return job_finish(
            locked,
            items=items_from_outcome(locked, instruction, outcome),
            actor_kind="system",
            reason=f"{system.name}: changed",
        )


@dataclass
class Item:
    """One table's result, before it is saved."""

    table: str
    action: str
    rows: int = 0
    ground: str = ""
    reason: str = ""
    roll_off_on: date | None = None


def items_from_outcome(job: ChangeJob, instruction: ChangeInstruction, outcome: ChangeOutcome) -> list[Item]:
    """Per table what was done: the rows are those every committed batch recorded (a resumed run reports only its
    own), the Art. 17(3) ground and reason from the register (Art. 12(4))."""
    rules = {table.table: table for table in instruction.tables}
    items = []
    seen = set()
    for change in outcome.tables:
        rule = rules.get(change.table)
        rows = int(job.table_rows.get(change.table, change.rows)) if change.table in job.table_rows else change.rows
        items.append(
            Item(
                table=change.table,
                action=str(change.action),
                rows=rows,
                ground=rule.ground if rule else "",
                reason=rule.reason if rule else "",
            )
        )
        seen.add(change.table)
    for rule in instruction.tables:
        if rule.table not in seen and rule.action == TableAction.KEEP:
            items.append(Item(table=rule.table, action=TableAction.KEEP, ground=rule.ground, reason=rule.reason))
    return items


def _backups_item(job: ChangeJob) -> Item | None:
    """After an erasure the system's backups still hold the data, beyond use until the last rolls off (Art. 17,
    5(1)(e); ICO guidance on backups)."""
    days = job.system.backup_roll_off_days
    if job.run.kind != ChangeKind.ERASE or not days:
        return None
    return Item(
        table="backups",
        action=TableAction.BEYOND_USE,
        reason="Held in backups beyond use (never restored into use) until they roll off",
        roll_off_on=timezone.localdate() + timedelta(days=days),
    )


def job_finish(
    locked: ChangeJob,
    *,
    items: Sequence[Item],
    actor_kind: str,
    reason: str,
    by: AbstractBaseUser | None = None,
    note: str = "",
) -> str:
    """Inside a transaction, the job locked (request first) and still the caller's to finish: its items (the proof
    of what was done, Art. 5(2)), its move to done, and the run's check after commit. Shared by the workers, the
    system owner's task and an HTTP system's callback."""
    items = list(items)
    backups = _backups_item(locked)
    if backups is not None:
        items.append(backups)
    ChangeItem.objects.bulk_create(
        ChangeItem(
            job=locked,
            table=item.table[:100],
            action=item.action,
            rows=item.rows,
            ground=item.ground[:60],
            reason=item.reason[:500],
            roll_off_on=item.roll_off_on,
        )
        for item in items
    )
    changed = sum(item.rows for item in items if item.action not in (TableAction.KEEP, TableAction.BEYOND_USE))
    changes: dict[str, Any] = {
        "finished_at": timezone.now(),
        "last_error": "",
        "rows_changed": max(locked.rows_changed, changed),
    }
    if by is not None:
        changes.update(done_by=by, note=note)
    JOB_LIFECYCLE.move(locked, ChangeJobStatus.DONE, actor=by, actor_kind=actor_kind, reason=reason, changes=changes)
    run_id = locked.run_id
    transaction.on_commit(lambda: run_check(run_id=run_id))
    return ChangeJobStatus.DONE


def job_not_done(locked: ChangeJob, *, reason: str, actor_kind: str, by: AbstractBaseUser | None = None) -> str:
    """Inside a transaction, the job locked: the change could not be made there (a system owner's answer, an HTTP
    system's refusal); it fails with the reason, for staff to see and retry."""
    changes: dict[str, Any] = {"finished_at": timezone.now(), "last_error": reason[:500]}
    if by is not None:
        changes.update(done_by=by, note=reason)
    JOB_LIFECYCLE.move(
        locked,
        ChangeJobStatus.FAILED,
        actor=by,
        actor_kind=actor_kind,
        reason=f"{locked.system.name}: {reason}"[:500],
        changes=changes,
    )
    run_id = locked.run_id
    transaction.on_commit(lambda: run_check(run_id=run_id))
    return ChangeJobStatus.FAILED


def callback_url(job: ChangeJob) -> str:
    """Where an HTTP system posts the result of a change it accepted: the job's random public id, never its key."""
    return settings.DSAR_PUBLIC_URL + reverse("changes_callbacks:change_callback", kwargs={"public_id": job.public_id})


def _job_pending(job_id: int, token: str, pending: ChangePending) -> str:
    """The system accepted the change and answers later by a signed callback: the job waits, keeping its token."""
    with transaction.atomic():
        locked = _locked_run(job_id, token)
        if locked is None:
            return ChangeJob.objects.values_list("status", flat=True).get(pk=job_id)
        JOB_LIFECYCLE.move(
            locked,
            ChangeJobStatus.WAITING,
            actor_kind="system",
            reason=f"{locked.system.name} will answer later by a signed callback",
            changes={"callback_token": pending.token[:500], "last_error": ""},
        )
    return ChangeJobStatus.WAITING


def _job_error(job_id: int, token: str, message: str, *, temporary: bool) -> bool:
    """A transient error queues the job again until ``max_attempts``; a permanent one fails it for staff to retry.
    The checkpoint stays: the next run carries on from it. Returns True when the job failed."""
    message = message[:500]
    with transaction.atomic():
        job = _locked_run(job_id, token)
        if job is None:
            return True
        if temporary and job.attempts < max_attempts():
            JOB_LIFECYCLE.move(
                job,
                ChangeJobStatus.QUEUED,
                actor_kind="system",
                reason=f"{job.system.name}: will retry ({message})",
                changes={"last_error": message, "enqueued_at": timezone.now()},
            )
            return False
        job_not_done(job, reason=message, actor_kind="system")
        return True


def job_retry(*, job: ChangeJob, actor: AbstractBaseUser) -> bool:
    """Staff retry a failed change (recorded with who did it); the run runs again. A changing connector's job is
    queued from its checkpoint; another becomes its owner's task again. False when it was retried already; raises
    IllegalTransition when it is no longer failed."""
    with transaction.atomic():
        request_lock(job.request_id)
        run = ChangeRun.objects.select_for_update().get(pk=job.run_id)
        to_status = ChangeJobStatus.QUEUED if is_changing(job.connector) else ChangeJobStatus.WAITING
        now = timezone.now()
        changes = {"enqueued_at": now, "attempts": 0, "finished_at": None, "callback_token": ""}
        if to_status == ChangeJobStatus.WAITING:
            changes["due_on"] = _task_due(job, run.kind, now)  # the owner's task again, due from today
        move = JOB_LIFECYCLE.move(
            job,
            to_status,
            actor=actor,
            actor_kind="staff",
            reason=f"{job.system.name}: change retried",
            changes=changes,
        )
        if move.changed:
            if run.status in (RunStatus.PARTLY_DONE, RunStatus.FAILED):
                RUN_LIFECYCLE.move(
                    run, RunStatus.RUNNING, actor=actor, actor_kind="staff", reason="A system's change retried"
                )
            if to_status == ChangeJobStatus.QUEUED:
                transaction.on_commit(lambda: _enqueue_job(job.pk))
    return move.changed


# --- The run's end -----------------------------------------------------------------------------------------------


def run_check(*, run_id: int) -> str | None:
    """Finish a running run once every job is finished: done when all were done, failed when none, partly done
    otherwise. An erasure done leaves its tombstone; a change that recipients must hear of asks for their notices
    (Art. 19); the ``change_run_finished`` signal goes out when this commits. Returns the new status, or None."""
    with transaction.atomic():
        run = ChangeRun.objects.filter(pk=run_id).first()
        if run is None or run.status != RunStatus.RUNNING:
            return None
        request_lock(run.request_id)
        run = ChangeRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return None
        jobs = list(ChangeJob.objects.filter(run=run))
        unfinished = [job for job in jobs if job.status not in FINISHED_JOB_STATUSES]
        held = [job for job in unfinished if job.status == ChangeJobStatus.QUEUED and job.enqueued_at is None]
        if held and len(held) == len(unfinished):
            # Every other system has finished: the erasures that remove the person's identifiers go now (_launch).
            now = timezone.now()
            for job in held:
                job.enqueued_at = now
                job.save(update_fields=["enqueued_at", "updated_at"])
                transaction.on_commit(lambda job_id=job.pk: _enqueue_job(job_id))
            return None
        if unfinished:
            return None
        done = [job for job in jobs if job.status == ChangeJobStatus.DONE]
        if len(done) == len(jobs):
            status = RunStatus.DONE
        elif done:
            status = RunStatus.PARTLY_DONE
        else:
            status = RunStatus.FAILED
        finished = max((job.finished_at for job in jobs if job.finished_at), default=timezone.now())
        RUN_LIFECYCLE.move(
            run,
            status,
            actor_kind="system",
            reason=f"{len(done)} of {len(jobs)} system(s) changed",
            changes={"finished_at": finished},
        )
        if run.kind == ChangeKind.ERASE and done:
            tombstone_write(run, [job.system_id for job in done])
        if run.kind in NOTIFIED and done:
            _recipients_notify(run)
        kind, run_pk = run.kind, run.pk
        transaction.on_commit(
            lambda: change_run_finished.send(sender=ChangeRun, run_id=run_pk, kind=kind, status=status)
        )
    return status


def _recipients_notify(run: ChangeRun) -> list:
    """Art. 19: the recipients of the systems changed are told (``recipientnotices``)."""
    system_ids = list(
        ChangeJob.objects.filter(run=run, status=ChangeJobStatus.DONE).values_list("system_id", flat=True)
    )
    return notices_plan(request_id=run.request_id, system_ids=system_ids, change_kind=run.kind, actor=None)


# --- Erasure tombstone -------------------------------------------------------------------------------------------


def identifier_hashes(identifiers: Identifiers) -> dict[str, str]:
    """The keyed hashes of the identifiers the portal held (never the values)."""
    return {name: keyed_hash(value) for name in ("email", "phone", "customer_id") if (value := identifiers.get(name))}


def tombstone_write(run: ChangeRun, system_ids: list[int]) -> ErasureTombstone:
    """What is left of an erased person (Art. 17, Recital 66 and the ICO's guidance on backups): keyed hashes of
    their identifiers, so the erasure can be applied again after a backup restore. Idempotent per run."""
    request = DataSubjectRequest.objects.get(pk=run.request_id)
    tombstone, _created = ErasureTombstone.objects.get_or_create(
        run_id=run.pk,
        defaults={
            "hashes": identifier_hashes(identifiers_of(request)),
            "system_ids": sorted(system_ids),
            "erased_at": run.finished_at or timezone.now(),
        },
    )
    return tombstone


@dataclass
class ReapplyResult:
    tombstones: int = 0
    rows: int = 0
    systems: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # Systems that cannot look a person up by keyed hashes (an HTTP system holds no key): their owners re-apply.
    for_owners: list[str] = field(default_factory=list)


def erasure_reapply(*, system_name: str = "", now: datetime | None = None) -> ReapplyResult:
    """After a backup restore: for every tombstone, each active changing system it names (or only ``system_name``)
    is asked for the people matching its keyed hashes (``connector.find_identifiers``), and their data is erased again
    by the register's rules, recorded on the tombstone (Art. 17(1): erased data must not come back into use).

    A system whose connector cannot look people up by keyed hashes (the HTTP connector: the remote system has not
    the portal's key, and the tombstone keeps no identifier in clear, Art. 5(1)(c)) is named in ``for_owners``, once
    per system: its owner re-applies the erasures from that system's own records after the restore."""
    now = now or timezone.now()
    result = ReapplyResult()
    systems = active_systems()
    if system_name:
        systems = systems.filter(name=system_name)
    for tombstone in ErasureTombstone.objects.all():
        result.tombstones += 1
        for system in systems.filter(pk__in=tombstone.system_ids):
            if not is_changing(system.connector):
                continue
            try:
                connector = connector_for(system.connector, system.connector_config)
                if not callable(getattr(connector, "find_identifiers", None)):
                    if system.name not in result.for_owners:
                        result.for_owners.append(system.name)
                    continue
                instruction = ChangeInstruction(
                    kind=ChangeKind.ERASE,
                    tables=tables_for(system.connector_config, ChangeKind.ERASE),
                    batch_size=batch_rows(),
                    hash_key=hash_key(),
                )
                rows = 0
                # The connector hashes each stored identifier normalised (as Identifiers.of does), by its name.
                for identifiers in connector.find_identifiers(tombstone.hashes, _tombstone_hasher):
                    outcome = connector.apply_change(identifiers, instruction, progress=_ReapplyProgress())
                    rows += sum(
                        table.rows
                        for table in outcome.tables
                        if table.action in (TableAction.DELETE, TableAction.ANONYMISE)
                    )
            except ConnectorError as error:
                result.errors.append(f"{system.name}: {error}")
                continue
            result.rows += rows
            result.systems[system.name] = result.systems.get(system.name, 0) + rows
            tombstone.reapplications = [
                *tombstone.reapplications,
                {"at": now.isoformat(), "system_id": system.pk, "rows": rows},
            ]
            tombstone.save(update_fields=["reapplications"])
    return result


def _tombstone_hasher(_name: str, value: str) -> str:
    """The connectors' hasher for ``find_identifiers``: the tombstone holds one keyed hash per identifier value."""
    return keyed_hash(value)


class _ReapplyProgress:
    """A reapplication starts from nothing and need not resume: the erasure is idempotent."""

    def __init__(self) -> None:
        self.checkpoint: dict[str, Any] = {}

    def batch_done(self, checkpoint: Mapping[str, Any], *, table: str, rows: int) -> None:
        self.checkpoint = dict(checkpoint)


# --- The sweep ---------------------------------------------------------------------------------------------------


SWEEP_START_BATCH = 200


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    finished: int
    callbacks_failed: int = 0


def _tasks_dated(running: Q) -> int:
    """An owner's task given before tasks had a due date gets one, counted from the day it was given (so the queue's
    overdue flag and the owner's reminder cover it). Returns how many were dated."""
    changing = [key for key in getattr(settings, "DSAR_CONNECTORS", {}) if is_changing(key)]
    undated = (
        ChangeJob.objects.filter(running, status=ChangeJobStatus.WAITING, due_on__isnull=True)
        .exclude(connector__in=changing)
        .select_related("run")
    )
    dated = 0
    for job in undated[:SWEEP_START_BATCH]:
        given = job.enqueued_at or job.updated_at
        due = _task_due(job, job.run.kind, given)
        dated += ChangeJob.objects.filter(pk=job.pk, status=ChangeJobStatus.WAITING, due_on__isnull=True).update(
            due_on=due
        )
    return dated


def jobs_sweep(*, now: datetime | None = None) -> SweepResult:
    """Queue again the jobs of running runs that a lost message or a killed worker left queued or running past their
    timeout (the next run carries on from the checkpoint), fail the HTTP changes whose callback never came, and
    finish the runs whose jobs are all finished (the rows are the truth, not the broker)."""
    now = now or timezone.now()
    callbacks_failed = 0
    overdue = (
        ChangeJob.objects.filter(
            status=ChangeJobStatus.WAITING, connector="http", started_at__lt=now - callback_timeout()
        )
        .exclude(callback_token="")
        .values_list("pk", flat=True)
    )
    for job_id in list(overdue):
        with transaction.atomic():
            job = ChangeJob.objects.get(pk=job_id)
            request_lock(job.request_id)
            job = ChangeJob.objects.select_for_update(of=("self",)).select_related("system").get(pk=job_id)
            if job.status != ChangeJobStatus.WAITING or job.started_at is None:
                continue
            job.callback_token = ""
            job.save(update_fields=["callback_token", "updated_at"])
            job_not_done(job, reason=f"No answer from {job.system.name} by its callback.", actor_kind="system")
            callbacks_failed += 1
    running = Q(run__status=RunStatus.RUNNING)
    _tasks_dated(running)
    stuck = list(
        ChangeJob.objects.filter(
            running, status=ChangeJobStatus.QUEUED, enqueued_at__lt=now - queued_timeout()
        ).values_list("pk", flat=True)
    ) + list(
        ChangeJob.objects.filter(
            running, status=ChangeJobStatus.RUNNING, started_at__lt=now - running_timeout()
        ).values_list("pk", flat=True)
    )
    ChangeJob.objects.filter(pk__in=stuck, status=ChangeJobStatus.QUEUED).update(enqueued_at=now)
    for job_id in stuck:
        transaction.on_commit(lambda job_id=job_id: _enqueue_job(job_id))
    # An objection to direct marketing whose start never reached the broker.
    objections = DataSubjectRequest.objects.filter(
        status=Status.IN_PROGRESS, right=Right.OBJECTION, suppressed_at__isnull=True
    ).exclude(change_runs__kind=ChangeKind.SUPPRESS_MARKETING)
    for request_id in objections.values_list("pk", flat=True)[:SWEEP_START_BATCH]:
        marketing_suppress(request_id=request_id)
    finished = 0
    for run_id in ChangeRun.objects.filter(status=RunStatus.RUNNING).values_list("pk", flat=True):
        finished += run_check(run_id=run_id) is not None
    return SweepResult(requeued=len(stuck), finished=finished, callbacks_failed=callbacks_failed)
