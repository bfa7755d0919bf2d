"""Panels that apps above casework add to the case page, registered when Django starts (``AppConfig.ready``).

Casework knows its own part of the case page. What an app built above it shows there (the compiled answer's
progress and search record, in ``fulfilment``) is a *panel*: a template and a function giving its context, asked
for here, so casework never imports those apps (the same pattern as ``requests_app.status_page``'s panels).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class CasePanel:
    template_name: str
    # (the browser's request, the data subject request, already scoped to the user) -> template context, or None
    # when the panel has nothing to show for this request or this user.
    context: Callable[[HttpRequest, object], dict | None]


_panels: list[CasePanel] = []


def case_panel_register(panel: CasePanel) -> None:
    """Show ``panel`` on every case page (registering the same template twice keeps one)."""
    if all(existing.template_name != panel.template_name for existing in _panels):
        _panels.append(panel)


def case_panels_for(http_request: HttpRequest, request) -> list[tuple[str, dict]]:
    """The registered panels with something to show: (template name, context) pairs, in registration order."""
    shown = []
    for panel in _panels:
        context = panel.context(http_request, request)
        if context is not None:
            shown.append((panel.template_name, context))
    return shown
