"""A change carried out by hand: the task of a data system's owner when its connector cannot change data itself
(a manual system, or any connector without ``apply_change``), in the staff area under /staff/tasks/changes/.

The owner reads what is to be done (the register's rules per table, or the corrected values), does it in their
system, and records per table what they did (rows, action, and for what is kept the Art. 17(3) ground and reason),
or that it could not be done and why. The rules:

- GDPR Art. 5(1)(c): only the system's owner sees the person's identifiers and the corrected values; while a system
  has no owner, the DPO (who edits the register) does it.
- GDPR Art. 5(2), 17(3), 12(4): what was done is recorded per table (``ChangeItem``); what was kept names its
  ground and reason, which the answer to the person gives.
- GDPR Art. 12(3), 21(3): a task has a due date (``services.task_due_date``); its owner is reminded once a day
  while it is due within ``REMINDER_DAYS`` days or overdue, as for a search task, and the queue flags it once overdue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from datasystems.change_rules import ERASURE_EXCEPTION_GROUNDS, ChangeRuleError
from datasystems.connectors.changes import ChangeKind, TableAction, TableInstruction
from datasystems.selectors import MANAGE
from fulfilment.manual_tasks import REMINDER_DAYS, days_left_words, owner_reminder_deliver, owner_reminders_make
from fulfilment.services import identifiers_of
from requests_app.audit import event_record
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind

from . import services
from .models import ChangeJob, ChangeJobStatus, ChangeTaskReminder, RunStatus

logger = logging.getLogger(__name__)

WORK = "changes.work_change_tasks"
# Actions a person can record per table, per kind of change.
ACTIONS_BY_KIND = {
    ChangeKind.ERASE: (TableAction.DELETE, TableAction.ANONYMISE, TableAction.KEEP),
    ChangeKind.RECTIFY: (TableAction.UPDATE,),
    ChangeKind.RESTRICT: (TableAction.FLAG,),
    ChangeKind.LIFT_RESTRICTION: (TableAction.FLAG,),
    ChangeKind.SUPPRESS_MARKETING: (TableAction.FLAG,),
}


class TaskError(Exception):
    """The task cannot be finished as asked; the message is for the person who tried (no personal data)."""


def _staff(user: AbstractBaseUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def may_use_tasks(user: AbstractBaseUser) -> bool:
    """Staff who may open the change task pages: those who carry changes out by hand (a system owner's role)."""
    return _staff(user) and user.has_perm(WORK)


def _manual_jobs() -> QuerySet[ChangeJob]:
    changing = [key for key in _connector_keys() if services.is_changing(key)]
    return (
        ChangeJob.objects.exclude(connector__in=changing)
        .select_related("system", "system__owner", "run", "request")
        .order_by("enqueued_at", "pk")
    )


def _connector_keys() -> list[str]:
    return list(getattr(settings, "DSAR_CONNECTORS", {}))


def tasks_visible_to(user: AbstractBaseUser) -> QuerySet[ChangeJob]:
    """The change tasks ``user`` carries out (object-level: the role alone is not enough): those of the systems they
    own, and for the DPO those of systems without an owner."""
    if not may_use_tasks(user):
        return ChangeJob.objects.none()
    query = Q(system__owner=user)
    if user.has_perm(MANAGE):
        query |= Q(system__owner__isnull=True)
    return _manual_jobs().filter(query)


def open_tasks_visible_to(user: AbstractBaseUser) -> QuerySet[ChangeJob]:
    return tasks_visible_to(user).filter(status=ChangeJobStatus.WAITING, run__status=RunStatus.RUNNING)


def identifiers_shown(job: ChangeJob) -> list[tuple[str, str]]:
    """(label, value) of the identifiers that find the person in the system: for its owner only."""
    identifiers = identifiers_of(DataSubjectRequest.objects.get(pk=job.request_id))
    labels = {"email": _("E-mail address"), "phone": _("Phone number"), "customer_id": _("Customer number")}
    return [(label, identifiers.get(name)) for name, label in labels.items() if identifiers.get(name)]


def instructions_of(job: ChangeJob) -> list[TableInstruction]:
    """What the register (or the approved correction) asks of each table; empty when the register says nothing."""
    try:
        return services.table_instructions(job.system, ChangeKind(job.run.kind), job.run.payload or {})
    except ChangeRuleError:
        return []


def task_opened(*, job: ChangeJob, user: AbstractBaseUser) -> None:
    """The owner saw the identifiers: written to the request's trail (Art. 5(2))."""
    event_record(
        request_id=job.request_id,
        kind=EventKind.CHANGE_RECORDED,
        actor=user,
        actor_kind="staff",
        reason=f"{job.system.name}: change task opened, identifiers shown to the system owner",
    )


def _locked_open(job: ChangeJob) -> ChangeJob:
    request_lock(job.request_id)
    locked = ChangeJob.objects.select_for_update(of=("self",)).select_related("system", "run").get(pk=job.pk)
    if locked.status != ChangeJobStatus.WAITING or locked.run.status != RunStatus.RUNNING:
        raise TaskError(_("This task was finished already."))
    return locked


def task_done(*, job: ChangeJob, actor: AbstractBaseUser, items: Sequence[services.Item], note: str = "") -> ChangeJob:
    """The owner records what they did, table by table (Art. 5(2)); kept or anonymised data of an erasure names
    its Art. 17(3) ground and reason (Art. 12(4))."""
    if not items:
        raise TaskError(_("Record at least one table and what was done there."))
    for item in items:
        if item.action in (TableAction.KEEP, TableAction.ANONYMISE) and job.run.kind == ChangeKind.ERASE:
            if item.ground not in ERASURE_EXCEPTION_GROUNDS or not item.reason.strip():
                raise TaskError(_("Data kept or anonymised needs its Article 17(3) ground and the reason."))
    with transaction.atomic():
        locked = _locked_open(job)
        services.job_finish(
            locked,
            items=items,
            actor_kind="staff",
            by=actor,
            note=note.strip(),
            reason=f"{locked.system.name}: changed by hand by the system owner",
        )
    job.refresh_from_db()
    return job


def task_not_done(*, job: ChangeJob, actor: AbstractBaseUser, reason: str) -> ChangeJob:
    """The owner could not make the change, and says why; staff see it on the case page and may retry."""
    reason = reason.strip()
    if not reason:
        raise TaskError(_("Say why the change could not be made."))
    with transaction.atomic():
        locked = _locked_open(job)
        services.job_not_done(locked, reason=reason, actor_kind="staff", by=actor)
    job.refresh_from_db()
    return job


# --- The owners' daily reminder ----------------------------------------------------------------------------------


def _open_tasks() -> QuerySet[ChangeJob]:
    return _manual_jobs().filter(status=ChangeJobStatus.WAITING, run__status=RunStatus.RUNNING, due_on__isnull=False)


def _task_link(job: ChangeJob) -> str:
    return settings.DSAR_PUBLIC_URL + reverse("changes_tasks:task_detail", kwargs={"public_id": job.public_id})


def task_reminders_send(*, today: date) -> int:
    """Remind each system owner, once a day, of their change tasks due within ``REMINDER_DAYS`` days or overdue
    (GDPR Art. 12(3), 17(1) "without undue delay", 21(3): a decision is carried out only once every system is
    changed). Idempotent: one ``ChangeTaskReminder`` per owner and day, made before anything is sent, and written to
    each request's audit trail. Returns how many reminders were made now."""
    from . import tasks

    jobs = (
        _open_tasks()
        .filter(system__owner__isnull=False, system__owner__is_active=True)
        .filter(due_on__lte=today + timedelta(days=REMINDER_DAYS))
        .order_by("pk")
    )
    due_by_owner: dict[int, list[ChangeJob]] = {}
    for job in jobs:
        due_by_owner.setdefault(job.system.owner_id, []).append(job)
    return owner_reminders_make(
        model=ChangeTaskReminder,
        today=today,
        due_by_owner=due_by_owner,
        task="Change task",
        queue=tasks.send_change_task_reminder.delay,
    )


def task_reminder_email(reminder: ChangeTaskReminder) -> tuple[str, str]:
    """Subject and body: system names, the kind of change, references, due dates and links, never the person's name,
    identifiers or corrected values (GDPR Art. 5(1)(f), 32: staff mailboxes are forwarded and synced; the task page
    is behind sign-in)."""
    jobs = list(_open_tasks().filter(pk__in=reminder.job_ids).order_by("due_on", "pk"))
    lines = [
        f"- {job.system.name}, {job.run.get_kind_display().lower()} for request {job.request.reference}: "
        f"due {job.due_on.isoformat()} ({days_left_words(job.due_on, reminder.day)})\n  {_task_link(job)}"
        for job in jobs
    ]
    subject = f"Change tasks due soon: {len(jobs)}"
    body = "\n".join(
        [
            "These changes in the data systems you own are due soon or overdue:",
            "",
            *lines,
            "",
            "Open each task to see what to change.",
        ]
    )
    return subject, body


def task_reminder_deliver(*, reminder_id: int) -> bool:
    """Send one reminder unless it was sent already (or its tasks are all finished now); True if it went now."""
    return owner_reminder_deliver(
        model=ChangeTaskReminder,
        reminder_id=reminder_id,
        still_open=lambda job_ids: _open_tasks().filter(pk__in=job_ids).exists(),
        email=task_reminder_email,
    )
