"""Recipient notices' Celery tasks: thin, IDs only, idempotent (the notice's row decides whether anything is sent)."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


# GDPR Art. 19: late acknowledgement (a killed worker's message comes back; the notice's status makes it harmless),
# transient failures retried with backoff from 30 s to 30 min; the row counts the attempts and fails the notice for
# staff after services.max_attempts().
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(services.NoticeTemporaryError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    max_retries=8,
)
def send_recipient_notice(notice_id: int) -> str:
    status = services.notice_send(notice_id=notice_id)
    logger.info("recipient notice %s: %s", notice_id, status)
    return status


@shared_task(acks_late=True)
def sweep_recipient_notices() -> int:
    """Notices left planned by a lost message are queued again (the rows are the truth, not the broker)."""
    return services.notices_sweep()
