"""The staff area's complaints pages (UK DPA 2018 s.164A): the register, one complaint with its steps, and logging a
complaint that arrived another way. Thin: each reaches complaints only through ``complaints_visible_to``."""

import logging
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints import services as complaint_services
from complaints.models import Complaint, ComplaintStatus
from complaints.services import IllegalTransition

from . import complaint_selectors as selectors
from .complaint_forms import COMPLAINT_STEPS, ComplaintLogForm, ComplaintStep, steps_for
from .selectors import requests_visible_to
from .views import staff_area

logger = logging.getLogger(__name__)

REGISTER_PAGE_SIZE = 50


def _may_view(user) -> None:
    if not user.has_perm(selectors.VIEW_COMPLAINTS):
        raise PermissionDenied


@require_GET
@staff_area
def complaints_register(http_request: HttpRequest) -> HttpResponse:
    """Open complaints first, the earliest acknowledgement due date first (s.164A(3)), filtered, 50 a page."""
    user = http_request.user
    _may_view(user)
    today = timezone.localdate()
    show = http_request.GET.get("show", "open")
    if show not in selectors.REGISTER_FILTERS:
        show = "open"
    page = Paginator(selectors.complaints_register(user=user, show=show, today=today), REGISTER_PAGE_SIZE).get_page(
        http_request.GET.get("page")
    )
    for complaint in page:
        complaint.deadline = selectors.acknowledgement_deadline(complaint, today=today)
    context = {
        "nav": "complaints",
        "show": show,
        "filters": [
            (name, label, count)
            for (name, label), count in zip(
                (
                    ("open", _("Open")),
                    ("acknowledged", _("Acknowledged, outcome not yet sent")),
                    ("overdue", _("Acknowledgement overdue")),
                    ("resolved", _("Closed (outcome sent or withdrawn)")),
                    ("all", _("All")),
                ),
                selectors.register_counts(user=user, today=today).values(),
                strict=True,
            )
        ],
        "page": page,
        "can_log": user.has_perm(selectors.LOG_COMPLAINTS),
        "can_see_complainant_data": user.has_perm(selectors.COMPLAINANT_DATA),
    }
    return render(http_request, "casework/complaint_register.html", context)


@require_GET
@staff_area
def complaint_detail(http_request: HttpRequest, reference: str) -> HttpResponse:
    """One complaint with its history and the steps this member of staff may take (404 for one they may not see)."""
    _may_view(http_request.user)
    complaint = get_object_or_404(selectors.complaints_visible_to(http_request.user), reference=reference)
    return complaint_page(http_request, complaint)


def complaint_page(
    http_request: HttpRequest, complaint: Complaint, *, bound: ComplaintStep | None = None, status: int = 200
) -> HttpResponse:
    user = http_request.user
    today = timezone.localdate()
    request = complaint.request
    context = {
        "nav": "complaints",
        "complaint": complaint,
        "deadline": selectors.acknowledgement_deadline(complaint, today=today),
        "timeline": selectors.complaint_timeline(complaint),
        # The request it is about, linked when this member of staff may open it (always, for those who see it).
        "request_visible": request is not None and requests_visible_to(user).filter(pk=request.pk).exists(),
        "steps": steps_for(complaint, bound=bound) if user.has_perm(selectors.ACT_ON_COMPLAINTS) else [],
        "letters_to_post": selectors.complaint_letters_to_post(complaint),
        "acknowledgement_letter": selectors.acknowledgement_letter(complaint),
        "can_act": user.has_perm(selectors.ACT_ON_COMPLAINTS),
        "today": today,
        "can_see_complainant_data": user.has_perm(selectors.COMPLAINANT_DATA),
        "status_received": ComplaintStatus.RECEIVED,
    }
    return render(http_request, "casework/complaint_detail.html", context, status=status)


