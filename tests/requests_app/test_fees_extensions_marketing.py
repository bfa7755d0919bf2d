"""Fees (Art 12(5), 15(3); UK Art 12A), the basis of an extension (Art 12(3)), and objections to direct marketing,
which are absolute (Art 21(2)-(3)).

Dates are checked by hand against the 2026 calendar of England (GB-ENG: Good Friday 3 Apr, Easter Monday 6 Apr,
early May 4 May) unless a test moves the organisation to Ireland (IE) for the EU rules.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from organisation.selectors import organisation_get
from requests_app import deadlines, services
from requests_app.models import (
    DataSubjectRequest,
    EventKind,
    ExtensionBasis,
    FeeBasis,
    MarketingSuppression,
    Outcome,
    PauseReason,
    RefusalGround,
    Right,
    Status,
)
from requests_app.scope import ObjectionScope, ObjectionType
from requests_app.selectors import is_marketing_suppressed, requests_from_same_person
from requests_app.workflow import can_transition
from tests.factories import (
    StaffUserFactory,
    confirmed_request,
    in_progress_extendable,
    in_progress_objection,
    in_progress_request,
    submitted_request,
)

pytestmark = pytest.mark.django_db


def _in_ireland() -> None:
    organisation = organisation_get()
    organisation.jurisdiction = "IE"
    organisation.save()


def _kinds(request: DataSubjectRequest) -> list[str]:
    return list(request.events.values_list("kind", flat=True))


# --- Extensions need a structured basis (Art 12(3); UK Art 12A) ---------------------------------------------------


@pytest.mark.parametrize("basis", [[], ["busy"], ["staff_shortage", ExtensionBasis.COMPLEXITY]])
def test_an_extension_without_complexity_or_number_of_requests_as_its_basis_is_refused(basis):
    request = in_progress_extendable(received_on=date(2026, 3, 2))

    with pytest.raises(services.RequestError, match="Art. 12"):
        services.request_extend(
            request=request, actor=StaffUserFactory(), months=1, basis=basis, reasons="Busy.", on=date(2026, 3, 9)
        )

    request.refresh_from_db()
    assert request.extension_months == 0


def test_the_number_of_requests_is_a_basis_only_when_the_person_has_made_other_requests(mailoutbox):
    request = in_progress_extendable(received_on=date(2026, 3, 2), email="ada@example.com")
    handler = StaffUserFactory()
    with pytest.raises(services.RequestError, match="no other request"):
        services.request_extend(
            request=request,
            actor=handler,
            months=1,
            basis=[ExtensionBasis.NUMBER_OF_REQUESTS],
            reasons="Four requests this month.",
            on=date(2026, 3, 9),
        )

    submitted_request(received_on=date(2026, 3, 3), email="  ADA@Example.com ")  # the same person, written otherwise
    services.request_extend(
        request=request,
        actor=handler,
        months=1,
        basis=[ExtensionBasis.NUMBER_OF_REQUESTS],
        reasons="Four requests this month.",
        on=date(2026, 3, 9),
    )

    request.refresh_from_db()
    assert request.extension_basis == [ExtensionBasis.NUMBER_OF_REQUESTS]
    assert request.events.get(kind=EventKind.EXTENDED).reason == (
        "We have received a number of requests from you\nFour requests this month."
    )
    notice = request.messages.get(kind="extension").body
    assert "We have received a number of requests from you." in notice
    assert "Four requests this month." in notice


def test_the_persons_other_requests_are_found_by_their_keyed_email_hash_only():
    request = submitted_request(email="ada@example.com")
    earlier = submitted_request(email="Ada@Example.com")
    submitted_request(email="someone.else@example.com")

    assert list(requests_from_same_person(request)) == [earlier]


# --- Fees (Art 12(5), 15(3); UK Art 12A) ----------------------------------------------------------------------------


def test_uk_a_fee_stops_the_clock_and_payment_starts_a_new_month_from_the_day_of_payment():
    """Received Mon 2 Mar 2026, fee asked Tue 10 Mar, paid Fri 20 Mar: the month runs from 20 Mar, due Mon 20 Apr."""
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    handler = StaffUserFactory()
    mail.outbox.clear()

    services.request_fee_request(
        request=request,
        actor=handler,
        amount="25.00",
        basis=FeeBasis.MANIFESTLY_EXCESSIVE,
        reasons="The same request five times this year.",
        on=date(2026, 3, 10),
    )

    request.refresh_from_db()
    assert request.status == Status.AWAITING_FEE
    assert (request.fee_amount, request.fee_currency, request.fee_basis) == (
        Decimal("25.00"),
        "GBP",
        FeeBasis.MANIFESTLY_EXCESSIVE,
    )
    assert request.clock_paused_on == date(2026, 3, 10)
    assert request.clock_pause_reason == PauseReason.FEE
    notice = request.messages.get(kind="fee_requested").body
    assert "25.00 GBP" in notice
    assert "Nothing has been charged" in notice
    assert "The same request five times this year." in notice
    assert "starts again on the day we receive your payment" in notice

    services.request_fee_paid(request=request, actor=handler, paid_on=date(2026, 3, 20), reference="PAY-123")

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.fee_paid_on == date(2026, 3, 20)
    assert request.clock_started_on == date(2026, 3, 20)
    assert request.due_on == date(2026, 4, 20)  # Monday
    assert [EventKind.FEE_REQUESTED, EventKind.FEE_PAID, EventKind.CLOCK_RESTARTED] == [
        kind for kind in _kinds(request) if kind in (EventKind.FEE_REQUESTED, EventKind.FEE_PAID, "clock_restarted")
    ]
    paid = request.events.get(kind=EventKind.FEE_PAID)
    assert paid.reason == "25.00 GBP paid on 2026-03-20; reference PAY-123"
    assert paid.actor == handler


def test_eu_the_clock_keeps_running_while_a_fee_is_awaited():
    """IE, received Mon 2 Mar 2026: due Thu 2 Apr whatever happens with the fee."""
    _in_ireland()
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    assert request.due_on == date(2026, 4, 2)

    services.request_fee_request(
        request=request,
        actor=StaffUserFactory(),
        amount=Decimal("10"),
        basis=FeeBasis.MANIFESTLY_UNFOUNDED,
        reasons="Sent to disrupt our business, as you said in your letter.",
        on=date(2026, 3, 10),
    )
    request.refresh_from_db()
    assert request.status == Status.AWAITING_FEE
    assert request.clock_paused_on is None
    assert request.fee_currency == "EUR"
    assert "at the latest by 2 April 2026" in request.messages.get(kind="fee_requested").body

    services.request_fee_paid(request=request, actor=None, paid_on=date(2026, 3, 25), reference="SEPA-9")
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert (request.clock_started_on, request.due_on) == (date(2026, 3, 2), date(2026, 4, 2))


def test_the_first_copy_of_access_data_is_always_free_and_a_further_copy_may_carry_a_fee():
    handler = StaffUserFactory()
    first = in_progress_request(email="ada@example.com")
    with pytest.raises(services.RequestError, match="first copy"):
        services.request_fee_request(
            request=first, actor=handler, amount="5.00", basis=FeeBasis.FURTHER_COPY, reasons="Postage."
        )
    first.refresh_from_db()
    assert first.status == Status.IN_PROGRESS
    services.request_complete(request=first, actor=handler, outcome=Outcome.FULFILLED, summary="Your data.")

    further = in_progress_request(email="ada@example.com")
    services.request_fee_request(
        request=further, actor=handler, amount="5.00", basis=FeeBasis.FURTHER_COPY, reasons="Copying and postage."
    )
    further.refresh_from_db()
    assert further.status == Status.AWAITING_FEE


def test_a_further_copy_fee_is_only_for_access_requests():
    with pytest.raises(services.RequestError, match="right of access"):
        services.request_fee_request(
            request=in_progress_extendable(),
            actor=StaffUserFactory(),
            amount="5.00",
            basis=FeeBasis.FURTHER_COPY,
            reasons="Postage.",
        )


@pytest.mark.parametrize(
    ("amount", "basis", "reasons"),
    [
        ("0", FeeBasis.MANIFESTLY_EXCESSIVE, "Repeated."),
        ("-5", FeeBasis.MANIFESTLY_EXCESSIVE, "Repeated."),
        ("1.234", FeeBasis.MANIFESTLY_EXCESSIVE, "Repeated."),
        ("lots", FeeBasis.MANIFESTLY_EXCESSIVE, "Repeated."),
        ("10.00", "admin", "Repeated."),
        ("10.00", FeeBasis.MANIFESTLY_EXCESSIVE, "  "),
    ],
)
def test_a_fee_needs_an_amount_a_lawful_basis_and_reasons(amount, basis, reasons):
    request = in_progress_extendable()
    with pytest.raises(services.RequestError):
        services.request_fee_request(
            request=request, actor=StaffUserFactory(), amount=amount, basis=basis, reasons=reasons
        )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert not request.messages.filter(kind="fee_requested").exists()


def test_uk_a_waived_fee_restarts_nothing_the_days_waited_count():
    """Received Mon 2 Mar 2026, due Thu 2 Apr; a fee asked on 10 Mar and waived on 20 Mar leaves it due 2 Apr."""
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    handler = StaffUserFactory()
    services.request_fee_request(
        request=request,
        actor=handler,
        amount="25.00",
        basis=FeeBasis.MANIFESTLY_EXCESSIVE,
        reasons="Repeated.",
        on=date(2026, 3, 10),
    )

    services.request_fee_waive(request=request, actor=handler, reasons="The person explained the repeat.")

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.clock_paused_on is None
    assert (request.clock_started_on, request.due_on) == (date(2026, 3, 2), date(2026, 4, 2))
    assert request.fee_amount is None
    assert request.events.get(kind=EventKind.FEE_WAIVED).reason == "25.00 GBP\nThe person explained the repeat."


def test_a_request_waiting_for_a_fee_can_be_withdrawn_or_refused_but_not_completed():
    assert can_transition(Status.IN_PROGRESS, Status.AWAITING_FEE)
    for to_status in (Status.IN_PROGRESS, Status.REFUSED, Status.WITHDRAWN):
        assert can_transition(Status.AWAITING_FEE, to_status)
    assert not can_transition(Status.AWAITING_FEE, Status.COMPLETED)
    assert not can_transition(Status.AWAITING_CLARIFICATION, Status.AWAITING_FEE)

    request = in_progress_extendable()
    services.request_fee_request(
        request=request, actor=StaffUserFactory(), amount="10.00", basis=FeeBasis.MANIFESTLY_EXCESSIVE, reasons="R."
    )
    services.request_withdraw(request=request, reason="I will not pay.")
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN


# --- Objection to direct marketing is absolute (Art 21(2)-(3)) ----------------------------------------------------


def test_an_objection_to_direct_marketing_cannot_be_paused_extended_or_charged_for():
    request = in_progress_objection(received_on=date(2026, 3, 2))
    handler = StaffUserFactory()
    mail.outbox.clear()

    with pytest.raises(services.RequestError, match=r"Art\. 21\(3\)"):
        services.request_clarification_ask(request=request, actor=handler, question="Which newsletter?")
    with pytest.raises(services.RequestError, match=r"Art\. 21\(3\)"):
        services.request_extend(
            request=request,
            actor=handler,
            months=1,
            basis=[ExtensionBasis.COMPLEXITY],
            reasons="Busy.",
            on=date(2026, 3, 9),
        )
    with pytest.raises(services.RequestError, match=r"Art\. 21\(3\)"):
        services.request_fee_request(
            request=request, actor=handler, amount="5.00", basis=FeeBasis.MANIFESTLY_EXCESSIVE, reasons="Again."
        )

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert (request.clock_paused_on, request.extension_months, request.due_on) == (None, 0, date(2026, 4, 2))
    assert not request.messages.filter(kind__in=["extension", "clarification_requested", "fee_requested"]).exists()


@pytest.mark.parametrize("ground", [RefusalGround.MANIFESTLY_UNFOUNDED, RefusalGround.MANIFESTLY_EXCESSIVE])
def test_an_objection_to_direct_marketing_is_never_refused_as_manifestly_unfounded_or_excessive(ground):
    request = in_progress_objection()

    with pytest.raises(services.RequestError, match=r"Art\. 21\(3\)"):
        services.request_refuse(request=request, actor=StaffUserFactory(), ground=ground, reasons="Third time.")

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


def test_an_objection_to_direct_marketing_about_special_category_data_needs_only_a_confirmed_email():
    request = confirmed_request(
        right=Right.OBJECTION,
        details=ObjectionScope(type=ObjectionType.DIRECT_MARKETING, special_category_data=True).as_details(),
    )
    assert request.status == Status.IN_PROGRESS
    assert request.clock_paused_on is None


@pytest.mark.parametrize(
    ("received_on", "target_on"),
    [
        (date(2026, 3, 5), date(2026, 3, 6)),  # Thu -> Fri
        (date(2026, 3, 6), date(2026, 3, 9)),  # Fri -> Mon
        (date(2026, 3, 7), date(2026, 3, 9)),  # Sat -> Mon
        (date(2026, 4, 2), date(2026, 4, 7)),  # Thu before Good Friday and Easter Monday -> Tue
    ],
)
def test_an_objection_to_direct_marketing_has_a_target_of_the_next_working_day(received_on, target_on):
    request = in_progress_objection(received_on=received_on)
    assert request.target_on == target_on
    assert deadlines.direct_marketing_target_date(received_on, "GB-ENG") == target_on


def test_other_objections_keep_the_28_day_target():
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    assert request.target_on == date(2026, 3, 30)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 3, 5), date(2026, 3, 5), 0),
        (date(2026, 3, 5), date(2026, 3, 6), 1),
        (date(2026, 3, 6), date(2026, 3, 9), 1),  # Fri -> Mon: one working day
        (date(2026, 4, 2), date(2026, 4, 7), 1),  # over Easter
        (date(2026, 3, 2), date(2026, 3, 9), 5),
    ],
)
def test_working_days_to_suppression_count_only_working_days(start, end, days):
    assert deadlines.working_days_after(start, end, "GB-ENG") == days


def test_completing_an_objection_to_direct_marketing_records_the_time_to_suppression_and_keeps_a_suppression_entry(
    django_capture_on_commit_callbacks, mailoutbox
):
    request = in_progress_objection(email="Ada@Example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_complete(request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED)

    request.refresh_from_db()
    assert request.suppressed_at is not None
    assert request.time_to_suppression == request.suppressed_at - request.received_at
    assert request.working_days_to_suppression == 0
    entry = MarketingSuppression.objects.get()
    assert entry.email_hash == request.email_hash
    assert entry.source_request_id == request.pk
    assert "ada@example.com" not in str(entry.__dict__).lower()
    assert is_marketing_suppressed(email="ada@EXAMPLE.com")
    assert EventKind.MARKETING_SUPPRESSED in _kinds(request)
    [email] = [m for m in mailoutbox if "complete" in m.subject]
    assert "we keep a short suppression entry" in email.body
    assert "even if you later ask us to erase your data" in email.body

    # A later erasure of the request itself never takes the suppression with it.
    DataSubjectRequest.objects.filter(pk=request.pk).delete()
    assert is_marketing_suppressed(email="ada@example.com")


def test_a_second_objection_from_the_same_address_keeps_one_suppression_entry():
    handler = StaffUserFactory()
    first = in_progress_objection(email="ada@example.com")
    services.request_complete(request=first, actor=handler, outcome=Outcome.FULFILLED)
    second = in_progress_objection(email="ada@example.com")
    services.request_complete(request=second, actor=handler, outcome=Outcome.FULFILLED)

    assert MarketingSuppression.objects.get().source_request_id == first.pk


def test_completing_another_request_leaves_no_suppression_entry():
    request = in_progress_extendable(email="ada@example.com")
    services.request_complete(request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED)

    request.refresh_from_db()
    assert request.suppressed_at is None and request.time_to_suppression is None
    assert not MarketingSuppression.objects.exists()
    assert "suppression entry" not in request.messages.get(kind="completion").body
