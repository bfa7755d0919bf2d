"""Every notice promises only what the portal does (GDPR Art. 12(1): clear, plain and true information; LAW.md §2)."""

from datetime import date

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from requests_app import services
from requests_app.models import DataSubjectRequest, MessageKind, PauseReason, Status
from tests.factories import StaffUserFactory, confirmed_request, in_progress_objection

# E-mails go out after commit, so the tests commit (as the identity tests do).
pytestmark = pytest.mark.django_db(transaction=True)


def _bodies(mailoutbox, kind: MessageKind) -> list[str]:
    return [m.body for m in mailoutbox if str(kind.label) in m.subject]


def _identity_asked_on(request: DataSubjectRequest, day: date) -> DataSubjectRequest:
    assert request.clock_pause_reason == PauseReason.IDENTITY
    DataSubjectRequest.objects.filter(pk=request.pk).update(clock_paused_on=day)
    request.refresh_from_db()
    return request


def test_no_email_claims_that_it_carries_no_personal_information(mailoutbox):
    """Every e-mail carries the person's name, and staff-written notices often more (LAW.md N7): the footer no
    longer says "we never put your personal information in e-mails"."""
    in_progress_objection()
    assert mailoutbox
    for message in mailoutbox:
        assert "personal information in e-mails" not in message.body
    footer = render_to_string("requests_app/emails/_footer.txt", {"status_url": "https://x.test/s/"})
    assert "never" not in footer


def test_a_uk_request_whose_identity_is_confirmed_is_told_its_date(mailoutbox):
    """The UK receipt says the month starts when identity is confirmed and that we will write with the date
    (UK GDPR Art. 12(3A)); confirming identity sends that message, with the new date."""
    request = confirmed_request(received_on=date(2026, 3, 2))
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    request = _identity_asked_on(request, date(2026, 3, 4))
    [receipt] = _bodies(mailoutbox, MessageKind.RECEIPT)
    assert "we will write to tell you the date then" in receipt

    services.request_identity_verified(
        request=request, actor=StaffUserFactory(), evidence_received_on=date(2026, 3, 16)
    )

    [confirmed] = _bodies(mailoutbox, MessageKind.IDENTITY_CONFIRMED)
    assert "We have confirmed your identity" in confirmed
    assert "as soon as we can, and at the latest by 16 April 2026" in confirmed


def test_identity_confirmed_twice_sends_one_message(mailoutbox):
    """A repeated decision is a no-op: the person hears once."""
    request = confirmed_request()
    staff = StaffUserFactory()
    services.request_identity_verified(request=request, actor=staff)
    services.request_identity_verified(request=request, actor=staff)
    assert len(_bodies(mailoutbox, MessageKind.IDENTITY_CONFIRMED)) == 1


def test_dates_read_as_a_limit_not_a_target(mailoutbox):
    """The duty is "without undue delay" and at the latest within the period (Art. 12(3)): the receipt and the
    extension notice say "as soon as we can, and at the latest by"."""
    request = in_progress_objection()
    [receipt] = _bodies(mailoutbox, MessageKind.RECEIPT)
    assert "as soon as we can, and at the latest by" in receipt
    assert "The law gives us until" not in receipt
    extension = render_to_string(
        "requests_app/emails/extension.txt", {"request": request, "reasons": "many systems", "status_url": "u"}
    )
    assert "as soon as we can, and at the latest by" in extension


def test_the_status_page_does_not_say_nothing_happens_before_confirmation(client):
    """The statutory clock may be running while the address waits for confirmation: the page says we cannot start
    work until then, not that nothing happens (LAW.md N8)."""
    html = render_to_string(
        "identity/status_confirm_email.html", {"request_obj": {"reference": "DSAR-TEST"}, "confirm_form": None}
    )
    assert "Nothing happens" not in html
    assert "We cannot start work on your request until you do" in html


def test_the_start_page_promises_only_what_the_law_and_the_portal_give(client):
    """Portability to another organisation is "where technically feasible" (Art. 20(2)); restriction's notice
    before lifting stays (Art. 18(3)); the form is optional and agents may write in (ICO; EDPB 01/2022 §3)."""
    page = client.get(reverse("requests_app:start")).content.decode()
    assert "where technically feasible" in page
    assert "notice before any restriction is lifted" in page
    assert "You do not have to use this form" in page
    assert "by e-mail, by letter, by phone or in person" in page
    assert "reasonable adjustments" in page
    assert "can also write to us" in page
    assert "that override your interests" in page


@pytest.mark.parametrize(
    ("right", "wording"),
    [
        ("consent_withdrawal", "Withdrawing consent does not make what we did before unlawful."),
        ("automated_decision", "A person will review the decision"),
    ],
)
def test_the_receipt_says_what_happens_next_for_the_new_kinds_of_request(mailoutbox, right, wording):
    """Art. 7(3): withdrawal does not affect earlier processing; Art. 22(3) and UK Art. 22C: human intervention."""
    request = confirmed_request(right=right, details={"decision_description": "Loan refused"})
    if request.status == Status.AWAITING_IDENTITY_VERIFICATION:
        services.request_identity_verified(request=request, actor=StaffUserFactory())
    [receipt] = _bodies(mailoutbox, MessageKind.RECEIPT)
    assert wording in receipt


def test_an_access_question_that_stops_the_clock_says_the_person_may_answer_everything_or_not_at_all(mailoutbox):
    """ICO: where the person refuses to clarify or does not reply, the controller must still comply with reasonable
    searches; EDPB 01/2022: a person asking for everything is owed everything (LAW.md N5, D12)."""
    request = confirmed_request()
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        status=Status.IN_PROGRESS, clock_paused_on=None, clock_pause_reason=""
    )
    request.refresh_from_db()
    services.request_clarification_ask(
        request=request, actor=StaffUserFactory(), question="Which years?", stops_clock=True, condition="Large file."
    )

    [body] = _bodies(mailoutbox, MessageKind.CLARIFICATION_REQUESTED)
    flat = " ".join(body.split())
    assert 'you can reply "everything", and we will look for all the information we hold about you' in flat
    assert "If we do not hear from you, we will carry on with reasonable searches for what you asked for." in flat
