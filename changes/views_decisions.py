"""The decisions on the case page: one panel per right (restriction, objection, rectification) and their actions.

Every view checks the object: the case through ``casework.selectors.requests_visible_to``, acting on it needs the
permission to act, and the balancing decision on an objection the DPO's ``changes.decide_objection``. Errors come
back on the case page with what was typed; a race gives a message, never a 500. The services write the audit trail.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casework import selectors as casework_selectors
from casework.views import case_page, staff_area
from datasystems.connectors.changes import ALL_MARKETING_CHANNELS, ChangeKind, MarketingChannel
from datasystems.models import DataSystem
from requests_app.lifecycle import IllegalTransition
from requests_app.marketing import is_direct_marketing_objection
from requests_app.models import Right, Status
from requests_app.scope import scope_of

from . import objections, rectifications, restrictions
from .forms_decisions import (
    LiftNoticeForm,
    ObjectionDecisionForm,
    RectificationDecisionForm,
    RestrictionExceptionForm,
    RestrictionStartForm,
    correction_formset,
    restriction_form_prefix,
)
from .models import ChangeRun
from .models_decisions import (
    ObjectionDecision,
    RectificationDecision,
    Restriction,
    RestrictionStatus,
)
from .services import payload_channels

# The requests a restriction can belong to: a restriction request, and one of the other two that offer it while
# accuracy is checked (Art. 18(1)(a)) or an objection is assessed (Art. 18(1)(d)).
RESTRICTABLE_RIGHTS = (Right.RESTRICTION, Right.RECTIFICATION, Right.OBJECTION)
RACE = gettext_lazy("The case moved on meanwhile: look at it again.")


def _can_act(http_request: HttpRequest) -> bool:
    return http_request.user.has_perm(casework_selectors.ACT)


# --- Panels -------------------------------------------------------------------------------------------------------


# The marketing a suppression stops, as staff read it (datasystems.connectors.changes.MarketingChannel).
CHANNEL_LABELS = {
    MarketingChannel.EMAIL: gettext_lazy("e-mail"),
    MarketingChannel.SMS: gettext_lazy("text message"),
    MarketingChannel.POST: gettext_lazy("post"),
    MarketingChannel.PHONE: gettext_lazy("telephone"),
    MarketingChannel.AUDIENCES: gettext_lazy("advertising audiences"),
    MarketingChannel.PROFILING: gettext_lazy("profiling for marketing"),
}


def _run_channels(run: ChangeRun | None) -> tuple[str, ...]:
    """The channels a suppression run stops: its payload's, or every channel (a run started without any)."""
    if run is None:
        return ()
    return payload_channels(ChangeKind.SUPPRESS_MARKETING, run.payload or {}) or ALL_MARKETING_CHANNELS


def _run_systems(run: ChangeRun | None) -> list[str]:
    if run is None:
        return []
    return [job.system.name for job in run.jobs.select_related("system").order_by("system__name")]


def restriction_panel(http_request: HttpRequest, request) -> dict | None:
    """Restrictions on this request (Art. 18): their state, systems flagged, the lift notice, exceptions used."""
    if request.right not in RESTRICTABLE_RIGHTS:
        return None  # no query for the other rights' case pages
    items = list(
        Restriction.objects.filter(request=request)
        .select_related("restrict_run", "lift_run", "objection_decision")
        .prefetch_related("exceptions")
    )
    if request.right != Right.RESTRICTION and not items:
        return None
    can_act = _can_act(http_request)
    bound = getattr(http_request, "decisions_forms", {})
    rows = []
    for restriction in items:
        rows.append(
            {
                "restriction": restriction,
                "systems": _run_systems(restriction.restrict_run),
                "exceptions": list(restriction.exceptions.all()),
                "notice_form": bound.get(("notice", restriction.pk))
                or LiftNoticeForm(prefix=restriction_form_prefix(restriction.pk, "notice")),
                "exception_form": bound.get(("exception", restriction.pk))
                or RestrictionExceptionForm(prefix=restriction_form_prefix(restriction.pk, "exception")),
                "may_notify": restriction.status == RestrictionStatus.IN_FORCE,
                "may_lift": restriction.status == RestrictionStatus.LIFT_NOTIFIED and restriction.lift_run_id is None,
                "may_log": restriction.status != RestrictionStatus.LIFTED,
            }
        )
    may_start = can_act and request.right == Right.RESTRICTION and request.status == Status.IN_PROGRESS and not items
    initial = (
        {"grounds": [str(ground) for ground in scope_of(request).grounds]} if request.right == Right.RESTRICTION else {}
    )
    if request.right == Right.RESTRICTION:
        initial["scope"] = scope_of(request).data
    return {
        "reference": request.reference,
        "rows": rows,
        "can_act": can_act,
        "start_form": (bound.get("start") or RestrictionStartForm(initial=initial)) if may_start else None,
    }


