"""Identity tasks: take IDs, safe to run twice."""

import logging

from celery import shared_task

from dsar_portal.celery import EMAIL_DELIVERY_RETRY, PortalTask

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


class SubjectConfirmationTask(PortalTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries are spent: put it in the request's trail, so staff reach the data subject another way.
        confirmation_id = args[0] if args else kwargs["confirmation_id"]
        services.subject_confirmation_delivery_failed(confirmation_id=confirmation_id, error=type(exc).__name__)


@shared_task(
    base=SubjectConfirmationTask,
    **EMAIL_DELIVERY_RETRY,
)
def send_subject_confirmation(confirmation_id: int) -> bool:
    """E-mail the data subject the question whether an agent acts for them; a second run sends nothing."""
    return services.subject_confirmation_deliver(confirmation_id=confirmation_id)
