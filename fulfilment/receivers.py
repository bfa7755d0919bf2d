"""Receivers of the request core's domain event (requests_app.signals): IDs in, a Celery task out."""

import logging

from requests_app.models import Status

logger = logging.getLogger(__name__)


def request_status_changed(*, request_id: int, from_status: str, to_status: str, event_id: int, **kwargs) -> None:
    """A request going into progress is planned (fulfilment.services.compilation_plan decides whether it is an
    access or portability request, verified, and not answered already)."""
    if to_status != Status.IN_PROGRESS:
        return
    from . import tasks

    reopened = from_status in (Status.COMPLETED, Status.REFUSED)
    try:
        tasks.plan_compilation.delay(request_id, reopened)
    except Exception:
        # The broker is away: the move stands (it committed), and the sweep plans the request later.
        logger.warning("request %s: planning not queued (broker unavailable); the sweep will plan it", request_id)
