"""The decisions' Celery tasks: thin, IDs only, idempotent (the decision and run rows decide what happens)."""

import logging

from celery import shared_task

from . import decisions, objections, rectifications, restrictions

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def suppress_marketing(request_id: int) -> int | None:
    """GDPR Art. 21(3): start stopping direct marketing in every system for an objection now in progress."""
    run = objections.marketing_suppression_start(request_id=request_id)
    return run.pk if run else None


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
    """GDPR Art. 18(3): lift the restrictions whose notified day has come; Art. 21(3): start the suppression of any
    marketing objection in progress whose start was lost (the broker was away)."""
    result = {
        "lifts_started": restrictions.restrictions_lift_due(),
        "suppressions_started": objections.marketing_suppressions_sweep(),
    }
    logger.info("decisions sweep: %s", result)
    return result
