"""Every /staff/ page of the staff area, as each role and as an anonymous visitor (issue 11).

The walk resolves every URL pattern of the casework app, so a page added later is walked too; a pattern the walk
cannot fill in fails the test rather than being skipped.
"""

import pytest
from django.conf import settings
from django.urls import URLPattern, get_resolver, reverse

from casework import services
from casework.actions import ACTIONS
from tests.factories import in_progress_request

pytestmark = pytest.mark.django_db

# What each visitor gets on each page: "ok" (200, or a redirect after a POST that did its work), "login", 403, 404.
# The requests: "mine" is assigned to handler-a, "theirs" to handler-b, "free" to no one.
GET_EXPECTED = {
    # visitor: (queue, case mine, case theirs, case free)
    "anonymous": ("login", "login", "login", "login"),
    "dpo": (200, 200, 200, 200),
    "handler": (200, 200, 404, 200),
    "auditor": (200, 200, 200, 200),
    "system_owner": (403, 403, 403, 403),
    "staff_without_role": (403, 403, 403, 403),
}


# The metrics page and its CSV downloads: the DPO only (the accountability figures, issue 11).
METRICS_EXPECTED = {
    "anonymous": "login",
    "dpo": 200,
    "handler": 403,
    "auditor": 403,
    "system_owner": 403,
    "staff_without_role": 403,
}
URL_ARGUMENTS = {"table": "open-by-status", "message_id": 1}


def _casework_patterns() -> list[URLPattern]:
    resolver = get_resolver()
    (staff,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "casework"]
    return list(staff.url_patterns)


def test_the_walk_covers_every_casework_page():
    names = {pattern.name for pattern in _casework_patterns()}
    assert names == {
        "queue",
        "request_detail",
        "request_assign",
        "requests_assign",
        "metrics",
        "metrics_csv",
        "metrics_recompute",
        "request_log",
        "letter_posted",
        *(f"action_{name}" for name in ACTIONS),
    }


@pytest.fixture
def visitors(dpo, handler, other_handler, auditor, system_owner):
    from tests.factories import StaffUserFactory

    return {
        "anonymous": None,
        "dpo": dpo,
        "handler": handler,
        "auditor": auditor,
        "system_owner": system_owner,
        "staff_without_role": StaffUserFactory(username="no-role"),
    }


@pytest.fixture
def cases(dpo, handler, other_handler):
    mine, theirs, free = (in_progress_request(email=f"{n}@example.com") for n in ("mine", "theirs", "free"))
    services.request_assign(request=mine, assignee=handler, actor=dpo)
    services.request_assign(request=theirs, assignee=other_handler, actor=dpo)
    return {"mine": mine, "theirs": theirs, "free": free}


def _outcome(response) -> object:
    if response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL)):
        return "login"
    return response.status_code


