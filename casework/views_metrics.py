"""The DPO's metrics page and its CSV downloads (issue 11, accountability: GDPR Art. 5(2))."""

import csv
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

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
    """Every figure as an SVG chart drawn on the server and the same figures as a table, each downloadable.

    The figures are the latest snapshot's (casework.metrics: a periodic job recomputes them), with when they were
    computed and a button to recompute them now: over a million requests they take seconds to compute."""
    _dpo_only(http_request)
    today = _today()
    snapshot = metrics.metrics_snapshot_latest(today=today)
    figures = [(table, metrics.chart_for(table)) for table in metrics.snapshot_tables(snapshot)]
    context = {"nav": "metrics", "figures": figures, "today": today, "snapshot": snapshot}
    return render(http_request, "casework/metrics.html", context)


@require_POST
@staff_area
def metrics_recompute(http_request: HttpRequest) -> HttpResponse:
    """Compute every figure now (after a correction, or before reporting), then show them."""
    _dpo_only(http_request)
    snapshot = metrics.metrics_snapshot_make(today=_today())
    messages.success(
        http_request,
        _("The figures were recomputed in %(seconds)s seconds.") % {"seconds": f"{snapshot.seconds:.1f}"},
    )
    return redirect("casework:metrics")


@require_GET
@staff_area
def metrics_csv(http_request: HttpRequest, table: str) -> HttpResponse:
    """One figure's table as CSV, for the annual report: the figures of the page (the same snapshot); the file name
    carries the day the figures are for."""
    _dpo_only(http_request)
    today = _today()
    found = [t for t in metrics.snapshot_tables(metrics.metrics_snapshot_latest(today=today)) if t.slug == table]
    if not found:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table}-{today.isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(found[0].columns)
    writer.writerows([["" if value is None else value for value in row] for row in found[0].rows])
    return response
