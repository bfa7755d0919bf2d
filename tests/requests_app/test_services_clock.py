"""The statutory clock as the services drive it: start, identity waits, clarification, extension.

Every expected date is a literal checked by hand against the 2026 calendar and
the ``holidays`` library (England: Good Friday 3 Apr, Easter Monday 6 Apr,
early May 4 May, spring 25 May, summer 31 Aug; Ireland: St Patrick's Day
17 Mar, Easter Monday 6 Apr, 4 May, 1 Jun, 3 Aug). Weekdays are given in the
comments. The organisation is in England (GB-ENG) unless a test switches its
Organisation record to Ireland (IE) for the EU rules. Time zone: Europe/London.
"""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from organisation.selectors import organisation_get
from requests_app import services
from requests_app.models import DataSubjectRequest, DueDateChange, EventKind, ExtensionBasis, PauseReason, Status
from tests.factories import (
    StaffUserFactory,
    confirmed_request,
    in_progress_extendable,
    in_progress_objection,
    submission,
    submitted_request,
    superuser,
)

pytestmark = pytest.mark.django_db

COMPLEX = [ExtensionBasis.COMPLEXITY]

LONDON = ZoneInfo("Europe/London")


def _in_ireland() -> None:
    organisation = organisation_get()
    organisation.jurisdiction = "IE"
    organisation.save()


def _identity_asked_on(request: DataSubjectRequest, day: date) -> DataSubjectRequest:
    """Set-up: the e-mail was confirmed (and proof of identity asked for) on ``day``, not today."""
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert request.clock_pause_reason == PauseReason.IDENTITY
    DataSubjectRequest.objects.filter(pk=request.pk).update(clock_paused_on=day)
    request.refresh_from_db()
    return request


def in_progress_access(*, received_on: date) -> DataSubjectRequest:
    """Set-up: an access request received on ``received_on`` whose identity was settled the same day."""
    request = submitted_request(received_on=received_on)
    DataSubjectRequest.objects.filter(pk=request.pk).update(status=Status.IN_PROGRESS)
    request.refresh_from_db()
    return request


LARGE_AMOUNT = "We hold 12 years of account records and call recordings."


def _ask(request, handler, asked_on, question="Which accounts and years do you mean?"):
    services.request_clarification_ask(
        request=request,
        actor=handler,
        question=question,
        asked_on=asked_on,
        stops_clock=True,
        condition=LARGE_AMOUNT,
    )


def _changes(request: DataSubjectRequest) -> list[DueDateChange]:
    return list(DueDateChange.objects.filter(request=request).select_related("event").order_by("created_at", "pk"))


# --- The clock starts on the day of receipt, in the organisation's time zone -----------------------


def test_a_request_at_23_59_london_time_counts_from_that_day():
    """Received Tue 30 Jun 2026 at 23:59 BST (22:59 UTC): clock starts 30 Jun, due Thu 30 Jul."""
    received_at = datetime(2026, 6, 30, 23, 59, tzinfo=LONDON)

    request = services.request_submit(submission=submission(), received_at=received_at)

    assert request.clock_started_on == date(2026, 6, 30)
    assert request.due_on == date(2026, 7, 30)  # Thursday
    assert request.target_on == date(2026, 7, 28)  # 30 Jun + 28 days, Tuesday


def test_a_request_just_after_midnight_london_time_counts_from_the_new_day_even_if_utc_says_otherwise():
    """Tue 30 Jun 2026 23:30 UTC is Wed 1 Jul 00:30 in London: clock starts 1 Jul.

    1 Jul + 1 month = Sat 1 Aug, so the due date is the next working day, Mon 3 Aug
    (not a bank holiday in England; the summer bank holiday is 31 Aug).
    """
    received_at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)

    request = services.request_submit(submission=submission(), received_at=received_at)

    assert request.clock_started_on == date(2026, 7, 1)
    assert request.due_on == date(2026, 8, 3)  # Monday
    assert request.target_on == date(2026, 7, 29)  # 1 Jul + 28 days, Wednesday


def test_the_first_due_date_is_recorded_with_the_submission_event():
    request = services.request_submit(submission=submission(), received_at=datetime(2026, 3, 2, 9, tzinfo=LONDON))

    [change] = _changes(request)
    assert change.event.kind == EventKind.SUBMITTED
    assert change.previous_due_on is None
    assert change.due_on == date(2026, 4, 2)  # Mon 2 Mar -> Thu 2 Apr (Good Friday is 3 Apr)
    assert change.target_on == date(2026, 3, 30)  # 2 Mar + 28 days, Monday


