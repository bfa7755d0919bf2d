"""The queue's extension-notice filter and flag, its previous page (a backwards keyset), and the results htmx swaps
in (issue 11: "the pages work without JavaScript; htmx only makes them quicker")."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from casework import queue_pages
from requests_app import deadlines
from requests_app.clock import calendar_for
from requests_app.models import DataSubjectRequest, Status
from tests.factories import in_progress_request

pytestmark = pytest.mark.django_db
QUEUE = reverse("casework:queue")
HTMX = {"HTTP_HX_REQUEST": "true"}


def _set(request: DataSubjectRequest, **fields) -> DataSubjectRequest:
    DataSubjectRequest.objects.filter(pk=request.pk).update(**fields)
    request.refresh_from_db()
    return request


def _due_in(request: DataSubjectRequest, days: int, **fields) -> DataSubjectRequest:
    return _set(request, due_on=timezone.localdate() + timedelta(days=days), **fields)


def _references(response) -> list[str]:
    return [row.reference for row in response.context["rows"]]


# --- Extension notice due --------------------------------------------------------------------------------------------


def test_the_last_day_to_notify_an_extension_is_the_stored_due_date_of_a_request_not_yet_extended():
    """What the filter relies on: for an unextended request, due_on is deadlines.latest_extension_notice_date."""
    request = in_progress_request()
    assert request.extension_months == 0
    assert request.due_on == deadlines.latest_extension_notice_date(
        clock_start=request.clock_started_on,
        jurisdiction=request.jurisdiction,
        paused_days=request.paused_days,
        overrides=calendar_for(request.jurisdiction, request.second_jurisdiction).overrides,
        also_jurisdiction=request.second_jurisdiction,
    )


def test_the_extension_notice_filter_finds_the_unextended_requests_whose_last_day_is_within_the_week(client, dpo):
    today_ = _due_in(in_progress_request(email="t@example.com"), 0)
    in_week = _due_in(in_progress_request(email="w@example.com"), 7)
    _due_in(in_progress_request(email="later@example.com"), 8)
    _due_in(in_progress_request(email="past@example.com"), -1)  # too late: overdue, no longer extendable
    _due_in(in_progress_request(email="ext@example.com"), 3, extension_months=1)  # already extended
    _due_in(in_progress_request(email="paused@example.com"), 3, clock_paused_on=timezone.localdate())
    _due_in(in_progress_request(email="fee@example.com"), 3, status=Status.AWAITING_FEE)  # not extendable now
    client.force_login(dpo)

    response = client.get(QUEUE, {"extension_notice_due": "on"})

    assert _references(response) == [today_.reference, in_week.reference]


def test_the_queue_flags_an_extension_notice_that_must_go_out_this_week(client, dpo):
    flagged = _due_in(in_progress_request(email="f@example.com"), 2)
    _due_in(in_progress_request(email="n@example.com"), 20)
    _due_in(in_progress_request(email="e@example.com"), 2, extension_months=2)
    client.force_login(dpo)
    response = client.get(QUEUE)
    html = response.content.decode()
    assert html.count("An extension notice must go out this week") == 1
    assert [row.reference for row in response.context["rows"] if row.extension_notice_due] == [flagged.reference]


def test_the_flag_and_the_filter_agree_on_every_row(dpo):
    today = timezone.localdate()
    for n, (days, fields) in enumerate(
        [(0, {}), (7, {}), (8, {}), (-1, {}), (3, {"extension_months": 1}), (3, {"clock_paused_on": today})]
    ):
        _due_in(in_progress_request(email=f"a{n}@example.com"), days, **fields)
    filtered = set(DataSubjectRequest.objects.filter(queue_pages.extension_notice_due_q(today=today)))
    flagged = {r for r in DataSubjectRequest.objects.all() if queue_pages.extension_notice_due(r, today=today)}
    assert filtered == flagged and len(filtered) == 2


# --- The previous page -----------------------------------------------------------------------------------------------


@pytest.fixture
def five(monkeypatch):
    monkeypatch.setattr("casework.views.PAGE_SIZE", 2)
    return [_due_in(in_progress_request(email=f"p{n}@example.com"), n) for n in range(5)]


def test_the_previous_page_walks_back_by_a_keyset_keeping_the_filters(client, dpo, five):
    client.force_login(dpo)
    first = client.get(QUEUE, {"right": "access"})
    assert first.context["previous_url"] == ""
    second = client.get(first.context["next_url"])
    third = client.get(second.context["next_url"])
    assert _references(third) == [five[4].reference]

    back = client.get(third.context["previous_url"])
    assert "before=" in third.context["previous_url"] and "right=access" in third.context["previous_url"]
    assert "offset" not in third.context["previous_url"] and "page=" not in third.context["previous_url"]
    assert _references(back) == [r.reference for r in five[2:4]]
    assert back.context["next_url"] and back.context["previous_url"]

    start = client.get(back.context["previous_url"])
    assert _references(start) == [r.reference for r in five[:2]]
    assert start.context["previous_url"] == "" and not start.context["is_later_page"]
    assert _references(client.get(start.context["next_url"])) == _references(back)


def test_going_back_to_a_short_start_shows_the_first_page_in_full(client, dpo, five):
    """A page reached after the first row (say, the first was closed and reopened) goes back to a whole first page."""
    client.force_login(dpo)
    after_first = client.get(QUEUE, {"after": queue_pages.cursor_of(five[0])})
    assert _references(after_first) == [five[1].reference, five[2].reference]
    back = client.get(after_first.context["previous_url"])
    assert _references(back) == [five[0].reference, five[1].reference]


def test_a_page_found_by_walking_back_costs_a_bounded_number_of_queries(
    client, dpo, five, django_assert_max_num_queries
):
    client.force_login(dpo)
    client.get(QUEUE)
    with django_assert_max_num_queries(13):
        response = client.get(QUEUE, {"before": queue_pages.cursor_of(five[4])})
    assert len(response.context["rows"]) == 2


# --- htmx ------------------------------------------------------------------------------------------------------------


def test_htmx_gets_the_results_alone_and_a_browser_the_whole_page_both_varying_on_hx_request(client, dpo, five):
    client.force_login(dpo)
    whole = client.get(QUEUE, {"right": "access"})
    partial = client.get(QUEUE, {"right": "access"}, **HTMX)

    for response in (whole, partial):
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
    assert [t.name for t in partial.templates][0] == "casework/_queue_results.html"
    body = partial.content.decode()
    assert "<html" not in body and "<h1" not in body and "Find requests" not in body
    assert five[0].reference in body and 'name="csrfmiddlewaretoken"' in body
    # The screen-reader summary is swapped out of band, so the live region stays where it was.
    assert 'id="queue-summary"' in body and 'hx-swap-oob="true"' in body and "2 requests shown" in body
    assert "<html" in whole.content.decode() and 'hx-swap-oob="true"' not in whole.content.decode()


def test_the_links_and_the_filter_form_work_without_javascript_and_swap_only_the_results_with_it(client, dpo, five):
    client.force_login(dpo)
    html = client.get(QUEUE, {"right": "access"}).content.decode()
    form = re.search(r'<form method="get" action="/staff/"[^>]*>', html).group(0)
    assert 'hx-get="/staff/"' in form and 'hx-target="#queue-results"' in form and 'hx-push-url="true"' in form
    next_link = re.search(r'<a class="page-link" href="([^"]+)" hx-get="([^"]+)"[^>]*rel="next"', html)
    assert next_link.group(1) == next_link.group(2)
    assert 'id="queue-results"' in html


def test_a_history_restore_gets_the_whole_page(client, dpo):
    client.force_login(dpo)
    response = client.get(QUEUE, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()


def test_an_invalid_filter_is_said_in_the_swapped_results(client, dpo):
    client.force_login(dpo)
    body = client.get(QUEUE, {"due_within": "-3"}, **HTMX).content.decode()
    assert "Some filters were not understood and were not applied" in body


def test_htmx_is_served_by_the_portal_and_configured_for_the_csp_with_no_history_cache(client, dpo):
    assert finders.find("vendor/htmx/htmx.min.js")
    client.force_login(dpo)
    response = client.get(QUEUE)
    html = response.content.decode()
    assert re.search(r'<script src="/static/vendor/htmx/htmx\.min\.js" defer></script>', html)
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1))
    assert config == {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "historyCacheSize": 0,
        "refreshOnHistoryMiss": True,
    }
    csp = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