def objection_panel(http_request: HttpRequest, request) -> dict | None:
    """An objection (Art. 21): the marketing suppression and its time against target, or the DPO's decision."""
    if request.right != Right.OBJECTION:
        return None
    bound = getattr(http_request, "decisions_forms", {})
    if is_direct_marketing_objection(request):
        run = ChangeRun.objects.filter(request=request, kind="suppress_marketing").first()
        return {
            "reference": request.reference,
            "marketing": True,
            "run": run,
            "systems": _run_systems(run),
            "timing": objections.suppression_timing(request),
            "channels": [CHANNEL_LABELS.get(channel, channel) for channel in _run_channels(run)],
        }
    decision = ObjectionDecision.objects.filter(request=request).prefetch_related("systems").first()
    may_decide = (
        http_request.user.has_perm(objections.DECIDE) and decision is None and request.status == Status.IN_PROGRESS
    )
    return {
        "reference": request.reference,
        "marketing": False,
        "scope": scope_of(request),
        "decision": decision,
        "decision_systems": [system.name for system in decision.systems.all()] if decision else [],
        "form": (bound.get("objection") or ObjectionDecisionForm()) if may_decide else None,
        "may_offer_restriction": _can_act(http_request) and objections.restriction_offerable(request),
    }


def rectification_panel(http_request: HttpRequest, request) -> dict | None:
    """A rectification (Art. 16): the decision, the corrections per system (values for those who may see personal
    data), or the forms to record it."""
    if request.right != Right.RECTIFICATION:
        return None
    bound = getattr(http_request, "decisions_forms", {})
    decision = (
        RectificationDecision.objects.filter(request=request)
        .select_related("run", "decided_by")
        .prefetch_related("corrections__system")
        .first()
    )
    may_decide = _can_act(http_request) and decision is None and request.status == Status.IN_PROGRESS
    return {
        "reference": request.reference,
        "scope": scope_of(request),
        "decision": decision,
        "corrections": list(decision.corrections.all()) if decision else [],
        "can_see_values": http_request.user.has_perm(casework_selectors.PERSONAL_DATA),
        "form": (bound.get("rectification") or RectificationDecisionForm()) if may_decide else None,
        "formset": (bound.get("corrections") or correction_formset()) if may_decide else None,
    }


# --- Actions ------------------------------------------------------------------------------------------------------


def _case(http_request: HttpRequest, reference: str, permission: str = casework_selectors.ACT):
    if not http_request.user.has_perm(permission):
        raise PermissionDenied
    return get_object_or_404(casework_selectors.requests_visible_to(http_request.user), reference=reference)


def _again(http_request: HttpRequest, request, key, form) -> HttpResponse:
    """The case page again with ``form``'s errors and what was typed (casework knows no panel's form)."""
    forms = getattr(http_request, "decisions_forms", {})
    forms[key] = form
    http_request.decisions_forms = forms
    return case_page(http_request, request, status=400)


def _done(http_request: HttpRequest, request, message: str) -> HttpResponse:
    messages.success(http_request, message)
    return redirect("casework:request_detail", reference=request.reference)


