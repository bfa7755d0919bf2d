"""The queue and the case page (issue 11): what staff see, find and do, in a bounded number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework import services
from casework.models import Assignment
from identity.models import VerificationStatus
from requests_app.models import DataSubjectRequest, Message, Right, Status
from tests.factories import (
    IdentityVerificationFactory,
    MessageFactory,
    SubjectConfirmationFactory,
    agent_request,
    in_progress_request,
)

pytestmark = pytest.mark.django_db
QUEUE = reverse("casework:queue")


def _due_in(request: DataSubjectRequest, days: int) -> DataSubjectRequest:
    DataSubjectRequest.objects.filter(pk=request.pk).update(due_on=timezone.localdate() + timedelta(days=days))
    request.refresh_from_db()
    return request


def _references(response) -> list[str]:
    return [row.reference for row in response.context["rows"]]


def test_the_queue_lists_open_requests_soonest_deadline_first_with_days_left_in_words(client, dpo):
    later = _due_in(in_progress_request(email="later@example.com"), 20)
    overdue = _due_in(in_progress_request(email="overdue@example.com"), -2)
    soon = _due_in(in_progress_request(email="soon@example.com"), 3)
    closed = in_progress_request(email="closed@example.com")
    DataSubjectRequest.objects.filter(pk=closed.pk).update(status=Status.COMPLETED)
    client.force_login(dpo)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert _references(response) == [overdue.reference, soon.reference, later.reference]
    html = response.content.decode()
    assert 'class="due due-overdue">2 days overdue' in html
    assert 'class="due due-soon">3 days left' in html
    assert 'class="due due-later">20 days left' in html


def test_filters_narrow_the_queue(client, dpo, handler):
    access = _due_in(in_progress_request(email="a@example.com"), 5)
    objection = _due_in(in_progress_request(email="o@example.com", right=Right.OBJECTION), 30)
    overdue = _due_in(in_progress_request(email="late@example.com"), -1)
    services.request_assign(request=access, assignee=handler, actor=dpo)
    client.force_login(dpo)
    assert _references(client.get(QUEUE, {"right": "objection"})) == [objection.reference]
    assert _references(client.get(QUEUE, {"due_within": 7})) == [overdue.reference, access.reference]
    assert _references(client.get(QUEUE, {"overdue": "on"})) == [overdue.reference]
    assert _references(client.get(QUEUE, {"assignee": str(handler.pk)})) == [access.reference]
    assert _references(client.get(QUEUE, {"assignee": "none"})) == [overdue.reference, objection.reference]
    assert _references(client.get(QUEUE, {"status": Status.AWAITING_FEE})) == []


def test_search_finds_a_request_by_reference_or_by_the_requesters_email(client, dpo):
    wanted = in_progress_request(email="Findme@Example.com")
    in_progress_request(email="someone@example.com")
    client.force_login(dpo)
    assert _references(client.get(QUEUE, {"q": "findme@example.com"})) == [wanted.reference]
    assert _references(client.get(QUEUE, {"q": wanted.reference.lower()})) == [wanted.reference]


def test_what_needs_a_human_is_flagged(client, dpo):
    evidence = IdentityVerificationFactory(status=VerificationStatus.EVIDENCE_RECEIVED).request
    DataSubjectRequest.objects.filter(pk=evidence.pk).update(status=Status.AWAITING_IDENTITY_VERIFICATION)
    failed = in_progress_request(email="bounce@example.com")
    MessageFactory(request=failed, delivery_failed_at=timezone.now())
    agent = SubjectConfirmationFactory(request=agent_request()).request
    DataSubjectRequest.objects.filter(pk=agent.pk).update(status=Status.AWAITING_IDENTITY_VERIFICATION)
    client.force_login(dpo)
    html = client.get(QUEUE).content.decode()
    assert html.count("Evidence to review") == 1
    assert html.count("An e-mail failed") == 1
    assert html.count("Subject has not answered about the agent") == 1


def test_pages_of_the_queue_follow_the_due_date(client, dpo, monkeypatch):
    """The next page starts after the last row of the previous one (a keyset), and its link keeps the filters."""
    monkeypatch.setattr("casework.views.PAGE_SIZE", 2)
    made = [_due_in(in_progress_request(email=f"p{n}@example.com"), n) for n in range(5)]
    client.force_login(dpo)
    first = client.get(QUEUE, {"right": "access"})
    assert _references(first) == [r.reference for r in made[:2]]
    assert "right=access" in first.context["next_url"]
    second = client.get(first.context["next_url"])
    assert _references(second) == [r.reference for r in made[2:4]]
    third = client.get(second.context["next_url"])
    assert _references(third) == [made[4].reference] and third.context["next_url"] == ""


def test_the_queue_runs_a_bounded_number_of_queries_whatever_it_shows(client, dpo, django_assert_max_num_queries):
    for n in range(12):
        request = in_progress_request(email=f"q{n}@example.com")
        MessageFactory(request=request, delivery_failed_at=timezone.now())
        services.request_assign(request=request, assignee=dpo, actor=dpo)
    client.force_login(dpo)
    client.get(QUEUE)  # warm the session and the organisation cache
    with django_assert_max_num_queries(12):
        response = client.get(QUEUE, {"assignee": "me"})
    assert len(response.context["rows"]) == 12


def test_bulk_assign_from_the_queue(client, dpo, handler):
    requests = [in_progress_request(email=f"b{n}@example.com") for n in range(2)]
    client.force_login(dpo)
    response = client.post(
        reverse("casework:requests_assign"),
        {"references": [r.reference for r in requests], "assignee": handler.pk},
    )
    assert response.status_code == 302
    assert Assignment.objects.filter(assignee=handler).count() == 2


def test_a_case_handler_cannot_bulk_assign_a_colleagues_request(client, dpo, handler, other_handler):
    theirs = in_progress_request()
    services.request_assign(request=theirs, assignee=other_handler, actor=dpo)
    client.force_login(handler)
    client.post(reverse("casework:requests_assign"), {"references": [theirs.reference], "assignee": handler.pk})
    assert Assignment.objects.get(request=theirs).assignee == other_handler


def test_the_case_page_shows_the_request_its_clock_assignee_and_one_timeline(client, dpo, handler):
    request = in_progress_request(email="case@example.com", name="Grace Hopper")
    other = in_progress_request(email="case@example.com")
    services.request_assign(request=request, assignee=handler, actor=dpo)
    client.force_login(dpo)
    response = client.get(reverse("casework:request_detail", args=[request.reference]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Grace Hopper" in html
    assert "Assigned to a member of staff" in html  # the event in the timeline
    assert "We have received your request" in html  # a message in the same timeline
    assert other.reference in html
    assert 'id="verification-status"' in html  # the identity check is a panel of the case page
    assert request.due_date_changes.exists() and "History of the due date" in html


def test_the_case_page_hides_personal_data_from_an_auditor(client, auditor):
    request = in_progress_request(name="Grace Hopper")
    client.force_login(auditor)
    response = client.get(reverse("casework:request_detail", args=[request.reference]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Grace Hopper" not in html and "ada@example.com" not in html
    assert "Decide the identity check" not in html and "/evidence/" not in html


def test_the_case_page_runs_a_bounded_number_of_queries(client, dpo, django_assert_max_num_queries):
    request = agent_request()
    for _ in range(10):
        MessageFactory(request=request)
    client.force_login(dpo)
    path = reverse("casework:request_detail", args=[request.reference])
    client.get(path)
    # 18: one for the compiled answer's panel (fulfilment), which finds none here; one each for the notices to
    # recipients and the changes in the data systems (issue 13), and two for the legal-hold panel (retention: the
    # holds, and whether a complaint is open). The decisions' panels read nothing on other rights' cases.
    with django_assert_max_num_queries(18):
        assert client.get(path).status_code == 200


def test_assigning_from_the_case_page(client, dpo, handler):
    request = in_progress_request()
    client.force_login(dpo)
    response = client.post(reverse("casework:request_assign", args=[request.reference]), {"assignee": handler.pk})
    assert response.status_code == 302
    assert Assignment.objects.get(request=request).assignee == handler
    assert Message.objects.filter(request=request).exists()


def test_a_reply_from_the_requester_is_flagged_until_staff_act(client, dpo, handler):
    """The requester answered a question and no one has acted since: the queue says so, until someone does."""
    from requests_app import services as request_services

    request = in_progress_request()
    request_services.request_clarification_ask(request=request, actor=dpo, question="Which account?")
    request_services.request_clarification_answer(request=request, answer="The old one")
    client.force_login(dpo)
    assert "Reply from the requester" in client.get(QUEUE).content.decode()
    services.request_assign(request=request, assignee=handler, actor=dpo)
    assert "Reply from the requester" not in client.get(QUEUE).content.decode()


def test_the_case_page_lists_the_persons_ten_most_recent_other_requests_and_how_many_there_are(client, dpo):
    """A person with many requests: the page lists the most recent ten and says how many there are, in the same
    number of queries as for a person with one other request (bench/dashboard_bench.py: thousands made it slow)."""
    request = in_progress_request(email="many@example.com")
    others = [in_progress_request(email="many@example.com") for _ in range(12)]
    for days, other in enumerate(others):
        DataSubjectRequest.objects.filter(pk=other.pk).update(received_at=timezone.now() - timedelta(days=30 - days))
    in_progress_request(email="someone-else@example.com")
    client.force_login(dpo)
    response = client.get(reverse("casework:request_detail", args=[request.reference]))
    listed = [other.reference for other in response.context["other_requests"]]
    assert listed == [other.reference for other in reversed(others)][:10]
    assert response.context["other_requests"].total == 12
    assert "The 10 most recent of 12." in response.content.decode()


def test_a_case_handler_sees_only_the_persons_other_requests_they_may_open(client, dpo, handler, other_handler):
    request = in_progress_request(email="shared@example.com")
    mine, unassigned, theirs = (in_progress_request(email="shared@example.com") for _ in range(3))
    services.request_assign(request=mine, assignee=handler, actor=dpo)
    services.request_assign(request=theirs, assignee=other_handler, actor=dpo)
    client.force_login(handler)
    response = client.get(reverse("casework:request_detail", args=[request.reference]))
    assert sorted(other.reference for other in response.context["other_requests"]) == sorted(
        [mine.reference, unassigned.reference]
    )
    assert response.context["other_requests"].total == 2
    assert "most recent of" not in response.content.decode()


def test_a_case_handler_queue_holds_their_requests_and_the_unassigned_ones(client, dpo, handler, other_handler):
    mine, unassigned, theirs = (_due_in(in_progress_request(email=f"h{n}@example.com"), n) for n in range(3))
    services.request_assign(request=mine, assignee=handler, actor=dpo)
    services.request_assign(request=theirs, assignee=other_handler, actor=dpo)
    client.force_login(handler)
    assert _references(client.get(QUEUE)) == [mine.reference, unassigned.reference]
    assert _references(client.get(QUEUE, {"assignee": "none"})) == [unassigned.reference]
    assert client.get(reverse("casework:request_detail", args=[theirs.reference])).status_code == 404


def test_the_queue_flags_cost_one_query_for_the_page_whatever_it_shows(client, dpo, django_assert_num_queries):
    """The flags are read for the page's rows only, in one query: a page of one and a page of twelve cost the same."""
    client.force_login(dpo)
    in_progress_request(email="first@example.com")
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as one:
        client.get(QUEUE)
    for n in range(11):
        request = in_progress_request(email=f"f{n}@example.com")
        MessageFactory(request=request, delivery_failed_at=timezone.now())
        SubjectConfirmationFactory(request=request)
    client.get(QUEUE)  # as before the first count: the agents the factories made changed the staff list cached
    with CaptureQueriesContext(connection) as twelve:
        response = client.get(QUEUE)
    assert len(response.context["rows"]) == 12
    assert len(twelve.captured_queries) == len(one.captured_queries)
    assert response.content.decode().count("An e-mail failed") == 11


