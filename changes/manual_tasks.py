"""A change carried out by hand: the task of a data system's owner when its connector cannot change data itself
(a manual system, or any connector without ``apply_change``), in the staff area under /staff/tasks/changes/.

The owner reads what is to be done (the register's rules per table, or the corrected values), does it in their
system, and records per table what they did (rows, action, and for what is kept the Art. 17(3) ground and reason),
or that it could not be done and why. The rules:

- GDPR Art. 5(1)(c): only the system's owner sees the person's identifiers and the corrected values; while a system
  has no owner, the DPO (who edits the register) does it.
- GDPR Art. 5(2), 17(3), 12(4): what was done is recorded per table (``ChangeItem``); what was kept names its
  ground and reason, which the answer to the person gives.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from datasystems.change_rules import ERASURE_EXCEPTION_GROUNDS, ChangeRuleError
from datasystems.connectors.changes import ChangeKind, TableAction, TableInstruction
from datasystems.selectors import MANAGE
from fulfilment.services import identifiers_of
from requests_app.audit import event_record
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind

from . import services
from .models import ChangeJob, ChangeJobStatus, RunStatus

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
