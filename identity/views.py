"""Identity's pages: the requester's steps on their status page, the data subject's answer to an agent, and
staff review of identity and authority evidence.

Only staff with the permission see documents; every view of a document is
written to the request's audit trail.
"""

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dsar_portal import ratelimit
from dsar_portal.onetime import CodeCheck
from dsar_portal.staff_auth import step_up_needed
from requests_app import documents as document_store
from requests_app import services as request_services
from requests_app.forms import ConfirmEmailForm, EvidenceUploadForm
from requests_app.models import DataSubjectRequest, DocumentPurpose, RequestDocument, RequesterRole
from requests_app.scope import agent_authority_of
from requests_app.status_page import UPLOADS_LIMITED, render_status_page, request_for_browser, upload_allowed

from . import policy as identity_policy
from . import selectors, services
from .forms import AUTHORITY_CHECKLISTS, MoreDetailsForm, VerificationDecisionForm


@login_required
@permission_required("identity.decide_verification", raise_exception=True)
def verification_queue(http_request: HttpRequest) -> HttpResponse:
    return render(http_request, "identity/verification_queue.html", {"requests": selectors.verification_queue()})


@login_required
@permission_required("identity.decide_verification", raise_exception=True)
@require_http_methods(["GET", "POST"])
def verification_case(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = get_object_or_404(DataSubjectRequest, reference=reference)
    verification = services.verification_get(request=request)
    if verification is None:
        raise Http404
    can_view_evidence = http_request.user.has_perm("identity.view_evidence")
    form = VerificationDecisionForm(http_request.POST or None, can_check_documents=can_view_evidence)
    refused = False
    if http_request.method == "POST" and form.is_valid():
        try:
            services.verification_decide(
                request=request,
                actor=http_request.user,
                outcome=form.cleaned_data["outcome"],
                document_kind=form.cleaned_data.get("document_kind", ""),
                message=form.cleaned_data["message"],
                response_to_agent=form.cleaned_data.get("response_to_agent", False),
                authority_sufficient_reason=form.cleaned_data.get("authority_sufficient_reason", ""),
                child_competence=form.cleaned_data.get("child_competence", ""),
                child_competence_reason=form.cleaned_data.get("child_competence_reason", ""),
            )
        except services.VerificationError as error:
            form.add_error(None, str(error))
        except PermissionError as error:
            refused = True
            form.add_error(None, str(error))
        else:
            messages.success(http_request, _("Decision recorded for %(ref)s.") % {"ref": request.reference})
            return redirect("identity:verification_queue")
    agent = agent_authority_of(request)
    context = {
        "request_obj": request,
        "verification": verification,
        "documents": selectors.evidence_documents(request=request),
        "checks": request.evidence_checks.all(),
        "form": form,
        "can_see_personal_data": http_request.user.has_perm("requests_app.view_personal_data"),
        "can_view_evidence": can_view_evidence,
        "agent": agent,
        "subject_confirmation": selectors.subject_confirmation_of(request=request),
        "checklist": AUTHORITY_CHECKLISTS.get(agent.authority_type, []) if agent else [],
        "child_age": services.child_age_on(verification) if verification else None,
        "child_presumption": services.child_presumption(verification) if verification else "",
    }
    return render(
        http_request,
        "identity/verification_case.html",
        context,
        status=403 if refused else 400 if form.errors else 200,
    )


@login_required
@permission_required("identity.view_evidence", raise_exception=True)
# Step-up: evidence is the most sensitive thing staff see, so it asks for a second factor again when none was
# given in the last few minutes (GDPR Art. 32(1)(b); ACCOUNT_REAUTHENTICATION_TIMEOUT).
@reauthentication_required(enabled=step_up_needed)
def evidence_document(http_request: HttpRequest, key: str) -> HttpResponse:
    document = get_object_or_404(RequestDocument, storage_key=f"{key}.bin", deleted_at=None)
    chunks = document_store.document_chunks(document)
    request_services.record_document_viewed(document=document, actor=http_request.user)
    response = StreamingHttpResponse(chunks, content_type=document.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store"
    # A PDF viewer must not run scripts from an uploaded file.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response


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

    Every period it states is read from where the portal enforces it (settings and the verification policy), so the
    notice cannot drift from what the code does (Art. 13(2)(a)).
    """
    policy = identity_policy.policy_get()
    return render(
        http_request,
        "identity/privacy_notice.html",
        {
            "case_file_retention_days": settings.DSAR_CASE_FILE_RETENTION_DAYS,
            "unconfirmed_retention_days": settings.DSAR_UNCONFIRMED_RETENTION_DAYS,
            "evidence_retention_hours": policy.evidence_retention_hours,
            "email_provider": settings.DSAR_PRIVACY_EMAIL_PROVIDER,
            "hosting_provider": settings.DSAR_PRIVACY_HOSTING_PROVIDER,
            "transfers": settings.DSAR_PRIVACY_TRANSFERS,
        },
    )
