"""Tests for requests_app.deadlines (pure date functions, no database).

Every expected date below is a literal that was checked by hand against the
real calendar (weekday and the jurisdiction's public holidays); none is
computed by the code under test. The weekday of each expected date is given
in the row comments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from requests_app import deadlines
from requests_app.deadlines import (
    SUPPORTED_JURISDICTIONS,
    add_months,
    due_date,
    holiday_name,
    internal_target_date,
    is_uk,
    is_working_day,
    latest_extension_notice_date,
    next_working_day,
    paused_days_between,
    response_due_date,
)

D = date

UK_CODES = ["GB-ENG", "GB-WLS", "GB-SCT", "GB-NIR"]
EU_EEA_CODES = [
    # EU member states
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR",
    "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK",
    "SI", "ES", "SE",
    # EEA EFTA states
    "IS", "LI", "NO",
]  # fmt: skip


# --------------------------------------------------------------------------
# Supported jurisdictions
# --------------------------------------------------------------------------


def test_supported_jurisdictions_are_the_uk_nations_eu_and_eea() -> None:
    """All four UK nations, the 27 EU member states and IS, LI, NO."""
    assert len(EU_EEA_CODES) == 30
    assert set(SUPPORTED_JURISDICTIONS) == set(UK_CODES) | set(EU_EEA_CODES)
    assert SUPPORTED_JURISDICTIONS["GB-ENG"] == "England"
    assert SUPPORTED_JURISDICTIONS["GB-WLS"] == "Wales"
    assert SUPPORTED_JURISDICTIONS["GB-SCT"] == "Scotland"
    assert SUPPORTED_JURISDICTIONS["GB-NIR"] == "Northern Ireland"
    assert SUPPORTED_JURISDICTIONS["IE"] == "Ireland"
    assert all(isinstance(v, str) and v for v in SUPPORTED_JURISDICTIONS.values())


@pytest.mark.parametrize(
    ("jurisdiction", "expected"),
    [(code, True) for code in UK_CODES] + [(code, False) for code in EU_EEA_CODES],
)
def test_is_uk_only_for_the_four_uk_nations(jurisdiction: str, expected: bool) -> None:
    """UK GDPR / DPA 2018 applies to the four UK nations, EU GDPR elsewhere."""
    assert is_uk(jurisdiction) is expected


# --------------------------------------------------------------------------
# add_months: corresponding calendar date, clamped to the end of the month
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2025, 9, 3), 1, D(2025, 10, 3)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),  # crosses the year end
        (D(2026, 3, 31), 1, D(2026, 4, 30)),  # no 31 April
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
        (D(2023, 1, 29), 1, D(2023, 2, 28)),  # no 29 Feb 2023
        (D(2028, 1, 30), 1, D(2028, 2, 29)),  # leap year
        (D(2100, 1, 29), 1, D(2100, 2, 28)),  # 2100 is not a leap year
        (D(2026, 1, 31), 3, D(2026, 4, 30)),  # counted from start, not chained
        (D(2025, 12, 31), 2, D(2026, 2, 28)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2025, 6, 10), 0, D(2025, 6, 10)),
    ],
)
def test_add_months_same_calendar_date_clamped_to_month_end(start: date, months: int, expected: date) -> None:
    """Corresponding calendar date `months` later; last day if it does not exist."""
    assert add_months(start, months) == expected


def test_add_months_does_not_adjust_for_weekends() -> None:
    """add_months is pure calendar arithmetic: Sat 28 Feb 2026 stays put."""
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)  # Saturday


# --------------------------------------------------------------------------
# response_due_date: ICO worked examples and own rows
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (D(2025, 9, 3), D(2025, 10, 3)),  # Fri
        (D(2024, 11, 25), D(2024, 12, 27)),  # 25 (Wed), 26 (Thu) Dec bank hols
        (D(2026, 3, 31), D(2026, 4, 30)),  # Thu, no 31 April
        (D(2026, 1, 31), D(2026, 3, 2)),  # 28 Feb 2026 is a Sat -> Mon
        (D(2026, 1, 1), D(2026, 2, 2)),  # 1 Feb 2026 is a Sun -> Mon
    ],
)
def test_ico_worked_examples_england(start: date, expected: date) -> None:
    """ICO examples: corresponding date next month, clamped, next working day."""
    assert response_due_date(start, "GB-ENG", months=1) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (D(2024, 1, 31), D(2024, 2, 29)),  # Thu, leap day
        (D(2023, 1, 29), D(2023, 2, 28)),  # clamps to Tue 28 Feb 2023
        (D(2023, 1, 31), D(2023, 2, 28)),  # Tue
        (D(2028, 1, 31), D(2028, 2, 29)),  # Tue, leap day
        (D(2027, 1, 29), D(2027, 3, 1)),  # clamps to Sun 28 Feb 2027 -> Mon
        (D(2100, 1, 31), D(2100, 3, 1)),  # not leap: Sun 28 Feb 2100 -> Mon
        # Fri 29 Mar 2024 Good Friday, weekend, Mon 1 Apr Easter Monday.
        (D(2024, 2, 29), D(2024, 4, 2)),  # Tue
    ],
)
def test_leap_years_and_month_end_clamping(start: date, expected: date) -> None:
    """February has 28 or 29 days; clamp, then roll past weekend/holidays."""
    assert response_due_date(start, "GB-ENG") == expected


@pytest.mark.parametrize(
    ("start", "jurisdiction", "expected"),
    [
        # Sun 30 Nov 2025 -> Mon 1 Dec; in Scotland 1 Dec is St Andrew's Day
        # (substitute day), so Tue 2 Dec.
        (D(2025, 10, 30), "GB-ENG", D(2025, 12, 1)),
        (D(2025, 10, 30), "GB-SCT", D(2025, 12, 2)),
        # Mon 30 Nov 2026 is St Andrew's Day in Scotland only.
        (D(2026, 10, 30), "GB-ENG", D(2026, 11, 30)),
        (D(2026, 10, 30), "GB-WLS", D(2026, 11, 30)),
        (D(2026, 10, 30), "GB-NIR", D(2026, 11, 30)),
        (D(2026, 10, 30), "GB-SCT", D(2026, 12, 1)),
        # Fri 2 Jan 2026 is a bank holiday in Scotland only -> Mon 5 Jan.
        (D(2025, 12, 2), "GB-ENG", D(2026, 1, 2)),
        (D(2025, 12, 2), "GB-SCT", D(2026, 1, 5)),
        # Fri 1 Jan 2027 New Year's Day everywhere; Scotland's 2 Jan (Sat) is
        # substituted on Mon 4 Jan.
        (D(2026, 12, 1), "GB-ENG", D(2027, 1, 4)),
        (D(2026, 12, 1), "GB-SCT", D(2027, 1, 5)),
        # Mon 6 Apr 2026 Easter Monday: bank holiday except in Scotland.
        (D(2026, 3, 6), "GB-ENG", D(2026, 4, 7)),
        (D(2026, 3, 6), "GB-WLS", D(2026, 4, 7)),
        (D(2026, 3, 6), "GB-NIR", D(2026, 4, 7)),
        (D(2026, 3, 6), "GB-SCT", D(2026, 4, 6)),
        # Mon 3 Aug 2026 summer bank holiday in Scotland only.
        (D(2026, 7, 3), "GB-ENG", D(2026, 8, 3)),
        (D(2026, 7, 3), "GB-SCT", D(2026, 8, 4)),
        # Mon 31 Aug 2026 summer bank holiday except in Scotland.
        (D(2026, 7, 31), "GB-ENG", D(2026, 9, 1)),
        (D(2026, 7, 31), "GB-NIR", D(2026, 9, 1)),
        (D(2026, 7, 31), "GB-SCT", D(2026, 8, 31)),
        # Tue 17 Mar 2026 St Patrick's Day in Northern Ireland only.
        (D(2026, 2, 17), "GB-ENG", D(2026, 3, 17)),
        (D(2026, 2, 17), "GB-NIR", D(2026, 3, 18)),
        # 12 July 2026 is a Sunday; Battle of the Boyne substituted Mon 13 Jul.
        (D(2026, 6, 12), "GB-ENG", D(2026, 7, 13)),
        (D(2026, 6, 12), "GB-NIR", D(2026, 7, 14)),
        (D(2026, 6, 13), "GB-ENG", D(2026, 7, 13)),
        (D(2026, 6, 13), "GB-NIR", D(2026, 7, 14)),
        # Wales follows England: ICO Christmas example.
        (D(2024, 11, 25), "GB-WLS", D(2024, 12, 27)),
        (D(2024, 11, 25), "GB-SCT", D(2024, 12, 27)),
        (D(2024, 11, 25), "GB-NIR", D(2024, 12, 27)),
    ],
)
def test_uk_nations_use_their_own_bank_holidays(start: date, jurisdiction: str, expected: date) -> None:
    """Each UK nation rolls past its own bank holidays (UK GDPR, ICO)."""
    assert response_due_date(start, jurisdiction) == expected


@pytest.mark.parametrize(
    ("start", "jurisdiction", "expected"),
    [
        # Ireland: 1 Feb 2026 Sun; Mon 2 Feb St Brigid's Day -> Tue 3 Feb
        # (England gives Mon 2 Feb for the same start, ICO example above).
        (D(2026, 1, 1), "IE", D(2026, 2, 3)),
        (D(2025, 1, 3), "IE", D(2025, 2, 4)),  # Mon 3 Feb 2025 St Brigid's
        (D(2026, 2, 17), "IE", D(2026, 3, 18)),  # Tue 17 Mar St Patrick's
        # France: Tue 14 Jul 2026 Fête nationale; Fri 1 May and Fri 8 May.
        (D(2026, 6, 14), "FR", D(2026, 7, 15)),
        (D(2026, 4, 1), "FR", D(2026, 5, 4)),  # Fri 1 May -> Mon 4 May
        (D(2026, 4, 8), "FR", D(2026, 5, 11)),  # Fri 8 May -> Mon 11 May
        # Germany: Fri 3 Oct 2025 Tag der Deutschen Einheit -> Mon 6 Oct.
        (D(2025, 9, 3), "DE", D(2025, 10, 6)),
        (D(2025, 9, 3), "GB-ENG", D(2025, 10, 3)),
        (D(2026, 9, 3), "DE", D(2026, 10, 5)),  # Sat 3 Oct 2026 -> Mon
        # Germany: Epiphany (Tue 6 Jan 2026) is only regional, not applied.
        (D(2025, 12, 6), "DE", D(2026, 1, 6)),
        # Spain: Mon 12 Oct 2026 Fiesta Nacional -> Tue 13 Oct.
        (D(2026, 9, 12), "ES", D(2026, 10, 13)),
        # Netherlands: Mon 27 Apr 2026 King's Day -> Tue 28 Apr.
        (D(2026, 3, 27), "NL", D(2026, 4, 28)),
        # Norway: Mon 17 May 2027 Constitution Day and Whit Monday -> Tue.
        (D(2027, 4, 17), "NO", D(2027, 5, 18)),
    ],
)
def test_eu_and_eea_states_use_national_public_holidays(start: date, jurisdiction: str, expected: date) -> None:
    """GDPR Art. 12(3) with Reg. 1182/71 Art. 3(4): roll past national holidays."""
    assert response_due_date(start, jurisdiction) == expected


@pytest.mark.parametrize("jurisdiction", UK_CODES + EU_EEA_CODES)
def test_plain_working_day_is_unchanged_everywhere(jurisdiction: str) -> None:
    """Wed 15 Oct 2025 is a working day in every supported jurisdiction."""
    assert response_due_date(D(2025, 9, 15), jurisdiction) == D(2025, 10, 15)


@pytest.mark.parametrize("jurisdiction", UK_CODES + EU_EEA_CODES)
def test_weekend_due_date_rolls_to_monday_everywhere(jurisdiction: str) -> None:
    """Sat 18 Oct 2025 -> Mon 20 Oct 2025 (no holiday on 20 Oct anywhere)."""
    assert response_due_date(D(2025, 9, 18), jurisdiction) == D(2025, 10, 20)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 1, 31), 3, D(2026, 4, 30)),  # Thu
        (D(2025, 9, 3), 3, D(2025, 12, 3)),  # Wed
        (D(2024, 9, 25), 3, D(2024, 12, 27)),  # Christmas, Boxing Day -> Fri
    ],
)
def test_response_due_date_with_several_months(start: date, months: int, expected: date) -> None:
    """`months` counts from the start date, then rolls to a working day."""
    assert response_due_date(start, "GB-ENG", months=months) == expected


# --------------------------------------------------------------------------
# due_date: extension (Art. 12(3) "two further months") and pauses
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock_start", "jurisdiction", "extension_months", "expected"),
    [
        (D(2026, 1, 31), "GB-ENG", 0, D(2026, 3, 2)),  # Sat 28 Feb -> Mon
        (D(2026, 1, 31), "GB-ENG", 1, D(2026, 3, 31)),  # Tue
        # Three months from the original start: Thu 30 Apr 2026. Chaining
        # from the first due date (28 Feb + 2 months) would wrongly give 28 Apr.
        (D(2026, 1, 31), "GB-ENG", 2, D(2026, 4, 30)),
        (D(2025, 9, 3), "GB-ENG", 2, D(2025, 12, 3)),  # Wed
        (D(2025, 12, 31), "GB-ENG", 1, D(2026, 3, 2)),  # Sat 28 Feb -> Mon
        (D(2025, 12, 31), "GB-ENG", 2, D(2026, 3, 31)),  # Tue
        (D(2024, 9, 25), "GB-ENG", 2, D(2024, 12, 27)),  # 25/26 Dec -> Fri
        # Mon 30 Nov 2026 is St Andrew's Day in Scotland only.
        (D(2026, 8, 30), "GB-ENG", 2, D(2026, 11, 30)),
        (D(2026, 8, 30), "GB-SCT", 2, D(2026, 12, 1)),
        # Fri 14 Jul 2028 Fête nationale (France) -> Mon 17 Jul.
        (D(2028, 4, 14), "FR", 2, D(2028, 7, 17)),
    ],
)
def test_due_date_extension_counted_from_original_start(
    clock_start: date, jurisdiction: str, extension_months: int, expected: date
) -> None:
    """One month + up to two further months, from clock_start, never chained."""
    assert (
        due_date(
            clock_start=clock_start,
            jurisdiction=jurisdiction,
            extension_months=extension_months,
        )
        == expected
    )


@pytest.mark.parametrize(
    ("clock_start", "extension_months", "paused_days", "expected"),
    [
        (D(2025, 9, 3), 0, 0, D(2025, 10, 3)),  # Fri, no pause
        (D(2025, 9, 3), 0, 7, D(2025, 10, 10)),  # Fri
        # The pause is added to the calendar date (Sat 28 Feb + 3 = Tue 3 Mar),
        # not to the rolled date (Mon 2 Mar + 3 would be Thu 5 Mar).
        (D(2026, 1, 31), 0, 3, D(2026, 3, 3)),
        (D(2026, 1, 31), 0, 1, D(2026, 3, 2)),  # Sun 1 Mar -> Mon 2 Mar
        (D(2024, 11, 25), 0, 1, D(2024, 12, 27)),  # Thu 26 Dec Boxing Day -> Fri
        (D(2024, 11, 20), 0, 5, D(2024, 12, 27)),  # Wed 25 Dec -> Fri 27 Dec
        (D(2025, 11, 10), 2, 14, D(2026, 2, 24)),  # 10 Feb + 14 = Tue 24 Feb
        (D(2026, 1, 31), 2, 10, D(2026, 5, 11)),  # Sun 10 May -> Mon 11 May
    ],
)
def test_due_date_pause_moves_calendar_date_then_rolls(
    clock_start: date, extension_months: int, paused_days: int, expected: date
) -> None:
    """Stopped-clock days (UK GDPR Art. 12A, ICO) extend the calendar date."""
    assert (
        due_date(
            clock_start=clock_start,
            jurisdiction="GB-ENG",
            extension_months=extension_months,
            paused_days=paused_days,
        )
        == expected
    )


def test_due_date_with_pause_from_paused_days_between() -> None:
    """Clarification sent Wed 10 Sep, answered Wed 17 Sep 2025: 7 days added."""
    paused = paused_days_between(D(2025, 9, 10), D(2025, 9, 17))
    assert paused == 7
    assert due_date(clock_start=D(2025, 9, 3), jurisdiction="GB-ENG", paused_days=paused) == D(2025, 10, 10)


def test_due_date_without_extension_matches_response_due_date() -> None:
    """due_date(extension_months=0) is the one-month response_due_date."""
    assert due_date(clock_start=D(2024, 11, 25), jurisdiction="GB-ENG") == D(2024, 12, 27)


# --------------------------------------------------------------------------
# paused_days_between
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paused_on", "resumed_on", "expected"),
    [
        (D(2025, 9, 10), D(2025, 9, 17), 7),
        (D(2025, 9, 10), D(2025, 9, 10), 0),  # answered the same day
        (D(2025, 9, 17), D(2025, 9, 10), 0),  # out of order: never negative
        (D(2026, 1, 30), D(2026, 3, 2), 31),  # 2 (Jan) + 28 (Feb) + 1 (Mar)
        (D(2024, 2, 28), D(2024, 3, 1), 2),  # leap day counted
        (D(2025, 12, 20), D(2026, 1, 5), 16),  # across the year end
    ],
)
def test_paused_days_between_is_resumed_minus_paused(paused_on: date, resumed_on: date, expected: int) -> None:
    """Clock stops the day the request is sent, restarts the day the answer comes."""
    assert paused_days_between(paused_on, resumed_on) == expected


# --------------------------------------------------------------------------
# latest_extension_notice_date
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock_start", "jurisdiction", "paused_days", "expected"),
    [
        (D(2026, 1, 31), "GB-ENG", 0, D(2026, 3, 2)),
        (D(2026, 1, 31), "GB-ENG", 3, D(2026, 3, 3)),
        (D(2024, 11, 25), "GB-ENG", 0, D(2024, 12, 27)),
        (D(2025, 10, 30), "GB-SCT", 0, D(2025, 12, 2)),
        (D(2026, 1, 1), "IE", 0, D(2026, 2, 3)),
    ],
)
def test_extension_must_be_notified_within_first_month(
    clock_start: date, jurisdiction: str, paused_days: int, expected: date
) -> None:
    """Art. 12(3): notify the extension within one month, i.e. by the unextended
    due date."""
    assert (
        latest_extension_notice_date(
            clock_start=clock_start,
            jurisdiction=jurisdiction,
            paused_days=paused_days,
        )
        == expected
    )
    assert expected == due_date(
        clock_start=clock_start,
        jurisdiction=jurisdiction,
        extension_months=0,
        paused_days=paused_days,
    )


# --------------------------------------------------------------------------
# internal_target_date
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock_start", "jurisdiction", "target_days", "paused_days", "expected"),
    [
        (D(2025, 9, 3), "GB-ENG", 28, 0, D(2025, 10, 1)),  # Wed
        (D(2024, 11, 27), "GB-ENG", 28, 0, D(2024, 12, 27)),  # 25/26 Dec -> Fri
        (D(2026, 1, 31), "GB-ENG", 28, 0, D(2026, 3, 2)),  # Sat 28 Feb -> Mon
        (D(2025, 9, 3), "GB-ENG", 20, 0, D(2025, 9, 23)),  # Tue
        (D(2025, 9, 3), "GB-ENG", 28, 7, D(2025, 10, 8)),  # Wed
        (D(2025, 11, 2), "GB-ENG", 28, 0, D(2025, 12, 1)),  # Sun 30 Nov -> Mon
        (D(2025, 11, 2), "GB-SCT", 28, 0, D(2025, 12, 2)),  # St Andrew's sub.
        (D(2026, 6, 16), "FR", 28, 0, D(2026, 7, 15)),  # Tue 14 Jul -> Wed
        (D(2025, 9, 3), "GB-ENG", 0, 0, D(2025, 9, 3)),  # Wed itself
    ],
)
def test_internal_target_is_start_plus_days_plus_pause_rolled(
    clock_start: date,
    jurisdiction: str,
    target_days: int,
    paused_days: int,
    expected: date,
) -> None:
    """Internal target = clock_start + target_days + paused_days, next working day."""
    assert (
        internal_target_date(
            clock_start=clock_start,
            jurisdiction=jurisdiction,
            target_days=target_days,
            paused_days=paused_days,
        )
        == expected
    )


@pytest.mark.parametrize("jurisdiction", ["GB-ENG", "GB-SCT", "IE", "DE"])
def test_default_internal_target_never_after_statutory_due_date(
    jurisdiction: str,
) -> None:
    """28 days <= the shortest calendar month, so the target is never late."""
    day = D(2024, 1, 1)
    while day <= D(2026, 12, 31):
        for paused in (0, 5):
            assert internal_target_date(clock_start=day, jurisdiction=jurisdiction, paused_days=paused) <= due_date(
                clock_start=day, jurisdiction=jurisdiction, paused_days=paused
            )
        day += timedelta(days=1)


# --------------------------------------------------------------------------
# Working days, next working day, holiday names
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "jurisdiction", "expected"),
    [
        (D(2025, 10, 15), "GB-ENG", True),  # Wed
        (D(2026, 2, 28), "GB-ENG", False),  # Sat
        (D(2026, 3, 1), "GB-ENG", False),  # Sun
        (D(2024, 12, 25), "GB-ENG", False),  # Christmas Day
        (D(2026, 12, 28), "GB-ENG", False),  # Boxing Day substitute (Mon)
        (D(2026, 3, 17), "GB-ENG", True),  # Tue
        (D(2026, 3, 17), "GB-NIR", False),  # St Patrick's Day
        (D(2026, 3, 17), "IE", False),  # St Patrick's Day
        (D(2026, 11, 30), "GB-SCT", False),  # St Andrew's Day
        (D(2026, 11, 30), "GB-ENG", True),
        (D(2026, 4, 6), "GB-SCT", True),  # Easter Monday not a Scottish BH
        (D(2026, 4, 6), "GB-WLS", False),  # Easter Monday
        (D(2025, 10, 3), "DE", False),  # German Unity Day (Fri)
        (D(2026, 1, 6), "DE", True),  # Epiphany: regional only
        (D(2026, 7, 14), "FR", False),
    ],
)
def test_is_working_day_excludes_weekends_and_public_holidays(day: date, jurisdiction: str, expected: bool) -> None:
    """Working day = Monday-Friday and not a public holiday of the jurisdiction."""
    assert is_working_day(day, jurisdiction) is expected


@pytest.mark.parametrize(
    ("day", "jurisdiction", "expected"),
    [
        (D(2025, 10, 15), "GB-ENG", D(2025, 10, 15)),  # working day itself
        (D(2026, 2, 28), "GB-ENG", D(2026, 3, 2)),  # Sat -> Mon
        (D(2026, 12, 25), "GB-ENG", D(2026, 12, 29)),  # Fri, Sat, Sun, Mon sub.
        (D(2027, 12, 25), "GB-ENG", D(2027, 12, 29)),  # Mon 27, Tue 28 subs.
        # Sat 31 Dec 2022, Sun 1 Jan, Mon 2 Jan New Year's Day substitute.
        (D(2022, 12, 31), "GB-ENG", D(2023, 1, 3)),
        # Scotland also has Tue 3 Jan 2023 (2 January substitute).
        (D(2022, 12, 31), "GB-SCT", D(2023, 1, 4)),
    ],
)
def test_next_working_day_returns_day_or_following_working_day(day: date, jurisdiction: str, expected: date) -> None:
    """The day itself if it is a working day, else the first later working day."""
    assert next_working_day(day, jurisdiction) == expected


@pytest.mark.parametrize(
    ("day", "jurisdiction", "expected_substring"),
    [
        (D(2024, 12, 25), "GB-ENG", "Christmas"),
        (D(2024, 12, 26), "GB-ENG", "Boxing"),
        (D(2025, 12, 1), "GB-SCT", "Andrew"),
        (D(2026, 3, 17), "GB-NIR", "Patrick"),
        (D(2026, 7, 13), "GB-NIR", "Boyne"),
        (D(2026, 2, 2), "IE", "Brigid"),
        (D(2025, 10, 3), "DE", "Unity"),  # English names for staff
        (D(2027, 5, 17), "NO", "Constitution"),
        (D(2027, 5, 17), "NO", "Pentecost"),  # two holidays on one date
    ],
)
def test_holiday_name_explains_why_a_date_moved(day: date, jurisdiction: str, expected_substring: str) -> None:
    """holiday_name returns the (English) holiday name on a public holiday."""
    name = holiday_name(day, jurisdiction)
    assert name is not None
    assert expected_substring in name


@pytest.mark.parametrize(
    ("day", "jurisdiction"),
    [
        (D(2026, 2, 2), "GB-ENG"),  # ordinary Monday in England
        (D(2026, 2, 28), "GB-ENG"),  # Saturday: a weekend is not a holiday
        (D(2026, 11, 30), "GB-ENG"),  # St Andrew's Day is Scottish only
        (D(2026, 1, 6), "DE"),  # regional holidays are not applied
    ],
)
def test_holiday_name_is_none_on_non_holidays(day: date, jurisdiction: str) -> None:
    """No public holiday on that date in that jurisdiction -> None."""
    assert holiday_name(day, jurisdiction) is None


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", ["XX", "GB", "UK", "gb-eng", "EL", "", "US"])
def test_unknown_jurisdiction_raises_value_error(jurisdiction: str) -> None:
    """Unknown codes (incl. bare "GB" and the EU's "EL") raise ValueError."""
    start = D(2025, 9, 3)
    calls = [
        lambda: is_uk(jurisdiction),
        lambda: is_working_day(start, jurisdiction),
        lambda: next_working_day(start, jurisdiction),
        lambda: holiday_name(start, jurisdiction),
        lambda: response_due_date(start, jurisdiction),
        lambda: due_date(clock_start=start, jurisdiction=jurisdiction),
        lambda: internal_target_date(clock_start=start, jurisdiction=jurisdiction),
        lambda: latest_extension_notice_date(clock_start=start, jurisdiction=jurisdiction),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="Unknown jurisdiction"):
            call()


@pytest.mark.parametrize("extension_months", [3, -1, 12])
def test_extension_beyond_two_further_months_raises(extension_months: int) -> None:
    """Art. 12(3) allows at most two further months: 0..2 only."""
    with pytest.raises(ValueError, match="extension_months"):
        due_date(
            clock_start=D(2025, 9, 3),
            jurisdiction="GB-ENG",
            extension_months=extension_months,
        )


def test_negative_pause_raises() -> None:
    """A pause cannot shorten the statutory period."""
    with pytest.raises(ValueError, match="paused_days"):
        due_date(clock_start=D(2025, 9, 3), jurisdiction="GB-ENG", paused_days=-1)
    with pytest.raises(ValueError, match="paused_days"):
        internal_target_date(clock_start=D(2025, 9, 3), jurisdiction="GB-ENG", paused_days=-1)


def test_response_due_date_requires_at_least_one_month() -> None:
    """The statutory period is at least one month."""
    with pytest.raises(ValueError, match="months"):
        response_due_date(D(2025, 9, 3), "GB-ENG", months=0)


def test_datetime_is_rejected() -> None:
    """Deadlines are whole days: pass a date, not a (timezone-aware) datetime."""
    with pytest.raises(TypeError):
        due_date(clock_start=datetime(2025, 9, 3, 23, 30), jurisdiction="GB-ENG")
    with pytest.raises(TypeError):
        add_months(datetime(2025, 9, 3, 12, 0), 1)


# --- Issue 10: the clock per right and per regime (LAW.md D2, D5, D6, D7, Art. 3(2)) ----------------------------


@pytest.mark.parametrize(
    ("received", "jurisdiction", "due"),
    [
        # HU: "Day off (substituted from 12/12/2026)" on Thu 24 Dec is a decree rest day, not a holiday.
        (date(2026, 11, 24), "HU", date(2026, 12, 24)),
        # HU: Fri 2 Jan 2026 is substituted for Sat 10 Jan: due that Friday, not Mon 5 Jan.
        (date(2025, 12, 2), "HU", date(2026, 1, 2)),
        # LV: Mon 22 Jun 2026 (substituted from Sat 27 Jun): due Mon 22 Jun, not Thu 25 Jun after Midsummer.
        (date(2026, 5, 22), "LV", date(2026, 6, 22)),
        # A real holiday still moves the date: HU Christmas Day Fri 25 Dec -> Mon 28 Dec.
        (date(2026, 11, 25), "HU", date(2026, 12, 28)),
    ],
)
def test_days_off_moved_by_decree_are_not_public_holidays(received, jurisdiction, due):
    assert deadlines.response_due_date(received, jurisdiction) == due


@pytest.mark.parametrize(
    ("overrides", "due"),
    [
        ({}, date(2026, 10, 2)),  # Fri 2 Oct 2026, a working day in England
        ({("GB-ENG", date(2026, 10, 2)): True}, date(2026, 10, 5)),  # the DPO adds it: Mon 5 Oct
        ({("GB-SCT", date(2026, 10, 2)): True}, date(2026, 10, 2)),  # another nation's override does not apply
        ({("GB-ENG", date(2026, 12, 25)): False}, date(2026, 10, 2)),  # an unrelated removal changes nothing
    ],
)
def test_the_dpo_overrides_are_applied(overrides, due):
    assert deadlines.response_due_date(date(2026, 9, 2), "GB-ENG", overrides=overrides) == due


def test_removing_a_holiday_makes_it_a_working_day():
    """Christmas Day 2026 (Fri) removed by the DPO: a request of 25 Nov is due that Friday."""
    overrides = {("GB-ENG", date(2026, 12, 25)): False}
    assert deadlines.response_due_date(date(2026, 11, 25), "GB-ENG") == date(2026, 12, 29)
    assert deadlines.response_due_date(date(2026, 11, 25), "GB-ENG", overrides=overrides) == date(2026, 12, 25)


def test_the_calendar_record_names_the_library_version_and_the_overrides():
    record = deadlines.calendar_record({("HU", date(2026, 12, 24)): True}, [7])
    assert record["holidays"] == holidays.__version__
    assert record["overrides"] == [7]
    assert record["digest"] != deadlines.calendar_record({}, [])["digest"]


@pytest.mark.parametrize(
    ("start", "jurisdiction", "months", "due"),
    [
        # EU: 31 Jan + 2 further months: from the start 30 Apr, chained 28 Feb + 2 = 28 Apr: the earlier governs.
        (date(2026, 1, 31), "IE", 2, date(2026, 4, 28)),
        (date(2026, 1, 30), "IE", 2, date(2026, 4, 28)),
        (date(2026, 1, 29), "IE", 2, date(2026, 4, 28)),
        (date(2026, 1, 28), "IE", 2, date(2026, 4, 28)),  # no difference before the 29th
        # 31 Mar: chained 30 Apr + 1 = Sat 30 May (from the start Sun 31 May); Mon 1 Jun is a bank holiday in IE.
        (date(2026, 3, 31), "IE", 1, date(2026, 6, 2)),
        # UK: the ICO's "three months from the original start date".
        (date(2026, 1, 31), "GB-ENG", 2, date(2026, 4, 30)),
    ],
)
def test_extension_at_month_end_takes_the_earlier_reading_in_the_eu(start, jurisdiction, months, due):
    assert deadlines.due_date(clock_start=start, jurisdiction=jurisdiction, extension_months=months) == due


@pytest.mark.parametrize(
    ("paused", "resumed", "statutory", "days"),
    [
        (date(2026, 3, 9), date(2026, 3, 9), True, 1),  # UK Art. 12A: same-day answer, one day does not count
        (date(2026, 3, 9), date(2026, 3, 19), True, 11),
        (date(2026, 3, 9), date(2026, 3, 19), False, 10),  # EU suspension, or no answer
        (date(2026, 3, 9), date(2026, 3, 8), True, 0),
    ],
)
def test_paused_days_per_regime(paused, resumed, statutory, days):
    assert deadlines.paused_days_between(paused, resumed, statutory_stop=statutory) == days


@pytest.mark.parametrize(
    ("received_at", "jurisdiction", "day"),
    [
        # 23:30 in Reykjavik on 13 Jul 2026 is 00:30 on 14 Jul in London: the Icelandic day counts.
        (datetime(2026, 7, 13, 23, 30, tzinfo=UTC), "IS", date(2026, 7, 13)),
        (datetime(2026, 7, 13, 23, 30, tzinfo=UTC), "GB-ENG", date(2026, 7, 14)),
        (datetime(2026, 7, 13, 21, 30, tzinfo=UTC), "FI", date(2026, 7, 14)),  # 00:30 in Helsinki
        (datetime(2026, 1, 13, 23, 30, tzinfo=UTC), "PT", date(2026, 1, 13)),
    ],
)
def test_the_day_of_receipt_is_counted_in_the_jurisdictions_own_zone(received_at, jurisdiction, day):
    assert deadlines.day_of_receipt(received_at, jurisdiction) == day


@pytest.mark.parametrize(
    ("start", "first", "second", "due"),
    [
        # England + Ireland: 17 Feb -> 17 Mar, St Patrick's Day in IE (-> 18 Mar), a working day in England.
        (date(2026, 2, 17), "GB-ENG", "IE", date(2026, 3, 17)),
        # Ireland + England: 3 Mar -> Fri 3 Apr, Good Friday in England (-> Tue 7 Apr), working in Ireland.
        (date(2026, 3, 3), "IE", "GB-ENG", date(2026, 4, 3)),
        (date(2026, 3, 3), "IE", "", date(2026, 4, 3)),
    ],
)
def test_a_request_under_two_regimes_is_due_on_the_earlier_date(start, first, second, due):
    assert deadlines.due_date(clock_start=start, jurisdiction=first, also_jurisdiction=second) == due


def test_dual_regime_extension_takes_the_eu_reading():
    assert deadlines.due_date(
        clock_start=date(2026, 1, 31), jurisdiction="GB-ENG", extension_months=2, also_jurisdiction="IE"
    ) == date(2026, 4, 28)