@require_POST
@staff_area
def complaint_step(http_request: HttpRequest, reference: str, step: str) -> HttpResponse:
    """Take one step: 403 without the permission to act on complaints, 404 for a complaint the user may not see."""
    user = http_request.user
    if not user.has_perm(selectors.ACT_ON_COMPLAINTS):
        raise PermissionDenied
    complaint = get_object_or_404(selectors.complaints_visible_to(user), reference=reference)
    form = COMPLAINT_STEPS[step](http_request.POST, complaint=complaint)
    if not form.is_valid():
        messages.error(http_request, _("Check what you typed: %(step)s was not done.") % {"step": form.title})
        return complaint_page(http_request, complaint, bound=form, status=400)
    status_before = complaint.status
    try:
        done = form.perform(actor=user)
    except IllegalTransition:
        # Another member of staff moved it meanwhile (or it was never allowed from here): what was typed is kept.
        complaint.refresh_from_db()
        messages.error(
            http_request,
            _("This complaint changed while you were working on it: it is now '%(status)s'. %(step)s was not done.")
            % {"status": complaint.get_status_display(), "step": form.title},
        )
        return complaint_page(http_request, complaint, bound=form, status=409)
    if status_before == form.to_status and step != "progress":
        # A repeat (someone else did it first) changes nothing and sends nothing; what this person typed is not
        # dropped unseen: it comes back in the form, to send as a progress note if it still needs saying.
        if any(isinstance(value, str) and value.strip() for value in form.cleaned_data.values()):
            messages.warning(
                http_request,
                _(
                    "A colleague did this first: nothing was changed or sent. What you typed is kept below; send it "
                    "as a progress note if the complainant still needs to hear it."
                ),
            )
            return complaint_page(http_request, complaint, bound=form, status=409)
        messages.info(http_request, _("Already done: nothing was changed or sent again."))
    else:
        logger.info("complaint %s: staff %s did %s", complaint.pk, user.pk, step)
        messages.success(http_request, done)
    return redirect("casework:complaint_detail", reference=complaint.reference)


@require_POST
@staff_area
def complaint_letter_posted(http_request: HttpRequest, reference: str, message_id: int) -> HttpResponse:
    """Record the day a letter to a complainant who gets notices by post was posted (403 without the permission to
    act on complaints, 404 for a complaint the user may not see or a message that is not one of its letters)."""
    user = http_request.user
    if not user.has_perm(selectors.ACT_ON_COMPLAINTS):
        raise PermissionDenied
    complaint = get_object_or_404(selectors.complaints_visible_to(user), reference=reference)
    letter = get_object_or_404(complaint.messages, pk=message_id, by_post=True)
    try:
        posted_on = date.fromisoformat(http_request.POST.get("posted_on", ""))
    except ValueError:
        posted_on = None
    if posted_on is None:
        messages.error(http_request, _("Give the day the letter was posted (not in the future)."))
        return redirect("casework:complaint_detail", reference=complaint.reference)
    try:
        recorded = complaint_services.complaint_letter_posted(message=letter, actor=user, posted_on=posted_on)
    except ValueError as error:
        messages.error(http_request, str(error))
    else:
        if recorded:
            messages.success(http_request, _("Recorded as posted on %(day)s.") % {"day": posted_on.isoformat()})
        else:
            messages.info(http_request, _("This letter was already recorded as posted."))
    return redirect("casework:complaint_detail", reference=complaint.reference)


@require_http_methods(["GET", "POST"])
@staff_area
def complaint_log(http_request: HttpRequest) -> HttpResponse:
    """Log a complaint that arrived by letter, e-mail, phone or in person, with its true receipt time."""
    user = http_request.user
    if not user.has_perm(selectors.LOG_COMPLAINTS):
        raise PermissionDenied
    form = ComplaintLogForm(http_request.POST if http_request.method == "POST" else None)
    if http_request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        request = None
        if data["request_reference"]:
            request = selectors.request_for_complaint(user=user, reference=data["request_reference"])
            if request is None:
                form.add_error("request_reference", _("No request you may see has this reference."))
        if not form.errors:
            try:
                complaint = complaint_services.complaint_log(
                    actor=user,
                    name=data["name"],
                    email=data["email"],
                    text=data["text"],
                    channel=data["channel"],
                    received_at=data["received_at"],
                    request=request,
                    postal_address=data["postal_address"],
                    by_post=data["by_post"],
                )
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    http_request,
                    (
                        _("Complaint %(reference)s logged; its letter waits under 'Letters to post'.")
                        if complaint.notices_by_post
                        else _("Complaint %(reference)s logged; the complainant is sent its reference.")
                    )
                    % {"reference": complaint.reference},
                )
                if selectors.complaints_visible_to(user).filter(pk=complaint.pk).exists():
                    return redirect("casework:complaint_detail", reference=complaint.reference)
                return redirect("casework:complaints_register")
    status = 400 if form.is_bound else 200
    return render(http_request, "casework/complaint_log.html", {"nav": "complaints", "form": form}, status=status)
