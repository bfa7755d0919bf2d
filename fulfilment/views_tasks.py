"""The system owners' search tasks in the staff area (/staff/tasks/): the list, and one task's page with what to
search for and the three ways to finish it. Thin: scope through ``manual_tasks.tasks_visible_to``, validate, call one
service, turn its errors into messages (a task finished meanwhile is a message, never a 500)."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import manual_tasks
from .manual_tasks import TaskError, TaskFinished
from .models import JobStatus, SearchJob
from .task_forms import TaskNothingForm, TaskNotSearchedForm, TaskUploadForm

ACTIONS = ("upload", "nothing", "not_searched")


def task_area(view: Callable) -> Callable:
    """Signed in (else to the sign-in page), then staff who may see tasks (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not manual_tasks.may_use_tasks(http_request.user):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return wrapped


@require_GET
@task_area
def task_list(http_request: HttpRequest) -> HttpResponse:
    """The waiting search tasks this member of staff may see, soonest due first."""
    user = http_request.user
    jobs = manual_tasks.open_tasks_visible_to(user)
    rows = manual_tasks.task_rows(list(jobs), timezone.localdate())
    return render(
        http_request,
        "fulfilment/tasks_list.html",
        {
            "nav": "tasks",
            "rows": rows,
            "workable": {row.job.pk for row in rows if manual_tasks.may_work(user, row.job)},
        },
    )


def _forms(job: SearchJob, data=None, files=None, action: str = "") -> dict:
    available = [name for name, _label, _value in manual_tasks.identifiers_shown(job)]
    upload = action == "upload"
    return {
        "upload_form": TaskUploadForm(
            data if upload else None, files if upload else None, available=available, prefix="upload"
        ),
        "nothing_form": TaskNothingForm(data if action == "nothing" else None, available=available, prefix="nothing"),
        "not_searched_form": TaskNotSearchedForm(data if action == "not_searched" else None, prefix="not_searched"),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@task_area
def task_detail(http_request: HttpRequest, public_id: str) -> HttpResponse:
    """One task: the request's reference and right, the identifiers to search by (to the system's owner only), the
    register's search procedure; and, while it waits, the forms that finish it."""
    user = http_request.user
    job = get_object_or_404(manual_tasks.tasks_visible_to(user).exclude(public_id=""), public_id=public_id)
    may_work = manual_tasks.may_work(user, job)
    is_open = job.status == JobStatus.WAITING
    action = http_request.POST.get("action", "") if http_request.method == "POST" else ""
    if http_request.method == "POST":
        if not may_work:
            raise PermissionDenied
        if action not in ACTIONS:
            messages.error(http_request, _("Choose what you found: uploaded data, nothing, or not searched."))
            return redirect("fulfilment_tasks:task_detail", public_id=job.public_id)
    forms = _forms(job, http_request.POST, http_request.FILES, action) if may_work and is_open else {}
    status = 200
    if action:
        form = forms.get(f"{action}_form")
        if form is None:
            messages.info(http_request, _("This search task was finished already; nothing was changed."))
            return redirect("fulfilment_tasks:task_detail", public_id=job.public_id)
        if form.is_valid():
            try:
                _finish(action, job, user, form.cleaned_data)
            except TaskFinished as error:
                messages.info(http_request, str(error))
                return redirect("fulfilment_tasks:task_detail", public_id=job.public_id)
            except TaskError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    http_request,
                    _("The search of %(system)s is recorded. Thank you.") % {"system": job.system.name},
                )
                return redirect("fulfilment_tasks:task_list")
        status = 400
    today = timezone.localdate()
    due = manual_tasks.due_date_of(job)
    identifiers = []
    if may_work and is_open:
        identifiers = manual_tasks.identifiers_shown(job)
        if http_request.method == "GET":
            manual_tasks.task_opened(job=job, user=user)
    return render(
        http_request,
        "fulfilment/tasks_detail.html",
        {
            "nav": "tasks",
            "job": job,
            "system": job.system,
            "request_ref": job.request.reference,
            "right": job.request.get_right_display(),
            "due": due,
            "days_left": manual_tasks.days_left_words(due, today),
            "overdue": due < today,
            "may_work": may_work,
            "is_open": is_open,
            "identifiers": identifiers,
            "instructions": (job.system.connector_config or {}).get("instructions", ""),
            "records": job.records.select_related("by").order_by("at", "pk"),
            "max_mb": manual_tasks.max_upload_bytes() // (1024 * 1024),
            **forms,
        },
        status=status,
    )


def _finish(action: str, job: SearchJob, user, data: dict) -> str:
    if action == "upload":
        return manual_tasks.task_upload(
            job=job,
            actor=user,
            tables=data["tables"],
            identifiers_used=list(data["identifiers_used"]),
            provided_or_observed=data["provided_or_observed"],
            note=data.get("note", ""),
        )
    if action == "nothing":
        return manual_tasks.task_holds_nothing(
            job=job, actor=user, identifiers_used=list(data["identifiers_used"]), note=data.get("note", "")
        )
    return manual_tasks.task_not_searched(job=job, actor=user, reason=data["reason"])
