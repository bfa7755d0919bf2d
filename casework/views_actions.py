"""The case page's actions (issue 11): POST only, each over one service, for staff who may act on a request they
may see. A refusal by the rules of the law, or a request that changed meanwhile, is a message on the case page with
what was typed kept, never an error page."""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from identity.services import VerificationError
from requests_app.services import IllegalTransition, RequestError

from . import selectors
from .actions import ACTIONS
from .views import case_page, staff_area

logger = logging.getLogger(__name__)


@require_POST
@staff_area
def case_action(http_request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """Run ``action`` on the request: 403 without the permission to act, 404 for a request the user may not see."""
    user = http_request.user
    if not user.has_perm(selectors.ACT):
        raise PermissionDenied
    request = get_object_or_404(selectors.requests_visible_to(user), reference=reference)
    form = ACTIONS[action](http_request.POST, request=request)
    if not form.is_valid():
        messages.error(http_request, _("Check what you typed: %(action)s was not done.") % {"action": form.title})
        return case_page(http_request, request, bound_action=form)
    try:
        done = form.perform(actor=user)
    except (RequestError, VerificationError) as error:
        messages.error(http_request, str(error))
    except IllegalTransition:
        # The services turn a lost race into a RequestError; this is the guard for one that does not.
        request.refresh_from_db(fields=["status"])
        messages.error(
            http_request,
            _("This request changed while you were working on it: it is now '%(status)s'. Nothing else was changed.")
            % {"status": request.get_status_display()},
        )
    else:
        logger.info("request %s: staff %s did %s", request.pk, user.pk, action)
        messages.success(http_request, done)
        return redirect("casework:request_detail", reference=request.reference)
    request.refresh_from_db()
    return case_page(http_request, request, bound_action=form)