# --- Identity: UK restarts the clock, EU adds the days waited ------------------------------------------


def test_uk_identity_evidence_restarts_the_clock_from_the_day_it_arrives():
    """England. Received Mon 2 Mar 2026, due Thu 2 Apr. Evidence arrives Mon 16 Mar:
    the month runs again from 16 Mar, so due Thu 16 Apr; target 16 Mar + 28 = Mon 13 Apr."""
    request = confirmed_request(received_on=date(2026, 3, 2))  # access from an unknown address: needs a document
    request = _identity_asked_on(request, date(2026, 3, 4))
    assert request.due_on == date(2026, 4, 2)

    services.request_identity_verified(
        request=request, actor=StaffUserFactory(), evidence_received_on=date(2026, 3, 16), note="passport checked"
    )

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.clock_started_on == date(2026, 3, 16)
    assert request.paused_days == 0
    assert request.clock_paused_on is None
    assert request.due_on == date(2026, 4, 16)  # Thursday
    assert request.target_on == date(2026, 4, 13)  # Monday (Easter Monday was 6 Apr)
    change = _changes(request)[-1]
    assert change.event.kind == EventKind.CLOCK_RESTARTED
    assert change.previous_due_on == date(2026, 4, 2)
    assert change.due_on == date(2026, 4, 16)
    assert change.target_on == date(2026, 4, 13)


def test_eu_identity_wait_is_added_as_paused_days_instead():
    """Ireland. Received Mon 2 Mar 2026, due Thu 2 Apr. Proof asked Wed 4 Mar, arrives Mon 16 Mar: 12 days paused.
    Due 2 Apr + 12 = Tue 14 Apr; target 2 Mar + 28 + 12 = Sat 11 Apr -> Mon 13 Apr (Easter Monday was 6 Apr)."""
    _in_ireland()
    request = confirmed_request(received_on=date(2026, 3, 2))
    assert request.jurisdiction == "IE"
    request = _identity_asked_on(request, date(2026, 3, 4))

    services.request_identity_verified(
        request=request, actor=StaffUserFactory(), evidence_received_on=date(2026, 3, 16)
    )

    request.refresh_from_db()
    assert request.clock_started_on == date(2026, 3, 2)  # unchanged: the EU does not restart the clock
    assert request.paused_days == 12
    assert request.due_on == date(2026, 4, 14)  # Tuesday
    assert request.target_on == date(2026, 4, 13)  # Monday
    change = _changes(request)[-1]
    assert change.event.kind == EventKind.CLOCK_RESUMED
    assert change.previous_due_on == date(2026, 4, 2)
    assert change.due_on == date(2026, 4, 14)


def test_confirming_the_email_of_a_request_that_needs_identity_pauses_the_clock_for_identity():
    request = confirmed_request(received_on=date(2026, 3, 2))

    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert request.clock_paused_on is not None
    assert request.clock_pause_reason == PauseReason.IDENTITY
    assert request.events.filter(kind=EventKind.CLOCK_PAUSED).count() == 1


def test_a_request_verified_straight_away_keeps_its_first_due_date():
    """An objection to direct marketing needs no identity check: the clock runs from receipt, unpaused."""
    request = in_progress_objection(received_on=date(2026, 3, 2))

    assert request.status == Status.IN_PROGRESS
    assert request.clock_paused_on is None
    assert request.clock_started_on == date(2026, 3, 2)
    assert request.due_on == date(2026, 4, 2)


# --- Clarification pauses the clock -----------------------------------------------------------------


