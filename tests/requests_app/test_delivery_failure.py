"""An e-mail that cannot be delivered after every retry is recorded for staff, never silently lost; one that could
not even be queued is queued again later."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from requests_app import correspondence, tasks
from requests_app.models import DataSubjectRequest, EventKind, Message
from tests.factories import submitted_request

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("connection refused")


def test_an_email_still_undeliverable_at_its_last_retry_is_recorded_and_left_to_staff(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with django_capture_on_commit_callbacks(execute=False):
        request = submitted_request()
    message = Message.objects.get(request=request)

    # The run a worker makes once every earlier retry has failed.
    result = tasks.deliver_message.apply(args=[message.pk], retries=tasks.deliver_message.max_retries, throw=False)

    assert result.failed()
    message.refresh_from_db()
    assert message.sent_at is None
    failure = request.events.get(kind=EventKind.MESSAGE_FAILED)
    assert failure.reason == "Confirm your e-mail address: SMTPServerDisconnected"
    assert not request.events.filter(kind=EventKind.MESSAGE_SENT).exists()
    # Staff take it from here: the sweep for messages that were never queued does not start another round.
    assert message.delivery_failed_at is not None
    assert correspondence.undelivered_messages_sweep(now=_later()) == 0


# --- The broker is down when a request is filed ---------------------------------------------------


FORM = {
    "requester_role": "data_subject",
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "access_scope": "all",
    "access_format": "report",
}


def _later():
    return timezone.now() + correspondence.UNDELIVERED_AFTER + timedelta(minutes=1)


def _minutes_later(minutes: int = 2):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.mark.django_db(transaction=True)  # commits as in production: the e-mail is queued inside the request
def test_a_broker_outage_does_not_stop_a_request_being_filed_and_its_email_goes_later(client, mailoutbox):
    outage = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch.object(tasks.deliver_message, "delay", side_effect=outage):
        response = client.post(reverse("requests_app:request_create", args=["access"]), FORM)

    # The person sees their request filed, as always; the e-mail has not gone yet.
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert client.get(response["Location"]).status_code == 200
    message = Message.objects.get(request=request)
    assert message.sent_at is None
    assert mailoutbox == []

    assert message.queued_at is None
    # A sweep in the same minute leaves it alone (its own on-commit publish may be under way) ...
    assert correspondence.undelivered_messages_sweep() == 0
    # ... and the one a couple of minutes later, with the broker back, sends it: minutes, not hours.
    assert correspondence.undelivered_messages_sweep(now=_minutes_later()) == 1

    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.queued_at is not None
    assert [m.to for m in mailoutbox] == [["grace@example.com"]]
    # Sent once, however often the sweep runs.
    assert correspondence.undelivered_messages_sweep(now=_minutes_later()) == 0
    assert correspondence.undelivered_messages_sweep(now=_later()) == 0
    assert len(mailoutbox) == 1


def test_an_email_the_broker_took_is_queued_again_only_after_the_long_wait(django_capture_on_commit_callbacks):
    """A message queued but not yet sent (its task may still be retrying) is not queued again every few minutes:
    only once UNDELIVERED_AFTER has passed since it was queued, in case the broker lost it."""
    with mock.patch.object(tasks.deliver_message, "delay") as published:
        with django_capture_on_commit_callbacks(execute=True):
            request = submitted_request()
        message = Message.objects.get(request=request)
        published.assert_called_once_with(message.pk)
        message.refresh_from_db()
        assert message.queued_at is not None
        assert message.sent_at is None

        assert correspondence.undelivered_messages_sweep(now=_minutes_later()) == 0
        assert correspondence.undelivered_messages_sweep(now=_minutes_later(60)) == 0
        assert correspondence.undelivered_messages_sweep(now=_later()) == 1
        assert published.call_count == 2


def test_the_sweep_stops_at_the_first_message_while_the_broker_is_still_down(
    caplog, django_capture_on_commit_callbacks
):
    down = mock.patch.object(tasks.deliver_message, "delay", side_effect=OperationalError("down"))
    with down, django_capture_on_commit_callbacks(execute=True):
        submitted_request()
        submitted_request()
    caplog.clear()

    with down:
        assert correspondence.undelivered_messages_sweep(now=_later()) == 0

    first = Message.objects.earliest("pk").pk
    assert [r.getMessage() for r in caplog.records] == [
        f"message {first} not queued (OperationalError); the undelivered-messages sweep will queue it"
    ]
    assert Message.objects.filter(sent_at=None).count() == 2
