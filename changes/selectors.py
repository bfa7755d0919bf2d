"""Reading the change engine's rows for pages and for the modules built on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from .models import ChangeItem, ChangeJob, ChangeJobStatus, ChangeRun


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
