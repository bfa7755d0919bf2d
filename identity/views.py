"""Staff review of identity and authority evidence.

Only staff with the permission see documents; every view of a document is
written to the request's audit trail.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from requests_app import documents as document_store
from requests_app import services as request_services
from requests_app.models import DataSubjectRequest, RequestDocument

from . import selectors, services
from .forms import AUTHORITY_CHECKLISTS, VerificationDecisionForm


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
    form = VerificationDecisionForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        try:
            services.verification_decide(
                request=request,
                actor=http_request.user,
                outcome=form.cleaned_data["outcome"],
                document_kind=form.cleaned_data["document_kind"],
                message=form.cleaned_data["message"],
                response_to_agent=form.cleaned_data["response_to_agent"],
            )
        except services.VerificationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(http_request, _("Decision recorded for %(ref)s.") % {"ref": request.reference})
            return redirect("identity:verification_queue")
    agent = request.details.get("agent") or {}
    context = {
        "request_obj": request,
        "verification": verification,
        "documents": selectors.evidence_documents(request=request),
        "checks": request.evidence_checks.all(),
        "form": form,
        "can_see_personal_data": http_request.user.has_perm("requests_app.view_personal_data"),
        "can_view_evidence": http_request.user.has_perm("identity.view_evidence"),
        "agent": agent,
        "subject_confirmation": getattr(request, "subject_confirmation", None),
        "checklist": AUTHORITY_CHECKLISTS.get(agent.get("authority_type", ""), []),
    }
    return render(
        http_request,
        "identity/verification_case.html",
        context,
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("identity.view_evidence", raise_exception=True)
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
