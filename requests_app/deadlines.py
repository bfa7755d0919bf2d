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
  (Use and Access) Act 2025) moves the start (the "relevant time") to the day
  identity information asked for under Art. 12(6) arrives (a *restart*), and
  stops the clock while the controller waits for clarification it reasonably
  needs to identify the information or processing activities an *access*
  request (Art. 15) relates to. In the EU there is no statutory stop: the
  EDPB (Guidelines 01/2022 §5.3) accepts a *suspension* while identity
  information, or a justified Recital 63 specification of an access request,
  is awaited.
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
hand-written list, restricted to the statutory list: days off moved by decree
in return for a working Saturday (the library's "substituted" days, Hungary,
Latvia, Bulgaria) are not public holidays (Reg. 1182/71 Art. 2(1): holidays
"designated as such"; HU Labour Code s.102(1)). The DPO may add or remove a
day per jurisdiction with a recorded reason (``HolidayOverride``); the
overrides are passed in as an argument, keyed by ``(jurisdiction, day)``.

A request may carry two regimes (GDPR Art. 3(2): a UK controller answering an
EU resident): every function taking ``also_jurisdiction`` computes the date
under both and returns the earlier one, which is the legal due date.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from dsar_portal.jurisdictions import SUPPORTED_JURISDICTIONS, TIME_ZONES

HolidayOverrides = Mapping[tuple[str, date], bool]
"""``(jurisdiction, day) -> is_holiday``: the DPO's corrections to the library's calendar."""

NO_OVERRIDES: HolidayOverrides = {}

