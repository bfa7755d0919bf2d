"""The queue's pages and its extension-notice filter: small reads kept beside ``selectors.queue_requests``, which they
narrow and page without touching its annotations.

Pages follow a keyset on (legal due date, id) in both directions: the next page starts after the last row shown, the
previous one ends before the first, each read through the open-requests index (forwards or backwards) and never with
an OFFSET, so a deep page costs what the first one costs.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from requests_app.models import DataSubjectRequest
from requests_app.workflow import EXTENDABLE_STATUSES

from .reminders import EXTENSION_ALARM_DAYS

Cursor = tuple[date, int]


def extension_notice_due_q(*, today: date) -> Q:
    """Requests whose last day to notify an extension falls within ``EXTENSION_ALARM_DAYS`` (today included) and
    that are not extended yet: GDPR / UK GDPR Art. 12(3), the person "shall" be told of an extension, with the reasons,
    "within one month of receipt of the request".

    That last day is ``deadlines.latest_extension_notice_date``, the unextended due date; for a request not yet
    extended it is the stored legal due date (``due_on``, computed by the same function with its pauses and
    calendar), so the filter is one indexed range, not a date computed row by row. While the clock is paused the day
    is not yet known (it moves with the pause), and a request that may no longer be extended has no such day.
    """
    return Q(
        status__in=EXTENDABLE_STATUSES,
        extension_months=0,
        clock_paused_on__isnull=True,
        due_on__gte=today,
        due_on__lte=today + timedelta(days=EXTENSION_ALARM_DAYS),
    )


def extension_notice_due(request: DataSubjectRequest, *, today: date) -> bool:
    """The row-by-row twin of ``extension_notice_due_q`` for the queue's flag "an extension notice must go out this
    week" (no query: the row's own fields)."""
    return (
        request.status in EXTENDABLE_STATUSES
        and request.extension_months == 0
        and request.clock_paused_on is None
        and 0 <= (request.due_on - today).days <= EXTENSION_ALARM_DAYS
    )


def cursor_parse(value: str) -> Cursor | None:
    """The keyset cursor ``YYYY-MM-DD.pk`` (a row's due date and id), or None."""
    try:
        day, pk = value.split(".", 1)
        return date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def cursor_of(request: DataSubjectRequest) -> str:
    """The cursor of a row, as ``cursor_parse`` reads it."""
    return f"{request.due_on.isoformat()}.{request.pk}"


def _compare(cursor: Cursor, operator: str) -> RawSQL:
    """``(due_on, id) <operator> (day, pk)``, a row-value comparison: PostgreSQL starts the scan of the (due_on, id)
    index at the cursor, where the equivalent ``due_on > d OR (due_on = d AND id > n)`` is only a filter on the rows
    it reads, so without it a deep page reads, and throws away, every row before it as an OFFSET would."""
    table = DataSubjectRequest._meta.db_table
    return RawSQL(  # noqa: S611 - the values are bound parameters; the table name and the operator are our own
        f'("{table}"."due_on", "{table}"."id") {operator} (%s, %s)',
        (cursor[0], cursor[1]),
        output_field=BooleanField(),
    )


def _after(cursor: Cursor) -> RawSQL:
    return _compare(cursor, ">")


def _before(cursor: Cursor) -> RawSQL:
    return _compare(cursor, "<")


@dataclass(frozen=True)
class KeysetPage:
    rows: list[DataSubjectRequest]
    has_next: bool
    has_previous: bool


def keyset_page(
    requests: QuerySet[DataSubjectRequest], *, after: Cursor | None, before: Cursor | None, size: int
) -> KeysetPage:
    """One page of ``requests`` (ordered by due date, then id) after ``after``, or before ``before``, or the first.

    One query for the page, with one row more to know whether the page beyond it exists, and on a later page one
    indexed ``EXISTS`` for the way back.
    """
    if before is not None:
        rows = list(requests.filter(_before(before)).order_by("-due_on", "-pk")[: size + 1])
        has_previous = len(rows) > size
        rows = rows[:size][::-1]
        if not has_previous and len(rows) < size:
            # Back at the start, on a short page (rows closed or filed meanwhile): the first page, full.
            return keyset_page(requests, after=None, before=None, size=size)
        has_next = bool(rows) and requests.filter(_after(_key(rows[-1]))).exists()
        return KeysetPage(rows=rows, has_next=has_next, has_previous=has_previous)
    page = requests.filter(_after(after)) if after is not None else requests
    rows = list(page.order_by("due_on", "pk")[: size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    has_previous = after is not None and bool(rows) and requests.filter(_before(_key(rows[0]))).exists()
    return KeysetPage(rows=rows, has_next=has_next, has_previous=has_previous)


def _key(request: DataSubjectRequest) -> Cursor:
    return request.due_on, request.pk
