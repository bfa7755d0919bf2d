"""The requester's status page, and the one place apps above the request core add to it.

The request core knows its own part of the page (status, dates, messages, the reply and withdraw forms). What a
person must do while an app above is waiting for them (confirm their address and prove who they are, in
``identity``) is a *panel* that app registers here when Django starts (``AppConfig.ready``): for a status, a
template and a function giving its context. The core never imports those apps; it asks this registry.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dsar_portal import ratelimit

from . import selectors, status_access
from .forms import ClarificationReplyForm
from .models import DataSubjectRequest, Status


@dataclass(frozen=True)
class StatusPanel:
    """What a person sees and does, for one status, on the status page."""

    template_name: str
    # (the browser's request, the data subject request, forms bound by a failed POST) -> template context
    context: Callable[[HttpRequest, DataSubjectRequest, dict], dict]


@dataclass(frozen=True)
class StatusSection:
    """A section an app above adds to the status page whatever the status (after "What happens next")."""

    template_name: str
    # (the browser's request, the data subject request) -> template context, or None when there is nothing to show
    context: Callable[[HttpRequest, DataSubjectRequest], dict | None]


_panels: dict[str, StatusPanel] = {}
_sections: list[StatusSection] = []


def section_register(section: StatusSection) -> None:
    """Show ``section`` on every status page where its context has something (the same template twice keeps one)."""
    if all(existing.template_name != section.template_name for existing in _sections):
        _sections.append(section)


def panel_register(status: str, panel: StatusPanel) -> None:
    """Show ``panel`` under "What happens next" while a request has ``status`` (one panel per status)."""
    _panels[status] = panel


def request_for_browser(http_request: HttpRequest, reference: str) -> DataSubjectRequest:
    """The request behind a status page, only if this browser was given access to it."""
    request = status_access.granted_request(http_request, reference)
    if request is None:
        # Same answer as an unknown reference: a reference alone reveals nothing.
        raise Http404
    return request


UPLOADS_LIMITED = _("You have sent us a lot of files in a short time. Please wait an hour and try again.")


def upload_allowed(http_request: HttpRequest, request: DataSubjectRequest) -> bool:
    """Count a post that carries a file, per browser and per request; False once either limit is passed.

    Every document costs a parse in a bounded process (``documents.validate_document``) and space on the request:
    refused or accepted, each one counts. A post without a file costs nothing and is not counted.
    """
    if not http_request.FILES:
        return True
    return ratelimit.allow_all(
        [("upload_per_client", ratelimit.client_key(http_request)), ("upload_per_request", str(request.pk))]
    )


def render_status_page(
    http_request: HttpRequest, request: DataSubjectRequest, *, status: int = 200, **bound_forms
) -> HttpResponse:
    """The whole status page; ``bound_forms`` are forms from a failed POST, shown with what was typed."""
    today = timezone.localdate()
    panel = _panels.get(request.status)
    context = {
        "request_obj": request,
        "Status": Status,
        "messages_list": selectors.request_messages(request=request),
        "paused_days_so_far": selectors.paused_days_so_far(request=request, today=today),
        "reply_form": bound_forms.get("reply_form") or ClarificationReplyForm(),
        "documents": request.documents.filter(deleted_at=None),
        "next_step_template": panel.template_name if panel else None,
        "status_sections": [
            (section.template_name, shown)
            for section in _sections
            if (shown := section.context(http_request, request)) is not None
        ],
    }
    if panel is not None:
        context.update(panel.context(http_request, request, bound_forms))
    return render(http_request, "requests_app/status_detail.html", context, status=status)