@require_POST
@staff_area
def restriction_start(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = _case(http_request, reference)
    form = RestrictionStartForm(http_request.POST)
    if form.is_valid():
        try:
            if request.right != Right.RESTRICTION or request.status != Status.IN_PROGRESS:
                raise restrictions.RestrictionError(RACE)
            if Restriction.objects.filter(request=request).exists():
                raise restrictions.RestrictionError(_("This request has its restriction already."))
            restrictions.restriction_start(
                request=request,
                grounds=form.cleaned_data["grounds"],
                scope=form.cleaned_data["scope"],
                actor=http_request.user,
            )
        except restrictions.RestrictionError as error:
            form.add_error(None, str(error))
        else:
            return _done(http_request, request, _("The restriction was started: the systems are being flagged."))
    return _again(http_request, request, "start", form)


def _restriction(request, restriction_id: int) -> Restriction:
    return get_object_or_404(Restriction, pk=restriction_id, request=request)


@require_POST
@staff_area
def restriction_notice(http_request: HttpRequest, reference: str, restriction_id: int) -> HttpResponse:
    request = _case(http_request, reference)
    restriction = _restriction(request, restriction_id)
    form = LiftNoticeForm(http_request.POST, prefix=restriction_form_prefix(restriction.pk, "notice"))
    if form.is_valid():
        try:
            restrictions.restriction_lift_notify(
                restriction=restriction,
                lift_on=form.cleaned_data["lift_on"],
                reason=form.cleaned_data["reason"],
                actor=http_request.user,
            )
        except (restrictions.RestrictionError, IllegalTransition) as error:
            form.add_error(None, str(error) if isinstance(error, restrictions.RestrictionError) else RACE)
        else:
            return _done(http_request, request, _("The person was sent the notice before lifting (Art. 18(3))."))
    return _again(http_request, request, ("notice", restriction.pk), form)


@require_POST
@staff_area
def restriction_lift(http_request: HttpRequest, reference: str, restriction_id: int) -> HttpResponse:
    request = _case(http_request, reference)
    restriction = _restriction(request, restriction_id)
    try:
        started = restrictions.restriction_lift(restriction=restriction, actor=http_request.user)
    except restrictions.RestrictionError as error:
        messages.error(http_request, str(error))
        return redirect("casework:request_detail", reference=request.reference)
    if not started:
        messages.info(http_request, _("Lifting was started already."))
        return redirect("casework:request_detail", reference=request.reference)
    return _done(http_request, request, _("Lifting the restriction was started in the systems."))


@require_POST
@staff_area
def restriction_exception(http_request: HttpRequest, reference: str, restriction_id: int) -> HttpResponse:
    request = _case(http_request, reference)
    restriction = _restriction(request, restriction_id)
    form = RestrictionExceptionForm(http_request.POST, prefix=restriction_form_prefix(restriction.pk, "exception"))
    if form.is_valid():
        try:
            restrictions.restriction_exception_log(
                restriction=restriction, actor=http_request.user, **form.cleaned_data
            )
        except restrictions.RestrictionError as error:
            form.add_error(None, str(error))
        else:
            return _done(http_request, request, _("The use of restricted data was logged (Art. 18(2))."))
    return _again(http_request, request, ("exception", restriction.pk), form)


@require_POST
@staff_area
def objection_restrict(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = _case(http_request, reference)
    try:
        objections.objection_restriction_offer(request=request, actor=http_request.user)
    except (objections.ObjectionError, restrictions.RestrictionError) as error:
        messages.error(http_request, str(error))
        return redirect("casework:request_detail", reference=request.reference)
    return _done(http_request, request, _("The processing is being restricted while the objection is assessed."))


@require_POST
@staff_area
def objection_decide(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = _case(http_request, reference, objections.DECIDE)
    form = ObjectionDecisionForm(http_request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            objections.objection_decide(
                request=request,
                actor=http_request.user,
                outcome=data["outcome"],
                reasons=data["reasons"],
                purposes=data["purposes"],
                systems=list(data["systems"]),
                stop_with=data["stop_with"],
            )
        except objections.ObjectionError as error:
            form.add_error(None, str(error))
        else:
            return _done(http_request, request, _("The decision on the objection was recorded."))
    return _again(http_request, request, "objection", form)


@require_POST
@staff_area
def rectification_decide(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = _case(http_request, reference)
    form = RectificationDecisionForm(http_request.POST)
    formset = correction_formset(http_request.POST)
    if form.is_valid() and formset.is_valid():
        systems = {system.pk: system for system in DataSystem.objects.filter(active=True)}
        corrections = []
        for row in formset.cleaned_data:
            target = row.get("target") or ""
            if not target:
                continue
            system_id, table, column = target.split("|", 2)
            system = systems.get(int(system_id))
            if system is None:
                continue
            corrections.append(
                rectifications.Correction(
                    system=system, table=table, column=column, value=row["value"], instruction=row["instruction"]
                )
            )
        try:
            rectifications.rectification_decide(
                request=request,
                actor=http_request.user,
                outcome=form.cleaned_data["outcome"],
                corrections=corrections,
                systems=list(form.cleaned_data["systems"]),
                note=form.cleaned_data["note"],
                statement_recorded=form.cleaned_data["statement_recorded"],
            )
        except rectifications.RectificationError as error:
            form.add_error(None, str(error))
        else:
            return _done(http_request, request, _("The decision on the correction was recorded."))
    http_request.decisions_forms = {"corrections": formset}
    return _again(http_request, request, "rectification", form)