__all__ = [
    "NO_OVERRIDES",
    "SUPPORTED_JURISDICTIONS",
    "HolidayOverrides",
    "add_months",
    "calendar_record",
    "day_of_receipt",
    "due_date",
    "holiday_name",
    "internal_target_date",
    "is_uk",
    "is_working_day",
    "latest_extension_notice_date",
    "next_working_day",
    "paused_days_between",
    "response_due_date",
    "uk_rules_apply",
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
    """Public holidays of ``jurisdiction`` for one calendar ``year`` (cached), as the library gives them.

    UK nations use the nation's bank holidays (including substitute
    "observed" days, e.g. Boxing Day (observed) on Mon 28 Dec 2026: those are
    bank holidays by proclamation under the Banking and Financial Dealings Act
    1971, so they are statutory).

    EU/EEA states use *country-wide* public holidays only. Regional holidays
    (German Länder, Spanish autonomous communities, Austrian Länder, ...)
    are deliberately not applied: leaving a holiday out makes a deadline
    earlier, never later. Days the library *adds* that are not statutory are
    removed by :func:`_substituted_days`, because an extra day off pushes a
    deadline later (LAW.md D6).

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


@lru_cache(maxsize=512)
def _substituted_days(jurisdiction: str, year: int) -> frozenset[date]:
    """Days off the library lists as *substituted* (moved by decree for a working Saturday) in ``year``.

    In the library these are the four-part entries ``(to_month, to_day, from_month, from_day[, from_year])`` of the
    entity's ``special_<category>_holidays`` tables (e.g. Hungary, "Day off (substituted from 12/12/2026)" on 24 Dec
    2026; Latvia 2 Jan and 22 Jun 2026). They are rest days by government decree, not public holidays on the
    statutory list (HU Labour Code s.102(1); Reg. 1182/71 Art. 2(1): holidays "designated as such"), so a deadline
    does not move over them: the earlier date is the safe one.
    """
    table = _holidays_for(jurisdiction, year)
    days: set[date] = set()
    for category in table.categories:
        mapping = getattr(table, f"special_{category.lower()}_holidays", None) or {}
        entries = mapping.get(year, ())
        if entries and not isinstance(entries[0], tuple):
            entries = (entries,)
        for entry in entries:
            if len(entry) >= 4:
                days.add(date(year, entry[0], entry[1]))
    return frozenset(days)


def _is_statutory_holiday(day: date, jurisdiction: str, overrides: HolidayOverrides) -> bool:
    override = overrides.get((jurisdiction, day))
    if override is not None:
        return override
    if day in _substituted_days(jurisdiction, day.year):
        # A substituted day that is also a real holiday (two names on one date) stays a holiday.
        names = _holidays_for(jurisdiction, day.year).get_list(day)
        return any("substituted" not in name.lower() for name in names)
    return day in _holidays_for(jurisdiction, day.year)


def is_uk(jurisdiction: str) -> bool:
    """Whether ``jurisdiction`` is one of the four UK nations.

    UK requests fall under the UK GDPR and the Data Protection Act 2018 (and
    the ICO's guidance); all others under the EU GDPR as applied in the
    EU/EEA. Raises ``ValueError`` for an unknown jurisdiction.
    """
    return _check_jurisdiction(jurisdiction) in _UK_SUBDIVISIONS


def uk_rules_apply(jurisdiction: str, also_jurisdiction: str = "") -> bool:
    """Whether the UK's own clock rules (Art. 12A restart, ICO counting) govern the request alone.

    A request under both regimes (GDPR Art. 3(2)) follows the stricter EU rules for its pauses: an identity wait is
    a suspension rather than a restart, paused days are counted without the day of the answer, and an extension
    takes the earlier reading. Each of those gives a date no later than the UK rule, so the earlier of the two
    dates is never later than the law allows under either.
    """
    return is_uk(jurisdiction) and (not also_jurisdiction or is_uk(also_jurisdiction))


def day_of_receipt(received_at: datetime, jurisdiction: str) -> date:
    """The calendar day a request was received, in ``jurisdiction``'s own time zone.

    GDPR Art. 12(3) "one month of receipt"; Reg. 1182/71 Art. 3(1) counts from the day of the event where the
    controller acts; ICO: the day "you receive it". An Icelandic request at 23:30 Reykjavik time is that day's, even
    when the server's zone (London, in summer) has already reached the next day (LAW.md D5).
    """
    if not isinstance(received_at, datetime) or received_at.tzinfo is None:
        raise TypeError("received_at must be an aware datetime")
    return received_at.astimezone(ZoneInfo(TIME_ZONES[_check_jurisdiction(jurisdiction)])).date()


def holiday_name(day: date, jurisdiction: str, overrides: HolidayOverrides = NO_OVERRIDES) -> str | None:
    """Name of the public holiday on ``day`` in ``jurisdiction``, else ``None``.

    Used to show staff why a deadline moved. Weekends are not holidays and
    return ``None`` (unless a holiday also falls on that weekend day). If two
    holidays share a date the names are joined with "; ". A substituted day
    off (not on the statutory list) has no name; a day the DPO added reads
    "Added by the data protection officer".
    """
    _check_date(day, "day")
    _check_jurisdiction(jurisdiction)
    if not _is_statutory_holiday(day, jurisdiction, overrides):
        return None
    return _holidays_for(jurisdiction, day.year).get(day) or "Added by the data protection officer"


def is_working_day(day: date, jurisdiction: str, overrides: HolidayOverrides = NO_OVERRIDES) -> bool:
    """Whether ``day`` is a working day in ``jurisdiction``.

    A working day is Monday to Friday and not a public (bank) holiday of the
    jurisdiction on the statutory list, which is the sense used by the ICO
    ("weekend or public holiday") and by Art. 3(4) of Regulation 1182/71.
    """
    _check_date(day, "day")
    _check_jurisdiction(jurisdiction)
    if day.weekday() >= 5:  # Saturday, Sunday
        return False
    return not _is_statutory_holiday(day, jurisdiction, overrides)


def next_working_day(day: date, jurisdiction: str, overrides: HolidayOverrides = NO_OVERRIDES) -> date:
    """``day`` itself if it is a working day, otherwise the next working day.

    ICO: "If the corresponding date falls on a weekend or a public holiday,
    you have until the next working day to respond." Reg. 1182/71 Art. 3(4).
    """
    _check_date(day, "day")
    _check_jurisdiction(jurisdiction)
    candidate = day
    for _ in range(_MAX_NON_WORKING_RUN + 1):
        if is_working_day(candidate, jurisdiction, overrides):
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


def response_due_date(
    start: date,
    jurisdiction: str,
    months: int = 1,
    *,
    overrides: HolidayOverrides = NO_OVERRIDES,
    also_jurisdiction: str = "",
) -> date:
    """Last day on which a response is due, ``months`` after ``start``.

    GDPR / UK GDPR Art. 12(3): "within one month of receipt of the request".
    ``start`` is the day the clock starts (the day of receipt; for UK GDPR
    Art. 12A, the "relevant time", e.g. the day identity evidence arrived).
    The result is :func:`add_months`, moved to the next working day if it
    is a Saturday, Sunday or public holiday of ``jurisdiction`` (under two
    regimes, the earlier of the two calendars' dates, GDPR Art. 3(2)).

    ICO examples (England): 3 Sep 2025 -> 3 Oct 2025; 25 Nov 2024 -> 27 Dec
    2024 (25 and 26 Dec are bank holidays).
    """
    _check_jurisdiction(jurisdiction)
    if months < 1:
        raise ValueError(f"months must be at least 1 (got {months})")
    return min(
        next_working_day(add_months(start, months), code, overrides)
        for code in _jurisdictions(jurisdiction, also_jurisdiction)
    )


def _jurisdictions(jurisdiction: str, also_jurisdiction: str) -> tuple[str, ...]:
    _check_jurisdiction(jurisdiction)
    if also_jurisdiction and also_jurisdiction != jurisdiction:
        return (jurisdiction, _check_jurisdiction(also_jurisdiction))
    return (jurisdiction,)


def _extended_calendar_date(clock_start: date, extension_months: int, *, eu: bool) -> date:
    """The calendar due date (before pauses and working days) of a request extended by ``extension_months``.

    UK: the ICO counts an extension as "three months from the original start date" (31 Jan -> 30 Apr). EU: the
    "two further months" of Art. 12(3) may also be read as a new period running from the end of the first, each
    counted under Reg. 1182/71 Art. 3(2)(c) (31 Jan -> 28 Feb -> 28 Apr). Where the two readings differ (a start on
    the 29th-31st) the earlier date governs (LAW.md D7): a response by then is in time under either reading.
    """
    from_start = add_months(clock_start, 1 + extension_months)
    if not eu or extension_months == 0:
        return from_start
    chained = add_months(add_months(clock_start, 1), extension_months)
    return min(from_start, chained)


def due_date(
    *,
    clock_start: date,
    jurisdiction: str,
    extension_months: int = 0,
    paused_days: int = 0,
    overrides: HolidayOverrides = NO_OVERRIDES,
    also_jurisdiction: str = "",
) -> date:
    """Full statutory due date of a request.

    1. The calendar date ``1 + extension_months`` months after
       ``clock_start`` (clamped to the end of a shorter month). GDPR Art.
       12(3) allows an extension "by two further months", so
       ``extension_months`` is 0, 1 or 2. UK: counted from the original
       start (ICO: 31 Jan + 3 months = 30 Apr). EU: the earlier of that and
       the chained reading (28 Feb + 2 months = 28 Apr), see
       :func:`_extended_calendar_date`.
    2. Moved later by ``paused_days`` calendar days for which the clock was
       stopped (clarification of an access request, UK GDPR Art. 12A; an EU
       suspension, EDPB Guidelines 01/2022 §5.3). See :func:`paused_days_between`.
    3. Rolled forward to the next working day of the jurisdiction if it falls
       on a weekend or statutory public holiday (``overrides`` applied).

    With ``also_jurisdiction`` (GDPR Art. 3(2)) both dates are computed and the
    earlier one is returned: that is the legal due date.

    Raises ``ValueError`` for an unknown jurisdiction, an extension outside
    0..2 months, or negative ``paused_days``.
    """
    _check_date(clock_start, "clock_start")
    codes = _jurisdictions(jurisdiction, also_jurisdiction)
    if not 0 <= extension_months <= _MAX_EXTENSION_MONTHS:
        raise ValueError(
            "extension_months must be between 0 and "
            f"{_MAX_EXTENSION_MONTHS} (GDPR Art. 12(3) allows 'two further "
            f"months'); got {extension_months}"
        )
    _check_non_negative(paused_days, "paused_days")
    return min(
        next_working_day(
            _extended_calendar_date(clock_start, extension_months, eu=not is_uk(code)) + timedelta(days=paused_days),
            code,
            overrides,
        )
        for code in codes
    )


def internal_target_date(
    *,
    clock_start: date,
    jurisdiction: str,
    target_days: int = 28,
    paused_days: int = 0,
    overrides: HolidayOverrides = NO_OVERRIDES,
    also_jurisdiction: str = "",
) -> date:
    """Internal service-level target: ``clock_start + target_days + paused_days``.

    Not a statutory deadline. GDPR Art. 12(3) requires a response "without
    undue delay"; the one month is an outer limit. With the default of 28
    days (no calendar month is shorter) the target never falls after the
    statutory date of an unextended request with the same pause. The result
    is rolled forward to the next working day (the earlier of two regimes').
    """
    _check_date(clock_start, "clock_start")
    _check_non_negative(target_days, "target_days")
    _check_non_negative(paused_days, "paused_days")
    return min(
        next_working_day(clock_start + timedelta(days=target_days + paused_days), code, overrides)
        for code in _jurisdictions(jurisdiction, also_jurisdiction)
    )


def paused_days_between(paused_on: date, resumed_on: date, *, statutory_stop: bool = False) -> int:
    """Number of days the clock was stopped, never negative (0 if the dates are out of order).

    ``statutory_stop``: the UK's stop for clarification of an access request. The period that "does not count" is
    the one "beginning with the day on which the controller makes the request and ending with the day on which the
    controller receives the information" (UK GDPR Art. 12A, in the terms of DPA 2018 s.54(3D) as amended by the
    DUAA 2025), so both ends are excluded: ``resumed_on - paused_on + 1`` (an answer on the day asked: 1 day).

    Otherwise (an EU suspension, EDPB Guidelines 01/2022 §5.3, which has no statutory text; or a pause that ended
    without an answer): ``resumed_on - paused_on``, the shorter count, so the deadline is never later than a
    regulator could read it.
    """
    _check_date(paused_on, "paused_on")
    _check_date(resumed_on, "resumed_on")
    if resumed_on < paused_on:
        return 0
    return (resumed_on - paused_on).days + (1 if statutory_stop else 0)


def latest_extension_notice_date(
    *,
    clock_start: date,
    jurisdiction: str,
    paused_days: int = 0,
    overrides: HolidayOverrides = NO_OVERRIDES,
    also_jurisdiction: str = "",
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
        overrides=overrides,
        also_jurisdiction=also_jurisdiction,
    )


def calendar_record(overrides: HolidayOverrides, override_ids: list[int] | None = None) -> dict:
    """What calendar a due date was computed with, to store beside it (LAW.md D6; GDPR Art. 5(2) accountability).

    The ``holidays`` library version, the ids of the DPO's overrides that applied, and a digest of the overrides'
    content, so a later reader can tell which holiday data gave a date even after the library or an override changes.
    """
    content = sorted(f"{code}:{day.isoformat()}:{int(flag)}" for (code, day), flag in overrides.items())
    return {
        "holidays": holidays.__version__,
        "overrides": sorted(override_ids or []),
        "digest": hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16],
    }


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
