"""Reads of the compiled answer, for the case page."""

from dataclasses import dataclass

from django.db.models import Sum

from .models import FINISHED_JOB_STATUSES, Compilation, JobStatus, SearchJob, SearchRecord


@dataclass(frozen=True)
class Progress:
    compilation: Compilation
    done: int  # jobs searched (or recorded as not searched)
    total: int
    rows: int  # rows found so far
    failed: list[SearchJob]
    waiting: list[SearchJob]


def compilation_latest(*, request_id: int) -> Compilation | None:
    return Compilation.objects.filter(request_id=request_id).order_by("-attempt").first()


def progress_of(compilation: Compilation) -> Progress:
    jobs = compilation.jobs.select_related("system").order_by("system__name")
    return Progress(
        compilation=compilation,
        done=jobs.filter(status__in=FINISHED_JOB_STATUSES).count(),
        total=jobs.count(),
        rows=jobs.aggregate(rows=Sum("rows_found"))["rows"] or 0,
        failed=list(jobs.filter(status=JobStatus.FAILED)),
        waiting=list(jobs.filter(status=JobStatus.WAITING)),
    )


def search_records_of(compilation: Compilation) -> list[SearchRecord]:
    return list(compilation.search_records.select_related("by").order_by("at", "pk"))
