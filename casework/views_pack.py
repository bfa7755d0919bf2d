"""The case pack of one request, as a print-friendly page and as a tagged PDF (issue 11, accountability).

Thin: the request is reached through ``selectors.requests_visible_to`` (404 beyond the reader's scope), the pack's
own rule (``case_pack.may_read_case_pack``) narrows it (403), the pack is read by ``case_pack.case_pack`` and every
copy is written to the request's trail. The URL carries the reference only; nothing here logs.
"""

from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors, services
from .case_pack import case_pack, case_pack_pdf, may_read_case_pack
from .views import staff_area

TEMPLATE = "casework/request_pack.html"
STYLESHEET = "css/case_pack.css"


def _pack_context(http_request: HttpRequest, reference: str, *, file_format: str) -> dict:
    user = http_request.user
    request = get_object_or_404(
        selectors.requests_visible_to(user).select_related("assignment", "agent_filing__agent__user"),
        reference=reference,
    )
    if not may_read_case_pack(user, request):
        raise PermissionDenied
    pack = case_pack(request=request, reader=user, generated_at=timezone.now())
    services.case_pack_record(request=request, actor=user, file_format=file_format)
    return {"pack": pack, "request": request, "for_pdf": file_format == "pdf"}


@require_GET
@staff_area
def request_pack(http_request: HttpRequest, reference: str) -> HttpResponse:
    """The pack as a staff page, laid out to print."""
    context = _pack_context(http_request, reference, file_format="html")
    return HttpResponse(render_to_string(TEMPLATE, context, request=http_request))


@require_GET
@staff_area
def request_pack_pdf(http_request: HttpRequest, reference: str) -> HttpResponse:
    """The pack as a tagged PDF from the same template, never kept by the browser (it is the whole case)."""
    context = _pack_context(http_request, reference, file_format="pdf")
    html = render_to_string(TEMPLATE, context, request=http_request)
    pdf = case_pack_pdf(html, stylesheet_path=finders.find(STYLESHEET))
    response = HttpResponse(pdf, content_type="application/pdf")
    # The reference is the file's name: it is in the URL already, and is no personal data.
    response["Content-Disposition"] = f'attachment; filename="case-pack-{context["request"].reference}.pdf"'
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