def test_clarification_of_an_access_request_pauses_from_the_day_asked_to_the_day_answered_both_excluded():
    """England. Received Mon 2 Mar 2026, due Thu 2 Apr. Asked Mon 9 Mar, answered Thu 19 Mar: the period 9-19 Mar
    does not count, both ends included (UK GDPR Art. 12A): 11 days. Due 2 Apr + 11 = Mon 13 Apr; target
    2 Mar + 28 + 11 = Fri 10 Apr."""
    handler = StaffUserFactory()
    request = in_progress_access(received_on=date(2026, 3, 2))

    _ask(request, handler, date(2026, 3, 9))
    request.refresh_from_db()
    assert request.status == Status.AWAITING_CLARIFICATION
    assert request.clock_paused_on == date(2026, 3, 9)
    assert request.clock_pause_reason == PauseReason.CLARIFICATION
    assert request.due_on == date(2026, 4, 2)  # unchanged while paused; moves when the answer arrives

    services.request_clarification_answer(
        request=request, answer="The weekly offers list.", answered_on=date(2026, 3, 19)
    )

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.clock_paused_on is None
    assert request.clock_pause_reason == ""
    assert request.paused_days == 11
    assert request.clock_started_on == date(2026, 3, 2)
    assert request.due_on == date(2026, 4, 13)  # Monday
    assert request.target_on == date(2026, 4, 10)  # Friday
    change = _changes(request)[-1]
    assert change.event.kind == EventKind.CLOCK_RESUMED
    assert change.previous_due_on == date(2026, 4, 2)
    assert change.due_on == date(2026, 4, 13)


def test_two_clarifications_add_up():
    """Received Mon 2 Mar 2026. Paused 9-12 Mar (4 days): due 2 Apr + 4 = Mon 6 Apr, Easter Monday, so Tue 7 Apr.
    Then paused 16-20 Mar (5 more days): 9 days, due 2 Apr + 9 = Sat 11 Apr -> Mon 13 Apr."""
    handler = StaffUserFactory()
    request = in_progress_access(received_on=date(2026, 3, 2))
    for asked, answered in ((date(2026, 3, 9), date(2026, 3, 12)), (date(2026, 3, 16), date(2026, 3, 20))):
        _ask(request, handler, asked)
        services.request_clarification_answer(request=request, answer="Current account.", answered_on=answered)

    request.refresh_from_db()
    assert request.paused_days == 9
    assert request.due_on == date(2026, 4, 13)  # Monday
    assert [c.due_on for c in _changes(request)] == [date(2026, 4, 2), date(2026, 4, 7), date(2026, 4, 13)]


def test_a_uk_answer_on_the_day_asked_still_stops_the_clock_for_that_day():
    """Art. 12A: the period beginning with the day asked and ending with the day answered does not count, so a
    same-day answer stops one day: 2 Apr + 1 = Good Friday 3 Apr -> (weekend, Easter Monday) Tue 7 Apr."""
    handler = StaffUserFactory()
    request = in_progress_access(received_on=date(2026, 3, 2))
    _ask(request, handler, date(2026, 3, 9))
    services.request_clarification_answer(request=request, answer="Current account.", answered_on=date(2026, 3, 9))

    request.refresh_from_db()
    assert request.paused_days == 1
    assert request.due_on == date(2026, 4, 7)


# --- Extension: one or two further months, from the original start ------------------------------------


def test_extending_by_one_month_counts_from_the_original_start():
    """Received Sat 31 Jan 2026: due Sat 28 Feb -> Mon 2 Mar. +1 month: 31 Jan + 2 months = Tue 31 Mar."""
    handler = StaffUserFactory()
    request = in_progress_extendable(received_on=date(2026, 1, 31))
    assert request.due_on == date(2026, 3, 2)

    services.request_extend(
        request=request,
        actor=handler,
        months=1,
        basis=COMPLEX,
        reasons="Records are held in three systems.",
        on=date(2026, 2, 10),
    )

    request.refresh_from_db()
    assert request.extension_months == 1
    assert request.due_on == date(2026, 3, 31)  # Tuesday
    assert request.target_on == date(2026, 3, 2)  # the internal target does not move with an extension
    change = _changes(request)[-1]
    assert change.event.kind == EventKind.EXTENDED
    assert change.event.actor == handler
    assert change.event.reason == "The request is complex\nRecords are held in three systems."
    assert change.previous_due_on == date(2026, 3, 2)
    assert change.due_on == date(2026, 3, 31)


