"""A real Celery worker process, on Redis, delivers the portal's e-mail and records it in PostgreSQL."""

import email
import email.policy
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult
from django.conf import settings
from django.db import connection

from dsar_portal.celery import app as celery_app
from requests_app import tasks
from requests_app.models import Message, MessageKind, StatusLink
from tests.factories import submitted_request

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _services_available() -> bool:
    return connection.vendor == "postgresql" and bool(settings.CELERY_BROKER_URL) and bool(settings.REDIS_URL)


@pytest.fixture
def real_worker(tmp_path):
    """A worker process on its own queue, writing e-mail to files, and storing task results in Redis.

    The portal ignores task results; the worker is given a result backend here so that the test can wait until the
    worker has really finished a task it sent, instead of sleeping and hoping.
    """
    if not _services_available():
        if os.environ.get("DSAR_REQUIRE_SERVICES"):
            pytest.fail("DSAR_REQUIRE_SERVICES is set but DATABASE_URL/REDIS_URL do not point at PostgreSQL/Redis")
        pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL; .ci/run sets both")
    queue = f"dsar-test-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    db = connection.settings_dict
    env = {
        **os.environ,
        # The worker must see the test database that pytest-django created.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DSAR_EMAIL_DIR": str(mail_dir),
        "DSAR_PRIVATE_UPLOAD_DIR": str(tmp_path / "uploads"),
        # Tasks the worker queues itself go to its own queue too.
        "DSAR_CELERY_DEFAULT_QUEUE": queue,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dsar_portal",
            "--result-backend",
            settings.REDIS_URL,
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield mail_dir, RedisBackend(app=celery_app, url=settings.REDIS_URL)
    finally:
        celery_app.conf.task_default_queue = "celery"
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        print(output[-4000:])


def _sent_emails(mail_dir: Path) -> list[email.message.EmailMessage]:
    """The e-mails the file backend wrote: one file per connection, messages separated by a line of dashes."""
    separator = b"\n" + b"-" * 79 + b"\n"
    return [
        email.message_from_bytes(part, policy=email.policy.default)
        for path in sorted(mail_dir.iterdir())
        for part in path.read_bytes().split(separator)
        if part.strip()
    ]


def _wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_worker_sends_the_confirmation_email_and_marks_it_sent_in_postgres(real_worker):
    """Filing a request enqueues the e-mail after commit; a real worker sends it once, even if asked twice."""
    mail_dir, results = real_worker
    request = submitted_request(email="worker@example.com", name="Wendy Worker")
    message = Message.objects.get(request=request, kind=MessageKind.EMAIL_CONFIRMATION)

    assert _wait_for(lambda: Message.objects.filter(pk=message.pk, sent_at__isnull=False).exists()), (
        "the worker did not deliver the message"
    )
    sent = _sent_emails(mail_dir)
    assert len(sent) == 1
    # To the requester and no one else.
    assert sent[0]["To"] == "worker@example.com"
    assert sent[0]["Cc"] is None
    assert request.reference in sent[0].get_content()
    # The worker wrote the audit event once the e-mail had really gone.
    assert request.events.filter(kind="message_sent").count() == 1
    message.refresh_from_db()
    first_sent_at = message.sent_at

    # A retry or duplicate delivery of the same task sends nothing more: wait until the worker has run it.
    duplicate = tasks.deliver_message.apply_async(args=[message.pk], ignore_result=False)
    outcome = AsyncResult(duplicate.id, backend=results, app=celery_app)
    try:
        assert _wait_for(lambda: outcome.ready()), "the worker did not run the duplicate delivery"
        assert outcome.successful()
        assert outcome.result is False, "the worker sent the e-mail a second time"
    finally:
        outcome.forget()
    assert len(_sent_emails(mail_dir)) == 1
    assert request.events.filter(kind="message_sent").count() == 1
    assert StatusLink.objects.filter(request=request).count() == 1
    message.refresh_from_db()
    assert message.sent_at == first_sent_at
