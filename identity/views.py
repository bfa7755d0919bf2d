"""Identity's pages: the requester's steps on their status page, the data subject's answer to an agent, and the
portal's privacy notice.

Staff review of identity and authority evidence is a panel of the staff area's case page (casework), which reaches
each request through its scoped selectors.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dsar_portal import ratelimit
from dsar_portal.onetime import CodeCheck
from requests_app.forms import ConfirmEmailForm, EvidenceUploadForm
from requests_app.models import DataSubjectRequest, DocumentPurpose, RequesterRole
from requests_app.status_page import UPLOADS_LIMITED, render_status_page, request_for_browser, upload_allowed

from . import policy as identity_policy
from . import services
from .forms import MoreDetailsForm
from .notice_periods import notice_periods

# --- The requester's steps on their status page (panels of requests_app.status_page) ----------------------------


def confirm_email_panel(http_request: HttpRequest, request: DataSubjectRequest, bound_forms: dict) -> dict:
    return {"confirm_form": bound_forms.get("confirm_form") or ConfirmEmailForm()}


def identity_panel(http_request: HttpRequest, request: DataSubjectRequest, bound_forms: dict) -> dict:
    return {
        "verification": services.verification_get(request=request),
        "details_form": bound_forms.get("details_form") or MoreDetailsForm(),
        "upload_form": bound_forms.get("upload_form") or EvidenceUploadForm(),
    }


@require_POST
def status_confirm_email(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = request_for_browser(http_request, reference)
    form = ConfirmEmailForm(http_request.POST)
    allowed = ratelimit.allow("code_per_client", ratelimit.client_key(http_request)) and ratelimit.allow(
        "code_per_request", str(request.pk)
    )
    if not allowed:
        form.is_valid()
        form.add_error(None, _("Too many attempts. Please wait 15 minutes and try again."))
    elif form.is_valid():
        result = services.request_confirm_email(request=request, code=form.cleaned_data["code"])
        if result is CodeCheck.CONFIRMED:
            messages.success(http_request, _("Thank you. Your e-mail address is confirmed."))
            return redirect("requests_app:status_detail", reference=reference)
        if result is CodeCheck.WRONG:
            form.add_error("code", _("That code is not right. Check the e-mail and try again."))
        else:
            form.add_error(
                "code", _("That code has expired or has been used too many times. Ask for a new code below.")
            )
    request.refresh_from_db()
    return render_status_page(http_request, request, status=400, confirm_form=form)


@require_POST
def status_upload(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = request_for_browser(http_request, reference)
    if not upload_allowed(http_request, request):
        form = EvidenceUploadForm(http_request.POST)
        form.add_error(None, UPLOADS_LIMITED)
        return render_status_page(http_request, request, status=429, upload_form=form)
    form = EvidenceUploadForm(http_request.POST, http_request.FILES)
    if form.is_valid():
        try:
            services.request_evidence_upload(
                request=request,
                document=form.cleaned_data["document"],
                purpose=(
                    DocumentPurpose.AUTHORITY
                    if request.requester_role == RequesterRole.AGENT
                    else DocumentPurpose.IDENTITY_EVIDENCE
                ),
            )
        except services.VerificationError as error:
            # Shown through messages: the upload form (and its errors) is only on the page while we ask for one.
            messages.error(http_request, str(error))
        else:
            messages.success(http_request, _("Thank you. We have your document and will review it."))
            return redirect("requests_app:status_detail", reference=reference)
    return render_status_page(http_request, request, status=400, upload_form=form)


@require_POST
def status_more_details(http_request: HttpRequest, reference: str) -> HttpResponse:
    """The person gives one more detail so we can match them against our records."""
    request = request_for_browser(http_request, reference)
    form = MoreDetailsForm(http_request.POST)
    if not ratelimit.allow("code_per_request", f"details:{request.pk}"):
        form.is_valid()
        form.add_error(None, _("Too many attempts. Please wait 15 minutes and try again."))
    elif form.is_valid():
        try:
            decision = services.verification_add_details(request=request, identifiers=form.cleaned_data)
        except services.VerificationError as error:
            form.add_error(None, str(error))
        else:
            if decision.verified:
                messages.success(http_request, _("Thank you. We have confirmed your identity."))
            elif decision.step == "document":
                messages.info(http_request, _("We could not match these details. Please send us a document instead."))
            else:
                messages.info(http_request, _("These details do not match what we hold. Please check and try again."))
            return redirect("requests_app:status_detail", reference=reference)
    return render_status_page(http_request, request, status=400, details_form=form)


# --- The data subject's answer to an agent ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def subject_confirm(http_request: HttpRequest, token: str) -> HttpResponse:
    """The data subject says whether the agent acts for them."""
    confirmation = services.subject_confirmation_for_token(token=token)
    if confirmation is None:
        return render(http_request, "requests_app/status_link_invalid.html", status=404)
    if http_request.method == "POST" and confirmation.answer == confirmation.Answer.PENDING:
        answer = http_request.POST.get("answer")
        if answer in ("confirm", "deny"):
            try:
                services.subject_confirmation_answer(confirmation=confirmation, confirmed=answer == "confirm")
            except services.VerificationError as error:
                messages.error(http_request, str(error))
            confirmation.refresh_from_db()
    return render(
        http_request,
        "identity/subject_confirm.html",
        {
            "confirmation": confirmation,
            "request_obj": confirmation.request,
            "agent_name": confirmation.agent_name or confirmation.request.requester_name,
        },
    )


def privacy_notice(http_request: HttpRequest) -> HttpResponse:
    """How the portal itself uses the personal data of requesters, agents, and people asked to confirm an agent
    (GDPR Art. 13(1)-(2); Art. 14 for the people an agent names, who gave us nothing themselves).

    Every period it states is read from where the portal enforces it (settings, the verification policy, and the
    retention schedule through ``identity.notice_periods``), so the notice cannot drift from what the code does
    (Art. 13(2)(a)).
    """
    policy = identity_policy.policy_get()
    context = {
        "case_file_retention_days": settings.DSAR_CASE_FILE_RETENTION_DAYS,
        "unconfirmed_retention_days": settings.DSAR_UNCONFIRMED_RETENTION_DAYS,
        "complaint_retention_days": settings.DSAR_COMPLAINT_RETENTION_DAYS,
        "evidence_retention_hours": policy.evidence_retention_hours,
        "download_days": settings.DSAR_DOWNLOAD_DAYS,
        "email_provider": settings.DSAR_PRIVACY_EMAIL_PROVIDER,
        "hosting_provider": settings.DSAR_PRIVACY_HOSTING_PROVIDER,
        "transfers": settings.DSAR_PRIVACY_TRANSFERS,
    }
    context.update(notice_periods())
    return render(http_request, "identity/privacy_notice.html", context)
