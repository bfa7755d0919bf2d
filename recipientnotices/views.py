"""Recipient notices on the case page (GDPR Art. 19) and on the person's status page (Art. 19, second sentence).

Every staff view checks the object: the case through ``casework.selectors.requests_visible_to`` (a case handler sees
only the cases they may), acting needs the permission to act, and the notice must belong to that case. Each action is
written to the request's audit trail by the notice's guarded lifecycle.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import selectors as casework_selectors
from casework.views import case_page, staff_area
from requests_app.lifecycle import IllegalTransition

from . import services
from .forms import AcknowledgeForm, DisproportionateForm
from .models import NoticeStatus, RecipientNotice

MOVED_ON = _("This notice moved on meanwhile: look at it again.")


def case_panel(http_request: HttpRequest, request) -> dict | None:
    """The notices of a case (``request`` already scoped to the user): per recipient the kind of change, date,
    method, status and answer; the forms for staff who may act. None when no notice was planned."""
    notices = services.notices_of(request)
    if not notices:
        return None
    can_act = http_request.user.has_perm(casework_selectors.ACT)
    bound = getattr(http_request, "recipient_notice_form", None)
    rows = []
    for notice in notices:
        row = {"notice": notice, "systems": [system.name for system in notice.systems.all()]}
        if can_act:
            is_bound = bound is not None and bound[0] == notice.pk
            row["acknowledge_form"] = (
                bound[1]
                if is_bound and isinstance(bound[1], AcknowledgeForm)
                else AcknowledgeForm(prefix=f"a{notice.pk}")
            )
            row["judge_form"] = (
                bound[1]
                if is_bound and isinstance(bound[1], DisproportionateForm)
                else DisproportionateForm(prefix=f"j{notice.pk}")
            )
            if notice.method == "post" and notice.status == NoticeStatus.PLANNED:
                row["letter"] = services.notice_letter(notice)
        rows.append(row)
    return {"rows": rows, "reference": request.reference, "can_act": can_act, "Status": NoticeStatus}


def _notice(http_request: HttpRequest, reference: str, public_id) -> RecipientNotice:
    user = http_request.user
    if not user.has_perm(casework_selectors.ACT):
        raise PermissionDenied
    request = get_object_or_404(casework_selectors.requests_visible_to(user), reference=reference)
    return get_object_or_404(
        RecipientNotice.objects.select_related("recipient", "request"), request=request, public_id=public_id
    )


def _back(notice: RecipientNotice) -> HttpResponse:
    return redirect("casework:request_detail", reference=notice.request.reference)


def _again(http_request: HttpRequest, notice: RecipientNotice, form) -> HttpResponse:
    # The case page again, with this form's errors and what was typed (casework knows no panel's form).
    http_request.recipient_notice_form = (notice.pk, form)
    return case_page(http_request, notice.request, status=400)


@require_POST
@staff_area
def notice_acknowledge(http_request: HttpRequest, reference: str, public_id) -> HttpResponse:
    notice = _notice(http_request, reference, public_id)
    form = AcknowledgeForm(http_request.POST, prefix=f"a{notice.pk}")
    if form.is_valid():
        try:
            services.notice_acknowledge(notice=notice, answer=form.cleaned_data["answer"], actor=http_request.user)
        except services.NoticeError as error:
            form.add_error("answer", str(error))
        except IllegalTransition:
            # A race (another tab, a retry): the form is no longer on the page, so say it above the panel.
            messages.error(http_request, _("Only a notice that was sent can be acknowledged: look at it again."))
            return _back(notice)
        else:
            messages.success(http_request, _("The recipient's answer was recorded."))
            return _back(notice)
    return _again(http_request, notice, form)


@require_POST
@staff_area
def notice_judge(http_request: HttpRequest, reference: str, public_id) -> HttpResponse:
    notice = _notice(http_request, reference, public_id)
    form = DisproportionateForm(http_request.POST, prefix=f"j{notice.pk}")
    if form.is_valid():
        try:
            services.notice_judge_disproportionate(
                notice=notice, reason=form.cleaned_data["reason"], actor=http_request.user
            )
        except services.NoticeError as error:
            form.add_error("reason", str(error))
        except IllegalTransition:
            messages.error(
                http_request, _("The notice was sent already: the judgement can only be made before sending.")
            )
            return _back(notice)
        else:
            messages.success(http_request, _("The judgement was recorded: this recipient will not be told."))
            return _back(notice)
    return _again(http_request, notice, form)


@require_POST
@staff_area
def notice_retry(http_request: HttpRequest, reference: str, public_id) -> HttpResponse:
    notice = _notice(http_request, reference, public_id)
    try:
        changed = services.notice_retry(notice=notice, actor=http_request.user)
    except IllegalTransition:
        messages.error(http_request, _("This notice is no longer failed: it was sent again already."))
    else:
        if changed:
            messages.success(http_request, _("The notice will be sent again."))
        else:
            messages.info(http_request, _("The notice is planned already."))
    return _back(notice)


@require_POST
@staff_area
def notice_posted(http_request: HttpRequest, reference: str, public_id) -> HttpResponse:
    notice = _notice(http_request, reference, public_id)
    try:
        changed = services.notice_mark_posted(notice=notice, actor=http_request.user)
    except services.NoticeError as error:
        messages.error(http_request, str(error))
    except IllegalTransition:
        messages.error(http_request, MOVED_ON)
    else:
        if changed:
            messages.success(http_request, _("The letter was recorded as posted today."))
        else:
            messages.info(http_request, _("The letter was recorded as posted already."))
    return _back(notice)


def status_section(http_request: HttpRequest, request) -> dict | None:
    """The recipients, on the person's status page, when they asked to be told who they are (Art. 19, second
    sentence); None otherwise or before any notice was planned."""
    recipients = services.recipients_for_answer(request.pk)
    return {"recipients": recipients} if recipients else None


def completion_context(request) -> dict:
    """The recipients for the completion message when the person asked (Art. 19, second sentence)."""
    return {"recipients_told": services.recipients_for_answer(request.pk)}