def test_two_one_month_extensions_make_three_months_from_the_start_not_a_chain():
    """Received Sat 31 Jan 2026. 1 + 1 month = 31 Jan + 3 months = Thu 30 Apr.
    Chaining from the first due date would give 28 Apr (28 Feb + 2) or 2 May (2 Mar + 2)."""
    handler = StaffUserFactory()
    request = in_progress_extendable(received_on=date(2026, 1, 31))

    services.request_extend(
        request=request, actor=handler, months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 2, 10)
    )
    services.request_extend(
        request=request, actor=handler, months=1, basis=COMPLEX, reasons="Still complex.", on=date(2026, 2, 20)
    )

    request.refresh_from_db()
    assert request.extension_months == 2
    assert request.due_on == date(2026, 4, 30)  # Thursday
    assert [(c.previous_due_on, c.due_on) for c in _changes(request)] == [
        (None, date(2026, 3, 2)),
        (date(2026, 3, 2), date(2026, 3, 31)),
        (date(2026, 3, 31), date(2026, 4, 30)),
    ]


def test_extending_by_two_months_at_once():
    """Received Mon 2 Mar 2026: +2 months = 2 Mar + 3 months = Tue 2 Jun."""
    request = in_progress_extendable(received_on=date(2026, 3, 2))

    services.request_extend(
        request=request,
        actor=StaffUserFactory(),
        months=2,
        basis=COMPLEX,
        reasons="Many requests from you.",
        on=date(2026, 3, 20),
    )

    request.refresh_from_db()
    assert request.due_on == date(2026, 6, 2)  # Tuesday


def test_the_extension_email_gives_the_reasons_and_the_new_date(django_capture_on_commit_callbacks, mailoutbox):
    request = in_progress_extendable(received_on=date(2026, 3, 2))

    with django_capture_on_commit_callbacks(execute=True):
        services.request_extend(
            request=request,
            actor=StaffUserFactory(),
            months=1,
            basis=COMPLEX,
            reasons="Records are archived.",
            on=date(2026, 3, 20),
        )

    [email] = [m for m in mailoutbox if "We need more time" in m.subject]
    assert "Records are archived." in email.body
    assert "at the latest by 4 May 2026." not in email.body  # 2 May is a Saturday...
    # ...and Mon 4 May is the early May bank holiday
    assert "as soon as we can, and at the latest by 5 May 2026." in email.body


def test_an_extension_needs_reasons():
    request = in_progress_extendable(received_on=date(2026, 3, 2))

    with pytest.raises(services.RequestError, match="reasons"):
        services.request_extend(
            request=request, actor=StaffUserFactory(), months=1, basis=COMPLEX, reasons="  ", on=date(2026, 3, 9)
        )

    request.refresh_from_db()
    assert request.extension_months == 0
    assert request.due_on == date(2026, 4, 2)
    assert not request.events.filter(kind=EventKind.EXTENDED).exists()


@pytest.mark.parametrize("months", [0, 3, -1])
def test_an_extension_is_one_or_two_months(months):
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    with pytest.raises(services.RequestError):
        services.request_extend(
            request=request, actor=StaffUserFactory(), months=months, basis=COMPLEX, reasons="x", on=date(2026, 3, 9)
        )


def test_an_extension_is_possible_on_the_original_due_date_but_refused_the_day_after():
    """Received Mon 2 Mar 2026, due Thu 2 Apr: the person must be told within that month."""
    handler = StaffUserFactory()
    late = in_progress_extendable(received_on=date(2026, 3, 2), email="late@example.com")
    with pytest.raises(services.RequestError, match="2026-04-02"):
        services.request_extend(
            request=late, actor=handler, months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 4, 3)
        )
    late.refresh_from_db()
    assert late.extension_months == 0
    assert late.due_on == date(2026, 4, 2)

    on_time = in_progress_extendable(received_on=date(2026, 3, 2), email="ontime@example.com")
    services.request_extend(
        request=on_time, actor=handler, months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 4, 2)
    )
    on_time.refresh_from_db()
    assert on_time.due_on == date(2026, 5, 5)  # 2 May is a Saturday, Mon 4 May a bank holiday


def test_the_original_due_date_for_an_extension_includes_paused_days():
    """Received Mon 2 Mar 2026, paused 9-19 Mar (11 days): the unextended due date is Mon 13 Apr, so an extension
    on Fri 10 Apr (after 2 Apr) is still in time. 2 Mar + 2 months + 11 days = Wed 13 May."""
    handler = StaffUserFactory()
    request = in_progress_access(received_on=date(2026, 3, 2))
    _ask(request, handler, date(2026, 3, 9))
    services.request_clarification_answer(request=request, answer="Offers.", answered_on=date(2026, 3, 19))

    services.request_extend(
        request=request, actor=handler, months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 4, 10)
    )

    request.refresh_from_db()
    assert request.due_on == date(2026, 5, 13)  # Wednesday


