"""The retention schedule's staff page (the DPO's) and the legal-hold panel of the case page (LAW.md §6(h)).

The record of processing (``record``; GDPR Art. 30) is read by the staff who may read the register of data systems,
each entry checked against the systems they may see (``datasystems.selectors.systems_visible_to``): the DPO and an
auditor the whole record with the portal's own entry, a system owner their own systems.

The schedule page needs ``retention.manage_retention`` (the DPO's; step-up is not needed: it deletes nothing by
itself, every edit is recorded with its reason, and a period can only be lengthened). A case is found through
``casework.selectors.requests_visible_to`` (object-level); placing a hold needs ``retention.place_legal_hold``
(case handlers and the DPO), releasing one ``retention.release_legal_hold`` (the DPO's).
"""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casework import selectors as casework_selectors
from casework.views import case_page, staff_area
from datasystems.views import register_area
from requests_app.lifecycle import IllegalTransition

from . import record, selectors, services
from .forms import HoldPlaceForm, HoldReleaseForm, RetentionRuleForm
from .models import HoldStatus, LegalHold, RecordKind
from .schedule import referenced_periods, schedule_get

MANAGE = "retention.manage_retention"
PLACE = "retention.place_legal_hold"
RELEASE = "retention.release_legal_hold"


def _dpo_only(http_request: HttpRequest) -> None:
    if not http_request.user.has_perm(MANAGE):
        raise PermissionDenied


def _schedule_context(forms: dict | None = None) -> dict:
    schedule = schedule_get()
    counts = services.counts_due(now=timezone.now())
    forms = forms or {}
    rows = []
    for kind, period in schedule.items():
        form = forms.get(kind) or RetentionRuleForm(
            initial={"days": period.days, "notice_days": period.notice_days},
            prefix=kind,
        )
        rows.append(
            {
                "period": period,
                "count": counts[kind],
                "form": form,
                "agent": kind == RecordKind.AGENT_ACCOUNT,
                "complaint": kind == RecordKind.COMPLAINT,
            }
        )
    return {
        "nav": "retention",
        "rows": rows,
        "referenced": referenced_periods(),
        "portal_time_limits": record.portal_time_limits(schedule),
        "changes": selectors.schedule_changes(),
        "runs": selectors.runs_recent(),
        "held_count": selectors.requests_held_count(),
    }


@require_GET
@staff_area
def schedule_page(http_request: HttpRequest) -> HttpResponse:
    """Each period, its basis and how many records are due or kept; the referenced periods; the edits and runs."""
    _dpo_only(http_request)
    return render(http_request, "retention/schedule.html", _schedule_context())


@require_POST
@staff_area
def rule_set(http_request: HttpRequest, kind: str) -> HttpResponse:
    """Set one period (never shorter than the default; ``retention.services.retention_rule_set``)."""
    _dpo_only(http_request)
    if kind not in RecordKind.values:
        raise Http404
    form = RetentionRuleForm(http_request.POST, prefix=kind)
    if form.is_valid():
        try:
            services.retention_rule_set(
                kind=kind,
                days=form.cleaned_data["days"],
                notice_days=form.cleaned_data["notice_days"],
                reason=form.cleaned_data["reason"],
                actor=http_request.user,
            )
        except services.RetentionError as error:
            form.add_error("days", str(error))
        else:
            messages.success(http_request, _("The period was saved; the next run of the schedule applies it."))
            return redirect("retention:schedule")
    return render(http_request, "retention/schedule.html", _schedule_context({kind: form}), status=400)


# --- The record of processing -----------------------------------------------------------------------------------


@require_GET
@register_area
def record_page(http_request: HttpRequest) -> HttpResponse:
    """The organisation's record of processing activities (Art. 30(1)): the controller, the portal's own entry
    with the time limits of the schedule in force, and every system of the register the user may see."""
    return render(
        http_request,
        "retention/record_of_processing.html",
        {"nav": "record", "record": record.record_for(http_request.user)},
    )


@require_GET
@register_area
def record_csv(http_request: HttpRequest) -> HttpResponse:
    """The same record as a CSV file, what the DPO hands to the supervisory authority (Art. 30(4)); the file name
    carries the day it was made."""
    today = timezone.localdate()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="record-of-processing-{today.isoformat()}.csv"'
    # A byte-order mark, so that a spreadsheet opens the file as UTF-8.
    response.write("\ufeff")
    csv.writer(response).writerows(record.record_csv_rows(record.record_for(http_request.user)))
    return response


# --- The case page -------------------------------------------------------------------------------------------------


def case_panel(http_request: HttpRequest, request) -> dict | None:
    """The legal holds of a case (``request`` already scoped to the user), why it is kept, and the forms."""
    user = http_request.user
    if not (user.has_perm(PLACE) or user.has_perm(RELEASE) or user.has_perm(MANAGE)):
        return None
    holds = selectors.holds_of(request)
    return {
        "reference": request.reference,
        "holds": holds,
        "kept_because": services.hold_kept(request, holds),
        "deletion": services.case_deletion_date(request),
        "place_form": (getattr(http_request, "hold_place_form", None) or HoldPlaceForm())
        if user.has_perm(PLACE)
        else None,
        "release_form": (getattr(http_request, "hold_release_form", None) or HoldReleaseForm())
        if user.has_perm(RELEASE)
        else None,
        "release_form_for": getattr(http_request, "hold_release_for", None),
    }


def _case(http_request: HttpRequest, reference: str, permission: str):
    if not http_request.user.has_perm(permission):
        raise PermissionDenied
    return get_object_or_404(casework_selectors.requests_visible_to(http_request.user), reference=reference)


@require_POST
@staff_area
def hold_place(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Place a legal hold: the case is not deleted while it lasts (LAW.md §6(h))."""
    request = _case(http_request, reference, PLACE)
    form = HoldPlaceForm(http_request.POST)
    if form.is_valid():
        try:
            services.legal_hold_place(
                request=request,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                actor=http_request.user,
            )
        except services.RetentionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(http_request, _("The legal hold was placed: the case file is kept until it is released."))
            return redirect("casework:request_detail", reference=request.reference)
    http_request.hold_place_form = form
    return case_page(http_request, request, status=400)


@require_POST
@staff_area
def hold_release(http_request: HttpRequest, reference: str, hold_id: int) -> HttpResponse:
    """Release a legal hold, with the reason; a hold released meanwhile gives a message."""
    request = _case(http_request, reference, RELEASE)
    hold = get_object_or_404(LegalHold, pk=hold_id, request=request)
    form = HoldReleaseForm(http_request.POST)
    if form.is_valid():
        if hold.status != HoldStatus.HELD:
            messages.info(http_request, _("This hold was released already."))
            return redirect("casework:request_detail", reference=request.reference)
        try:
            services.legal_hold_release(hold=hold, reason=form.cleaned_data["reason"], actor=http_request.user)
        except services.RetentionError as error:
            form.add_error(None, str(error))
        except IllegalTransition:
            messages.info(http_request, _("This hold was released already."))
            return redirect("casework:request_detail", reference=request.reference)
        else:
            messages.success(http_request, _("The legal hold was released: the case follows the schedule again."))
            return redirect("casework:request_detail", reference=request.reference)
    http_request.hold_release_form = form
    http_request.hold_release_for = hold.pk
    return case_page(http_request, request, status=400)
