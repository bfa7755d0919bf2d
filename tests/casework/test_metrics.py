"""The DPO's metrics page (issue 11, accountability): figures from a small set of requests in known states."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import metrics
from casework.models import MetricsSnapshot
from complaints.models import ComplaintStatus
from complaints.services import ComplaintSubmission, complaint_acknowledge, complaint_submit
from identity.models import IdentityVerification, VerificationStatus
from requests_app.models import DataSubjectRequest, RefusalGround, Right, Status
from tests.factories import at, in_progress_request, submitted_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _figures_for_today(monkeypatch):
    monkeypatch.setattr("casework.views_metrics._today", lambda: TODAY)


TODAY = date(2026, 6, 15)
_emails = iter(f"person{n}@example.com" for n in range(1000))


def _request(*, right=Right.ACCESS, received_on=None, closed_on=None, **state) -> DataSubjectRequest:
    """A request made through the services, then put in the state the figure needs (the states themselves are
    what the service tests cover; here only the counting is under test)."""
    request = submitted_request(email=next(_emails), right=right)
    if received_on is not None:
        state.update(received_on=received_on, received_at=at(received_on))
    if closed_on is not None:
        state["closed_at"] = at(closed_on)
    DataSubjectRequest.objects.filter(pk=request.pk).update(**state)
    return request


@pytest.fixture
def dataset():
    # Open: one due this week, one overdue, one paused (neither), one due later.
    _request(status=Status.IN_PROGRESS, due_on=TODAY + timedelta(days=3))
    _request(right=Right.ERASURE, status=Status.IN_PROGRESS, due_on=TODAY - timedelta(days=2))
    _request(status=Status.AWAITING_FEE, due_on=TODAY - timedelta(days=5), clock_paused_on=TODAY - timedelta(days=9))
    _request(status=Status.AWAITING_IDENTITY_VERIFICATION, due_on=TODAY + timedelta(days=20))
    # Answered in the period (July 2025 to June 2026).
    _request(  # access, on time, 19 days, a fee asked
        status=Status.COMPLETED,
        received_on=date(2026, 5, 1),
        answered_on=date(2026, 5, 20),
        closed_on=date(2026, 5, 20),
        due_on=date(2026, 6, 1),
        fee_requested_on=date(2026, 5, 2),
    )
    _request(  # access, refused late, 39 days
        status=Status.REFUSED,
        refusal_ground=RefusalGround.MANIFESTLY_EXCESSIVE,
        received_on=date(2026, 4, 1),
        answered_on=date(2026, 5, 10),
        answered_late=True,
        closed_on=date(2026, 5, 10),
        due_on=date(2026, 5, 1),
    )
    _request(  # erasure, extended, on time, 73 days
        right=Right.ERASURE,
        status=Status.COMPLETED,
        received_on=date(2026, 2, 1),
        answered_on=date(2026, 4, 15),
        closed_on=date(2026, 4, 15),
        due_on=date(2026, 5, 1),
        extension_months=2,
    )
    _request(  # erasure closed before answer days were recorded: counted by its closing day, 9 days, on time
        right=Right.ERASURE,
        status=Status.COMPLETED,
        received_on=date(2026, 6, 1),
        closed_on=date(2026, 6, 10),
        due_on=date(2026, 7, 1),
    )
    _request(  # answered before the period: not counted
        status=Status.COMPLETED,
        received_on=date(2025, 1, 1),
        answered_on=date(2025, 2, 1),
        closed_on=date(2025, 2, 1),
        due_on=date(2025, 2, 1),
    )


def _table(slug: str) -> metrics.Table:
    return next(table for table in metrics.metrics_tables(today=TODAY) if table.slug == slug)


def _rows(slug: str) -> dict:
    return {row[0]: row[1:] for row in _table(slug).rows}


def test_open_requests_are_counted_by_status_and_right_with_this_weeks_and_overdue_deadlines(dataset):
    by_status = _rows("open-by-status")
    assert by_status[Status.IN_PROGRESS.label] == (2,)
    assert by_status[Status.AWAITING_FEE.label] == (1,)
    assert by_status[Status.AWAITING_IDENTITY_VERIFICATION.label] == (1,)
    assert by_status[Status.AWAITING_CLARIFICATION.label] == (0,)
    by_right = _rows("open-by-right")
    assert by_right[Right.ACCESS.label] == (3,) and by_right[Right.ERASURE.label] == (1,)
    assert _rows("deadlines") == {"Due this week": (1,), "Overdue": (1,)}


def test_the_on_time_rate_counts_answers_on_or_before_the_due_date_per_month_and_quarter(dataset):
    months = _rows("on-time-by-month")
    assert len(months) == 12 and "2025-07" in months and "2026-06" in months
    assert months["2026-04"] == (100.0, 1, 1)
    assert months["2026-05"] == (50.0, 2, 1)
    assert months["2026-06"] == (100.0, 1, 1)
    assert months["2026-01"] == (None, 0, 0)
    quarters = _rows("on-time-by-quarter")
    assert quarters["2026 Q2"] == (75.0, 4, 3)
    assert quarters["2025 Q3"] == (None, 0, 0)


def test_days_to_close_give_the_median_and_90th_percentile_by_right(dataset):
    rows = _rows("days-to-close")
    assert rows[Right.ACCESS.label] == (29.0, 37.0, 2)
    assert rows[Right.ERASURE.label] == (41.0, 66.6, 2)
    assert rows[Right.PORTABILITY.label] == (None, None, 0)


def test_extension_refusal_and_fee_rates_are_shares_of_the_answered_requests(dataset):
    assert _rows("decision-rates") == {"Extended": (25.0, 1, 4), "Refused": (25.0, 1, 4), "Fee asked": (25.0, 1, 4)}
    assert _rows("refusals-by-ground") == {RefusalGround.MANIFESTLY_EXCESSIVE.label: (25.0, 1)}


def test_time_to_verify_runs_from_receipt_to_the_identity_decision():
    for hours, status in ((30, VerificationStatus.VERIFIED), (10, VerificationStatus.FAILED)):
        request = in_progress_request(email=next(_emails))
        IdentityVerification.objects.filter(request=request).update(
            status=status, decided_at=request.received_at + timedelta(hours=hours)
        )
    rows = _rows_for(metrics.time_to_verify(today=request.received_at.date() + timedelta(days=3)))
    assert rows == {"Median": (20.0,), "90th percentile": (28.0,), "Number measured": (2,)}


def test_time_to_suppression_runs_from_receipt_to_the_marketing_objection_taking_effect():
    request = _request(right=Right.OBJECTION, received_on=TODAY - timedelta(days=1), status=Status.COMPLETED)
    DataSubjectRequest.objects.filter(pk=request.pk).update(suppressed_at=at(TODAY - timedelta(days=1), hour=15))
    rows = _rows_for(metrics.time_to_suppression(today=TODAY))
    assert rows == {"Median": (3.0,), "90th percentile": (3.0,), "Number measured": (1,)}


def test_complaints_are_counted_by_status_with_the_acknowledgements_overdue(dpo):
    for n in range(3):
        complaint = complaint_submit(
            submission=ComplaintSubmission(name="Ada", email=f"c{n}@example.com", text="Slow answer"),
            received_at=at(TODAY - timedelta(days=40 - n * 30)),
        )
    complaint_acknowledge(complaint=complaint, actor=dpo)
    rows = _rows_for(metrics.complaints(today=TODAY))
    assert rows[ComplaintStatus.RECEIVED.label] == (2, 1)
    assert rows[ComplaintStatus.ACKNOWLEDGED.label] == (1, 0)
    assert rows[ComplaintStatus.RESOLVED.label] == (0, 0)


def _rows_for(table: metrics.Table) -> dict:
    return {row[0]: row[1:] for row in table.rows}


def test_the_dpo_sees_every_figure_as_a_chart_and_a_table_in_a_bounded_number_of_queries(
    client, dpo, dataset, django_assert_max_num_queries
):
    client.force_login(dpo)
    with django_assert_max_num_queries(18):  # no snapshot yet: computed, then stored
        response = client.get(reverse("casework:metrics"))
    assert response.status_code == 200
    page = response.content.decode()
    for table in metrics.metrics_tables(today=TODAY):
        assert f'id="{table.slug}"' in page
        assert reverse("casework:metrics_csv", kwargs={"table": table.slug}) in page
    assert page.count("<svg") == 9 and page.count("<table") == 11
    assert "style=" not in page and "<script" not in page
    assert "<td>75.0</td>" in page  # 2026 Q2's on-time rate, in the table under its chart


def test_the_query_count_does_not_grow_with_the_number_of_requests(client, dpo, dataset, django_assert_max_num_queries):
    client.force_login(dpo)
    with django_assert_max_num_queries(18):  # no snapshot yet: computed, then stored
        client.get(reverse("casework:metrics"))
    for _ in range(5):
        _request(status=Status.COMPLETED, answered_on=TODAY, closed_on=TODAY, due_on=TODAY)
    MetricsSnapshot.objects.all().delete()  # computed again, over more requests
    with django_assert_max_num_queries(18):
        assert client.get(reverse("casework:metrics")).status_code == 200


def test_each_table_downloads_as_csv_with_the_figures_of_the_page(client, dpo, dataset):
    client.force_login(dpo)
    response = client.get(reverse("casework:metrics_csv", kwargs={"table": "decision-rates"}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="decision-rates-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Decision", "Rate (%)", "Requests", "Answered"]
    assert rows[1:] == [["Extended", "25.0", "1", "4"], ["Refused", "25.0", "1", "4"], ["Fee asked", "25.0", "1", "4"]]
    days = list(csv.reader(io.StringIO(client.get("/staff/metrics/days-to-close.csv").content.decode())))
    assert [Right.PORTABILITY.label, "", "", "0"] in days


def test_an_unknown_table_is_not_found(client, dpo):
    client.force_login(dpo)
    assert client.get(reverse("casework:metrics_csv", kwargs={"table": "no-such"})).status_code == 404


@pytest.mark.parametrize("role", ["handler", "auditor", "system_owner"])
def test_only_the_dpo_sees_the_metrics(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("casework:metrics")).status_code == 403
    assert client.get(reverse("casework:metrics_csv", kwargs={"table": "complaints"})).status_code == 403
    assert b"/staff/metrics/" not in client.get(reverse("casework:queue")).content


def test_the_figures_take_one_query_each_whatever_the_number_of_requests(dataset, django_assert_num_queries):
    """Open requests, on time, days to close, verify, suppression and complaints: one each; decisions: two; and
    one for the figures kept of deleted cases (the retention app's source, casework.metrics.kept_figures)."""
    with django_assert_num_queries(9):
        metrics.metrics_tables(today=TODAY)


def _open_by_status_on_page(client) -> str:
    return client.get(reverse("casework:metrics_csv", kwargs={"table": "open-by-status"})).content.decode()


def test_the_page_reads_the_latest_snapshot_says_when_it_was_computed_and_the_dpo_can_recompute(
    client, dpo, dataset, django_assert_max_num_queries
):
    """Precomputed (issue 11, "Scale": metrics under 1 s at a million requests): the page and its downloads show the
    same snapshot, say when it was computed, and "Recompute now" brings in what changed since."""
    client.force_login(dpo)
    first = client.get(reverse("casework:metrics"))
    snapshot = MetricsSnapshot.objects.get()
    assert first.context["snapshot"] == snapshot and snapshot.for_day == TODAY
    assert "Computed at " in first.content.decode() and "Recompute now" in first.content.decode()
    assert "In progress,2" in _open_by_status_on_page(client).replace("\r\n", "\n")
    _request(status=Status.IN_PROGRESS, due_on=TODAY + timedelta(days=9))
    with django_assert_max_num_queries(8):  # the snapshot is read, nothing is counted
        again = client.get(reverse("casework:metrics"))
    assert again.context["snapshot"] == snapshot
    assert "In progress,2" in _open_by_status_on_page(client).replace("\r\n", "\n")

    response = client.post(reverse("casework:metrics_recompute"))
    assert response.status_code == 302 and response.url == reverse("casework:metrics")
    assert MetricsSnapshot.objects.count() == 2
    assert "In progress,3" in _open_by_status_on_page(client).replace("\r\n", "\n")
    assert "The figures were recomputed in" in client.get(reverse("casework:metrics")).content.decode()


def test_a_snapshot_older_than_the_refresh_interval_or_of_another_day_is_not_shown(client, dpo, dataset):
    client.force_login(dpo)
    stale = metrics.metrics_snapshot_make(today=TODAY)
    MetricsSnapshot.objects.filter(pk=stale.pk).update(
        computed_at=timezone.now() - timedelta(seconds=2 * metrics.METRICS_REFRESH_SECONDS + 60)
    )
    yesterday = metrics.metrics_snapshot_make(today=TODAY - timedelta(days=1))
    shown = client.get(reverse("casework:metrics")).context["snapshot"]
    assert shown.pk not in (stale.pk, yesterday.pk) and shown.for_day == TODAY


def test_a_snapshot_holds_exactly_the_computed_figures_and_old_ones_are_deleted(dataset):
    old = metrics.metrics_snapshot_make(today=TODAY - timedelta(days=metrics.SNAPSHOTS_KEPT_DAYS + 1))
    kept = metrics.metrics_snapshot_make(today=TODAY - timedelta(days=metrics.SNAPSHOTS_KEPT_DAYS))
    snapshot = metrics.metrics_snapshot_make(today=TODAY)
    assert metrics.snapshot_tables(snapshot) == metrics.metrics_tables(today=TODAY)
    assert metrics.metrics_snapshots_prune(today=TODAY) == 1
    assert set(MetricsSnapshot.objects.values_list("pk", flat=True)) == {kept.pk, snapshot.pk}
    assert old.pk not in MetricsSnapshot.objects.values_list("pk", flat=True)


def test_the_periodic_job_recomputes_the_figures(dataset, settings):
    from casework import tasks

    assert settings.CELERY_BEAT_SCHEDULE["refresh-dpo-metrics"]["task"] == "casework.tasks.refresh_metrics"
    snapshot = MetricsSnapshot.objects.get(pk=tasks.refresh_metrics())
    assert snapshot.for_day == timezone.localdate() and snapshot.tables


@pytest.mark.parametrize("role", ["handler", "auditor", "system_owner"])
def test_only_the_dpo_may_recompute(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.post(reverse("casework:metrics_recompute")).status_code == 403
    assert client.get(reverse("casework:metrics_recompute")).status_code == 405
    assert not MetricsSnapshot.objects.exists()
