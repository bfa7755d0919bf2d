"""Flags that apps above casework add to the queue's "Needs a human" column, registered when Django starts
(``AppConfig.ready``), the queue's twin of ``case_panels``.

Casework cannot import the apps built above it (``fulfilment`` knows its search jobs; casework does not), so such an
app registers a ``QueueFlag``: the row attribute it sets, its badge, and an ``Exists`` over the request's ``pk``.
``selectors.queue_flags_attach`` adds every registered ``Exists`` to the one query it runs for the page's rows (the
flag costs no query of its own and is computed for the page's rows only); the queue's filter form offers each flag as a
checkbox that narrows the queue by the same ``Exists``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, QuerySet


@dataclass(frozen=True)
class QueueFlag:
    # The attribute set on each row, and the name of the queue filter's checkbox: a Python identifier, unique.
    name: str
    # The badge's words on a row and the filter's label, both lazily translated by the registering app.
    words: str
    filter_label: str
    css_class: str
    # An ``Exists`` whose queryset is filtered on ``request=OuterRef("pk")``: a fresh one each call.
    exists: Callable[[], Exists]
    # For the filter, when what is flagged is rare: the ids of the flagged requests, read along the flag's own index.
    # The queue then sorts those few instead of probing the ``Exists`` for every open request in due order until a
    # page is found (all 100,000 of them when nothing is flagged: bench/dashboard_bench.py).
    request_ids: Callable[[], QuerySet] | None = None


_flags: list[QueueFlag] = []


def queue_flag_register(flag: QueueFlag) -> None:
    """Show ``flag`` in the queue (registering the same name twice keeps the first)."""
    if all(existing.name != flag.name for existing in _flags):
        _flags.append(flag)


def queue_flags() -> tuple[QueueFlag, ...]:
    """The registered flags, in registration order."""
    return tuple(_flags)
