"""The compiled answer on the case page: progress, failed searches with their error and a retry button, and the
search record; the retry URL walked as every role (like casework's permission walk)."""

from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, get_resolver, reverse

from casework import roles
from casework import services as casework_services
from datasystems.connectors.base import ConnectorError
from datasystems.connectors.demo_app import DemoAppConnector
from fulfilment import services
from fulfilment.models import Compilation, JobStatus, SearchJob
from requests_app.models import EventKind
from tests.factories import StaffUserFactory

from .conftest import alan_request

pytestmark = pytest.mark.django_db(transaction=True)


def _member(role: str, username: str):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


def _broken(self, identifiers):
    raise ConnectorError("The configuration names a table 'orderz' the system does not have.")


@pytest.fixture
def failed_cases(automated_register, dpo, handler):
    """Two requests whose searches all failed on a configuration mistake: one free, one assigned to another handler."""
    other = _member(roles.CASE_HANDLER, "handler-b")
    with mock.patch.object(DemoAppConnector, "search", _broken):
        free = alan_request()
        theirs = alan_request(email="alan.other@example.net")
    casework_services.request_assign(request=theirs, assignee=other, actor=dpo)
    return {"free": free, "theirs": theirs}


def _outcome(response) -> object:
    if response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL)):
        return "login"
    return response.status_code


def test_the_walk_covers_every_fulfilment_page():
    resolver = get_resolver()
    patterns = [
        pattern
        for include in resolver.url_patterns
        if getattr(include, "namespace", None) == "fulfilment"
        for pattern in include.url_patterns
    ]
    # The further-copy decisions are walked in tests/fulfilment/test_delivery_permission_walk.py.
    assert {pattern.name for pattern in patterns if isinstance(pattern, URLPattern)} == {
        "job_retry",
        "further_copy_fee",
        "further_copy_paid",
        "further_copy_free",
        "further_copy_decline",
        # The transmission decision and retry are walked in test_transmission_pages.
        "transmission_decide",
        "transmission_retry",
        # Review before release: walked in tests/casework/test_permission_walk.py.
        "review",
        "redaction_add",
        "redaction_undo",
        "release_approve",
        "release_send_back",
        # Building a released archive again: walked in tests/casework/test_permission_walk.py.
        "release_build_again",
    }


def test_the_case_page_shows_progress_the_failed_searches_and_the_search_record(client, failed_cases, handler):
    request = failed_cases["free"]
    client.force_login(handler)
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    compilation = Compilation.objects.get(request=request)
    total = compilation.jobs.count()
    assert "Compiled answer" in page
    assert f"0 of {total} systems searched, 0 rows found so far." in page
    assert "The configuration names a table &#x27;orderz&#x27; the system does not have." in page
    job = compilation.jobs.first()
    assert reverse("fulfilment:job_retry", args=[request.reference, job.pk]) in page
    assert "Search record" in page and "The search failed" in page


def test_an_auditor_sees_the_panel_without_the_retry_button(client, failed_cases, staff_roles):
    client.force_login(_member(roles.AUDITOR, "auditor"))
    request = failed_cases["free"]
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "Failed searches" in page and "Retry the search of" not in page


def test_a_retry_queues_the_search_again_runs_it_and_is_written_to_the_trail(client, failed_cases, handler):
    request = failed_cases["free"]
    job = Compilation.objects.get(request=request).jobs.first()
    client.force_login(handler)
    with mock.patch.object(services, "_enqueue_job") as enqueue:
        response = client.post(reverse("fulfilment:job_retry", args=[request.reference, job.pk]))
        assert response.status_code == 302
        enqueue.assert_called_once_with(job.pk)
        # A second click finds it queued: a message, never a 500, and nothing queued twice.
        again = client.post(reverse("fulfilment:job_retry", args=[request.reference, job.pk]), follow=True)
        assert "This search was queued again already." in again.content.decode()
        enqueue.assert_called_once_with(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.attempts == 0
    event = request.events.filter(kind=EventKind.SEARCH_STATUS_CHANGED, actor=handler).get()
    assert (event.from_status, event.to_status) == (JobStatus.FAILED, JobStatus.QUEUED)
    # The worker runs it; the system works again.
    assert services.job_run(job_id=job.pk) == JobStatus.DONE


# Retrying a failed search: the DPO on any case, a case handler on those they may see, nobody else.
RETRY_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (302, 302),
    "handler": (302, 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(RETRY_EXPECTED))
def test_each_visitor_may_retry_only_what_they_may(client, failed_cases, dpo, handler, visitor):
    users = {
        "anonymous": None,
        "dpo": dpo,
        "handler": handler,
        "auditor": _member(roles.AUDITOR, "auditor"),
        "system_owner": _member(roles.SYSTEM_OWNER, "owner"),
        "staff_without_role": StaffUserFactory(username="no-role"),
    }
    user = users[visitor]
    if user is not None:
        client.force_login(user)
    on_free, on_theirs = RETRY_EXPECTED[visitor]
    with mock.patch.object(services, "_enqueue_job"):
        for which, expected in (("free", on_free), ("theirs", on_theirs)):
            request = failed_cases[which]
            job = SearchJob.objects.filter(request=request).first()
            path = reverse("fulfilment:job_retry", args=[request.reference, job.pk])
            assert _outcome(client.get(path)) in ("login", 405)
            assert _outcome(client.post(path)) == expected, f"{visitor} retrying on {which}"
            job.refresh_from_db()
            assert (job.status == JobStatus.QUEUED) == (expected == 302)
    # A job of another request is never reached through this one's URL.
    if user is not None and on_free == 302:
        other_job = SearchJob.objects.filter(request=failed_cases["theirs"], status=JobStatus.FAILED).first()
        path = reverse("fulfilment:job_retry", args=[failed_cases["free"].reference, other_job.pk])
        assert client.post(path).status_code == 404
