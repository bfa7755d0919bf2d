"""Identity tasks: take IDs, safe to run twice."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def purge_decided_evidence(request_id: int | None = None) -> int:
    return services.evidence_purge(request_id=request_id)


@shared_task(acks_late=True)
def sweep_verification_timeouts() -> dict:
    reminded, closed = services.verification_timeouts_sweep()
    logger.info("verification sweep: %s reminded, %s closed", reminded, closed)
    return {"reminded": reminded, "closed": closed}
