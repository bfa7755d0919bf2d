"""Complaint e-mails: the task takes an ID, re-reads the message and sends it once."""

import logging

from celery import shared_task

from dsar_portal.celery import EMAIL_DELIVERY_RETRY, PortalTask

logger = logging.getLogger(__name__)


class ComplaintMessageTask(PortalTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries are spent: record it on the complaint so staff reach the complainant another way.
        from . import services

        message_id = args[0] if args else kwargs["message_id"]
        services.complaint_message_failed(message_id=message_id, error=type(exc).__name__)


@shared_task(
    bind=True,
    base=ComplaintMessageTask,
    **EMAIL_DELIVERY_RETRY,
)
def deliver_complaint_message(self, message_id: int) -> bool:
    from . import services

    return services.complaint_message_deliver(message_id=message_id)