def test_an_extension_while_still_waiting_for_clarification_counts_the_days_paused_so_far():
    """Received Mon 2 Mar 2026, due Thu 2 Apr. Clarification asked Wed 25 Mar and not yet answered on Tue 7 Apr:
    the clock has been stopped for 13 days, so the month to tell the person runs to Wed 15 Apr and the
    extension is in time. Extended: 2 Mar + 2 months = Sat 2 May -> (Mon 4 May bank holiday) Tue 5 May.
    Answered Fri 10 Apr: 25 Mar-10 Apr do not count, 17 days, 2 May + 17 = Tue 19 May."""
    handler = StaffUserFactory()
    request = in_progress_access(received_on=date(2026, 3, 2))
    _ask(request, handler, date(2026, 3, 25))

    services.request_extend(
        request=request, actor=handler, months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 4, 7)
    )

    request.refresh_from_db()
    assert request.extension_months == 1
    assert request.due_on == date(2026, 5, 5)  # Tuesday
    services.request_clarification_answer(request=request, answer="Offers.", answered_on=date(2026, 4, 10))
    request.refresh_from_db()
    assert request.paused_days == 17
    assert request.due_on == date(2026, 5, 19)  # Tuesday


def test_an_extension_is_refused_when_the_month_ran_out_before_the_clock_was_paused():
    """Received Mon 2 Mar 2026, due Thu 2 Apr; clarification only asked on Fri 10 Apr: too late to extend."""
    handler = StaffUserFactory()
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    services.request_clarification_ask(
        request=request, actor=handler, question="Which list?", asked_on=date(2026, 4, 10)
    )

    with pytest.raises(services.RequestError, match="has passed"):
        services.request_extend(
            request=request, actor=handler, months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 4, 14)
        )


@pytest.mark.parametrize(("first", "second"), [(2, 1), (1, 2), (2, 2)])
def test_extensions_beyond_two_months_in_total_are_refused(first, second):
    handler = StaffUserFactory()
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    services.request_extend(
        request=request, actor=handler, months=first, basis=COMPLEX, reasons="Complex.", on=date(2026, 3, 9)
    )
    due_after_first = DataSubjectRequest.objects.get(pk=request.pk).due_on

    with pytest.raises(services.RequestError, match="two further months"):
        services.request_extend(
            request=request, actor=handler, months=second, basis=COMPLEX, reasons="More.", on=date(2026, 3, 10)
        )

    request.refresh_from_db()
    assert request.extension_months == first
    assert request.due_on == due_after_first


def test_a_closed_request_cannot_be_extended():
    handler = StaffUserFactory()
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    services.request_complete(request=request, actor=handler, outcome="fulfilled")

    with pytest.raises(services.RequestError, match="open request"):
        services.request_extend(
            request=request, actor=handler, months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 3, 9)
        )

    request.refresh_from_db()
    assert request.extension_months == 0
    assert request.due_on == date(2026, 4, 2)


def test_a_request_whose_email_is_not_confirmed_cannot_be_extended():
    """Nothing happens with a request until the address is confirmed, so there is nothing to extend."""
    request = services.request_submit(submission=submission(), received_at=datetime(2026, 3, 2, 9, tzinfo=LONDON))
    with pytest.raises(services.RequestError):
        services.request_extend(
            request=request, actor=StaffUserFactory(), months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 3, 9)
        )


# --- The internal target date ----------------------------------------------------------------------------


def test_the_internal_target_is_28_days_by_default_and_configurable(settings):
    """Received Mon 2 Mar 2026: 28 days -> Mon 30 Mar. With 20 days: Sun 22 Mar -> Mon 23 Mar."""
    first = services.request_submit(submission=submission(), received_at=datetime(2026, 3, 2, 9, tzinfo=LONDON))
    assert (first.target_on, first.due_on) == (date(2026, 3, 30), date(2026, 4, 2))

    settings.DSAR_INTERNAL_TARGET_DAYS = 20
    second = services.request_submit(submission=submission(), received_at=datetime(2026, 3, 2, 9, tzinfo=LONDON))
    assert (second.target_on, second.due_on) == (date(2026, 3, 23), date(2026, 4, 2))


