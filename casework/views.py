"""The staff area's pages: thin, each reaching requests only through the scoped selectors."""

from collections.abc import Callable
from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from requests_app import services as request_services
from requests_app.models import EventKind, Message
from requests_app.scope import agent_authority_of, scope_of

from . import selectors, services
from .actions import CaseAction, actions_for
from .forms import AssignForm, BulkAssignForm, LogRequestForm, QueueFilterForm

PAGE_SIZE = 50


def staff_area(view: Callable) -> Callable:
    """Signed in (else to the sign-in page), then staff allowed into the staff area (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not selectors.may_use_staff_area(http_request.user):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return wrapped


def _after(value: str) -> tuple[date, int] | None:
    """The keyset cursor ``YYYY-MM-DD.pk`` of the last row of the previous page, or None."""
    try:
        day, pk = value.split(".", 1)
        return date.fromisoformat(day), int(pk)
    except ValueError:
        return None


@require_GET
@staff_area
def queue(http_request: HttpRequest) -> HttpResponse:
    """Open requests, soonest legal deadline first (GDPR Art. 12(3)), filtered, searched, a page at a time.

    Pages follow a keyset on (due date, id), so a deep page costs what the first one costs.
    """
    user = http_request.user
    today = timezone.localdate()
    form = QueueFilterForm(http_request.GET or None)
    requests = form.apply(selectors.queue_requests(user), user=user, today=today)
    cursor = _after(http_request.GET.get("after", ""))
    if cursor is not None:
        due_on, pk = cursor
        requests = requests.filter(Q(due_on__gt=due_on) | Q(due_on=due_on, pk__gt=pk))
    rows = list(requests[: PAGE_SIZE + 1])
    next_url = ""
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        query = http_request.GET.copy()
        query["after"] = f"{rows[-1].due_on.isoformat()}.{rows[-1].pk}"
        next_url = f"{reverse('casework:queue')}?{query.urlencode()}"
    selectors.queue_flags_attach(rows)
    for row in rows:
        row.due = selectors.due_summary(due_on=row.due_on, today=today, paused=row.is_clock_paused)
        row.requester_replied = selectors.requester_replied(row)
    context = {
        "nav": "queue",
        "form": form,
        "rows": rows,
        "next_url": next_url,
        "first_url": reverse("casework:queue")
        + ("?" + urlencode(_filters_only(http_request)) if form.is_bound else ""),
        "is_later_page": cursor is not None,
        "can_assign": user.has_perm(selectors.ASSIGN),
        "assign_form": AssignForm() if user.has_perm(selectors.ASSIGN) else None,
    }
    return render(http_request, "casework/request_queue.html", context)


def _filters_only(http_request: HttpRequest) -> list[tuple[str, str]]:
    return [(key, value) for key, values in http_request.GET.lists() if key != "after" for value in values]


@require_GET
@staff_area
def request_detail(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Everything about one request that this member of staff may see (404 for a request they may not)."""
    request = get_object_or_404(
        selectors.requests_visible_to(http_request.user).select_related(
            "assignment__assignee", "assignment__assigned_by", "identity_verification", "agent_filing__agent__user"
        ),
        reference=reference,
    )
    return case_page(http_request, request)


def case_page(http_request: HttpRequest, request, *, bound_action: CaseAction | None = None) -> HttpResponse:
    """The case page of ``request`` (already scoped to the user), with ``bound_action`` sent back with its errors."""
    user = http_request.user
    today = timezone.localdate()
    context = {
        "request": request,
        "scope_rows": selectors.scope_rows(scope_of(request)),
        "agent_authority": agent_authority_of(request),
        "verification": getattr(request, "identity_verification", None),
        "assignment": getattr(request, "assignment", None),
        "due": selectors.due_summary(due_on=request.due_on, today=today, paused=request.is_clock_paused),
        "due_date_changes": request.due_date_changes.select_related("event").order_by("created_at", "pk"),
        "timeline": selectors.case_timeline(request, everything=http_request.GET.get("timeline") == "all"),
        "clock_event_kinds": set(selectors.CLOCK_EVENT_KINDS),
        "other_requests": selectors.other_requests_of(request, user),
        "can_see_personal_data": user.has_perm(selectors.PERSONAL_DATA),
        "can_decide_verification": user.has_perm("identity.decide_verification"),
        "assign_form": AssignForm() if user.has_perm(selectors.ASSIGN) else None,
        "event_kinds": EventKind,
        "actions": actions_for(request, bound=bound_action) if user.has_perm(selectors.ACT) else [],
        "letters_to_post": request.messages.filter(by_post=True, posted_on=None) if request.notices_by_post else [],
        "can_act": user.has_perm(selectors.ACT),
        "today": today,
    }
    return render(http_request, "casework/request_detail.html", context)