def test_a_long_timeline_shows_its_latest_entries_and_the_whole_of_it_is_one_link_away(
    client, dpo, django_assert_max_num_queries
):
    """Hundreds of events (bench/dashboard_bench.py: 500) open fast: the latest hundred, in order, and how many there
    are; ?timeline=all shows every one."""
    from casework.selectors import TIMELINE_SHOWN
    from requests_app.audit import STAFF, event_record
    from requests_app.models import EventKind, RequestEvent

    request = in_progress_request()
    for n in range(TIMELINE_SHOWN + 20):
        event_record(request_id=request.pk, kind=EventKind.DECISION_NOTE, actor_kind=STAFF, reason=f"note {n:03d}")
    total = RequestEvent.objects.filter(request=request).count() + Message.objects.filter(request=request).count()
    path = reverse("casework:request_detail", args=[request.reference])
    client.force_login(dpo)
    client.get(path)
    # The same number however long the trail: the page's panels (identity, complaints, templates, assignees) and
    # one query per kind of timeline entry, plus their counts once the trail is longer than the page shows; one more
    # for the compiled answer's panel (fulfilment), which finds none here.
    with django_assert_max_num_queries(26):
        response = client.get(path)
    timeline = response.context["timeline"]
    assert len(timeline) == TIMELINE_SHOWN and timeline.total == total
    assert [entry.at for entry in timeline] == sorted(entry.at for entry in timeline)
    assert timeline[-1].item.reason == f"note {TIMELINE_SHOWN + 19:03d}"
    html = response.content.decode()
    assert f"The latest {TIMELINE_SHOWN} of {total} entries." in html and "?timeline=all" in html
    assert "note 000" not in html
    everything = client.get(path, {"timeline": "all"})
    assert len(everything.context["timeline"]) == total
    assert "note 000" in everything.content.decode() and "The latest" not in everything.content.decode()


@pytest.mark.parametrize("value", [None, "", "me", "3"])
def test_the_staff_select_renders_the_html_of_djangos_select(value):
    """The same markup as Django's Select (escaping, the selected option, attributes, groups), rendered in Python:
    the per-option template includes were about a quarter of a one-row queue page's CPU time (bench/README.md)."""
    import re

    from django import forms

    from casework.widgets import StaffSelect

    choices = [("", "Anyone"), ("me", "Me"), ("3", "a<b&\"c'"), ("Group", [("4", "zoë"), ("5", "five")])]
    attrs = {"class": "form-select", "disabled": True, "required": False, "data-x": 'q"<'}

    def rendered(widget: type[forms.Select]) -> str:
        html = widget(choices=choices, attrs=dict(attrs)).render("assignee", value, attrs={"id": "id_assignee"})
        return re.sub(r">\s+<", "><", html.strip())

    assert rendered(StaffSelect) == rendered(forms.Select)
    assert 'value="3"' in rendered(StaffSelect) and "a&lt;b&amp;&quot;c&#x27;" in rendered(StaffSelect)
