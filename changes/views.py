"""The change engine on the case page: the panel (per run and system: status, rows, batches, what was done per
table, approvals, retry), and its actions. Thin: scope to the requests the user may see, check they may act, call
one service, turn its refusals into messages (a race is a message, never a 500)."""

from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import selectors as casework_selectors
from casework.views import staff_area
from datasystems.connectors.changes import ChangeKind
from dsar_portal.staff_auth import step_up_needed
from requests_app.lifecycle import IllegalTransition
from requests_app.models import Right, Status

from . import answer, selectors, services
from .forms import CancelForm, PublicationStepsForm
from .models import ChangeJob, ChangeJobStatus, ChangeRun, RunStatus


def case_panel(http_request: HttpRequest, request) -> dict | None:
    """The changes panel of a case page (``request`` already scoped to the user); None when there is nothing to
    show: no run, and not an erasure request in progress that could be planned."""
    runs = list(selectors.runs_of_request(request.pk))
    user = http_request.user
    may_act = user.has_perm(casework_selectors.ACT)
    may_plan_erasure = (
        may_act
        and request.right == Right.ERASURE
        and request.status == Status.IN_PROGRESS
        and not any(run.kind == ChangeKind.ERASE and run.status != RunStatus.CANCELLED for run in runs)
    )
    if not runs and not may_plan_erasure:
        return None
    rows = []
    for run in runs:
        erasure = answer.erasure_answer(run) if run.kind == ChangeKind.ERASE else None
        rows.append(
            {
                "run": run,
                "results": selectors.run_results(run),
                "needs_dpo": services.needs_dpo(run),
                "may_approve": may_act and services.may_approve(run, user),
                "may_cancel": may_act and run.status == RunStatus.AWAITING_APPROVAL,
                "answer": erasure,
                "may_record_steps": may_act and erasure is not None and run.status not in (RunStatus.CANCELLED,),
                "may_send_answer": may_act
                and erasure is not None
                and run.status == RunStatus.DONE
                and request.status == Status.IN_PROGRESS,
            }
        )
    return {
        "reference": request.reference,
        "runs": rows,
        "may_act": may_act,
        "may_plan_erasure": may_plan_erasure,
        "threshold": services.dpo_threshold(),
        "steps_form": PublicationStepsForm(),
        "cancel_form": CancelForm(),
    }


def _may_act(view):
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not http_request.user.has_perm(casework_selectors.ACT):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return wrapped


def _scoped_run(http_request: HttpRequest, reference: str, run_id: int) -> ChangeRun:
    request = get_object_or_404(casework_selectors.requests_visible_to(http_request.user), reference=reference)
    return get_object_or_404(ChangeRun, pk=run_id, request=request)


def _visible_first(view):
    """404 for a run the user may not see before anything else (the step-up)."""

    @wraps(view)
    def wrapped(http_request: HttpRequest, reference: str, run_id: int, *args, **kwargs) -> HttpResponse:
        _scoped_run(http_request, reference, run_id)
        return view(http_request, reference, run_id, *args, **kwargs)

    return wrapped


def _back(reference: str) -> HttpResponse:
    return redirect("casework:request_detail", reference=reference)


@require_POST
@staff_area
@_may_act
def erasure_plan(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Plan the erasure in every system (GDPR Art. 17(1)); it waits for approval."""
    request = get_object_or_404(casework_selectors.requests_visible_to(http_request.user), reference=reference)
    if request.right != Right.ERASURE or request.status != Status.IN_PROGRESS:
        messages.error(http_request, _("Only an erasure request in progress can be carried out in the systems."))
        return _back(reference)
    services.change_run_start(request=request, kind=ChangeKind.ERASE, actor=http_request.user)
    messages.success(http_request, _("The erasure is planned in every system. It waits for approval."))
    return _back(reference)


@require_POST
@staff_area
@_may_act
@_visible_first
# Step-up (as for releasing an answer): a change that destroys or alters data asks for a fresh second factor
# (GDPR Art. 32(1)(b)); allauth keeps the POST and sends it again once the factor is given.
@reauthentication_required(enabled=step_up_needed)
def run_approve(http_request: HttpRequest, reference: str, run_id: int) -> HttpResponse:
    run = _scoped_run(http_request, reference, run_id)
    try:
        services.change_run_approve(run=run, actor=http_request.user)
    except (services.ChangeError, IllegalTransition) as error:
        message = str(error) if isinstance(error, services.ChangeError) else _("This change moved on meanwhile.")
        messages.error(http_request, message)
        return _back(reference)
    if run.status == RunStatus.AWAITING_APPROVAL:
        messages.success(http_request, _("Approved. The change is this large, so the DPO must approve it as well."))
    else:
        messages.success(http_request, _("Approved. The change is being carried out in the systems."))
    return _back(reference)


@require_POST
@staff_area
@_may_act
def run_cancel(http_request: HttpRequest, reference: str, run_id: int) -> HttpResponse:
    run = _scoped_run(http_request, reference, run_id)
    form = CancelForm(http_request.POST)
    if not form.is_valid():
        messages.error(http_request, _("Say why the change is cancelled."))
        return _back(reference)
    try:
        services.change_run_cancel(run=run, actor=http_request.user, reason=form.cleaned_data["reason"])
    except (services.ChangeError, IllegalTransition):
        messages.error(http_request, _("This change started meanwhile and can no longer be cancelled."))
    else:
        messages.success(http_request, _("The change was cancelled; nothing was changed."))
    return _back(reference)


@require_POST
@staff_area
@_may_act
def job_retry(http_request: HttpRequest, reference: str, run_id: int, job_id: int) -> HttpResponse:
    run = _scoped_run(http_request, reference, run_id)
    job = get_object_or_404(ChangeJob.objects.select_related("system"), pk=job_id, run=run)
    try:
        retried = services.job_retry(job=job, actor=http_request.user)
    except IllegalTransition:
        messages.error(http_request, _("This change is no longer failed."))
        return _back(reference)
    if retried:
        messages.success(http_request, _("The change in %(system)s is retried.") % {"system": job.system.name})
    elif job.status in (ChangeJobStatus.QUEUED, ChangeJobStatus.WAITING):
        messages.info(http_request, _("It was retried already."))
    return _back(reference)


@require_POST
@staff_area
@_may_act
def publication_steps(http_request: HttpRequest, reference: str, run_id: int) -> HttpResponse:
    """GDPR Art. 17(2): the steps taken to inform other controllers, recorded."""
    run = _scoped_run(http_request, reference, run_id)
    form = PublicationStepsForm(http_request.POST)
    if not form.is_valid():
        messages.error(http_request, _("Describe the steps taken."))
        return _back(reference)
    try:
        answer.publication_steps_record(run=run, actor=http_request.user, steps=form.cleaned_data["steps"])
    except services.ChangeError as error:
        messages.error(http_request, str(error))
    else:
        messages.success(http_request, _("The steps are recorded and listed in the answer."))
    return _back(reference)


@require_POST
@staff_area
@_may_act
def answer_send(http_request: HttpRequest, reference: str, run_id: int) -> HttpResponse:
    """Complete the erasure request with its answer: erased, kept and why, backups, Art. 17(2) steps."""
    run = _scoped_run(http_request, reference, run_id)
    try:
        answer.erasure_answer_send(run=run, actor=http_request.user)
    except services.ChangeError as error:
        messages.error(http_request, str(error))
    else:
        messages.success(http_request, _("The answer was sent to the person."))
    return _back(reference)
