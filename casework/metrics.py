"""The DPO's accountability figures (issue 11; GDPR Art. 5(2) and 24: the controller shows it complies).

Each figure is a table: a title, column headings and rows, read with aggregate queries (grouped counts in the
database), so the page costs a fixed number of queries whatever the number of requests. Medians and 90th
percentiles are PostgreSQL's ``percentile_cont`` (``_spread``); on SQLite, which has none, one narrow query per figure
reads the durations (days or hours, never personal data) and Python interpolates the same way. Every selector
takes ``today`` so the figures of a given day can be reproduced; "the period" is the twelve whole months up to and
including ``today``'s month.
"""

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, DateField, F, FloatField, Func, IntegerField, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Complaint, ComplaintStatus
from identity.models import IdentityVerification, VerificationStatus
from requests_app.models import DataSubjectRequest, RefusalGround, Right, Status
from requests_app.workflow import OPEN_STATUSES

from .models import MetricsSnapshot

# The statuses whose request was answered (GDPR Art. 12(3)-(4)): a completion or a refusal was sent.
ANSWERED_STATUSES = (Status.COMPLETED, Status.REFUSED)
PERIOD_MONTHS = 12


@dataclass(frozen=True)
class Table:
    """One figure: what the page shows as a chart and a table and offers as ``<slug>.csv``.

    ``chart_column`` is the index of the numeric column drawn as bars (None: a table only).
    """

    slug: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    chart_column: int | None = 1


def period_start(today: date) -> date:
    """The first day of the month eleven months before ``today``'s: the period is twelve whole months, this one last."""
    month = today.month - (PERIOD_MONTHS - 1)
    year = today.year
    while month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1)


@dataclass(frozen=True)
class KeptAnswer:
    """An answered request that is no longer held (deleted under the retention schedule), as the figures count it:
    its right, the first day of the month it was answered, whether on time (Art. 12(3)), the days from receipt to
    the answer, and the decisions (extended, refused and on what ground, fee asked)."""

    right: str
    month: date
    in_time: bool
    days: float
    extended: bool
    refused: bool
    refusal_ground: str
    fee_asked: bool


@dataclass(frozen=True)
class KeptFigures:
    """What deleted cases still add to the figures of the period (anonymous: no identifier, month precision)."""

    answered: list[KeptAnswer] = field(default_factory=list)
    verify_hours: list[float] = field(default_factory=list)
    suppression_hours: list[float] = field(default_factory=list)


# Apps above casework that delete cases keep their figures and give them back here (the retention app registers
# one, in its AppConfig.ready): (first day of the period, today) -> the kept figures of that period.
KeptFiguresSource = Callable[[date, date], KeptFigures]
_kept_sources: list[KeptFiguresSource] = []


def kept_figures_register(source: KeptFiguresSource) -> None:
    """Count ``source``'s figures of deleted cases in every figure, so totals do not drop when a case file is
    deleted at the end of its retention period (GDPR Art. 5(1)(e) and 5(2) together; registering twice keeps one)."""
    if source not in _kept_sources:
        _kept_sources.append(source)


