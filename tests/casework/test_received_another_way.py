"""Requests received another way (issue 11): logged by staff with their true receipt time, channel and scan."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import services
from requests_app import documents
from requests_app.models import Channel, DocumentPurpose, EventKind, Message, MessageKind, RequestDocument, Status
from requests_app.services import message_posted
from tests.factories import png_bytes, png_upload, submission

pytestmark = pytest.mark.django_db


def _log(actor, **overrides):
    values = {
        "submission": submission(email=""),
        "channel": Channel.LETTER,
        "received_at": timezone.now() - timedelta(days=3),
        "actor": actor,
        "postal_address": "1 Analytical Row, London",
    }
    values.update(overrides)
    return services.request_log_received(**values)


def test_a_letter_received_three_days_ago_starts_the_clock_on_that_day(handler):
    received_at = timezone.now() - timedelta(days=3)

    request = _log(handler, received_at=received_at)

    assert request.channel == Channel.LETTER
    assert request.received_at == received_at
    assert request.clock_started_on == timezone.localtime(received_at).date()
    logged = request.events.get(kind=EventKind.RECEIVED_ANOTHER_WAY)
    assert logged.actor == handler
    assert "Letter" in logged.reason


def test_a_postal_request_sends_no_email_and_lists_its_letters_to_post(
    handler, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = _log(handler)

    request.refresh_from_db()
    assert mailoutbox == []
    assert request.notices_by_post
    assert request.status != Status.AWAITING_EMAIL_CONFIRMATION
    letters = Message.objects.filter(request=request, by_post=True, posted_on=None)
    assert MessageKind.RECEIPT in set(letters.values_list("kind", flat=True))
    assert not Message.objects.filter(request=request, kind=MessageKind.EMAIL_CONFIRMATION).exists()


def test_staff_record_the_day_a_letter_was_posted(handler):
    request = _log(handler)
    letter = Message.objects.filter(request=request, by_post=True).first()
    today = timezone.localdate()

    assert message_posted(message=letter, actor=handler, posted_on=today)
    assert not message_posted(message=letter, actor=handler, posted_on=today)

    letter.refresh_from_db()
    assert letter.posted_on == today
    assert request.events.filter(kind=EventKind.LETTER_POSTED, actor=handler).count() == 1


def test_an_email_channel_request_needs_no_confirmation_code(handler, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = _log(handler, submission=submission(), channel=Channel.EMAIL, postal_address="")

    request.refresh_from_db()
    assert request.email_confirmed_at is not None
    assert not request.notices_by_post
    assert request.status != Status.AWAITING_EMAIL_CONFIRMATION
    assert not Message.objects.filter(request=request, kind=MessageKind.EMAIL_CONFIRMATION).exists()
    assert mailoutbox  # the receipt goes by e-mail


def test_a_phoned_request_with_an_email_address_asks_for_the_code(handler):
    request = _log(handler, submission=submission(), channel=Channel.PHONE, postal_address="")

    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION
    assert Message.objects.filter(request=request, kind=MessageKind.EMAIL_CONFIRMATION, by_post=False).exists()


def test_the_scan_of_what_arrived_is_stored_encrypted(handler, settings):
    request = _log(handler, scan=png_upload("letter.png"))

    document = RequestDocument.objects.get(request=request)
    assert document.purpose == DocumentPurpose.SUPPORTING
    on_disk = (settings.PRIVATE_UPLOAD_DIR / "documents" / document.storage_key).read_bytes()
    assert b"IHDR" not in on_disk
    assert documents.document_read(document) == png_bytes()


def test_a_receipt_time_in_the_future_is_refused(handler):
    from requests_app.services import RequestError

    with pytest.raises(RequestError):
        _log(handler, received_at=timezone.now() + timedelta(hours=2))


def test_an_auditor_may_not_log_a_request(auditor):
    with pytest.raises(PermissionError):
        _log(auditor)
