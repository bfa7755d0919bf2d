"""Receivers of the request core's domain event (requests_app.signals): IDs in, a Celery task out."""

import logging

from requests_app.models import Status

logger = logging.getLogger(__name__)


def request_status_changed(*, request_id: int, from_status: str, to_status: str, event_id: int, **kwargs) -> None:
    """An objection to direct marketing going into progress is carried out at once in every system that markets
    (GDPR Art. 21(3): absolute, no balancing, no approval); ``services.marketing_suppress`` decides if it is one."""
    if to_status != Status.IN_PROGRESS:
        return
    from . import tasks

    try:
        tasks.suppress_marketing.delay(request_id)
    except Exception:
        # The broker is away: the move stands; the sweep starts the suppression later.
        logger.warning("request %s: marketing suppression not queued (broker unavailable)", request_id)
