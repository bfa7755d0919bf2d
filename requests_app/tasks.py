"""Celery tasks: they take IDs, re-read inside, and are safe to run twice."""

import logging

from celery import shared_task

from dsar_portal.celery import EMAIL_DELIVERY_RETRY, PortalTask

from . import correspondence, documents, services, status_access

logger = logging.getLogger(__name__)


class MessageDeliveryTask(PortalTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries are spent: put it in the request's trail so staff can reach the person another way.
        message_id = args[0] if args else kwargs["message_id"]
        correspondence.message_delivery_failed(message_id=message_id, error=type(exc).__name__)


@shared_task(
    bind=True,
    base=MessageDeliveryTask,
    **EMAIL_DELIVERY_RETRY,
)
def deliver_message(self, message_id: int) -> bool:
    return correspondence.message_deliver(message_id=message_id)


@shared_task(acks_late=True)
def resend_undelivered_messages() -> int:
    queued = correspondence.undelivered_messages_sweep()
    logger.info("undelivered messages queued again: %s", queued)
    return queued


@shared_task(acks_late=True)
def sweep_unconfirmed_requests() -> dict:
    reminded, closed = services.unconfirmed_requests_sweep()
    logger.info("unconfirmed sweep: %s reminded, %s closed", reminded, closed)
    return {"reminded": reminded, "closed": closed}


@shared_task(acks_late=True)
def sweep_orphan_document_files() -> int:
    removed = documents.orphan_files_sweep()
    logger.info("orphan document files removed: %s", removed)
    return removed


@shared_task(acks_late=True)
def end_status_links_past_retention() -> int:
    ended = correspondence.status_links_retention_sweep()
    logger.info("status links ended at the end of their case file's retention: %s", ended)
    return ended


@shared_task(acks_late=True)
def purge_dead_status_grants() -> int:
    deleted = status_access.grants_purge()
    logger.info("dead status-page grants deleted: %s", deleted)
    return deleted


@shared_task(acks_late=True)
def delete_supporting_documents_past_retention() -> int:
    deleted = services.supporting_documents_retention_sweep()
    logger.info("supporting and clarification documents deleted with their case file: %s", deleted)
    return deleted