def test_staff_see_the_internal_target_beside_the_legal_due_date(client):
    """The request list in the admin shows the target and then the due date, side by side."""
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    client.force_login(superuser())

    html = client.get(reverse("admin:requests_app_datasubjectrequest_changelist")).content.decode()

    row = re.search(
        r'<td class="field-target_on[^"]*">(?P<target>[^<]*)</td>\s*<td class="field-due_on[^"]*">(?P<due>[^<]*)</td>',
        html,
    )
    assert row, "target and due date are not next to each other in the request list"
    assert request.reference in html
    assert row["target"].strip() == "March 30, 2026"
    assert row["due"].strip() == "April 2, 2026"


def test_refusing_while_paused_keeps_the_paused_days_for_a_reopened_request():
    """Asked for a clarification 10 days ago, refused today, then reopened: those 10 days still count."""
    from datetime import timedelta

    from django.utils import timezone

    from requests_app import deadlines

    handler = StaffUserFactory()
    received = timezone.localdate() - timedelta(days=20)
    request = in_progress_access(received_on=received)
    _ask(request, handler, timezone.localdate() - timedelta(days=10))
    services.request_refuse(
        request=request,
        actor=handler,
        ground="manifestly_excessive",
        reasons="Repeated request.",
        note="The fourth identical request this month.",
    )
    request.refresh_from_db()
    assert request.clock_paused_on is None
    assert request.paused_days == 10
    assert request.due_on == deadlines.due_date(clock_start=received, jurisdiction="GB-ENG", paused_days=10)

    services.request_reopen(request=request, actor=handler, reason="Refused in error.")
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.due_on == deadlines.due_date(clock_start=received, jurisdiction="GB-ENG", paused_days=10)


# --- Issue 10: clarification per right, resuming without an answer, identity restarts, zones, calendars ----------


def test_clarification_cannot_stop_the_clock_for_an_objection_but_the_question_can_still_be_asked():
    """UK GDPR Art. 12A and EDPB §5.3 cover access only (LAW.md D1): the objection's clock keeps running."""
    handler = StaffUserFactory()
    request = in_progress_extendable(received_on=date(2026, 3, 2))  # an Art. 21(1) objection
    with pytest.raises(services.RequestError):
        _ask(request, handler, date(2026, 3, 9))
    services.request_clarification_ask(
        request=request, actor=handler, question="Which list?", asked_on=date(2026, 3, 9)
    )
    services.request_clarification_answer(request=request, answer="Offers.", answered_on=date(2026, 3, 19))
    request.refresh_from_db()
    assert request.paused_days == 0
    assert request.due_on == date(2026, 4, 2)


def test_an_access_clarification_stops_the_clock_only_with_the_statutory_condition_recorded():
    handler = StaffUserFactory()
    request = in_progress_access(received_on=date(2026, 3, 2))
    with pytest.raises(services.RequestError):
        services.request_clarification_ask(
            request=request, actor=handler, question="Which?", asked_on=date(2026, 3, 9), stops_clock=True
        )
    _ask(request, handler, date(2026, 3, 9))
    request.refresh_from_db()
    assert request.clock_paused_on == date(2026, 3, 9)
    paused = request.events.get(kind=EventKind.CLOCK_PAUSED)
    assert LARGE_AMOUNT in paused.reason
    assert "identify the information or processing activities" in paused.reason


@pytest.mark.parametrize(
    ("asked", "resumed", "paused_days", "due"),
    [
        # Received Mon 2 Mar 2026, due Thu 2 Apr. No answer: the days up to the recorded day, without it.
        (date(2026, 3, 9), date(2026, 3, 19), 10, date(2026, 4, 13)),  # 2 Apr + 10 = Sun 12 -> Mon 13 Apr
        (date(2026, 3, 9), date(2026, 3, 9), 0, date(2026, 4, 2)),
    ],
)
def test_staff_can_resume_without_an_answer_on_a_recorded_date(asked, resumed, paused_days, due):
    """ICO: a person who never replies still gets a response from reasonable searches (LAW.md D12)."""
    handler = StaffUserFactory()
    request = in_progress_access(received_on=date(2026, 3, 2))
    _ask(request, handler, asked)
    with pytest.raises(services.RequestError):
        services.request_clarification_resume(request=request, actor=handler, on=resumed, reason=" ")
    services.request_clarification_resume(request=request, actor=handler, on=resumed, reason="No reply after 10 days.")
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.clock_paused_on is None
    assert request.paused_days == paused_days
    assert request.due_on == due
    resumed_event = request.events.filter(kind=EventKind.CLOCK_RESUMED).last()
    assert resumed_event.actor == handler
    assert "No reply after 10 days." in resumed_event.reason
    assert resumed.isoformat() in resumed_event.reason


