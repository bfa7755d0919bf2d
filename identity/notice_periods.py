"""Periods the portal's privacy notice states that apps above identity enforce (the retention app's schedule),
registered when Django starts (``AppConfig.ready``), so the notice reads them without identity importing those
apps (GDPR Art. 13(2)(a): the notice states the periods the portal actually keeps its records for)."""

from collections.abc import Callable

_providers: list[Callable[[], dict]] = []


def notice_periods_register(provider: Callable[[], dict]) -> None:
    """Add ``provider``'s context (e.g. ``{"case_file_retention_days": 730}``) to the privacy notice; once."""
    if provider not in _providers:
        _providers.append(provider)


def notice_periods() -> dict:
    """Every registered provider's periods, later ones winning."""
    periods: dict = {}
    for provider in _providers:
        periods.update(provider())
    return periods