@require_POST
@staff_area
def request_assign(http_request: HttpRequest, reference: str) -> HttpResponse:
    user = http_request.user
    if not user.has_perm(selectors.ASSIGN):
        raise PermissionDenied
    request = get_object_or_404(selectors.requests_visible_to(user), reference=reference)
    form = AssignForm(http_request.POST)
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            changed = services.request_assign(request=request, assignee=assignee, actor=user)
        except services.AssignmentError as error:
            messages.error(http_request, str(error))
        else:
            if changed:
                messages.success(
                    http_request,
                    _("%(reference)s is now assigned to %(name)s.")
                    % {"reference": request.reference, "name": assignee.get_username()},
                )
    else:
        messages.error(http_request, _("Choose who to assign the request to."))
    # A case handler who gives a case away may no longer see it: back to the queue then.
    if selectors.requests_visible_to(user).filter(pk=request.pk).exists():
        return redirect("casework:request_detail", reference=request.reference)
    return redirect("casework:queue")


@require_POST
@staff_area
def requests_assign(http_request: HttpRequest) -> HttpResponse:
    """Bulk assign from the queue: every chosen request must be one this member of staff may see."""
    user = http_request.user
    if not user.has_perm(selectors.ASSIGN):
        raise PermissionDenied
    wanted = http_request.POST.getlist("references")
    visible = list(selectors.requests_visible_to(user).filter(reference__in=wanted))
    form = BulkAssignForm(http_request.POST, references=[request.reference for request in visible])
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            changed = services.requests_assign(requests=visible, assignee=assignee, actor=user)
        except services.AssignmentError as error:
            messages.error(http_request, str(error))
        else:
            messages.success(
                http_request,
                _("%(count)d requests assigned to %(name)s.") % {"count": changed, "name": assignee.get_username()},
            )
    else:
        messages.error(http_request, _("Choose at least one request you may see, and who to assign them to."))
    return redirect("casework:queue")


@staff_area
def request_log(http_request: HttpRequest) -> HttpResponse:
    """Log a request that arrived by letter, e-mail, phone, social media or in person (issue 11)."""
    user = http_request.user
    if not user.has_perm(selectors.ACT):
        raise PermissionDenied
    form = LogRequestForm(http_request.POST or None, http_request.FILES or None)
    if http_request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        submission = request_services.Submission(
            right=data["right"],
            requester_role=data["requester_role"],
            name=data["name"],
            email=data["email"],
            identifiers={},
            details={},
            description=data["description"],
        )
        try:
            request = services.request_log_received(
                submission=submission,
                channel=data["channel"],
                received_at=data["received_at"],
                actor=user,
                scan=data["scan"],
                postal_address=data["postal_address"],
            )
        except request_services.RequestError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error("scan", error)
        else:
            messages.success(http_request, _("Request %(reference)s logged.") % {"reference": request.reference})
            if selectors.requests_visible_to(user).filter(pk=request.pk).exists():
                return redirect("casework:request_detail", reference=request.reference)
            return redirect("casework:queue")
    status = 400 if form.is_bound else 200
    return render(http_request, "casework/request_log.html", {"nav": "queue", "form": form}, status=status)


@require_POST
@staff_area
def letter_posted(http_request: HttpRequest, reference: str, message_id: int) -> HttpResponse:
    """Record the day a letter to a postal requester was posted."""
    user = http_request.user
    if not user.has_perm(selectors.ACT):
        raise PermissionDenied
    request = get_object_or_404(selectors.requests_visible_to(user), reference=reference)
    message = get_object_or_404(Message, pk=message_id, request=request, by_post=True)
    try:
        posted_on = date.fromisoformat(http_request.POST.get("posted_on", ""))
    except ValueError:
        posted_on = None
    if posted_on is None or posted_on > timezone.localdate():
        messages.error(http_request, _("Give the day the letter was posted (not in the future)."))
    elif request_services.message_posted(message=message, actor=user, posted_on=posted_on):
        messages.success(http_request, _("Recorded as posted on %(day)s.") % {"day": posted_on.isoformat()})
    return redirect("casework:request_detail", reference=request.reference)
