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


# --- The staff form -----------------------------------------------------------------------------------------

LOG_URL = "/staff/requests/new/"


def _form(**overrides):
    values = {
        "right": "access",
        "channel": "letter",
        "received_at": (timezone.localtime() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "requester_role": "data_subject",
        "name": "Grace Hopper",
        "email": "",
        "postal_address": "7 Compiler Lane, Arlington",
        "description": "Please send me a copy of my data.",
    }
    values.update(overrides)
    return values


def test_the_log_form_is_linked_from_the_queue(client, handler):
    client.force_login(handler)
    assert LOG_URL in client.get("/staff/").content.decode()


def test_staff_log_a_letter_with_its_scan_and_see_its_letters_to_post(client, handler, mailoutbox):
    from requests_app.models import DataSubjectRequest

    client.force_login(handler)
    response = client.post(LOG_URL, {**_form(), "scan": png_upload("letter.png")})

    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response.url == f"/staff/requests/{request.reference}/"
    assert request.channel == Channel.LETTER
    assert request.clock_started_on == timezone.localdate() - timedelta(days=3)
    assert RequestDocument.objects.filter(request=request).count() == 1
    assert mailoutbox == []
    page = client.get(response.url).content.decode()
    assert "Letters to post" in page
    assert "Received by: Letter" in page
    assert "Record as posted" in page

    letter = Message.objects.filter(request=request, by_post=True).first()
    client.post(
        f"/staff/requests/{request.reference}/letters/{letter.pk}/posted/",
        {"posted_on": timezone.localdate().isoformat()},
    )
    letter.refresh_from_db()
    assert letter.posted_on == timezone.localdate()


def test_the_form_keeps_what_was_typed_when_something_is_missing(client, handler):
    from requests_app.models import DataSubjectRequest

    client.force_login(handler)
    response = client.post(LOG_URL, _form(postal_address="", name="Grace Typed-Name"))

    assert response.status_code == 400
    page = response.content.decode()
    assert "Grace Typed-Name" in page
    assert "Please send me a copy of my data." in page
    assert "Give a postal address" in page
    assert not DataSubjectRequest.objects.exists()


def test_the_form_refuses_a_receipt_time_in_the_future(client, handler):
    client.force_login(handler)
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(LOG_URL, _form(received_at=future))

    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    assert future in response.content.decode()


def test_a_letter_to_post_says_nothing_of_an_emailed_link_or_code(handler):
    """A postal requester reads the letter on paper: it must not point to an e-mail that was never sent."""
    from requests_app.correspondence import CODE_PLACEHOLDER, LINK_PLACEHOLDER, POSTAL_LINK_TEXT

    request = _log(handler)

    letters = Message.objects.filter(request=request, by_post=True)
    assert letters.exists()
    for letter in letters:
        assert LINK_PLACEHOLDER not in letter.body
        assert CODE_PLACEHOLDER not in letter.body
    # Every notice's footer tells the person how to follow the request; on paper, by writing or calling.
    assert all(POSTAL_LINK_TEXT in letter.body for letter in letters)
