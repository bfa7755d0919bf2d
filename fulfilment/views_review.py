"""The review page of a compiled answer (issue 12, review before release): systems, tables and rows of the answer, the
decisions to withhold or redact with their grounds, undo, approval behind a fresh second factor, and sending back.

Thin: a case handler who may act on the request (``casework.selectors.ACT``) and may see it
(``requests_visible_to``) reaches it; the rules are ``review``.
"""

from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casework import selectors as casework_selectors
from casework.views import staff_area
from dsar_portal.staff_auth import step_up_needed
from requests_app.lifecycle import IllegalTransition

from . import review, selectors
from .models import Redaction, ReleaseStatus, SearchPart
from .review_forms import RedactionForm, SendBackForm


def _may_act(view):
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not http_request.user.has_perm(casework_selectors.ACT):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return wrapped


def _scoped(http_request: HttpRequest, reference: str):
    """The request (scoped to the user) and its newest release; 404 when either is not there for them."""
    request = get_object_or_404(casework_selectors.requests_visible_to(http_request.user), reference=reference)
    release = selectors.release_latest(request_id=request.pk)
    if release is None:
        raise Http404
    return request, release


def _review_url(reference: str, part: SearchPart | None = None, page: int = 1) -> str:
    url = reverse("fulfilment:review", args=[reference])
    if part is not None:
        url += f"?part={part.pk}" + (f"&page={page}" if page > 1 else "") + "#rows"
    return url


def _page(http_request: HttpRequest, request, release, *, form: RedactionForm | None = None, status: int = 200):
    parts = selectors.review_parts(release)
    decisions = selectors.review_decisions(release)
    part = None
    wanted = http_request.POST.get("part") if form is not None else http_request.GET.get("part")
    if wanted:
        part = next((candidate for candidate in parts if str(candidate.pk) == wanted), None)
        if part is None and form is None:
            raise Http404
    try:
        page = int(http_request.GET.get("page", "1"))
    except ValueError:
        page = 1
    rows = selectors.review_rows(part, decisions, page=page) if part is not None else None
    in_review = release.status == ReleaseStatus.IN_REVIEW
    if part is not None and form is None and in_review:
        form = RedactionForm(columns=part.columns, grounds=review.grounds_for(request.jurisdiction))
    counts: dict[int, int] = {}
    for decision in decisions:
        counts[decision.part_id] = counts.get(decision.part_id, 0) + 1
    systems: list[dict] = []
    for candidate in parts:
        candidate.decisions = counts.get(candidate.pk, 0)
        if not systems or systems[-1]["name"] != candidate.job.system.name:
            systems.append({"name": candidate.job.system.name, "parts": []})
        systems[-1]["parts"].append(candidate)
    user = http_request.user
    context = {
        "request": request,
        "release": release,
        "systems": systems,
        "part": part,
        "rows": rows,
        "form": form if in_review else None,
        "decisions": decisions,
        "in_review": in_review,
        "may_approve": review.may_approve(release, user),
        "first_approver_is_me": release.approved_by_id == user.pk,
        "release_reference": request.reference,
        "send_back_form": SendBackForm() if release.status == ReleaseStatus.AWAITING_SECOND_APPROVAL else None,
    }
    return render(http_request, "fulfilment/review.html", context, status=status)


@require_GET
@staff_area
@_may_act
def review_page(http_request: HttpRequest, reference: str) -> HttpResponse:
    """The answer under review: its systems and tables, one table's rows a page at a time, the decisions made."""
    request, release = _scoped(http_request, reference)
    return _page(http_request, request, release)


