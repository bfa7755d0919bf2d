"""The complaint's one statutory deadline, as a pure function of dates."""

from datetime import date, timedelta

ACKNOWLEDGEMENT_DAYS = 30


def acknowledgement_due(received_on: date) -> date:
    """The last day to acknowledge a complaint: UK DPA 2018 s.164A(3), "within the period of 30 days beginning
    when the complaint is received".

    Counted as the ICO counts it, from the day after receipt (received on 5 June, due by 5 July); no move to the next
    working day, so a weekend can only make the date earlier than the guidance allows, never later.
    """
    return received_on + timedelta(days=ACKNOWLEDGEMENT_DAYS)


def acknowledgement_overdue(*, acknowledge_by: date, today: date) -> bool:
    """Whether a complaint not yet acknowledged on ``today`` has missed s.164A(3)."""
    return today > acknowledge_by
