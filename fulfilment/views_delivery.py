"""Secure delivery's pages: the answer on the status page (code, download, further copy), the agent dashboard's note,
and the releases, downloads and further copies on the case page with staff's decisions."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from casework import selectors as casework_selectors
from casework.views import case_page, staff_area
from dsar_portal import ratelimit
from dsar_portal.filestore import FileDecryptionError
from dsar_portal.onetime import CodeCheck
from requests_app.models import DataSubjectRequest, RequesterRole, Right
from requests_app.status_page import render_status_page, request_for_browser

from . import delivery
from .forms_delivery import (
    DownloadCodeForm,
    FurtherCopyDeclineForm,
    FurtherCopyFeeForm,
    FurtherCopyFreeForm,
    FurtherCopyPaidForm,
)
from .models import Download, DownloadMethod, FurtherCopy, Release, ReleaseRecipient, ReleaseStatus

# --- The status page ------------------------------------------------------------------------------------------------


def status_panel(http_request: HttpRequest, request: DataSubjectRequest, bound_forms: dict) -> dict:
    """The answer on the status page (a panel of requests_app.status_page), under the status's own words."""
    return {
        "delivery": delivery.delivery_view(request=request, session=http_request.session),
        "download_code_form": bound_forms.get("download_code_form") or DownloadCodeForm(),
        "code_ttl_minutes": settings.DSAR_DOWNLOAD_CODE_TTL_MINUTES,
        "window_minutes": settings.DSAR_DOWNLOAD_WINDOW_MINUTES,
    }


def _to_answer(reference: str) -> HttpResponse:
    return redirect(reverse("requests_app:status_detail", args=[reference]) + "#answer")