@require_POST
@staff_area
@_may_act
def redaction_add(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Withhold or redact part of a table, with a ground and a reason; the page again with what to fix if not."""
    request, release = _scoped(http_request, reference)
    wanted = http_request.POST.get("part", "")
    part = (
        SearchPart.objects.select_related("job__system")
        .filter(pk=int(wanted), job__compilation_id=release.compilation_id)
        .first()
        if wanted.isdigit()
        else None
    )
    grounds = review.grounds_for(request.jurisdiction)
    form = RedactionForm(http_request.POST, columns=part.columns if part else [], grounds=grounds)
    if part is None:
        form.is_valid()
        form.add_error(None, _("Choose a table of the answer under review."))
    elif form.is_valid():
        data = form.cleaned_data
        try:
            review.redaction_add(
                release=release,
                part=part,
                kind=data["kind"],
                ground=data["ground"],
                reason=data["reason"],
                actor=http_request.user,
                row=data.get("row"),
                column=data.get("column") or "",
            )
        except review.ReviewError as error:
            form.add_error(None, str(error))
        else:
            messages.success(http_request, _("Decision recorded for table %(table)s.") % {"table": part.table})
            return redirect(_review_url(request.reference, part))
    messages.error(http_request, _("Check the decision: it was not recorded."))
    release.refresh_from_db()
    return _page(http_request, request, release, form=form, status=400)


@require_POST
@staff_area
@_may_act
def redaction_undo(http_request: HttpRequest, reference: str, redaction_id: int) -> HttpResponse:
    request, release = _scoped(http_request, reference)
    redaction = get_object_or_404(Redaction.objects.select_related("part"), pk=redaction_id, release__request=request)
    try:
        undone = review.redaction_undo(redaction=redaction, actor=http_request.user)
    except review.ReviewError as error:
        messages.error(http_request, str(error))
    else:
        if undone:
            messages.success(http_request, _("Decision undone."))
        else:
            messages.info(http_request, _("That decision was undone already."))
    return redirect(_review_url(request.reference, redaction.part))


def _visible_first(view):
    """404 for a request the user may not see before anything else (the step-up), so the walk finds nothing there."""

    @wraps(view)
    def wrapped(http_request: HttpRequest, reference: str, *args, **kwargs) -> HttpResponse:
        _scoped(http_request, reference)
        return view(http_request, reference, *args, **kwargs)

    return wrapped


@require_POST
@staff_area
@_may_act
@_visible_first
# Step-up (issue 11: releasing data asks for a factor again if none was given in the last few minutes; GDPR
# Art. 32(1)(b)). A POST sent without a fresh factor is kept by allauth and sent again once the factor is given.
@reauthentication_required(enabled=step_up_needed)
def release_approve(http_request: HttpRequest, reference: str) -> HttpResponse:
    request, release = _scoped(http_request, reference)
    try:
        status = review.release_approve(release=release, actor=http_request.user)
    except (review.ReviewError, IllegalTransition) as error:
        message = str(error) if isinstance(error, review.ReviewError) else _("This release was approved already.")
        messages.error(http_request, message)
        return redirect("fulfilment:review", reference=request.reference)
    if status == ReleaseStatus.AWAITING_SECOND_APPROVAL:
        messages.success(
            http_request,
            _("Approved. The answer goes to the agent, so a second person must approve it before it is released."),
        )
    else:
        messages.success(http_request, _("Approved. The released archive is being prepared."))
    return redirect("casework:request_detail", reference=request.reference)


@require_POST
@staff_area
@_may_act
def release_send_back(http_request: HttpRequest, reference: str) -> HttpResponse:
    request, release = _scoped(http_request, reference)
    form = SendBackForm(http_request.POST)
    if form.is_valid():
        try:
            review.release_send_back(release=release, actor=http_request.user, reason=form.cleaned_data["reason"])
        except (review.ReviewError, IllegalTransition) as error:
            message = str(error) if isinstance(error, review.ReviewError) else _("This release moved on meanwhile.")
            messages.error(http_request, message)
        else:
            messages.success(http_request, _("The answer went back to review."))
    else:
        messages.error(http_request, " ".join(form.errors.get("reason", [])))
    return redirect("fulfilment:review", reference=request.reference)
