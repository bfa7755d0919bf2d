"""Reads of the compiled answer, for the case page."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

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
    """In one query: a compilation has one job per data system, a few dozen at most."""
    jobs = list(compilation.jobs.select_related("system").order_by("system__name"))
    return Progress(
        compilation=compilation,
        done=sum(job.status in FINISHED_JOB_STATUSES for job in jobs),
        total=len(jobs),
        rows=sum(job.rows_found for job in jobs),
        failed=[job for job in jobs if job.status == JobStatus.FAILED],
        waiting=[job for job in jobs if job.status == JobStatus.WAITING],
    )


def search_records_of(compilation: Compilation) -> list[SearchRecord]:
    return list(compilation.search_records.select_related("by").order_by("at", "pk"))


def failed_job_exists() -> Exists:
    """A search job of the request failed and waits for staff to retry it (the queue's flag and filter; an
    ``Exists`` over the outer query's request ``pk``, read through the job's request index)."""
    return Exists(SearchJob.objects.filter(request=OuterRef("pk"), status=JobStatus.FAILED))
