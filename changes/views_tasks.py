"""The system owners' change tasks (/staff/tasks/changes/): the list of their open tasks, and one task's page with
what to change and the forms that finish it. Thin: scope through ``manual_tasks.tasks_visible_to`` (another
owner's task is not found), validate, call one service, turn its refusals into messages."""

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

from datasystems.connectors.changes import ChangeKind

from . import manual_tasks, selectors
from .forms import TaskItemFormSet, TaskNotDoneForm, TaskNoteForm
from .models import ChangeJob, ChangeJobStatus, RunStatus
from .services import Item


def task_area(view: Callable) -> Callable:
    """Signed in (else to the sign-in page), then staff who carry changes out by hand (else 403)."""

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
    jobs = manual_tasks.open_tasks_visible_to(http_request.user)
    return render(
        http_request, "changes/tasks_list.html", {"nav": "tasks", "jobs": jobs, "today": timezone.localdate()}
    )


def _initial(job: ChangeJob) -> list[dict]:
    return [{"table": rule.table, "action": rule.action} for rule in manual_tasks.instructions_of(job)] or [{}]


def _forms(job: ChangeJob, data=None, action: str = "") -> dict:
    kind = ChangeKind(job.run.kind)
    done = action == "done"
    initial = _initial(job)
    formset = TaskItemFormSet(
        data if done else None,
        initial=initial,
        prefix="items",
        form_kwargs={"actions": manual_tasks.ACTIONS_BY_KIND[kind]},
    )
    if not done:
        formset.extra = max(0, 3 - len(initial))
    return {
        "formset": formset,
        "note_form": TaskNoteForm(data if done else None, prefix="done"),
        "not_done_form": TaskNotDoneForm(data if action == "not_done" else None, prefix="not_done"),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@task_area
def task_detail(http_request: HttpRequest, public_id: str) -> HttpResponse:
    """One task: what to change in the system (the register's rules per table, or the corrected values) and the
    person's identifiers to find them by (to the owner only), and while it waits, the forms that finish it."""
    user = http_request.user
    job = get_object_or_404(manual_tasks.tasks_visible_to(user).exclude(public_id=""), public_id=public_id)
    is_open = job.status == ChangeJobStatus.WAITING and job.run.status == RunStatus.RUNNING
    action = http_request.POST.get("action", "") if http_request.method == "POST" else ""
    forms = _forms(job, http_request.POST if action else None, action)
    if http_request.method == "POST":
        try:
            if action == "done":
                formset, note_form = forms["formset"], forms["note_form"]
                if formset.is_valid() and note_form.is_valid():
                    items = [
                        Item(
                            table=data["table"],
                            action=data["action"],
                            rows=data["rows"],
                            ground=data.get("ground", ""),
                            reason=data.get("reason", ""),
                        )
                        for data in formset.cleaned_data
                        if data.get("filled")
                    ]
                    manual_tasks.task_done(job=job, actor=user, items=items, note=note_form.cleaned_data["note"])
                    messages.success(http_request, _("Recorded. Thank you: the change in this system is done."))
                    return redirect("changes_tasks:task_list")
            elif action == "not_done":
                form = forms["not_done_form"]
                if form.is_valid():
                    manual_tasks.task_not_done(job=job, actor=user, reason=form.cleaned_data["reason"])
                    messages.success(http_request, _("Recorded that the change could not be made."))
                    return redirect("changes_tasks:task_list")
        except manual_tasks.TaskError as error:
            messages.error(http_request, str(error))
            if not ChangeJob.objects.filter(pk=job.pk, status=ChangeJobStatus.WAITING).exists():
                return redirect("changes_tasks:task_detail", public_id=job.public_id)
    elif is_open:
        manual_tasks.task_opened(job=job, user=user)
    results = [result for result in selectors.run_results(job.run) if result.job.pk == job.pk]
    context = {
        "nav": "tasks",
        "job": job,
        "system": job.system,
        "is_open": is_open,
        "identifiers": manual_tasks.identifiers_shown(job) if is_open else [],
        "instructions": manual_tasks.instructions_of(job) if is_open else [],
        "statement": (job.run.payload or {}).get("statement", "") if is_open else "",
        "items": results[0].items if results else [],
        **forms,
    }
    return render(http_request, "changes/tasks_detail.html", context, status=400 if action else 200)
