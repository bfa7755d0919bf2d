"""One schedule of periodic jobs: beat runs it, and without beat (the embedded default) one command runs it once."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from kombu.exceptions import OperationalError

from dsar_portal.celery import task_registry
from requests_app import correspondence, tasks
from requests_app.models import DataSubjectRequest, Message, MessageKind, Status
from tests.factories import submitted_request

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_job_in_the_schedule_names_a_task_a_worker_can_run(settings):
    """A typo in a task name would leave a job silently never run, by beat and by the command alike."""
    registered = task_registry()
    assert settings.CELERY_BEAT_SCHEDULE
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in registered, f"{name} names no registered task"


def _request_never_confirmed(settings) -> DataSubjectRequest:
    request = submitted_request(email="late@example.com")
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        received_at=timezone.now() - timedelta(days=settings.DSAR_UNCONFIRMED_CLOSE_DAYS + 1)
    )
    return request


def _email_never_queued() -> Message:
    """A request filed while the broker was down: its confirmation e-mail is stored but was never queued."""
    with mock.patch.object(tasks.deliver_message, "delay", side_effect=OperationalError("broker down")):
        request = submitted_request(email="waiting@example.com")
    message = Message.objects.get(request=request, kind=MessageKind.EMAIL_CONFIRMATION)
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - correspondence.UNDELIVERED_AFTER - timedelta(minutes=1)
    )
    return message


def test_run_scheduled_jobs_runs_every_job_in_the_schedule_once(settings, mailoutbox):
    """A stale unconfirmed request is closed and its e-mail that never went is sent; every job reports its result."""
    stale = _request_never_confirmed(settings)
    waiting = _email_never_queued()
    mailoutbox.clear()
    out = io.StringIO()

    call_command("run_scheduled_jobs", stdout=out)

    stale.refresh_from_db()
    assert stale.status == Status.CLOSED_UNCONFIRMED
    waiting.refresh_from_db()
    assert waiting.sent_at is not None
    assert sorted(m.to[0] for m in mailoutbox) == ["late@example.com", "waiting@example.com"]
    assert "has been closed" in next(m.subject for m in mailoutbox if m.to == ["late@example.com"])
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == list(settings.CELERY_BEAT_SCHEDULE)
    assert "queue-undelivered-messages-again: 1" in lines
    assert "remind-and-close-unconfirmed-requests: {'reminded': 0, 'closed': 1}" in lines


def test_a_failing_job_is_reported_and_the_others_still_run(settings, mailoutbox):
    """The queueing of e-mail fails; stale requests are still closed, and cron sees a non-zero exit."""
    stale = _request_never_confirmed(settings)
    out, err = io.StringIO(), io.StringIO()

    with (
        mock.patch.object(correspondence, "undelivered_messages_sweep", side_effect=RuntimeError("boom")),
        pytest.raises(
            CommandError,
            match=f"1 of {len(settings.CELERY_BEAT_SCHEDULE)} jobs failed: queue-undelivered-messages-again",
        ),
    ):
        call_command("run_scheduled_jobs", stdout=out, stderr=err)

    stale.refresh_from_db()
    assert stale.status == Status.CLOSED_UNCONFIRMED
    assert "queue-undelivered-messages-again: failed (RuntimeError)." in err.getvalue()
    assert "remind-and-close-unconfirmed-requests: {'reminded': 0, 'closed': 1}" in out.getvalue()
    assert "delete-decided-identity-evidence: 0" in out.getvalue()


def test_a_job_naming_no_registered_task_is_reported_and_the_others_still_run(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "misspelt": {"task": "requests_app.tasks.no_such_task", "schedule": 60},
        **settings.CELERY_BEAT_SCHEDULE,
    }
    stale = _request_never_confirmed(settings)
    err = io.StringIO()

    with pytest.raises(CommandError, match=f"1 of {len(settings.CELERY_BEAT_SCHEDULE)} jobs failed: misspelt"):
        call_command("run_scheduled_jobs", stdout=io.StringIO(), stderr=err)

    assert "misspelt: failed, no task named 'requests_app.tasks.no_such_task' is registered." in err.getvalue()
    stale.refresh_from_db()
    assert stale.status == Status.CLOSED_UNCONFIRMED
