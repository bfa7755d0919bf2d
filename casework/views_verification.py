"""The identity check's panel of the case page: the decision, and viewing evidence (issue 11).

Identity's own staff pages moved here so that every request is reached through
``selectors.requests_visible_to``: a case handler decides, and sees the evidence of, only the cases they may open.
Evidence is the most sensitive thing staff see: it opens only for staff allowed to view evidence, asks for a second
factor again when none was given in the last few minutes, and every view is written to the request's trail, which
auditors read (they never see the evidence itself).
"""

import logging

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dsar_portal.staff_auth import step_up_needed
from identity import services as identity_services
from identity.forms import VerificationDecisionForm
from requests_app import documents as document_store
from requests_app import services as request_services

from . import selectors
from .views import DECIDE, EVIDENCE, case_page, staff_area

logger = logging.getLogger(__name__)


def _scoped_request(http_request: HttpRequest, reference: str):
    return get_object_or_404(
        selectors.requests_visible_to(http_request.user).select_related("identity_verification"),
        reference=reference,
    )


@require_POST
@staff_area
def verification_decide(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Record the identity (or authority) decision on a request this member of staff may see (GDPR Art. 12(6))."""
    user = http_request.user
    if not (user.has_perm(DECIDE) and user.has_perm(selectors.ACT)):
        raise PermissionDenied
    request = _scoped_request(http_request, reference)
    if getattr(request, "identity_verification", None) is None:
        raise Http404
    form = VerificationDecisionForm(http_request.POST, can_check_documents=user.has_perm(EVIDENCE))
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            identity_services.verification_decide(
                request=request,
                actor=user,
                outcome=data["outcome"],
                document_kind=data.get("document_kind", ""),
                message=data["message"],
                response_to_agent=data.get("response_to_agent", False),
                authority_sufficient_reason=data.get("authority_sufficient_reason", ""),
                child_competence=data.get("child_competence", ""),
                child_competence_reason=data.get("child_competence_reason", ""),
            )
        except identity_services.VerificationError as error:
            # The rules said no (or the check moved on meanwhile): say why at the top of the page too.
            form.add_error(None, str(error))
            messages.error(http_request, str(error))
        except PermissionError as error:
            status = 403
            form.add_error(None, str(error))
        else:
            logger.info("request %s: staff %s decided the identity check", request.pk, user.pk)
            messages.success(http_request, _("Decision recorded for %(ref)s.") % {"ref": request.reference})
            return redirect("casework:request_detail", reference=request.reference)
    messages.error(http_request, _("Check the identity decision: it was not recorded."))
    request.refresh_from_db()
    return case_page(http_request, request, verification_form=form, status=status)


@require_GET
@staff_area
@permission_required(EVIDENCE, raise_exception=True)  # refused before any factor is asked for
# Step-up: ask for a second factor again when none was given in the last few minutes (GDPR Art. 32(1)(b);
# ACCOUNT_REAUTHENTICATION_TIMEOUT).
@reauthentication_required(enabled=step_up_needed)
def evidence_document(http_request: HttpRequest, reference: str, key: str) -> HttpResponse:
    """Show one document of a request this member of staff may see, and write the view to the request's trail."""
    request = _scoped_request(http_request, reference)
    document = get_object_or_404(request.documents, storage_key=f"{key}.bin", deleted_at=None)
    chunks = document_store.document_chunks(document)
    request_services.record_document_viewed(document=document, actor=http_request.user)
    response = StreamingHttpResponse(chunks, content_type=document.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store"
    # A PDF viewer must not run scripts from an uploaded file.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response
