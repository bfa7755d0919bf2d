"""Complaints answered by post (UK DPA 2018 s.164A): a letter from someone with no e-mail address is logged with
their postal address, every notice to them is a letter kept for staff to post, and the day it is posted is recorded
as the proof that it went."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from complaints import services
from complaints.models import Channel, Complaint, ComplaintMessage, ComplaintMessageKind, ComplaintStatus
from requests_app.models import EventKind, RequestEvent
from tests.factories import StaffUserFactory, submitted_request

pytestmark = pytest.mark.django_db

ADDRESS = "12 Difference Engine Row\nLondon N1 1AA"


def _log(actor, *, email: str = "", postal_address: str = ADDRESS, by_post: bool = False, request=None) -> Complaint:
    return services.complaint_log(
        actor=actor,
        name="Ada Lovelace",
        email=email,
        text="You sent my records to my old address.",
        channel=Channel.LETTER,
        received_at=timezone.now() - timedelta(days=3),
        request=request,
        postal_address=postal_address,
        by_post=by_post,
    )


@pytest.fixture
def staff():
    return StaffUserFactory()


def test_a_letter_with_no_email_address_is_logged_with_its_postal_address_encrypted_and_answered_by_letter(
    staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _log(staff)

    complaint.refresh_from_db()
    assert complaint.notices_by_post
    assert complaint.postal_address == ADDRESS
    assert complaint.complainant_email == ""
    # No address, no hash: an empty address must never find another complaint or a request.
    assert complaint.email_hash == ""
    [receipt] = complaint.messages.all()
    assert receipt.kind == ComplaintMessageKind.RECEIPT
    assert receipt.by_post and receipt.posted_on is None
    assert complaint.reference in receipt.body and "Ada Lovelace" in receipt.body
    assert mail.outbox == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT postal_address FROM complaints_complaint")
        stored = cursor.fetchall()
    assert "Difference Engine" not in str(stored)


def test_every_notice_to_a_postal_complainant_is_a_letter_with_its_text_and_nothing_is_emailed(
    staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _log(staff)
        services.complaint_acknowledge(complaint=complaint, actor=staff, note="We have your letter.")
        services.complaint_progress(complaint=complaint, actor=staff, note="We asked the post room.")
        services.complaint_resolve(complaint=complaint, actor=staff, outcome="We fixed the address.")

    letters = list(complaint.messages.order_by("pk"))
    assert [letter.kind for letter in letters] == [
        ComplaintMessageKind.RECEIPT,
        ComplaintMessageKind.ACKNOWLEDGEMENT,
        ComplaintMessageKind.PROGRESS,
        ComplaintMessageKind.OUTCOME,
    ]
    assert all(letter.by_post and letter.posted_on is None and letter.sent_at is None for letter in letters)
    assert "We have your letter." in letters[1].body
    assert "We asked the post room." in letters[2].body
    assert "We fixed the address." in letters[3].body
    assert mail.outbox == []


def test_a_complainant_with_both_addresses_who_asks_for_post_gets_post(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _log(staff, email="ada@example.com", by_post=True)
        services.complaint_acknowledge(complaint=complaint, actor=staff)

    assert complaint.notices_by_post
    assert complaint.messages.filter(by_post=True).count() == 2
    assert mail.outbox == []


def test_a_complainant_with_both_addresses_who_did_not_ask_for_post_is_emailed(
    staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _log(staff, email="ada@example.com")

    assert not complaint.notices_by_post
    assert complaint.postal_address == ADDRESS
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert not complaint.messages.filter(by_post=True).exists()


@pytest.mark.parametrize(
    ("email", "postal_address", "by_post", "error"),
    [
        ("", "", False, "e-mail address or a postal address"),
        ("  ", "   ", False, "e-mail address or a postal address"),
        ("ada@example.com", "", True, "postal address to send the letters to"),
    ],
)
def test_a_complaint_needs_somewhere_to_answer(staff, email, postal_address, by_post, error):
    with pytest.raises(ValueError, match=error):
        _log(staff, email=email, postal_address=postal_address, by_post=by_post)
    assert not Complaint.objects.exists()


def test_the_acknowledgement_counts_from_the_step_not_the_posting_day(staff):
    """s.164A(3): acknowledging is the act; the posting day, recorded later, is the proof that the letter went."""
    complaint = _log(staff)
    before = timezone.now()
    services.complaint_acknowledge(complaint=complaint, actor=staff)
    complaint.refresh_from_db()

    assert complaint.status == ComplaintStatus.ACKNOWLEDGED
    assert complaint.acknowledged_at >= before
    letter = complaint.messages.get(kind=ComplaintMessageKind.ACKNOWLEDGEMENT)
    assert letter.posted_on is None

    assert services.complaint_letter_posted(message=letter, actor=staff, posted_on=timezone.localdate())
    acknowledged_at = complaint.acknowledged_at
    complaint.refresh_from_db()
    assert complaint.acknowledged_at == acknowledged_at


def test_posting_a_letter_is_recorded_once_in_the_complaints_history_and_the_requests_trail(staff):
    request = submitted_request(email="ada@example.com")
    complaint = _log(staff, request=request)
    letter = complaint.messages.get()
    today = timezone.localdate()

    assert services.complaint_letter_posted(message=letter, actor=staff, posted_on=today)
    assert not services.complaint_letter_posted(message=letter, actor=staff, posted_on=today)

    letter.refresh_from_db()
    assert letter.posted_on == today
    [event] = complaint.events.filter(kind=EventKind.LETTER_POSTED)
    assert event.actor == staff
    assert today.isoformat() in event.reason
    [trail] = RequestEvent.objects.filter(request=request, kind=EventKind.LETTER_POSTED)
    assert complaint.reference in trail.reason


def test_a_letter_cannot_be_posted_tomorrow_nor_before_it_was_written_and_an_email_is_never_posted(staff):
    complaint = _log(staff)
    letter = complaint.messages.get()
    today = timezone.localdate()
    with pytest.raises(ValueError, match="still to come"):
        services.complaint_letter_posted(message=letter, actor=staff, posted_on=today + timedelta(days=1))
    with pytest.raises(ValueError, match="before it was written"):
        services.complaint_letter_posted(message=letter, actor=staff, posted_on=today - timedelta(days=1))
    letter.refresh_from_db()
    assert letter.posted_on is None
    assert not complaint.events.filter(kind=EventKind.LETTER_POSTED).exists()

    emailed = _log(staff, email="ada@example.com", postal_address="")
    with pytest.raises(ValueError):
        services.complaint_letter_posted(message=emailed.messages.get(), actor=staff, posted_on=today)


def test_a_letter_is_never_emailed_even_by_a_stray_delivery_task(staff):
    complaint = _log(staff, email="ada@example.com", by_post=True)
    letter = complaint.messages.get()

    assert not services.complaint_message_deliver(message_id=letter.pk)
    assert mail.outbox == []
    assert ComplaintMessage.objects.get(pk=letter.pk).sent_at is None
