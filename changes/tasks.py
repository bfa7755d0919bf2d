"""The change engine's Celery tasks: thin, IDs only, idempotent (the job and run rows decide what runs)."""

import logging
import socket

from celery import shared_task
from django.utils import timezone

from dsar_portal.celery import EMAIL_DELIVERY_RETRY
from fulfilment.tasks import SEARCH_RETRY

from . import manual_tasks, services

logger = logging.getLogger(__name__)


# The search jobs' reliability (issue 12): late acknowledgement, a lost worker's message delivered again (the run
# token makes it harmless), transient connector errors retried with backoff; the job row counts the attempts.
@shared_task(bind=True, **SEARCH_RETRY)
def run_change_job(self, job_id: int) -> str:
    worker = self.request.hostname or socket.gethostname()
    status = services.job_run(job_id=job_id, worker=worker)
    logger.info("change job %s: %s", job_id, status)
    return status


@shared_task(acks_late=True)
def sweep_change_jobs() -> dict:
    """Queue again the change jobs lost with a message or a worker, and finish the runs that are complete."""
    result = services.jobs_sweep()
    logger.info(
        "change job sweep: %s queued again, %s runs finished, %s callbacks overdue",
        result.requeued,
        result.finished,
        result.callbacks_failed,
    )
    return {"requeued": result.requeued, "finished": result.finished, "callbacks_failed": result.callbacks_failed}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def suppress_marketing(request_id: int) -> int | None:
    """Start the marketing suppression of an objection to direct marketing (idempotent: once per request)."""
    run = services.marketing_suppress(request_id=request_id)
    return run.pk if run is not None else None


@shared_task(acks_late=True)
def remind_system_owners_of_change_tasks() -> int:
    """Once a day per owner: their change tasks due soon or overdue (idempotent; no personal data in the message)."""
    return manual_tasks.task_reminders_send(today=timezone.localdate())


@shared_task(**EMAIL_DELIVERY_RETRY)
def send_change_task_reminder(reminder_id: int) -> bool:
    return manual_tasks.task_reminder_deliver(reminder_id=reminder_id)
