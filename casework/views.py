"""The staff area's pages: thin, each reaching requests only through the scoped selectors."""

from collections.abc import Callable
from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from identity import selectors as identity_selectors
from identity import services as identity_services
from identity.forms import AUTHORITY_CHECKLISTS, VerificationDecisionForm
from identity.models import VerificationStatus
from requests_app import services as request_services
from requests_app.models import EventKind, Message
from requests_app.scope import agent_authority_of, scope_of

from . import complaint_selectors, queue_pages, selectors, services
from .actions import CaseAction, MessageForm, actions_for
from .case_panels import case_panels_for
from .forms import AssignForm, BulkAssignForm, LogRequestForm, QueueFilterForm
from .queue_html import queue_rows_html
from .timeline_html import timeline_items_html

PAGE_SIZE = 50
DECIDE = "identity.decide_verification"
EVIDENCE = "identity.view_evidence"


def staff_area(view: Callable) -> Callable:
    """Signed in (else to the sign-in page), then staff allowed into the staff area (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not selectors.may_use_staff_area(http_request.user):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return wrapped


@require_GET
@staff_area
def queue(http_request: HttpRequest) -> HttpResponse:
    """Open requests, soonest legal deadline first (GDPR Art. 12(3)), filtered, searched, a page at a time.

    Pages follow a keyset on (due date, id) both ways (``queue_pages``), so a deep page costs what the first one
    costs. Asked for by htmx (``HX-Request``), the answer is the results alone, which htmx swaps in; a browser without
    JavaScript gets the whole page from the same links and form.
    """
    user = http_request.user
    today = timezone.localdate()
    form = QueueFilterForm(http_request.GET or None)
    requests = form.apply(selectors.queue_requests(user), user=user, today=today)
    after = queue_pages.cursor_parse(http_request.GET.get("after", ""))
    before = None if after is not None else queue_pages.cursor_parse(http_request.GET.get("before", ""))
    page = queue_pages.keyset_page(requests, after=after, before=before, size=PAGE_SIZE)
    rows = page.rows
    filters = _filters_only(http_request)
    selectors.queue_flags_attach(rows)
    for row in rows:
        row.due = selectors.due_summary(due_on=row.due_on, today=today, paused=row.is_clock_paused)
        row.requester_replied = selectors.requester_replied(row)
        row.extension_notice_due = queue_pages.extension_notice_due(row, today=today)
    context = {
        "nav": "queue",
        "form": form,
        "rows": rows,
        "next_url": _queue_url(filters, after=queue_pages.cursor_of(rows[-1])) if page.has_next else "",
        "previous_url": _queue_url(filters, before=queue_pages.cursor_of(rows[0])) if page.has_previous else "",
        "first_url": _queue_url(filters),
        "is_later_page": page.has_previous,
        "can_assign": user.has_perm(selectors.ASSIGN),
        "rows_html": queue_rows_html(rows, can_assign=user.has_perm(selectors.ASSIGN)),
        "assign_form": AssignForm() if user.has_perm(selectors.ASSIGN) else None,
    }
    # htmx asks for the results only; a history restore (a reload by the browser) gets the whole page.
    partial = http_request.headers.get("HX-Request") == "true" and not http_request.headers.get(
        "HX-History-Restore-Request"
    )
    template = "casework/_queue_results.html" if partial else "casework/request_queue.html"
    response = render(http_request, template, {**context, "partial": partial})
    # The same URL answers two ways: caches (and the browser's back button) must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _queue_url(filters: list[tuple[str, str]], **cursor: str) -> str:
    query = urlencode([*filters, *cursor.items()])
    return reverse("casework:queue") + (f"?{query}" if query else "")


def _filters_only(http_request: HttpRequest) -> list[tuple[str, str]]:
    return [
        (key, value) for key, values in http_request.GET.lists() if key not in ("after", "before") for value in values
    ]


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
    return case_page(http_request, request, bound_action=_message_prefilled(http_request, request))


def _message_prefilled(http_request: HttpRequest, request) -> CaseAction | None:
    """The "message the requester" form started from the template picked on the page (``?template=<id>``), so
    picking a template works without JavaScript; None when none was picked (or it cannot be used)."""
    user = http_request.user
    picked = http_request.GET.get("template", "")
    if not picked.isdigit() or not user.has_perm(selectors.ACT) or not MessageForm.fits(request):
        return None
    template = selectors.message_templates().filter(pk=int(picked)).first()
    if template is None:
        return None
    form = MessageForm(request=request)
    form.prefill(template, can_see_personal_data=user.has_perm(selectors.PERSONAL_DATA))
    return form


def case_page(
    http_request: HttpRequest,
    request,
    *,
    bound_action: CaseAction | None = None,
    verification_form: VerificationDecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The case page of ``request`` (already scoped to the user), with ``bound_action`` (or the verification
    decision, ``verification_form``) sent back with its errors."""
    user = http_request.user
    today = timezone.localdate()
    timeline = selectors.case_timeline(request, everything=http_request.GET.get("timeline") == "all")
    context = {
        "request": request,
        "scope_rows": selectors.scope_rows(scope_of(request)),
        "agent_authority": agent_authority_of(request),
        "verification": getattr(request, "identity_verification", None),
        "assignment": getattr(request, "assignment", None),
        "due": selectors.due_summary(due_on=request.due_on, today=today, paused=request.is_clock_paused),
        "due_date_changes": request.due_date_changes.select_related("event").order_by("created_at", "pk"),
        "timeline": timeline,
        "timeline_html": timeline_items_html(
            timeline,
            reference=request.reference,
            can_see_personal_data=user.has_perm(selectors.PERSONAL_DATA),
            can_view_evidence=user.has_perm(EVIDENCE),
        ),
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
        "complaints": complaint_selectors.complaints_about(request=request, user=user),
        "message_templates": selectors.message_templates() if user.has_perm(selectors.ACT) else [],
        "can_view_evidence": user.has_perm(EVIDENCE),
        **verification_panel(request, user=user, form=verification_form),
        # What apps above casework show here (casework.case_panels).
        "case_panels": case_panels_for(http_request, request),
    }
    return render(http_request, "casework/request_detail.html", context, status=status)


def verification_panel(request, *, user, form: VerificationDecisionForm | None = None) -> dict:
    """The identity check's panel of the case page: what was asked, the evidence list (never its content), the
    checks recorded, the agent's authority, and the decision form for staff who may decide (issue 11)."""
    verification = getattr(request, "identity_verification", None)
    if verification is None:
        return {"verification": None}
    may_decide = user.has_perm(DECIDE) and user.has_perm(selectors.ACT)
    decidable = verification.status not in (VerificationStatus.VERIFIED, VerificationStatus.FAILED)
    if form is None and may_decide and decidable:
        form = VerificationDecisionForm(can_check_documents=user.has_perm(EVIDENCE))
    agent = agent_authority_of(request)
    return {
        "verification": verification,
        # A decision sent back with its errors stays on the page even if the check was decided meanwhile.
        "verification_form": form if may_decide and (decidable or (form is not None and form.is_bound)) else None,
        "evidence_documents": identity_selectors.evidence_documents(request=request),
        "evidence_checks": request.evidence_checks.all(),
        "subject_confirmation": identity_selectors.subject_confirmation_of(request=request),
        "authority_checklist": AUTHORITY_CHECKLISTS.get(agent.authority_type, []) if agent else [],
        "child_age": identity_services.child_age_on(verification),
        "child_presumption": identity_services.child_presumption(verification),
    }


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
