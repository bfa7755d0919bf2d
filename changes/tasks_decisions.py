"""The decisions' Celery tasks: thin, IDs only, idempotent (the decision and run rows decide what happens)."""

import logging

from celery import shared_task

from . import decisions, rectifications, restrictions

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def restrict_while_checking(request_id: int) -> int | None:
    """GDPR Art. 18(1)(a): restrict the data while its accuracy is checked, as the person asked."""
    restriction = rectifications.restrict_while_checking(request_id=request_id)
    return restriction.pk if restriction else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_finished(run_id: int) -> None:
    decisions.decisions_run_finished(run_id=run_id)


@shared_task(acks_late=True)
def sweep_decisions() -> dict:
    """GDPR Art. 18(3): lift the restrictions whose notified day has come; Art. 18(1)(a): restrict the rectification
    requests asking for it whose start was lost (the broker was away)."""
    result = {
        "lifts_started": restrictions.restrictions_lift_due(),
        "restrictions_started": rectifications.restrictions_while_checking_sweep(),
    }
    logger.info("decisions sweep: %s", result)
    return result