@require_POST
def answer_code_send(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Send a fresh one-time code to the recipient's confirmed address (rate-limited per browser and request)."""
    request = request_for_browser(http_request, reference)
    release = delivery.release_for_person(request_id=request.pk)
    if not delivery.release_downloadable(release):
        messages.error(http_request, _("There is no answer to download at the moment."))
        return _to_answer(reference)
    allowed = ratelimit.allow_all(
        [
            ("download_code_per_client", ratelimit.client_key(http_request)),
            ("download_code_per_request", str(request.pk)),
        ]
    )
    if not allowed:
        messages.error(http_request, _("We have sent many codes in a short time. Please wait an hour and try again."))
        return _to_answer(reference)
    if delivery.download_code_request(release=release) is None:
        messages.info(http_request, _("We sent you a code less than a minute ago. Please check your e-mail."))
    else:
        messages.success(
            http_request, _("We have sent a code to your e-mail address. Enter it below to download your answer.")
        )
    return _to_answer(reference)


@require_POST
def answer_code_enter(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Check the code; a right one opens a short download window for this browser's session."""
    request = request_for_browser(http_request, reference)
    release = delivery.release_for_person(request_id=request.pk)
    form = DownloadCodeForm(http_request.POST)
    if not delivery.release_downloadable(release):
        messages.error(http_request, _("There is no answer to download at the moment."))
        return _to_answer(reference)
    if not ratelimit.allow("download_try_per_client", ratelimit.client_key(http_request)):
        form.is_valid()
        form.add_error(None, _("Too many attempts. Please wait 15 minutes and try again."))
    elif form.is_valid():
        result = delivery.download_code_check(release=release, code=form.cleaned_data["code"])
        if result is CodeCheck.CONFIRMED:
            until = delivery.download_unlock(http_request.session, release)
            messages.success(
                http_request,
                _("Thank you. You can download your answer until %(time)s.")
                % {"time": formats.time_format(timezone.localtime(until), "H:i")},
            )
            return _to_answer(reference)
        if result is CodeCheck.WRONG:
            form.add_error("code", _("That code is not right. Check the e-mail and try again."))
        else:
            form.add_error("code", _("That code has expired or has been used too many times. Ask for a new code."))
    return render_status_page(http_request, request, status=400, download_code_form=form)


@never_cache
@require_GET
def answer_download(http_request: HttpRequest, reference: str) -> HttpResponse:
    """The decrypted archive, streamed (or handed to the front server), to a session a fresh code opened."""
    request = request_for_browser(http_request, reference)
    release = delivery.release_for_person(request_id=request.pk)
    if not delivery.release_downloadable(release):
        if delivery.release_expired(release):
            messages.error(
                http_request, _("The time to download this answer has ended. You can ask for a further copy.")
            )
        else:
            messages.error(http_request, _("There is no answer to download at the moment."))
        return _to_answer(reference)
    if delivery.download_window_until(http_request.session, release) is None:
        messages.error(http_request, _("Please ask for a new code and enter it to download your answer."))
        return _to_answer(reference)
    accel = settings.DSAR_DOWNLOAD_ACCEL_REDIRECT
    user_agent = http_request.META.get("HTTP_USER_AGENT", "")
    try:
        if accel:
            name = delivery.accel_prepare(release)
            response = HttpResponse(content_type="application/zip")
            response["X-Accel-Redirect"] = f"{accel.rstrip('/')}/{name}"
            method = DownloadMethod.ACCEL
        else:
            response = StreamingHttpResponse(
                delivery.RELEASES.chunks(release.archive_name), content_type="application/zip"
            )
            if release.archive_bytes is not None:
                response["Content-Length"] = str(release.archive_bytes)
            method = DownloadMethod.STREAM
    except (FileNotFoundError, FileDecryptionError):
        # Deleted by the expiry sweep a moment ago, or a key retired too early: staff see it in the log.
        messages.error(http_request, _("Your answer cannot be downloaded just now. Please contact us."))
        return _to_answer(reference)
    delivery.download_record(release=release, method=method, user_agent=user_agent)
    response["Content-Disposition"] = f'attachment; filename="{delivery.download_filename(release)}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def answer_further_copy(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Ask for a further copy of the answer (GDPR Art. 15(3)): staff decide, free or for a reasonable fee."""
    request = request_for_browser(http_request, reference)
    release = delivery.release_for_person(request_id=request.pk)
    if release is None:
        raise PermissionDenied
    asked_by = ReleaseRecipient.AGENT if request.requester_role == RequesterRole.AGENT else ReleaseRecipient.SUBJECT
    try:
        delivery.further_copy_ask(request=request, source=release, asked_by=asked_by)
    except delivery.DeliveryError as error:
        messages.error(http_request, str(error))
    else:
        messages.success(
            http_request,
            _("We have your request for a further copy. We will write to you (there may be a reasonable fee)."),
        )
    return _to_answer(reference)


# --- The agent's dashboard ------------------------------------------------------------------------------------------


def agent_dashboard_notes(requests: list[DataSubjectRequest]) -> dict[int, str]:
    """For the agents app's dashboard: requests whose answer waits for the agent to download it."""
    now = timezone.now()
    notes: dict[int, str] = {}
    releases = Release.objects.filter(
        request__in=[request.pk for request in requests],
        status=ReleaseStatus.AVAILABLE,
        recipient=ReleaseRecipient.AGENT,
        expires_at__gt=now,
    ).order_by("request_id", "-copy_number")
    for release in releases:
        notes.setdefault(
            release.request_id,
            _("Answer ready to download until %(date)s")
            % {"date": formats.date_format(timezone.localtime(release.expires_at), "j M Y")},
        )
    return notes


# --- The case page --------------------------------------------------------------------------------------------------


def case_panel(http_request: HttpRequest, request) -> dict | None:
    """Releases of the answer, their downloads and further copies on the case page; None when there are none."""
    if request.right not in (Right.ACCESS, Right.PORTABILITY):
        return None
    releases = list(Release.objects.filter(request=request).order_by("copy_number", "pk"))
    if not releases:
        # One query for a case with no answer released (a further copy needs a release to copy).
        return None
    further = list(FurtherCopy.objects.filter(request=request).order_by("asked_at", "pk"))
    downloads = list(Download.objects.filter(request=request).order_by("at", "pk"))
    # A decision whose form had errors comes back bound, with what was typed (see _staff_decision).
    bound = getattr(http_request, BOUND_FORMS, {})
    return {
        "releases": [
            (release, [download for download in downloads if download.release_id == release.pk]) for release in releases
        ],
        "further_copies": further,
        "can_act": http_request.user.has_perm(casework_selectors.ACT),
        "reference": request.reference,
        "fee_form": bound.get("fee_form") or FurtherCopyFeeForm(),
        "paid_form": bound.get("paid_form") or FurtherCopyPaidForm(initial={"paid_on": timezone.localdate()}),
        "free_form": bound.get("free_form") or FurtherCopyFreeForm(),
        "decline_form": bound.get("decline_form") or FurtherCopyDeclineForm(),
        "fee_allowed": request.right == Right.ACCESS,
    }


def _staff_further_copy(http_request: HttpRequest, reference: str, further_id: int):
    """(the request, scoped to the user; its further copy), or 403/404."""
    user = http_request.user
    if not user.has_perm(casework_selectors.ACT):
        raise PermissionDenied
    request = get_object_or_404(casework_selectors.requests_visible_to(user), reference=reference)
    further = get_object_or_404(FurtherCopy.objects.select_related("request", "source"), pk=further_id, request=request)
    return request, further


BOUND_FORMS = "_delivery_bound_forms"
FORM_NAMES = {
    FurtherCopyFeeForm: "fee_form",
    FurtherCopyPaidForm: "paid_form",
    FurtherCopyFreeForm: "free_form",
    FurtherCopyDeclineForm: "decline_form",
}


def _staff_decision(http_request: HttpRequest, reference: str, further_id: int, form_class, act) -> HttpResponse:
    request, further = _staff_further_copy(http_request, reference, further_id)
    form = form_class(http_request.POST)
    if not form.is_valid():
        # The case page again, this form bound with its errors and what was typed.
        setattr(http_request, BOUND_FORMS, {FORM_NAMES[form_class]: form})
        messages.error(http_request, _("Please correct the form under “Delivery of the answer”."))
        return case_page(http_request, request, status=400)
    else:
        try:
            text = act(further, form.cleaned_data, http_request.user)
        except delivery.DeliveryError as error:
            messages.error(http_request, str(error))
        else:
            messages.success(http_request, text)
    return redirect(reverse("casework:request_detail", args=[request.reference]) + "#delivery-heading")


@require_POST
@staff_area
def further_copy_fee(http_request: HttpRequest, reference: str, further_id: int) -> HttpResponse:
    def act(further, data, user):
        delivery.further_copy_fee_request(further=further, actor=user, amount=data["amount"], reasons=data["reasons"])
        return _("The fee was sent to the person. The copy is issued when you record the payment.")

    return _staff_decision(http_request, reference, further_id, FurtherCopyFeeForm, act)


@require_POST
@staff_area
def further_copy_paid(http_request: HttpRequest, reference: str, further_id: int) -> HttpResponse:
    def act(further, data, user):
        delivery.further_copy_fee_paid(
            further=further, actor=user, paid_on=data["paid_on"], reference=data["reference"]
        )
        return _("Payment recorded and the further copy issued.")

    return _staff_decision(http_request, reference, further_id, FurtherCopyPaidForm, act)


@require_POST
@staff_area
def further_copy_free(http_request: HttpRequest, reference: str, further_id: int) -> HttpResponse:
    def act(further, data, user):
        delivery.further_copy_issue_free(further=further, actor=user, reasons=data["reasons"])
        return _("The further copy was issued free of charge.")

    return _staff_decision(http_request, reference, further_id, FurtherCopyFreeForm, act)


@require_POST
@staff_area
def further_copy_decline(http_request: HttpRequest, reference: str, further_id: int) -> HttpResponse:
    def act(further, data, user):
        delivery.further_copy_decline(further=further, actor=user, reasons=data["reasons"])
        return _("The further copy was closed without a copy.")

    return _staff_decision(http_request, reference, further_id, FurtherCopyDeclineForm, act)