@pytest.mark.parametrize("visitor", list(GET_EXPECTED))
def test_each_visitor_sees_only_the_pages_and_cases_they_may(client, visitors, cases, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    queue, mine, theirs, free = GET_EXPECTED[visitor]
    assert _outcome(client.get(reverse("casework:queue"))) == queue
    for which, expected in (("mine", mine), ("theirs", theirs), ("free", free)):
        path = reverse("casework:request_detail", args=[cases[which].reference])
        assert _outcome(client.get(path)) == expected, f"{visitor} opening {which}"


@pytest.mark.parametrize("visitor", list(METRICS_EXPECTED))
def test_only_the_dpo_sees_the_metrics_and_their_downloads(client, visitors, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    for path in (
        reverse("casework:metrics"),
        reverse("casework:metrics_csv", kwargs={"table": URL_ARGUMENTS["table"]}),
    ):
        assert _outcome(client.get(path)) == METRICS_EXPECTED[visitor], f"{visitor} opening {path}"
    recompute = client.post(reverse("casework:metrics_recompute"))
    assert _outcome(recompute) == (302 if METRICS_EXPECTED[visitor] == 200 else METRICS_EXPECTED[visitor])


# Assigning: only the DPO and case handlers, and a handler only what they may see.
POST_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (302, 302),
    "handler": (302, 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(POST_EXPECTED))
def test_each_visitor_may_assign_only_what_they_may(client, visitors, cases, handler, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    on_free, on_theirs = POST_EXPECTED[visitor]
    for which, expected in (("free", on_free), ("theirs", on_theirs)):
        path = reverse("casework:request_assign", args=[cases[which].reference])
        assert _outcome(client.post(path, {"assignee": handler.pk})) == expected, f"{visitor} assigning {which}"
    bulk = client.post(
        reverse("casework:requests_assign"), {"references": [cases["free"].reference], "assignee": handler.pk}
    )
    assert _outcome(bulk) == ("login" if user is None else 302 if on_free == 302 else 403)


# Acting on a case: the DPO on any, a case handler on those they may see, nobody else. An empty form is sent, so
# the walk changes nothing: "ok" is the case page sent back with the form's errors.
ACTION_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (200, 200),
    "handler": (200, 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(ACTION_EXPECTED))
def test_each_visitor_may_act_only_on_what_they_may(client, visitors, cases, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    on_free, on_theirs = ACTION_EXPECTED[visitor]
    for name in ACTIONS:
        for which, expected in (("free", on_free), ("theirs", on_theirs)):
            path = reverse(f"casework:action_{name}", args=[cases[which].reference])
            assert _outcome(client.post(path, {})) == expected, f"{visitor} doing {name} on {which}"
            assert _outcome(client.get(path)) in ("login", 405), f"{visitor} GET {name}"
    for case in cases.values():
        case.refresh_from_db()
        assert case.status == "in_progress", f"{visitor} changed {case.reference}"


# Logging a request received another way, and recording a letter as posted: those who act on requests.
LOG_EXPECTED = {
    "anonymous": ("login", "login", "login"),
    "dpo": (200, 302, 302),
    "handler": (200, 302, 404),
    "auditor": (403, 403, 403),
    "system_owner": (403, 403, 403),
    "staff_without_role": (403, 403, 403),
}


@pytest.mark.parametrize("visitor", list(LOG_EXPECTED))
def test_each_visitor_may_log_requests_and_record_letters_only_if_they_may(client, visitors, cases, visitor):
    from requests_app.models import Message

    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    log_page, on_free, on_theirs = LOG_EXPECTED[visitor]
    assert _outcome(client.get(reverse("casework:request_log"))) == log_page
    for which, expected in (("free", on_free), ("theirs", on_theirs)):
        case = cases[which]
        case.notices_by_post = True
        case.save(update_fields=["notices_by_post"])
        letter = Message.objects.create(
            request=case, direction=Message.Direction.TO_REQUESTER, kind="receipt", subject="s", body="b", by_post=True
        )
        path = reverse("casework:letter_posted", args=[case.reference, letter.pk])
        # No day given: the walk changes nothing ("ok" is the redirect back with a message).
        assert _outcome(client.post(path, {})) == expected, f"{visitor} recording a letter on {which}"
        letter.refresh_from_db()
        assert letter.posted_on is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_staff_page_answers_an_anonymous_visitor(client, cases, method):
    """Whatever the method, an anonymous visitor is sent to sign in (or refused the method), never shown data."""
    for pattern in _casework_patterns():
        kwargs = {
            name: URL_ARGUMENTS[name] if name in URL_ARGUMENTS else cases["free"].reference
            for name in pattern.pattern.converters
        }
        response = getattr(client, method)(reverse(f"casework:{pattern.name}", kwargs=kwargs))
        assert _outcome(response) in ("login", 405), pattern.name


def test_identity_staff_pages_still_answer_under_staff(client, dpo, cases):
    """Casework's /staff/ patterns leave identity's /staff/verification/ pages alone."""
    client.force_login(dpo)
    assert client.get(reverse("identity:verification_queue")).status_code == 200
    assert reverse("identity:verification_queue") == "/staff/verification/"
