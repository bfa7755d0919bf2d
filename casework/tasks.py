"""Staff reminder jobs (casework.reminders): thin, each run with the organisation's date, safe to run twice."""

import logging

from celery import shared_task
from django.utils import timezone

from dsar_portal.celery import EMAIL_DELIVERY_RETRY

logger = logging.getLogger(__name__)


def _run(job: str) -> int:
    # Imported here: casework.reminders queues the reminder tasks from this module.
    from . import reminders

    made = getattr(reminders, job)(today=timezone.localdate())
    logger.info("%s: %s reminders", job, made)
    return made


@shared_task(acks_late=True)
def remind_staff_of_due_dates() -> dict:
    from . import reminders

    return {"reminders": _run("due_date_reminders_send"), "requeued": reminders.unsent_reminders_queue()}


@shared_task(acks_late=True)
def escalate_overdue_requests() -> int:
    return _run("overdue_escalations_send")


@shared_task(acks_late=True)
def alarm_extension_notice_deadlines() -> int:
    return _run("extension_alarms_send")


@shared_task(acks_late=True)
def remind_staff_of_agent_confirmations() -> int:
    return _run("agent_confirmation_reminders_send")


@shared_task(acks_late=True)
def remind_staff_of_unacknowledged_complaints() -> int:
    return _run("complaint_reminders_send")


@shared_task(acks_late=True)
def send_staff_digests() -> int:
    return _run("digests_send")


@shared_task(acks_late=True)
def refresh_metrics() -> int:
    """Recompute the DPO's metrics (casework.metrics), so the page opens at once; returns the snapshot's id."""
    from . import metrics

    today = timezone.localdate()
    metrics.metrics_snapshots_prune(today=today)
    return metrics.metrics_snapshot_make(today=today).pk


@shared_task(acks_late=True)
def send_staff_reminders(reminder_ids: list[int]) -> int:
    """E-mail a batch of staff reminders (the scans queue them a hundred at a time); each is sent once."""
    from . import reminders

    return reminders.reminders_deliver(reminder_ids=reminder_ids)


@shared_task(
    **EMAIL_DELIVERY_RETRY,
)
def send_staff_reminder(reminder_id: int) -> bool:
    """E-mail one staff reminder; a second run sends nothing."""
    from . import reminders

    return reminders.reminder_deliver(reminder_id=reminder_id)