def kept_figures(*, today: date) -> KeptFigures:
    """The registered sources' figures for the period ending ``today``, together (one query per source)."""
    kept = KeptFigures()
    for source in _kept_sources:
        more = source(period_start(today), today)
        kept.answered.extend(more.answered)
        kept.verify_hours.extend(more.verify_hours)
        kept.suppression_hours.extend(more.suppression_hours)
    return kept


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def percentile(values: list[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of ``values`` by linear interpolation (PostgreSQL's ``percentile_cont``)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    value = ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)
    return round(value, 1)


def _answered_in_period(today: date) -> QuerySet[DataSubjectRequest]:
    """Requests answered (completed or refused) in the period, each with ``answered_day``: the day the answer was
    sent, or for a request answered before that day was recorded, the organisation's day it was closed."""
    return (
        DataSubjectRequest.objects.filter(status__in=ANSWERED_STATUSES)
        .annotate(answered_day=Coalesce("answered_on", TruncDate("closed_at"), output_field=DateField()))
        .filter(answered_day__gte=period_start(today), answered_day__lte=today)
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def open_requests(*, today: date) -> list[Table]:
    """Open requests by status and by right, and how many are due this week or overdue (Art. 12(3)).

    One grouped query. A request whose clock is paused is neither due nor overdue: its due date moves on resume.
    """
    week_end = today + timedelta(days=6)
    counts = (
        DataSubjectRequest.objects.filter(status__in=OPEN_STATUSES)
        .values("status", "right")
        .annotate(
            n=Count("pk"),
            due_this_week=Count("pk", filter=Q(clock_paused_on__isnull=True, due_on__gte=today, due_on__lte=week_end)),
            overdue=Count("pk", filter=Q(clock_paused_on__isnull=True, due_on__lt=today)),
        )
    )
    by_status: dict[str, int] = defaultdict(int)
    by_right: dict[str, int] = defaultdict(int)
    due_this_week = overdue = 0
    for row in counts:
        by_status[row["status"]] += row["n"]
        by_right[row["right"]] += row["n"]
        due_this_week += row["due_this_week"]
        overdue += row["overdue"]
    open_statuses = [status for status in Status if status in OPEN_STATUSES]
    return [
        Table(
            "open-by-status",
            _("Open requests by status"),
            (_("Status"), _("Open requests")),
            [(status.label, by_status[status.value]) for status in open_statuses],
        ),
        Table(
            "open-by-right",
            _("Open requests by right"),
            (_("Right"), _("Open requests")),
            [(right.label, by_right[right.value]) for right in Right],
        ),
        Table(
            "deadlines",
            _("Deadlines of open requests"),
            (_("Deadline"), _("Requests")),
            [(_("Due this week"), due_this_week), (_("Overdue"), overdue)],
        ),
    ]


def on_time(*, today: date, kept: KeptFigures | None = None) -> list[Table]:
    """Answered on time (answered on or before the legal due date, Art. 12(3)), per month and per quarter.

    One query grouped by the month of the answer; the quarters add up the months. A request answered before the answer
    day was recorded counts by the day it was closed. Deleted cases count through their kept figures.
    """
    kept = kept if kept is not None else kept_figures(today=today)
    counts = (
        _answered_in_period(today)
        .annotate(month=TruncMonth("answered_day", output_field=DateField()))
        .values("month")
        .annotate(answered=Count("pk"), in_time=Count("pk", filter=Q(answered_day__lte=F("due_on"))))
        .order_by()
    )
    months: dict[tuple[int, int], list[int]] = {}
    day = period_start(today)
    while day <= today:
        months[(day.year, day.month)] = [0, 0]
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    for row in counts:
        months[(row["month"].year, row["month"].month)] = [row["answered"], row["in_time"]]
    for answer in kept.answered:
        if (answer.month.year, answer.month.month) in months:
            months[(answer.month.year, answer.month.month)][0] += 1
            months[(answer.month.year, answer.month.month)][1] += int(answer.in_time)
    quarters: dict[tuple[int, int], list[int]] = {}
    for (year, month), (answered, in_time) in months.items():
        counts = quarters.setdefault((year, (month - 1) // 3 + 1), [0, 0])
        counts[0] += answered
        counts[1] += in_time
    columns = (_("Period"), _("On time (%)"), _("Answered"), _("On time"))
    return [
        Table(
            "on-time-by-month",
            _("Answered on time, by month"),
            columns,
            [(f"{y}-{m:02d}", _percent(t, a), a, t) for (y, m), (a, t) in months.items()],
        ),
        Table(
            "on-time-by-quarter",
            _("Answered on time, by quarter"),
            columns,
            [(f"{y} Q{q}", _percent(t, a), a, t) for (y, q), (a, t) in quarters.items()],
        ),
    ]


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float) -> None:
        super().__init__(expression, fraction=float(fraction))


class DaysBetween(Func):
    """Calendar days from the second date to the first (PostgreSQL: date minus date is a number of days)."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()

    @staticmethod
    def python(end: date, start: date) -> float:
        return (end - start).days


class HoursBetween(Func):
    """Hours from the second moment to the first."""

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"
    arg_joiner = " - "
    output_field = FloatField()

    @staticmethod
    def python(end: datetime, start: datetime) -> float:
        return (end - start).total_seconds() / 3600


def _spread(
    queryset: QuerySet,
    *,
    between: type[DaysBetween | HoursBetween],
    end: str,
    start: str,
    group: str | None = None,
    kept: dict[Any, list[float]] | None = None,
) -> dict[Any, tuple[float | None, float | None, int]]:
    """The median, 90th percentile and number of ``end - start`` in ``queryset``, by ``group`` (or under None),
    together with the ``kept`` durations of deleted cases (by the same groups).

    On PostgreSQL one aggregate query computes them; on SQLite (development, tests), which has no percentile
    aggregate, or when deleted cases add durations of their own, one query reads the pairs and Python computes the
    same linear interpolation.
    """
    kept = {key: values for key, values in (kept or {}).items() if values}
    if connection.vendor == "postgresql" and not kept:
        measure = between(F(end), F(start))
        figures = {
            "median": PercentileCont(measure, fraction=0.5),
            "p90": PercentileCont(measure, fraction=0.9),
            "n": Count("pk"),
        }
        rows = (
            queryset.values(group).annotate(**figures).order_by()
            if group
            else [{**queryset.aggregate(**figures), group: None}]
        )
        return {
            row[group]: (
                None if row["median"] is None else round(row["median"], 1),
                None if row["p90"] is None else round(row["p90"], 1),
                row["n"],
            )
            for row in rows
        }
    values: dict[Any, list[float]] = defaultdict(list)
    for key, durations in kept.items():
        values[key].extend(durations)
    for key, end_value, start_value in queryset.values_list(group or "pk", end, start):
        values[key if group else None].append(between.python(end_value, start_value))
    return {key: (percentile(v, 0.5), percentile(v, 0.9), len(v)) for key, v in values.items()}


def days_to_close(*, today: date, kept: KeptFigures | None = None) -> Table:
    """Median and 90th-percentile calendar days from receipt to answer, by right, over the period (one query),
    deleted cases included through their kept figures."""
    kept = kept if kept is not None else kept_figures(today=today)
    kept_days: dict[Any, list[float]] = defaultdict(list)
    for answer in kept.answered:
        kept_days[answer.right].append(answer.days)
    spread = _spread(
        _answered_in_period(today),
        between=DaysBetween,
        end="answered_day",
        start="received_on",
        group="right",
        kept=kept_days,
    )
    return Table(
        "days-to-close",
        _("Days to close, by right"),
        (_("Right"), _("Median days"), _("90th percentile days"), _("Answered")),
        [(right.label, *spread.get(right.value, (None, None, 0))) for right in Right],
    )


def decision_rates(*, today: date, kept: KeptFigures | None = None) -> list[Table]:
    """Of the requests answered in the period: how many were extended (Art. 12(3)), refused (Art. 12(4)), by
    ground, and charged a fee (Art. 12(5), 15(3)). Two grouped queries, and the kept figures of deleted cases."""
    kept = kept if kept is not None else kept_figures(today=today)
    answered = _answered_in_period(today)
    totals = answered.aggregate(
        total=Count("pk"),
        extended=Count("pk", filter=Q(extension_months__gt=0)),
        refused=Count("pk", filter=Q(status=Status.REFUSED)),
        fee=Count("pk", filter=Q(fee_requested_on__isnull=False)),
    )
    by_ground = dict(
        answered.filter(status=Status.REFUSED).values_list("refusal_ground").annotate(n=Count("pk")).order_by()
    )
    for answer in kept.answered:
        totals["total"] += 1
        totals["extended"] += int(answer.extended)
        totals["fee"] += int(answer.fee_asked)
        if answer.refused:
            totals["refused"] += 1
            by_ground[answer.refusal_ground] = by_ground.get(answer.refusal_ground, 0) + 1
    total = totals["total"]
    labels = dict(RefusalGround.choices)
    return [
        Table(
            "decision-rates",
            _("Extensions, refusals and fees"),
            (_("Decision"), _("Rate (%)"), _("Requests"), _("Answered")),
            [
                (_("Extended"), _percent(totals["extended"], total), totals["extended"], total),
                (_("Refused"), _percent(totals["refused"], total), totals["refused"], total),
                (_("Fee asked"), _percent(totals["fee"], total), totals["fee"], total),
            ],
        ),
        Table(
            "refusals-by-ground",
            _("Refusals by ground"),
            (_("Ground"), _("Rate (%)"), _("Refused")),
            [
                (labels.get(ground, ground or _("No ground recorded")), _percent(n, total), n)
                for ground, n in sorted(by_ground.items(), key=lambda item: (-item[1], item[0]))
            ],
        ),
    ]


def time_to_verify(*, today: date, kept: KeptFigures | None = None) -> Table:
    """Hours from receipt to the identity decision (Art. 12(6)), for checks decided in the period (deleted cases'
    included through their kept figures)."""
    kept = kept if kept is not None else kept_figures(today=today)
    start = _day_start(period_start(today))
    decided = IdentityVerification.objects.filter(
        status__in=(VerificationStatus.VERIFIED, VerificationStatus.FAILED),
        decided_at__gte=start,
        decided_at__lt=_day_start(today + timedelta(days=1)),
    )
    hours = _spread(
        decided, between=HoursBetween, end="decided_at", start="request__received_at", kept={None: kept.verify_hours}
    ).get(None)
    return _duration_table("time-to-verify", _("Time to verify identity"), hours)


def time_to_suppression(*, today: date, kept: KeptFigures | None = None) -> Table:
    """Hours from receipt to suppression for objections to direct marketing (Art. 21(3): absolute, stop at once).

    Only those objections record ``suppressed_at`` (requests_app.services.request_complete); deleted cases count
    through their kept figures."""
    kept = kept if kept is not None else kept_figures(today=today)
    start = _day_start(period_start(today))
    suppressed = DataSubjectRequest.objects.filter(
        right=Right.OBJECTION,
        suppressed_at__gte=start,
        suppressed_at__lt=_day_start(today + timedelta(days=1)),
    )
    hours = _spread(
        suppressed, between=HoursBetween, end="suppressed_at", start="received_at", kept={None: kept.suppression_hours}
    ).get(None)
    return _duration_table("time-to-suppression", _("Time to suppression, marketing objections"), hours)


def _duration_table(slug: str, title: str, hours: tuple[float | None, float | None, int] | None) -> Table:
    median, p90, measured = hours or (None, None, 0)
    return Table(
        slug,
        title,
        (_("Measure"), _("Hours")),
        [
            (_("Median"), median),
            (_("90th percentile"), p90),
            (_("Number measured"), measured),
        ],
        chart_column=None,
    )


def complaints(*, today: date) -> Table:
    """Complaints by status, and how many still wait for an acknowledgement past its day (UK DPA 2018 s.164A(3)).

    One grouped query.
    """
    counts = {
        row["status"]: row
        for row in Complaint.objects.values("status")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=Q(status=ComplaintStatus.RECEIVED, acknowledge_by__lt=today)),
        )
        .order_by()
    }
    return Table(
        "complaints",
        _("Complaints by status"),
        (_("Status"), _("Complaints"), _("Acknowledgement overdue")),
        [
            (status.label, counts.get(status.value, {}).get("n", 0), counts.get(status.value, {}).get("overdue", 0))
            for status in ComplaintStatus
        ],
    )


def metrics_tables(*, today: date) -> list[Table]:
    """Every figure of the metrics page, in the order the page shows them (the kept figures of deleted cases read
    once for all of them)."""
    kept = kept_figures(today=today)
    return [
        *open_requests(today=today),
        *on_time(today=today, kept=kept),
        days_to_close(today=today, kept=kept),
        *decision_rates(today=today, kept=kept),
        time_to_verify(today=today, kept=kept),
        time_to_suppression(today=today, kept=kept),
        complaints(today=today),
    ]


# How long a snapshot's figures stay on the page before one is made on the spot, if the periodic job has not made
# a newer one (it runs every METRICS_REFRESH_SECONDS, dsar_portal.settings.CELERY_BEAT_SCHEDULE). Snapshots older
# than a few days are deleted as new ones are made.
METRICS_REFRESH_SECONDS = 15 * 60
SNAPSHOTS_KEPT_DAYS = 3


def _table_as_json(table: Table) -> dict:
    return {
        "slug": table.slug,
        "title": str(table.title),
        "columns": [str(column) for column in table.columns],
        "rows": [
            [value if value is None or isinstance(value, int | float) else str(value) for value in row]
            for row in table.rows
        ],
        "chart_column": table.chart_column,
    }


def snapshot_tables(snapshot: MetricsSnapshot) -> list[Table]:
    """The tables of ``snapshot``, as ``metrics_tables`` returned them when it was made."""
    return [
        Table(
            table["slug"],
            table["title"],
            tuple(table["columns"]),
            [tuple(row) for row in table["rows"]],
            table["chart_column"],
        )
        for table in snapshot.tables
    ]


def metrics_snapshot_make(*, today: date) -> MetricsSnapshot:
    """Compute every figure for ``today`` now and keep them as the latest snapshot (GDPR Art. 5(2): the figures the
    DPO reports are reproducible: each snapshot says for which day and when it was computed)."""
    started = time.perf_counter()
    tables = [_table_as_json(table) for table in metrics_tables(today=today)]
    snapshot = MetricsSnapshot.objects.create(
        for_day=today, computed_at=timezone.now(), seconds=round(time.perf_counter() - started, 3), tables=tables
    )
    return snapshot


def metrics_snapshots_prune(*, today: date) -> int:
    """Delete the snapshots of days more than ``SNAPSHOTS_KEPT_DAYS`` before ``today``; how many went."""
    return MetricsSnapshot.objects.filter(for_day__lt=today - timedelta(days=SNAPSHOTS_KEPT_DAYS)).delete()[0]


def metrics_snapshot_latest(*, today: date) -> MetricsSnapshot:
    """The latest snapshot for ``today``, made now if there is none yet or it is older than the refresh interval
    (the periodic job not running, or the day just changed)."""
    snapshot = MetricsSnapshot.objects.filter(for_day=today).order_by("-computed_at", "-pk").first()
    fresh_after = timezone.now() - timedelta(seconds=METRICS_REFRESH_SECONDS * 2)
    if snapshot is None or snapshot.computed_at < fresh_after:
        snapshot = metrics_snapshot_make(today=today)
    return snapshot


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    y: int
    width: int
    text_x: int


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart's geometry, drawn by the template as SVG on the server (no script, no inline style)."""

    bars: list[Bar]
    height: int
    label_width: int = 340
    plot_width: int = 360
    bar_height: int = 18
    row_height: int = 26

    @property
    def width(self) -> int:
        return self.label_width + self.plot_width + 60


def chart_for(table: Table) -> Chart | None:
    """The bars of ``table``'s chart column, scaled to the largest value; None for a table with no chart."""
    if table.chart_column is None or not table.rows:
        return None
    values = [row[table.chart_column] or 0 for row in table.rows]
    largest = max(values) or 1
    chart = Chart(bars=[], height=0)
    bars = []
    for index, (row, value) in enumerate(zip(table.rows, values, strict=True)):
        width = round(chart.plot_width * value / largest)
        bars.append(Bar(str(row[0]), value, index * chart.row_height, width, chart.label_width + width + 6))
    return Chart(bars=bars, height=len(bars) * chart.row_height)
