"""The DPO's metrics page and its CSV downloads (issue 11, accountability: GDPR Art. 5(2))."""

import csv
from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import metrics
from .views import staff_area

VIEW_METRICS = "casework.view_metrics"


def _today() -> date:
    """The organisation's date the figures are for (a function so tests can fix the day)."""
    return timezone.localdate()


def _dpo_only(http_request: HttpRequest) -> None:
    if not http_request.user.has_perm(VIEW_METRICS):
        raise PermissionDenied


@require_GET
@staff_area
def metrics_page(http_request: HttpRequest) -> HttpResponse:
    """Every figure as an SVG chart drawn on the server and the same figures as a table, each downloadable."""
    _dpo_only(http_request)
    today = _today()
    figures = [(table, metrics.chart_for(table)) for table in metrics.metrics_tables(today=today)]
    return render(http_request, "casework/metrics.html", {"nav": "metrics", "figures": figures, "today": today})


@require_GET
@staff_area
def metrics_csv(http_request: HttpRequest, table: str) -> HttpResponse:
    """One figure's table as CSV, for the annual report; the file name carries the day the figures are for."""
    _dpo_only(http_request)
    today = _today()
    found = [t for t in metrics.metrics_tables(today=today) if t.slug == table]
    if not found:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table}-{today.isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(found[0].columns)
    writer.writerows([["" if value is None else value for value in row] for row in found[0].rows])
    return response
