"""Run every periodic job once, in this process: for deployments without Celery beat (the embedded default), from cron.

The jobs are the entries of ``CELERY_BEAT_SCHEDULE``, the one list that beat also runs from. Each is looked up by
its task name in the Celery app's registry, so the kernel needs to import no app to run them.
"""

import logging

from celery.exceptions import NotRegistered
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dsar_portal.celery import task_registry

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run each job of the periodic schedule (CELERY_BEAT_SCHEDULE) once, in this process: reminders and closing "
        "of stale requests, deletion of decided evidence, e-mail queued again. Exits non-zero if any job failed."
    )

    def handle(self, *args, **options) -> None:
        registry = task_registry()
        schedule = settings.CELERY_BEAT_SCHEDULE
        failed = []
        # One failing job must not keep the others (a deletion that is due, a request to close) from running.
        for name, entry in schedule.items():
            try:
                task = registry[entry["task"]]
                result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True).get()
            except NotRegistered:
                failed.append(name)
                self.stderr.write(f"{name}: failed, no task named {entry['task']!r} is registered.")
            except Exception as exc:
                failed.append(name)
                # The traceback goes to the log, as a worker would log it; the exception's type is enough here.
                logger.exception("scheduled job %s failed", name)
                self.stderr.write(f"{name}: failed ({type(exc).__name__}).")
            else:
                self.stdout.write(f"{name}: {result}")
        if failed:
            raise CommandError(f"{len(failed)} of {len(schedule)} jobs failed: {', '.join(failed)}")
