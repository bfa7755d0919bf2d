"""The compiled answer's Celery tasks: thin, IDs only, idempotent (the job and compilation rows decide what runs)."""

import logging
import socket

from celery import shared_task
from django.utils import timezone

from datasystems.connectors.base import ConnectorTemporaryError
from dsar_portal.celery import EMAIL_DELIVERY_RETRY

from . import manual_tasks, releases, services, transmission

logger = logging.getLogger(__name__)

# Late acknowledgement and rejection on a lost worker: a killed worker's job is delivered again; the row's status
# and run token make the second delivery harmless. Transient connector errors retry with backoff from 10 s to
# 10 min; the job row counts the attempts and fails the job for staff after services.max_attempts().
SEARCH_RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (ConnectorTemporaryError,),
    "retry_backoff": 10,
    "retry_backoff_max": 10 * 60,
    "max_retries": 8,
}


@shared_task(bind=True, **SEARCH_RETRY)
def run_search_job(self, job_id: int) -> str:
    worker = self.request.hostname or socket.gethostname()
    status = services.job_run(job_id=job_id, worker=worker)
    logger.info("search job %s: %s", job_id, status)
    return status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def plan_compilation(request_id: int, reopened: bool = False) -> int | None:
    compilation = services.compilation_plan(request_id=request_id, reopened=reopened)
    return compilation.pk if compilation else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def assemble_compilation(compilation_id: int) -> str:
    compilation = services.compilation_assemble(compilation_id=compilation_id)
    logger.info("compilation %s: %s", compilation_id, compilation.status)
    return compilation.status


@shared_task(acks_late=True)
def sweep_search_jobs() -> dict:
    result = services.jobs_sweep()
    transmissions = transmission.transmissions_sweep()
    # Approved releases whose build message was lost are built again (idempotent).
    rebuilds = releases.releases_sweep()
    logger.info(
        "search job sweep: %s queued again, %s callbacks overdue, %s planned, %s assemblies, %s transmissions, "
        "%s release builds",
        result.requeued,
        result.callbacks_failed,
        result.planned,
        result.assemblies,
        transmissions,
        rebuilds,
    )
    return {
        "requeued": result.requeued,
        "callbacks_failed": result.callbacks_failed,
        "planned": result.planned,
        "assemblies": result.assemblies,
        "transmissions": transmissions,
        "release_builds": rebuilds,
    }


# --- Secure delivery (fulfilment.delivery) -----------------------------------------------------------------------


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=3)
def send_download_code(code_id: int) -> bool:
    """Make and e-mail a download code (the code exists only in the e-mail; this message carries the row's id)."""
    from . import delivery

    return delivery.download_code_send(code_id=code_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_releases() -> dict:
    """Released answers past their window: archives deleted, manifests kept; stale X-Accel files removed."""
    from . import delivery

    return delivery.expiry_sweep()


# GDPR Art. 20(2): sending a portability answer to another controller. Late acknowledgement (a killed worker's
# message comes back; the transmission's status makes it harmless), transient failures retried with backoff from
# 30 s to 10 min; the row counts the attempts and fails it for staff after transmission.max_attempts().
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(transmission.TransmissionTemporaryError,),
    retry_backoff=30,
    retry_backoff_max=10 * 60,
    max_retries=8,
)
def transmit_portability_answer(self, transmission_id: int) -> str:
    worker = self.request.hostname or socket.gethostname()
    status = transmission.transmission_send(transmission_id=transmission_id, worker=worker)
    logger.info("transmission %s: %s", transmission_id, status)
    return status


@shared_task(acks_late=True)
def remind_system_owners_of_tasks() -> int:
    return manual_tasks.task_reminders_send(today=timezone.localdate())


@shared_task(**EMAIL_DELIVERY_RETRY)
def send_task_reminder(reminder_id: int) -> bool:
    return manual_tasks.task_reminder_deliver(reminder_id=reminder_id)


@shared_task
def sweep_orphan_answer_files() -> int:
    removed = services.orphan_files_sweep()
    logger.info("orphan answer files sweep: %s removed", removed)
    return removed


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_release(release_id: int) -> str:
    """Build an approved release's archive (the release row decides: a second delivery finds it available)."""
    release = releases.release_build(release_id=release_id)
    logger.info("release %s: %s", release_id, release.status)
    return release.status
