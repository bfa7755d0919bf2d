"""Reads of the compiled answer, for the case page."""

from contextlib import closing
from dataclasses import dataclass
from itertools import islice

from django.db.models import Exists, OuterRef, QuerySet

from .models import (
    FINISHED_JOB_STATUSES,
    Compilation,
    JobStatus,
    Redaction,
    Release,
    SearchJob,
    SearchPart,
    SearchRecord,
)
from .review import ground_label, redaction_marker
from .services import _json_lines


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


def requests_with_failed_jobs() -> QuerySet:
    """The ids of the requests with a failed search job, read by the jobs' (status, updated_at) index: the queue's
    filter sorts these few rather than probing every open request."""
    return SearchJob.objects.filter(status=JobStatus.FAILED).values("request_id")


# --- Review before release -----------------------------------------------------------------------------------------

REVIEW_PAGE_SIZE = 50


def release_latest(*, request_id: int) -> Release | None:
    """The newest release of a request's answer (copy 1 of the latest compilation, or a further copy)."""
    return (
        Release.objects.filter(request_id=request_id)
        .select_related("approved_by", "second_approved_by", "compilation")
        .order_by("-pk")
        .first()
    )


def review_parts(release: Release) -> list[SearchPart]:
    """The tables of the answer under review, system by system (those with rows)."""
    return list(
        SearchPart.objects.filter(job__compilation_id=release.compilation_id, rows__gt=0)
        .select_related("job__system")
        .order_by("job__system__name", "position")
    )


def review_decisions(release: Release) -> list[Redaction]:
    """The live decisions of a release, with who made them and their ground's label."""
    decisions = list(
        release.redactions.filter(undone_at=None)
        .select_related("part__job__system", "created_by")
        .order_by("part__job__system__name", "part__position", "kind", "row", "column")
    )
    for decision in decisions:
        decision.ground_label = ground_label(decision.ground)
    return decisions


@dataclass(frozen=True)
class RowsPage:
    rows: list[tuple[int, list]]  # (row number, [(value, marker or "")] per column)
    number: int
    pages: int
    first: int
    last: int


def review_rows(part: SearchPart, decisions: list[Redaction], *, page: int) -> RowsPage:
    """One page of a table's rows, read from its encrypted part one line at a time (never the whole table), each
    field with the marker of a live decision that covers it."""
    pages = max(1, -(-part.rows // REVIEW_PAGE_SIZE))
    page = min(max(1, page), pages)
    first = (page - 1) * REVIEW_PAGE_SIZE + 1
    mine = [decision for decision in decisions if decision.part_id == part.pk]
    table = next((d.ground for d in mine if d.kind == "table"), "")
    rows_withheld = {d.row: d.ground for d in mine if d.kind == "row"}
    columns = {d.column: d.ground for d in mine if d.kind == "column"}
    cells = {(d.row, d.column): d.ground for d in mine if d.kind == "cell"}
    rows = []
    with closing(_json_lines(part.json_name)) as items:
        page_items = list(islice(items, first - 1, first - 1 + REVIEW_PAGE_SIZE))
    for number, item in enumerate(page_items, first):
        whole = table or rows_withheld.get(number, "")
        cells_out = []
        for column in part.columns:
            ground = whole or cells.get((number, column)) or columns.get(column, "")
            cells_out.append((item.get(column), redaction_marker(ground) if ground else ""))
        rows.append((number, cells_out))
    return RowsPage(rows=rows, number=page, pages=pages, first=first, last=first + len(rows) - 1)
