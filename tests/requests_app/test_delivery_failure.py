"""An e-mail that cannot be delivered after every retry is recorded for staff, never silently lost."""

import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from requests_app import tasks
from requests_app.models import EventKind, Message
from tests.factories import submitted_request

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("connection refused")


def test_an_email_still_undeliverable_at_its_last_retry_is_recorded_in_the_audit_trail(
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
