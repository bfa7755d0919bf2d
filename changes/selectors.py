"""Reading the change engine's rows for pages and for the modules built on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from datasystems.connectors.changes import ChangeKind

from .models import ChangeItem, ChangeJob, ChangeJobStatus, ChangeRun, RunStatus


def runs_of_request(request_id: int) -> QuerySet[ChangeRun]:
    """Every change run of a request, oldest first."""
    return ChangeRun.objects.filter(request_id=request_id).select_related(
        "approved_by", "dpo_approved_by", "created_by", "publication_steps_by"
    )


@dataclass
class SystemResult:
    """One system's part of a run: its job and what was done per table."""

    job: ChangeJob
    items: list[ChangeItem] = field(default_factory=list)

    @property
    def system_name(self) -> str:
        return self.job.system.name

    @property
    def failed(self) -> bool:
        return self.job.status == ChangeJobStatus.FAILED

    @property
    def task_due(self) -> date | None:
        """The day the system owner's task is due, while it waits for them."""
        return self.job.due_on if self.job.status == ChangeJobStatus.WAITING else None

    @property
    def task_overdue(self) -> bool:
        return self.task_due is not None and self.task_due < timezone.localdate()


def run_results(run: ChangeRun) -> list[SystemResult]:
    """Per system, in the register's order: the job and its items."""
    jobs = list(ChangeJob.objects.filter(run=run).select_related("system", "done_by").order_by("system__name"))
    items: dict[int, list[ChangeItem]] = {job.pk: [] for job in jobs}
    for item in ChangeItem.objects.filter(job__run=run).order_by("pk"):
        items[item.job_id].append(item)
    return [SystemResult(job=job, items=items[job.pk]) for job in jobs]


def latest_run(request_id: int, kind: str) -> ChangeRun | None:
    """The newest run of ``kind`` for the request."""
    return ChangeRun.objects.filter(request_id=request_id, kind=kind).order_by("-created_at", "-pk").first()


def time_to_suppression(request_id: int) -> timedelta | None:
    """GDPR Art. 21(3): from the objection's receipt to the moment marketing stopped in the last system (the
    suppression run's ``finished_at``), for the same-or-next-working-day target; None while it is not done."""
    run = (
        ChangeRun.objects.filter(request_id=request_id, kind=ChangeKind.SUPPRESS_MARKETING, status=RunStatus.DONE)
        .select_related("request")
        .order_by("pk")
        .first()
    )
    if run is None or run.finished_at is None:
        return None
    return run.finished_at - run.request.received_at


# --- The staff queue's flags (casework knows no change jobs: ``apps.ChangesConfig`` registers them) ---------------


def failed_job_exists() -> Exists:
    """A change in one of the request's data systems failed and waits for staff to retry it (GDPR Art. 16-18, 21(3):
    the decision is not carried out until it is done; the queue's flag and filter, an ``Exists`` over the outer
    query's request ``pk``, read through the job's request index)."""
    return Exists(ChangeJob.objects.filter(request=OuterRef("pk"), status=ChangeJobStatus.FAILED))


def requests_with_failed_jobs() -> QuerySet:
    """The ids of the requests with a failed change job, read by the jobs' (status, updated_at) index: the queue's
    filter sorts these few rather than probing every open request."""
    return ChangeJob.objects.filter(status=ChangeJobStatus.FAILED).values("request_id")


def _overdue_tasks() -> QuerySet[ChangeJob]:
    return ChangeJob.objects.filter(status=ChangeJobStatus.WAITING, due_on__lt=timezone.localdate())


def overdue_task_exists() -> Exists:
    """A system owner's change task of the request is past its due date (``services.task_due_date``; GDPR Art. 12(3),
    21(3)): the queue's flag and filter, an ``Exists`` over the outer query's request ``pk``."""
    return Exists(_overdue_tasks().filter(request=OuterRef("pk")))


def requests_with_overdue_tasks() -> QuerySet:
    """The ids of the requests with an overdue change task, read by the jobs' (status, updated_at) index."""
    return _overdue_tasks().values("request_id")
