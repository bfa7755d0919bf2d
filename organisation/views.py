"""The error page shown when the portal fails: who to contact instead."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponseServerError
from django.template import loader

from .selectors import organisation_get

logger = logging.getLogger(__name__)


def server_error(request: HttpRequest) -> HttpResponseServerError:
    """The 500 page, with the organisation's contact details so a person can still exercise their rights by e-mail
    (Art. 12(2): facilitate the exercise of the rights).

    Rendered without context processors or the request (they may be what failed); the organisation's record is
    read from the database if it answers, otherwise its defaults from settings.DSAR_ORGANISATION are shown.
    """
    try:
        organisation = organisation_get()
    except Exception as error:  # noqa: BLE001 - the database may be why we are here
        logger.warning("error page: organisation record unavailable (%s); showing the defaults", type(error).__name__)
        organisation = settings.DSAR_ORGANISATION
    return HttpResponseServerError(loader.get_template("500.html").render({"organisation": organisation}))
