"""Requests kept past their retention period by an app above this one (the retention app's legal holds and open
complaints), registered when Django starts (``AppConfig.ready``), so this app's own retention sweeps (supporting
documents) leave a held case file whole without importing that app (LAW.md §6(h): a legal hold stops deletion;
GDPR Art. 17(3)(e))."""

from collections.abc import Callable

from django.db.models import Q

# (the name of the field or expression holding the request's id in the query being filtered) -> a condition true
# for the requests that are held.
HeldCondition = Callable[[str], Q]
_conditions: list[HeldCondition] = []


def held_condition_register(condition: HeldCondition) -> None:
    """Count ``condition``'s requests as held in every retention sweep (registering twice keeps one)."""
    if condition not in _conditions:
        _conditions.append(condition)


def held(request_ref: str) -> Q | None:
    """The condition for a held request, the id read from ``request_ref``; None when nothing is registered."""
    if not _conditions:
        return None
    combined = Q()
    for condition in _conditions:
        combined |= condition(request_ref)
    return combined
