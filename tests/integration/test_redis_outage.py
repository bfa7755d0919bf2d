"""Chaos: the one Redis (cache, sessions' cache, Celery broker) is killed in the middle of submissions.

Every submission is stored and every person shown their status page; confirming an e-mail code, reading a status
page and a staff page work during the outage; once Redis is back the sweep queues the e-mails that could not be,
and a real worker sends every confirmation e-mail exactly once.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dsar_portal.celery import app as celery_app
from dsar_portal.settings import redis_cache
from requests_app import correspondence
from requests_app.models import DataSubjectRequest, Message, MessageKind
from tests.factories import StaffUserFactory
from tests.integration.test_celery_worker import _sent_emails, _wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BEFORE, DURING = 5, 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ChaosRedis:
    """A redis-server of the test's own, on a free port, persisting every write (as the README asks of a broker)."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        assert _wait_for(lambda: _answers(client), timeout=20), "redis-server did not start"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def chaos(tmp_path, settings):
    """The portal's cache and broker on a Redis of the test's own, a real worker on it, and that Redis to kill."""
    if connection.vendor != "postgresql" or not shutil.which("redis-server"):
        if os.environ.get("DSAR_REQUIRE_SERVICES"):
            pytest.fail("DSAR_REQUIRE_SERVICES is set but DATABASE_URL is not PostgreSQL or redis-server is missing")
        pytest.skip("needs DATABASE_URL (PostgreSQL) and redis-server; .ci/run has both")
    server = ChaosRedis(tmp_path / "redis")
    server.directory.mkdir()
    server.start()
    settings.CACHES = {
        "default": redis_cache(server.url),
        "template_fragments": django_settings.CACHES["template_fragments"],
    }
    queue = f"dsar-chaos-{uuid.uuid4().hex[:8]}"
    original_broker = celery_app.conf.broker_url
    celery_app.conf.broker_url = server.url
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    # Forget the producer pool made for the previous broker URL (public: close() and the cached property's reset).
    celery_app.close()
    del celery_app.amqp
    mail_dir = tmp_path / "mail"
    db = connection.settings_dict
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dsar_portal", "worker", "--pool=solo", "-Q", queue]
        + ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": server.url,
            "CELERY_BROKER_URL": server.url,
            "DSAR_EMAIL_DIR": str(mail_dir),
            "DSAR_PRIVATE_UPLOAD_DIR": str(tmp_path / "uploads"),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield server, mail_dir
    finally:
        celery_app.conf.broker_url = original_broker
        celery_app.conf.task_default_queue = "celery"
        celery_app.close()
        del celery_app.amqp
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        print(output[-3000:])
        if server.process and server.process.poll() is None:
            server.kill()


def _submit(number: int) -> tuple[Client, str, float]:
    """One person files an access request in their own browser; returns it, where it led, and how long it took."""
    browser = Client()
    started = time.monotonic()
    response = browser.post(
        reverse("requests_app:request_create", args=["access"]),
        {
            "requester_role": "data_subject",
            "name": f"Person {number}",
            "email": f"person{number}@example.com",
            "access_scope": "all",
            "access_format": "report",
        },
    )
    elapsed = time.monotonic() - started
    return browser, response.get("Location", f"status {response.status_code}"), elapsed


def _shown_status_page(location: str) -> bool:
    return (
        location.startswith("/status/")
        and DataSubjectRequest.objects.filter(reference=location.rstrip("/").rsplit("/", 1)[-1]).exists()
    )


def _confirmation_code(mail_dir: Path, address: str) -> str:
    sent = [m for m in _sent_emails(mail_dir) if m["To"] == address]
    return re.search(r"\b(\d{6})\b", sent[-1].get_content()).group(1)


def test_killing_redis_mid_run_loses_no_submission_and_every_email_goes_once(chaos):
    server, mail_dir = chaos
    staff = Client()
    staff.force_login(StaffUserFactory(is_superuser=True))

    before = [_submit(number) for number in range(BEFORE)]
    assert all(_shown_status_page(location) for _b, location, _t in before)
    assert _wait_for(lambda: not Message.objects.filter(sent_at=None).exists()), "the worker sent nothing"

    server.kill()

    during = [_submit(number) for number in range(BEFORE, BEFORE + DURING)]
    stored_during = DataSubjectRequest.objects.count() - BEFORE
    shown_success = sum(_shown_status_page(location) for _b, location, _t in during)
    slowest = max(elapsed for _b, _l, elapsed in during)
    print(f"outage: {stored_during}/{DURING} submissions stored, {shown_success}/{DURING} shown their status page")
    print(f"outage: slowest submission {slowest:.2f} s")
    assert stored_during == DURING
    assert shown_success == DURING
    # Nobody waits on the broker: the publish gives up quickly and the sweep takes over.
    assert slowest < 5

    # A person who filed before the outage confirms their e-mail with the code they received.
    browser, location, _t = before[0]
    reference = location.rstrip("/").rsplit("/", 1)[-1]
    confirmed = browser.post(
        reverse("identity:status_confirm_email", args=[reference]),
        {"code": _confirmation_code(mail_dir, "person0@example.com")},
    )
    assert confirmed.status_code == 302
    assert DataSubjectRequest.objects.get(reference=reference).email_confirmed_at is not None
    # Status pages open, and staff are still signed in.
    browser, location, _t = during[0]
    assert browser.get(location).status_code == 200
    assert staff.get(reverse("casework:queue")).status_code == 200
    assert Message.objects.filter(queued_at=None, sent_at=None).count() >= DURING

    server.start()

    # The next run of the sweep (a few minutes later) queues every e-mail that could not be; the worker sends them.
    queued = correspondence.undelivered_messages_sweep(now=timezone.now() + timedelta(minutes=2))
    assert queued >= DURING
    assert _wait_for(lambda: not Message.objects.filter(sent_at=None).exists(), timeout=90), "e-mails still unsent"
    assert correspondence.undelivered_messages_sweep(now=timezone.now() + timedelta(minutes=2)) == 0

    confirmations = Counter(
        m["To"] for m in _sent_emails(mail_dir) if str(MessageKind.EMAIL_CONFIRMATION.label) in m["Subject"]
    )
    expected = {f"person{number}@example.com": 1 for number in range(BEFORE + DURING)}
    assert dict(confirmations) == expected
    assert Message.objects.filter(kind=MessageKind.EMAIL_CONFIRMATION, sent_at__isnull=False).count() == len(expected)
