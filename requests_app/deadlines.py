"""Statutory deadlines for data-subject requests.

Legal basis
-----------
* GDPR (EU) 2016/679, Art. 12(3): the controller must act on a request
  "without undue delay and in any event within one month of receipt of the
  request". The period "may be extended by two further months where
  necessary, taking into account the complexity and number of the requests",
  and the data subject must be told of the extension, with reasons, "within
  one month of receipt of the request".
* UK GDPR Art. 12(3) (as retained by the European Union (Withdrawal) Act 2018
  and read with the Data Protection Act 2018) has the same one month + two
  further months structure. Art. 12A UK GDPR (inserted by s.76 of the Data
  (Use and Access) Act 2025) codifies the "stop the clock" practice: time
  does not run while the controller waits for identity evidence or for
  clarification it reasonably needs.
* Counting (ICO guidance "Time limits for responding", right of access): the
  period starts on the day the request is received and ends on the
  *corresponding calendar date* of the next month (received 3 September ->
  due 3 October). If that date does not exist in the next month, the last day
  of that month is used (received 31 March -> due 30 April). If the due date
  falls on a weekend or a public holiday, the controller has until the next
  working day.
* The EU position is the same: Regulation (EEC, Euratom) No 1182/71 (periods,
  dates and time limits), Art. 3(2)(c) and 3(4), as referred to by the EDPB
  Guidelines 01/2022 on the right of access.

Everything in this module is a pure function of its arguments: no function
reads the current date or time. Callers pass the dates explicitly.

Public holidays come from the maintained ``holidays`` library, never from a
hand-written list.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from dsar_portal.jurisdictions import SUPPORTED_JURISDICTIONS

__all__ = [
    "SUPPORTED_JURISDICTIONS",
    "add_months",
    "due_date",
    "holiday_name",
    "internal_target_date",
    "is_uk",
    "is_working_day",
    "latest_extension_notice_date",
    "next_working_day",
    "paused_days_between",
    "response_due_date",
]

# ISO 3166-2 code of each UK nation -> subdivision code used by
# ``holidays.UnitedKingdom`` (checked against holidays 0.108:
# ``holidays.UnitedKingdom.subdivisions == ("ENG", "NIR", "SCT", "WLS")``).
_UK_SUBDIVISIONS: dict[str, str] = {
    "GB-ENG": "ENG",
    "GB-WLS": "WLS",
    "GB-SCT": "SCT",
    "GB-NIR": "NIR",
}

# Longest run of consecutive non-working days we are prepared to skip. Real
# calendars never get close (Christmas + New Year + weekends is under a
# week); this only guards against an infinite loop on corrupt data.
_MAX_NON_WORKING_RUN = 31

_MAX_EXTENSION_MONTHS = 2


def _check_jurisdiction(jurisdiction: str) -> str:
    """Return ``jurisdiction`` unchanged, or raise ``ValueError`` if unknown."""
    if jurisdiction not in SUPPORTED_JURISDICTIONS:
        hint = ""
        if isinstance(jurisdiction, str) and jurisdiction.upper() in {"GB", "UK"}:
            hint = " For the United Kingdom use the nation: " + ", ".join(_UK_SUBDIVISIONS)
        raise ValueError(
            f"Unknown jurisdiction {jurisdiction!r}. Supported codes: "
            f"{', '.join(sorted(SUPPORTED_JURISDICTIONS))}.{hint}"
        )
    return jurisdiction


def _check_date(value: date, name: str) -> None:
    """Reject datetimes (and non-dates): deadlines are whole calendar days.

    A ``datetime`` is a subclass of ``date``, so it would otherwise slip
    through and silently carry a time and timezone into date arithmetic.
    Convert with ``timezone.localdate(...)`` (or ``.date()``) first.
    """
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date (not {type(value).__name__})")


def _check_non_negative(value: int, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} must not be negative (got {value})")


@lru_cache(maxsize=512)
def _holidays_for(jurisdiction: str, year: int) -> holidays.HolidayBase:
    """Public holidays of ``jurisdiction`` for one calendar ``year`` (cached).

    UK nations use the nation's bank holidays (including substitute
    "observed" days, e.g. Boxing Day (observed) on Mon 28 Dec 2026).

    EU/EEA states use *country-wide* public holidays only. Regional holidays
    (German Länder, Spanish autonomous communities, Austrian Länder, ...)
    are deliberately not applied. Ignoring a holiday can only make a
    computed deadline earlier, never later, than the one a regional calendar
    would give, so the result is conservative: a response sent by the date
    we compute is never late because of a holiday we did not know about.

    The object is built for a single year with ``expand=False`` so that the
    shared cached instance is never mutated by later look-ups.
    """
    if jurisdiction in _UK_SUBDIVISIONS:
        return holidays.country_holidays(
            "GB",
            subdiv=_UK_SUBDIVISIONS[jurisdiction],
            years=year,
            expand=False,
        )
    # English holiday names are shown to staff; the library's default
    # language is the national language (e.g. "Fête nationale").
    return holidays.country_holidays(jurisdiction, years=year, expand=False, language="en_US")


def is_uk(jurisdiction: str) -> bool:
    """Whether ``jurisdiction`` is one of the four UK nations.

    UK requests fall under the UK GDPR and the Data Protection Act 2018 (and
    the ICO's guidance); all others under the EU GDPR as applied in the
    EU/EEA. Raises ``ValueError`` for an unknown jurisdiction.
    """
    return _check_jurisdiction(jurisdiction) in _UK_SUBDIVISIONS


def holiday_name(day: date, jurisdiction: str) -> str | None:
    """Name of the public holiday on ``day`` in ``jurisdiction``, else ``None``.

    Used to show staff why a deadline moved. Weekends are not holidays and
    return ``None`` (unless a holiday also falls on that weekend day). If two
    holidays share a date the names are joined with "; ".
    """
    _check_date(day, "day")
    _check_jurisdiction(jurisdiction)
    return _holidays_for(jurisdiction, day.year).get(day)


def is_working_day(day: date, jurisdiction: str) -> bool:
    """Whether ``day`` is a working day in ``jurisdiction``.

    A working day is Monday to Friday and not a public (bank) holiday of the
    jurisdiction, which is the sense used by the ICO ("weekend or public
    holiday") and by Art. 3(4) of Regulation 1182/71.
    """
    _check_date(day, "day")
    _check_jurisdiction(jurisdiction)
    if day.weekday() >= 5:  # Saturday, Sunday
        return False
    return day not in _holidays_for(jurisdiction, day.year)


def next_working_day(day: date, jurisdiction: str) -> date:
    """``day`` itself if it is a working day, otherwise the next working day.

    ICO: "If the corresponding date falls on a weekend or a public holiday,
    you have until the next working day to respond."
    """
    _check_date(day, "day")
    _check_jurisdiction(jurisdiction)
    candidate = day
    for _ in range(_MAX_NON_WORKING_RUN + 1):
        if is_working_day(candidate, jurisdiction):
            return candidate
        candidate += timedelta(days=1)
    raise RuntimeError(  # pragma: no cover - defensive
        f"No working day within {_MAX_NON_WORKING_RUN} days of {day} in {jurisdiction}"
    )


def add_months(start: date, months: int) -> date:
    """The same calendar date ``months`` later, clamped to the month's end.

    Implements the ICO's "corresponding calendar date" rule (and Art. 3(2)(c)
    of Regulation 1182/71): 3 Sep + 1 month = 3 Oct; 31 Mar + 1 month = 30
    Apr because 31 April does not exist; 31 Jan + 1 month = 28 Feb (29 Feb in
    a leap year). No weekend or holiday adjustment is made here.

    Each call counts from ``start``: add_months(d, 3) is not the same as
    applying add_months(d, 1) three times (31 Jan -> 30 Apr, not 28 Apr).
    """
    _check_date(start, "start")
    month_index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(month_index, 12)
    month = month0 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def response_due_date(start: date, jurisdiction: str, months: int = 1) -> date:
    """Last day on which a response is due, ``months`` after ``start``.

    GDPR / UK GDPR Art. 12(3): "within one month of receipt of the request".
    ``start`` is the day the clock starts (the day of receipt; for UK GDPR
    Art. 12A, the "relevant time", e.g. the day identity evidence arrived).
    The result is :func:`add_months`, moved to the next working day if it
    is a Saturday, Sunday or public holiday of ``jurisdiction``.

    ICO examples (England): 3 Sep 2025 -> 3 Oct 2025; 25 Nov 2024 -> 27 Dec
    2024 (25 and 26 Dec are bank holidays).
    """
    _check_jurisdiction(jurisdiction)
    if months < 1:
        raise ValueError(f"months must be at least 1 (got {months})")
    return next_working_day(add_months(start, months), jurisdiction)


def due_date(
    *,
    clock_start: date,
    jurisdiction: str,
    extension_months: int = 0,
    paused_days: int = 0,
) -> date:
    """Full statutory due date of a request.

    1. The calendar date ``1 + extension_months`` months after
       ``clock_start`` (clamped to the end of a shorter month). GDPR Art.
       12(3) allows an extension "by two further months", so
       ``extension_months`` is 0, 1 or 2; the extended period is counted
       from the original start, never chained from the first due date
       (31 Jan + 3 months = 30 Apr, not 28 Feb + 2 months = 28 Apr).
    2. Moved later by ``paused_days`` calendar days for which the clock was
       stopped (waiting for clarification or identity evidence; UK GDPR Art.
       12A, ICO guidance). See :func:`paused_days_between`.
    3. Rolled forward to the next working day of ``jurisdiction`` if it falls
       on a weekend or public holiday.

    Raises ``ValueError`` for an unknown jurisdiction, an extension outside
    0..2 months, or negative ``paused_days``.
    """
    _check_date(clock_start, "clock_start")
    _check_jurisdiction(jurisdiction)
    if not 0 <= extension_months <= _MAX_EXTENSION_MONTHS:
        raise ValueError(
            "extension_months must be between 0 and "
            f"{_MAX_EXTENSION_MONTHS} (GDPR Art. 12(3) allows 'two further "
            f"months'); got {extension_months}"
        )
    _check_non_negative(paused_days, "paused_days")
    calendar_due = add_months(clock_start, 1 + extension_months)
    return next_working_day(calendar_due + timedelta(days=paused_days), jurisdiction)


def internal_target_date(
    *,
    clock_start: date,
    jurisdiction: str,
    target_days: int = 28,
    paused_days: int = 0,
) -> date:
    """Internal service-level target: ``clock_start + target_days + paused_days``.

    Not a statutory deadline. GDPR Art. 12(3) requires a response "without
    undue delay"; the one month is an outer limit. With the default of 28
    days (no calendar month is shorter) the target never falls after the
    statutory date of an unextended request with the same pause. The result
    is rolled forward to the next working day of ``jurisdiction``.
    """
    _check_date(clock_start, "clock_start")
    _check_jurisdiction(jurisdiction)
    _check_non_negative(target_days, "target_days")
    _check_non_negative(paused_days, "paused_days")
    return next_working_day(clock_start + timedelta(days=target_days + paused_days), jurisdiction)


def paused_days_between(paused_on: date, resumed_on: date) -> int:
    """Number of days the clock was stopped.

    The clock stops on the day the controller sends its request for
    clarification or identity evidence (``paused_on``) and restarts on the
    day the answer arrives (``resumed_on``); UK GDPR Art. 12A and ICO
    guidance. The result is ``resumed_on - paused_on`` in days, and never
    negative (0 if the dates are out of order).
    """
    _check_date(paused_on, "paused_on")
    _check_date(resumed_on, "resumed_on")
    return max(0, (resumed_on - paused_on).days)


def latest_extension_notice_date(
    *,
    clock_start: date,
    jurisdiction: str,
    paused_days: int = 0,
) -> date:
    """Last day on which the data subject can be told of an extension.

    GDPR / UK GDPR Art. 12(3): the controller "shall inform the data subject
    of any such extension within one month of receipt of the request,
    together with the reasons for the delay". This is therefore the
    unextended due date: ``due_date(extension_months=0, ...)``.
    """
    return due_date(
        clock_start=clock_start,
        jurisdiction=jurisdiction,
        extension_months=0,
        paused_days=paused_days,
    )


def direct_marketing_target_date(received_on: date, jurisdiction: str) -> date:
    """Internal target for an objection to direct marketing: the same or the next working day.

    GDPR Art. 21(3): once the person objects, the data "shall no longer be processed for such purposes"; there is
    nothing to weigh, so the ICO's direct marketing guidance expects the objection to be acted on at once, and the
    one month of Art. 12(3) is only the outer limit. The target is the next working day of ``jurisdiction`` after
    the day of receipt (acting on the day itself is better still).
    """
    _check_date(received_on, "received_on")
    _check_jurisdiction(jurisdiction)
    return next_working_day(received_on + timedelta(days=1), jurisdiction)


def working_days_after(start: date, end: date, jurisdiction: str) -> int:
    """Working days of ``jurisdiction`` after ``start`` up to and including ``end`` (0 when ``end`` is ``start``
    or earlier): how long an objection to direct marketing took to act on, measured against
    ``direct_marketing_target_date``."""
    _check_date(start, "start")
    _check_date(end, "end")
    _check_jurisdiction(jurisdiction)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, jurisdiction):
            count += 1
    return count
