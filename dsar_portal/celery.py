"""Celery application. With no broker configured, tasks queue in folders under data/broker/ (see settings)."""

import os
import smtplib

from celery import Celery, Task
from celery.app.registry import TaskRegistry

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
