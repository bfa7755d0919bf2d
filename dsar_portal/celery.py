"""Celery application. With no broker configured, tasks queue in folders under data/broker/ (see settings)."""

import os
import smtplib

from celery import Celery, Task
from celery.app.registry import TaskRegistry
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar_portal.settings")


class PortalTask(Task):
    """The base of the portal's tasks.

    They take IDs and plain values, never personal data, so the arguments shown
    in worker logs and monitoring are their plain repr. Celery's default,
    saferepr, is built for any object and was about a seventh of the cost of
    enqueueing a task on the request form.
    """

    def apply_async(self, args: tuple | list | None = None, kwargs: dict | None = None, **options):
        options.setdefault("argsrepr", repr(tuple(args or ())))
        options.setdefault("kwargsrepr", repr(dict(kwargs or {})))
        return super().apply_async(args, kwargs, **options)


# How every e-mail task retries: on the mail server's and the network's transient errors, backing off from 30 s to
# 30 min, eight times (about three hours, less than the undelivered-messages sweep waits), then its failure hook.
EMAIL_DELIVERY_RETRY = {
    "acks_late": True,
    "autoretry_for": (smtplib.SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "max_retries": 8,
}


class PortalScheduler(PersistentScheduler):
    """Beat's scheduler, except that a job new to the schedule file (a first start, a job just added) runs at once.

    Celery's own starts each job one interval after beat starts, so a newcomer's `make run` would show no reminder
    for an hour. Every job is idempotent (run twice, it sends nothing twice), so running one early costs nothing; a
    restart still finds the file's last runs and runs nothing again.
    """

    def merge_inplace(self, b: dict) -> None:
        new = set(b) - set(self.schedule)
        super().merge_inplace(b)
        for name in new:
            entry = self.schedule[name]
            run_every = getattr(entry.schedule, "run_every", None)
            if run_every is not None:
                entry.last_run_at = entry.default_now() - run_every


app = Celery("dsar_portal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def task_registry() -> TaskRegistry:
    """Every task of every installed app, by name.

    Task modules are discovered lazily, when a worker or beat starts; a process that is neither (a management
    command, a test) loads them here the same way.
    """
    app.loader.import_default_modules()
    return app.tasks
