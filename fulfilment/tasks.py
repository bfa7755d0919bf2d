"""The compiled answer's Celery tasks: thin, IDs only, idempotent (the job and compilation rows decide what runs)."""

import logging
import socket

from celery import shared_task

from datasystems.connectors.base import ConnectorTemporaryError

from . import releases, services

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
    # Approved releases whose build message was lost are built again (idempotent).
    rebuilds = releases.releases_sweep()
    logger.info(
        "search job sweep: %s queued again, %s planned, %s assemblies",
        result.requeued,
        result.planned,
        result.assemblies,
    )
    return {
        "requeued": result.requeued,
        "planned": result.planned,
        "assemblies": result.assemblies,
        "release_builds": rebuilds,
    }


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_release(release_id: int) -> str:
    """Build an approved release's archive (the release row decides: a second delivery finds it available)."""
    release = releases.release_build(release_id=release_id)
    logger.info("release %s: %s", release_id, release.status)
    return release.status
