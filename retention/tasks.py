"""The retention job and its e-mail: tasks take IDs (or nothing), and are safe to run twice (GDPR Art. 5(1)(e))."""

from celery import shared_task

from dsar_portal.celery import EMAIL_DELIVERY_RETRY, PortalTask


@shared_task(base=PortalTask, acks_late=True)
def apply_retention_schedule() -> dict:
    """The daily run of the retention schedule (dsar_portal.settings.CELERY_BEAT_SCHEDULE); returns its counts."""
    from . import services

    return services.retention_run().counts


@shared_task(base=PortalTask, **EMAIL_DELIVERY_RETRY)
def send_agent_deletion_notice(notice_id: int) -> bool:
    """E-mail an unused agent account's deletion notice once (LAW.md §6(h): deleted "with notice")."""
    from . import services

    return services.agent_notice_deliver(notice_id=notice_id)
