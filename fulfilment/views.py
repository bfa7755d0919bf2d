"""The compiled answer on the case page: progress, failed searches with a retry button, and the search record."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import selectors as casework_selectors
from casework.views import staff_area
from requests_app.lifecycle import IllegalTransition
from requests_app.models import Right

from . import manual_tasks, releases, review, selectors, services
from .models import Release, SearchJob


def case_panel(http_request: HttpRequest, request) -> dict | None:
    """The fulfilment panel of a case page (``request`` is already scoped to the user); None when nothing was
    compiled for it."""
    if request.right not in (Right.ACCESS, Right.PORTABILITY):
        return None
    compilation = selectors.compilation_latest(request_id=request.pk)
    if compilation is None:
        return None
    user = http_request.user
    may_act = user.has_perm(casework_selectors.ACT)
    release = selectors.release_latest(request_id=request.pk)
    progress = selectors.progress_of(compilation)
    build_failed = release is not None and releases.build_failed(release)
    return {
        "progress": progress,
        "waiting": _waiting_rows(user, progress.waiting),
        "release_build_failed": build_failed,
        "release_build_error": releases.build_error_of(release) if build_failed else "",
        "may_build_again": may_act and build_failed,
        "records": selectors.search_records_of(compilation),
        "can_retry": may_act,
        "reference": request.reference,
        # Review before release: its state, the review page and the approve button for those who may act.
        "release": release,
        "release_reference": request.reference,
        "may_review": may_act and release is not None,
        "may_approve": may_act and release is not None and review.may_approve(release, http_request.user),
    }


def _waiting_rows(user, jobs: list[SearchJob]) -> list[dict]:
    """The searches waiting outside the workers: a system owner's task with its due date, and a link to its page for
    those who may open it (``manual_tasks.tasks_visible_to``: the page checks again); an HTTP system's search with
    the time its answer is due by (``services.callback_timeout``)."""
    visible = set(
        manual_tasks.tasks_visible_to(user).filter(pk__in=[job.pk for job in jobs]).values_list("pk", flat=True)
    )
    rows = []
    for job in jobs:
        row = {"job": job, "task_due": None, "task_link": False, "answer_due": None}
        if job.connector == manual_tasks.MANUAL:
            row["task_due"] = manual_tasks.due_date_of(job)
            row["task_link"] = job.pk in visible and bool(job.public_id)
        elif job.started_at is not None:
            row["answer_due"] = job.started_at + services.callback_timeout()
        rows.append(row)
    return rows


@require_POST
@staff_area
def job_retry(http_request: HttpRequest, reference: str, job_id: int) -> HttpResponse:
    """Retry a failed search (permission to act on the request; written to its trail by the job's lifecycle)."""
    user = http_request.user
    if not user.has_perm(casework_selectors.ACT):
        raise PermissionDenied
    request = get_object_or_404(casework_selectors.requests_visible_to(user), reference=reference)
    job = get_object_or_404(SearchJob.objects.select_related("system"), pk=job_id, request=request)
    try:
        changed = services.job_retry(job=job, actor=user)
    except IllegalTransition:
        messages.error(http_request, _("This search is no longer failed: it was retried already or finished."))
    else:
        if not changed:
            messages.info(http_request, _("This search was queued again already."))
            return redirect("casework:request_detail", reference=request.reference)
        messages.success(http_request, _("The search of %(system)s was queued again.") % {"system": job.system.name})
    return redirect("casework:request_detail", reference=request.reference)


@require_POST
@staff_area
def release_build_again(http_request: HttpRequest, reference: str, release_id: int) -> HttpResponse:
    """Build again a released archive whose build kept failing (permission to act on the request; written to its
    trail)."""
    user = http_request.user
    if not user.has_perm(casework_selectors.ACT):
        raise PermissionDenied
    request = get_object_or_404(casework_selectors.requests_visible_to(user), reference=reference)
    release = get_object_or_404(Release, pk=release_id, request=request)
    try:
        changed = releases.release_build_again(release=release, actor=user)
    except review.ReviewError as error:
        messages.error(http_request, str(error))
    else:
        if changed:
            messages.success(http_request, _("The released archive is being built again."))
        else:
            messages.info(http_request, _("The released archive is being built already."))
    return redirect("casework:request_detail", reference=request.reference)
