"""A request's life through the services: intake, e-mail confirmation, staff decisions, the requester's
own actions, the messages we send, and the sweep of requests never confirmed.

Most tests commit for real (``transaction=True``) so that e-mails are sent after commit as in production;
the tests about commit timing and task idempotency hold the on-commit callbacks back themselves.
"""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from dsar_portal.crypto import email_lookup_hash
from dsar_portal.onetime import CodeCheck
from identity import services as identity_services
from organisation.selectors import organisation_get
from requests_app import correspondence, services, tasks
from requests_app.confirmation import email_code_check
from requests_app.models import (
    DataSubjectRequest,
    EmailConfirmation,
    EventKind,
    Message,
    MessageKind,
    Outcome,
    RefusalGround,
    Status,
    StatusLink,
)
from tests.factories import (
    StaffUserFactory,
    code_in,
    in_progress_extendable,
    in_progress_objection,
    in_progress_request,
    marketing_objection,
    status_link_path_in,
    submission,
    submitted_request,
)

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")
REFERENCE_FORMAT = re.compile(
    r"^DSAR-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"
)

NAME = "Siobhán O'Brien"
EMAIL = "siobhan.obrien@example.com"
CUSTOMER_NUMBER = "CUST-774411"
PHONE = "07700 900123"
DESCRIPTION = "I bought a bicycle helmet in 2023 and keep getting letters."


def _private_submission(**overrides):
    values = {
        "name": NAME,
        "email": EMAIL,
        "identifiers": {"customer_number": CUSTOMER_NUMBER, "phone": PHONE},
        "description": DESCRIPTION,
    }
    values.update(overrides)
    return submission(**values)


def _emails_with(kind: str) -> list:
    return [m for m in mail.outbox if m.subject.startswith(str(MessageKind(kind).label))]


def _assert_plain_and_private(email, request: DataSubjectRequest) -> None:
    """What every e-mail to a requester must be: addressed to them by name, quoting the reference, in plain
    text, and holding none of the personal data they gave us beyond their name."""
    body = email.body
    assert email.to == [EMAIL]
    assert f"Dear {NAME}," in body  # the apostrophe is not HTML-escaped in a plain-text e-mail
    assert request.reference in body
    assert request.reference in email.subject
    assert EMAIL not in body
    assert CUSTOMER_NUMBER not in body
    assert PHONE not in body
    assert DESCRIPTION not in body
    assert "&#x27;" not in body and "&amp;" not in body and "<p>" not in body


# --- Intake -----------------------------------------------------------------------------------------------


def test_personal_data_is_encrypted_at_rest():
    request = services.request_submit(submission=_private_submission())

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT requester_name, requester_email, identifiers, details, description, email_hash "
            "FROM requests_app_datasubjectrequest WHERE id = %s",
            [request.pk],
        )
        raw = cursor.fetchone()
    stored = " ".join(str(value) for value in raw)
    for secret in ("Siobh", "O'Brien", "siobhan", "example.com", CUSTOMER_NUMBER, "900123", "bicycle"):
        assert secret not in stored
    assert raw[-1] == email_lookup_hash(EMAIL)
    # ...and the application still reads it back.
    fresh = DataSubjectRequest.objects.get(pk=request.pk)
    assert (fresh.requester_name, fresh.requester_email, fresh.description) == (NAME, EMAIL, DESCRIPTION)
    assert fresh.identifiers == {"customer_number": CUSTOMER_NUMBER, "phone": PHONE}


def test_the_email_hash_finds_the_request_whatever_the_case_of_the_address():
    request = services.request_submit(submission=_private_submission())
    assert request.email_hash == email_lookup_hash("Siobhan.OBrien@Example.com")
    assert request.email_hash != email_lookup_hash("someone.else@example.com")


def test_the_reference_is_readable_and_unguessable():
    """DSAR- and four groups of four from Crockford's alphabet (no I, L, O, U); two requests never share one."""
    first = services.request_submit(submission=_private_submission())
    second = services.request_submit(submission=_private_submission())

    assert REFERENCE_FORMAT.match(first.reference), first.reference
    assert REFERENCE_FORMAT.match(second.reference), second.reference
    assert first.reference != second.reference
    assert str(first.pk) not in first.reference.split("-")  # not a counter


def test_submitting_records_the_event_and_awaits_email_confirmation():
    request = services.request_submit(submission=_private_submission())

    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION
    submitted = request.events.get(kind=EventKind.SUBMITTED)
    assert submitted.actor_kind == "requester"