def _identity_wait(received_on: date, asked_on: date, doubt: str) -> DataSubjectRequest:
    request = submitted_request(received_on=received_on)
    services.request_identity_check_begin(request=request, reason="test", on=asked_on, reasonable_doubt=doubt)
    request.refresh_from_db()
    return request


@pytest.mark.parametrize(
    ("doubt", "received", "started", "paused_days", "due"),
    [
        # Received Mon 2 Mar 2026, asked Mon 9 Mar, decided Fri 20 Mar.
        # Doubt recorded, a document arrived Mon 16 Mar: the UK clock restarts (Art. 12A): 16 Apr.
        ("Address does not match our records.", date(2026, 3, 16), date(2026, 3, 16), 0, date(2026, 4, 16)),
        # No doubt recorded: a suspension, 9 -> 16 Mar = 7 days: 2 Apr + 7 = Thu 9 Apr.
        ("", date(2026, 3, 16), date(2026, 3, 2), 7, date(2026, 4, 9)),
        # Nothing received (verified from our own records): as if the clock never stopped.
        ("Address does not match our records.", None, date(2026, 3, 2), 0, date(2026, 4, 2)),
    ],
)
def test_uk_identity_restart_needs_a_receipt_and_a_recorded_doubt(doubt, received, started, paused_days, due):
    request = _identity_wait(date(2026, 3, 2), date(2026, 3, 9), doubt)
    services.request_identity_verified(
        request=request, actor=StaffUserFactory(), evidence_received_on=received, on=date(2026, 3, 20)
    )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert (request.clock_started_on, request.paused_days, request.due_on) == (started, paused_days, due)


def test_an_icelandic_request_at_2330_local_time_counts_from_that_day():
    """13 Jul 2026 23:30 in Reykjavik (UTC+0) is 00:30 on 14 Jul in London (LAW.md D5): due Thu 13 Aug."""
    organisation = organisation_get()
    organisation.jurisdiction = "IS"
    organisation.save()
    request = services.request_submit(
        submission=submission(), received_at=datetime(2026, 7, 13, 23, 30, tzinfo=ZoneInfo("Atlantic/Reykjavik"))
    )
    assert request.received_on == date(2026, 7, 13)
    assert request.received_time_zone == "Atlantic/Reykjavik"
    assert request.due_on == date(2026, 8, 13)


def test_a_dpo_holiday_override_moves_new_due_dates_and_is_recorded_with_them():
    """Received Wed 2 Sep 2026, due Fri 2 Oct; the DPO records 2 Oct as a holiday: due Mon 5 Oct."""
    from requests_app.models import HolidayOverride

    override = HolidayOverride.objects.create(
        jurisdiction="GB-ENG", day=date(2026, 10, 2), is_holiday=True, reason="Proclaimed bank holiday."
    )
    request = submitted_request(received_on=date(2026, 9, 2))
    assert request.due_on == date(2026, 10, 5)
    [change] = _changes(request)
    assert change.calendar["overrides"] == [override.pk]
    assert change.calendar["holidays"]


def test_a_request_under_both_regimes_is_due_on_the_earlier_date():
    """A UK (England) controller answering an Irish resident (GDPR Art. 3(2)). Received Tue 17 Feb 2026: Tue 17 Mar
    is St Patrick's Day in Ireland only (Irish date Wed 18 Mar), so the English date, 17 Mar, governs."""
    request = services.request_submit(submission=submission(second_jurisdiction="IE"), received_at=at_noon(17, 2))
    assert request.second_jurisdiction == "IE"
    assert request.due_on == date(2026, 3, 17)
    organisation = organisation_get()
    organisation.jurisdiction = "IE"
    organisation.save()
    irish = services.request_submit(submission=submission(), received_at=at_noon(17, 2))
    assert irish.due_on == date(2026, 3, 18)


def at_noon(day: int, month: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=LONDON)