@pytest.mark.django_db(transaction=False)
def test_the_confirmation_email_is_sent_only_after_the_request_is_committed(django_capture_on_commit_callbacks):
    """If saving the request failed, nobody should get an e-mail about it."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request = services.request_submit(submission=_private_submission())
        assert len(mail.outbox) == 0

    assert len(mail.outbox) == 0  # still nothing: the transaction has not committed
    assert len(callbacks) == 1
    for callback in callbacks:  # what the commit does
        callback()

    [email] = mail.outbox
    assert email.subject == f"Confirm your e-mail address ({request.reference})"
    _assert_plain_and_private(email, request)


def test_the_audit_trail_records_a_message_as_sent_only_once_it_has_gone():
    with transaction.atomic():
        request = services.request_submit(submission=_private_submission())
        # Queued for after the commit, not sent: no "message sent" in the trail yet.
        assert not request.events.filter(kind=EventKind.MESSAGE_SENT).exists()
    sent = request.events.get(kind=EventKind.MESSAGE_SENT)
    assert sent.reason == str(MessageKind.EMAIL_CONFIRMATION.label)


def test_the_confirmation_email_holds_a_code_and_a_private_link():
    request = services.request_submit(submission=_private_submission())

    [email] = mail.outbox
    assert re.fullmatch(r"\d{6}", code_in(email))
    assert status_link_path_in(email).startswith("/status/link/")
    _assert_plain_and_private(email, request)
    assert "30 minutes" in email.body


# --- E-mail confirmation ------------------------------------------------------------------------------------


def test_the_right_code_confirms_and_an_access_request_moves_to_identity_checks():
    """Access needs the person matched to our records; an address we do not know is asked for a document."""
    request = services.request_submit(submission=_private_submission())
    code = code_in(mail.outbox[-1])
    mail.outbox.clear()

    result = identity_services.request_confirm_email(request=request, code=code)

    assert result is CodeCheck.CONFIRMED
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert request.email_confirmed_at is not None
    assert request.events.filter(kind=EventKind.EMAIL_CONFIRMED).count() == 1
    assert [m.subject.split(" (")[0] for m in mail.outbox] == [
        "We have received your request",
        "We need to confirm your identity",
    ]
    for email in mail.outbox:
        _assert_plain_and_private(email, request)


def test_the_right_code_puts_an_objection_to_direct_marketing_straight_into_progress():
    request = services.request_submit(submission=marketing_objection(name=NAME, email=EMAIL))
    code = code_in(mail.outbox[-1])
    mail.outbox.clear()

    assert identity_services.request_confirm_email(request=request, code=code) is CodeCheck.CONFIRMED

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.clock_paused_on is None
    [receipt] = mail.outbox
    assert receipt.subject.startswith("We have received your request")


def test_a_wrong_code_is_refused_and_counted():
    request = services.request_submit(submission=_private_submission())
    code = code_in(mail.outbox[-1])
    wrong = "000000" if code != "000000" else "111111"

    assert identity_services.request_confirm_email(request=request, code=wrong) is CodeCheck.WRONG

    request.refresh_from_db()
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION
    assert EmailConfirmation.objects.get(request=request, retired_at=None).attempts == 1
    assert request.events.filter(kind=EventKind.EMAIL_CODE_FAILED).count() == 1
    # The right code still works afterwards.
    assert identity_services.request_confirm_email(request=request, code=code) is CodeCheck.CONFIRMED


def test_a_code_with_spaces_typed_in_still_works():
    request = services.request_submit(submission=_private_submission())
    code = code_in(mail.outbox[-1])

    assert (
        identity_services.request_confirm_email(request=request, code=f" {code[:3]} {code[3:]} ") is CodeCheck.CONFIRMED
    )


def test_an_expired_code_no_longer_works():
    request = services.request_submit(submission=_private_submission())
    code = code_in(mail.outbox[-1])
    EmailConfirmation.objects.filter(request=request).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert identity_services.request_confirm_email(request=request, code=code) is CodeCheck.EXPIRED

    request.refresh_from_db()
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION
    assert request.email_confirmed_at is None


def test_after_the_maximum_attempts_even_the_right_code_is_refused(settings):
    request = services.request_submit(submission=_private_submission())
    code = code_in(mail.outbox[-1])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.DSAR_EMAIL_CODE_MAX_ATTEMPTS):
        assert identity_services.request_confirm_email(request=request, code=wrong) is CodeCheck.WRONG

    assert identity_services.request_confirm_email(request=request, code=code) is CodeCheck.EXPIRED

    request.refresh_from_db()
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION


def test_a_new_code_cannot_be_asked_for_again_straight_away():
    request = services.request_submit(submission=_private_submission())
    first_code = code_in(mail.outbox[-1])

    assert services.request_resend_confirmation(request=request) is False
    assert len(mail.outbox) == 1

    # A minute later a new code is sent, and only the new one works.
    EmailConfirmation.objects.filter(request=request).update(created_at=timezone.now() - timedelta(seconds=61))
    assert services.request_resend_confirmation(request=request) is True
    assert len(mail.outbox) == 2
    new_code = code_in(mail.outbox[-1])
    _assert_plain_and_private(mail.outbox[-1], request)
    if new_code != first_code:
        assert identity_services.request_confirm_email(request=request, code=first_code) is not CodeCheck.CONFIRMED
    assert identity_services.request_confirm_email(request=request, code=new_code) is CodeCheck.CONFIRMED


def test_a_code_works_only_once():
    request = services.request_submit(submission=marketing_objection(name=NAME, email=EMAIL))
    code = code_in(mail.outbox[-1])
    assert identity_services.request_confirm_email(request=request, code=code) is CodeCheck.CONFIRMED
    sent = len(mail.outbox)

    assert identity_services.request_confirm_email(request=request, code=code) is not CodeCheck.CONFIRMED
    assert email_code_check(request=request, code=code) is CodeCheck.EXPIRED

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.events.filter(kind=EventKind.EMAIL_CONFIRMED).count() == 1
    assert len(mail.outbox) == sent  # no second receipt


def test_no_new_code_once_the_address_is_confirmed():
    request = in_progress_objection(name=NAME, email=EMAIL)
    EmailConfirmation.objects.filter(request=request).update(created_at=timezone.now() - timedelta(hours=1))
    sent = len(mail.outbox)

    assert services.request_resend_confirmation(request=request) is False
    assert len(mail.outbox) == sent


# --- Staff decisions and the requester's own actions, each with one plain e-mail -------------------------


def _in_progress() -> DataSubjectRequest:
    request = in_progress_extendable(
        name=NAME,
        email=EMAIL,
        identifiers={"customer_number": CUSTOMER_NUMBER, "phone": PHONE},
        description=DESCRIPTION,
    )
    mail.outbox.clear()
    return request


def _in_progress_access() -> DataSubjectRequest:
    request = in_progress_request(
        name=NAME,
        email=EMAIL,
        identifiers={"customer_number": CUSTOMER_NUMBER, "phone": PHONE},
        description=DESCRIPTION,
    )
    mail.outbox.clear()
    return request


def test_refusing_needs_a_ground_and_reasons():
    request = _in_progress()
    handler = StaffUserFactory()

    with pytest.raises(services.RequestError):
        services.request_refuse(request=request, actor=handler, ground="", reasons="Manifestly excessive.")
    with pytest.raises(services.RequestError):
        services.request_refuse(request=request, actor=handler, ground="not_a_ground", reasons="Because.")
    with pytest.raises(services.RequestError):
        services.request_refuse(request=request, actor=handler, ground=RefusalGround.MANIFESTLY_EXCESSIVE, reasons=" ")

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert mail.outbox == []


def test_a_refusal_email_gives_the_reasons_and_how_to_complain_and_go_to_court():
    """GDPR Art. 12(4): reasons, the right to complain to the supervisory authority and to a judicial remedy."""
    request = _in_progress_access()
    organisation = organisation_get()

    services.request_refuse(
        request=request,
        actor=StaffUserFactory(),
        ground=RefusalGround.MANIFESTLY_EXCESSIVE,
        reasons="This repeats your request of last week, which we answered in full.",
        note="Same request as last week's, answered in full on the 3rd.",
    )

    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert request.refusal_ground == RefusalGround.MANIFESTLY_EXCESSIVE
    [email] = mail.outbox
    _assert_plain_and_private(email, request)
    body = email.body
    assert "This repeats your request of last week, which we answered in full." in body
    assert "Manifestly excessive" in body
    assert organisation.supervisory_authority_name in body  # Information Commissioner's Office
    assert "Information Commissioner's Office" in body
    assert organisation.supervisory_authority_url in body
    assert organisation.supervisory_authority_address in body
    assert "judicial remedy" in body


def test_completing_sets_the_outcome_and_tells_the_person():
    request = _in_progress()

    services.request_complete(
        request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED, summary="You are off our lists."
    )

    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.outcome == Outcome.FULFILLED
    assert request.closed_at is not None
    [email] = mail.outbox
    _assert_plain_and_private(email, request)
    assert "We have completed your request" in email.body
    assert "Outcome: Fulfilled" in email.body
    assert "You are off our lists." in email.body


def test_completing_needs_a_known_outcome():
    request = _in_progress()
    with pytest.raises(services.RequestError):
        services.request_complete(request=request, actor=StaffUserFactory(), outcome="")
    assert mail.outbox == []


def test_reopening_a_completed_request_clears_the_outcome_and_tells_the_person():
    request = _in_progress()
    handler = StaffUserFactory()
    services.request_complete(request=request, actor=handler, outcome=Outcome.FULFILLED)
    mail.outbox.clear()

    with pytest.raises(services.RequestError):
        services.request_reopen(request=request, actor=handler, reason="")
    services.request_reopen(request=request, actor=handler, reason="The complaint showed we missed a list.")

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.outcome == ""
    assert request.closed_at is None
    [email] = mail.outbox
    _assert_plain_and_private(email, request)
    assert "We have reopened your request" in email.body
    reopened = request.events.get(kind=EventKind.STATUS_CHANGED, to_status=Status.IN_PROGRESS, actor_kind="staff")
    assert reopened.from_status == Status.COMPLETED
    assert reopened.reason == "The complaint showed we missed a list."


def test_reopening_a_refused_request_clears_the_refusal_ground():
    request = _in_progress_access()
    handler = StaffUserFactory()
    services.request_refuse(
        request=request,
        actor=handler,
        ground=RefusalGround.EXEMPTION,
        reasons="Legal privilege.",
        exemption="uk_sch2_para19",
        reference="DPA 2018 Sch. 2 para 19",
    )

    services.request_reopen(request=request, actor=handler, reason="Exemption applied wrongly.")

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.refusal_ground == ""


def test_the_requester_can_withdraw_and_is_told_once():
    request = _in_progress()

    services.request_withdraw(request=request, reason="Sorted out by phone.")
    services.request_withdraw(request=request, reason="Sorted out by phone.")  # a double click

    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    [email] = mail.outbox
    _assert_plain_and_private(email, request)
    assert "has been withdrawn, as you asked" in email.body
    event = request.events.get(kind=EventKind.STATUS_CHANGED, to_status=Status.WITHDRAWN)
    assert event.actor_kind == "requester"
    assert event.reason == "Sorted out by phone."


def test_a_request_can_be_withdrawn_before_the_email_is_confirmed():
    request = services.request_submit(submission=_private_submission())
    mail.outbox.clear()

    services.request_withdraw(request=request)

    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert len(mail.outbox) == 1


def test_asking_an_objector_a_question_sends_it_and_says_the_deadline_still_runs():
    """No stop of the clock outside access requests (UK GDPR Art. 12A; EDPB Guidelines 01/2022 §5.3; LAW.md D1)."""
    request = _in_progress()

    with pytest.raises(services.RequestError):
        services.request_clarification_ask(request=request, actor=StaffUserFactory(), question="  ")
    services.request_clarification_ask(
        request=request, actor=StaffUserFactory(), question="Which of our newsletters do you receive?"
    )

    request.refresh_from_db()
    assert request.status == Status.AWAITING_CLARIFICATION
    assert request.clock_paused_on is None
    [email] = mail.outbox
    _assert_plain_and_private(email, request)
    assert "Which of our newsletters do you receive?" in email.body
    assert "is not paused" in email.body
    assert "paused from today" not in email.body
    assert request.events.filter(kind=EventKind.CLARIFICATION_REQUESTED).count() == 1


def test_the_answer_is_kept_as_a_message_from_the_requester_and_work_resumes():
    request = _in_progress()
    services.request_clarification_ask(request=request, actor=StaffUserFactory(), question="Which newsletter?")
    mail.outbox.clear()

    services.request_clarification_answer(request=request, answer="The weekly offers.")

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.clock_paused_on is None
    reply = Message.objects.get(request=request, direction=Message.Direction.FROM_REQUESTER)
    assert reply.body == "The weekly offers."
    assert request.events.filter(kind=EventKind.CLARIFICATION_ANSWERED).count() == 1
    # Nothing is e-mailed for the person's own reply: the page confirms it (see test_status_views).
    assert mail.outbox == []


def test_an_answer_is_refused_when_no_question_was_asked():
    request = _in_progress()
    with pytest.raises(services.RequestError):
        services.request_clarification_answer(request=request, answer="Unprompted.")
    assert not Message.objects.filter(request=request, direction=Message.Direction.FROM_REQUESTER).exists()


# --- Delivering messages -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_delivering_a_message_twice_sends_one_email(django_capture_on_commit_callbacks):
    """A retried task (worker lost, broker redelivery) must not e-mail the person twice."""
    with django_capture_on_commit_callbacks(execute=False):
        request = services.request_submit(submission=_private_submission())
    message = Message.objects.get(request=request, kind=MessageKind.EMAIL_CONFIRMATION)
    assert message.sent_at is None

    first = tasks.deliver_message.apply(args=[message.pk])
    second = tasks.deliver_message.apply(args=[message.pk])

    assert first.get() is True
    assert second.get() is False
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.sent_at is not None
    assert StatusLink.objects.filter(request=request).count() == 1


def test_the_stored_message_never_holds_the_code_or_the_link_but_the_email_does(client):
    request = services.request_submit(submission=_private_submission())
    [email] = mail.outbox
    code = code_in(email)
    link_path = status_link_path_in(email)
    token = link_path.rstrip("/").rsplit("/", 1)[-1]

    stored = Message.objects.get(request=request, kind=MessageKind.EMAIL_CONFIRMATION)
    assert code not in stored.body
    assert token not in stored.body
    assert correspondence.CODE_PLACEHOLDER in stored.body
    assert correspondence.LINK_PLACEHOLDER in stored.body

    # The status page, which shows the stored messages, shows neither.
    page = client.get(link_path, follow=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert request.reference in html
    assert "Confirm your e-mail address" in html
    assert code not in html
    assert token not in html


# --- Requests whose e-mail is never confirmed ----------------------------------------------------------------


def test_unconfirmed_requests_are_reminded_then_closed_once(settings):
    """Received Mon 2 Mar 2026 10:00. Reminder after 3 days, closed after 30 (like the identity timeout, LAW.md
    D11); each only once. The closing notice gives the complaint and court rights (Art. 12(4), 77, 79)."""
    assert (settings.DSAR_UNCONFIRMED_REMINDER_DAYS, settings.DSAR_UNCONFIRMED_CLOSE_DAYS) == (3, 30)
    received = datetime(2026, 3, 2, 10, tzinfo=LONDON)
    request = services.request_submit(submission=_private_submission(), received_at=received)
    mail.outbox.clear()

    assert services.unconfirmed_requests_sweep(now=received + timedelta(days=2, hours=23)) == (0, 0)
    assert mail.outbox == []

    assert services.unconfirmed_requests_sweep(now=received + timedelta(days=3, minutes=1)) == (1, 0)
    assert services.unconfirmed_requests_sweep(now=received + timedelta(days=3, minutes=2)) == (0, 0)
    [reminder] = mail.outbox
    assert reminder.subject.startswith("Please confirm your e-mail address")
    _assert_plain_and_private(reminder, request)
    new_code = code_in(reminder)  # the reminder carries a fresh code, and it works
    request.refresh_from_db()
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION

    assert services.unconfirmed_requests_sweep(now=received + timedelta(days=29, hours=23)) == (0, 0)
    assert services.unconfirmed_requests_sweep(now=received + timedelta(days=30, minutes=1)) == (0, 1)
    assert services.unconfirmed_requests_sweep(now=received + timedelta(days=31)) == (0, 0)

    request.refresh_from_db()
    assert request.status == Status.CLOSED_UNCONFIRMED
    assert request.closed_at is not None
    assert len(mail.outbox) == 2
    closed = mail.outbox[-1]
    assert closed.subject.startswith("Your request has been closed")
    _assert_plain_and_private(closed, request)
    organisation = organisation_get()
    assert "right to complain to the supervisory authority" in closed.body
    assert organisation.supervisory_authority_name in closed.body
    assert "judicial remedy" in closed.body
    # A closed request can no longer be confirmed.
    assert identity_services.request_confirm_email(request=request, code=new_code) is not CodeCheck.CONFIRMED


def test_the_sweep_leaves_confirmed_requests_alone():
    received = datetime(2026, 3, 2, 10, tzinfo=LONDON)
    confirmed = in_progress_objection(received_on=date(2026, 3, 2))
    waiting = submitted_request(received_at=received, email="waiting@example.com")
    mail.outbox.clear()

    assert services.unconfirmed_requests_sweep(now=received + timedelta(days=30)) == (0, 1)

    confirmed.refresh_from_db()
    waiting.refresh_from_db()
    assert confirmed.status == Status.IN_PROGRESS
    assert waiting.status == Status.CLOSED_UNCONFIRMED
    assert len(mail.outbox) == 1
