"""Headers and methods every page keeps: no cached copies of personal data, no browser features the portal does not
use, no server banner, and 405 for methods no page uses."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from agents.views import SECOND_FACTOR_DONE
from requests_app.models import DataSubjectRequest
from tests.factories import (
    AgentFactory,
    AgentFilingFactory,
    IdentityVerificationFactory,
    StaffUserFactory,
    SubjectConfirmationFactory,
    superuser,
)

pytestmark = pytest.mark.django_db(transaction=True)

FILING = {
    "requester_role": "data_subject",
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "access_scope": "all",
    "access_format": "report",
}


def _requester() -> tuple[Client, DataSubjectRequest]:
    """A browser that has just filed a request (so it may open its status page)."""
    client = Client()
    response = client.post(reverse("requests_app:request_create", args=["access"]), FILING)
    assert response.status_code == 302
    return client, DataSubjectRequest.objects.latest("pk")


def _agent() -> tuple[Client, DataSubjectRequest]:
    """A browser signed in as an agent (password and second factor), with one filed request."""
    agent = AgentFactory()
    filing = AgentFilingFactory(agent=agent)
    client = Client()
    client.force_login(agent.user)
    session = client.session
    session[SECOND_FACTOR_DONE] = True
    session.save()
    return client, filing.request


def _staff() -> tuple[Client, DataSubjectRequest]:
    """A browser signed in as a member of staff in the staff area who reviews identity evidence."""
    user = StaffUserFactory()
    for codename in ("view_staff_area", "act_on_request", "decide_verification", "view_evidence"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client, IdentityVerificationFactory().request


def _admin() -> tuple[Client, DataSubjectRequest]:
    client = Client()
    client.force_login(superuser())
    return client, _requester()[1]


# (who, method, URL, data): one page of each kind that shows a person's data.
PERSONAL_PAGES = {
    "requester's status page": (_requester, "get", lambda r: reverse("requests_app:status_detail", args=[r.reference])),
    "requester's withdrawal page": (
        _requester,
        "get",
        lambda r: reverse("requests_app:status_withdraw", args=[r.reference]),
    ),
    "requester's code posted on the status page": (
        _requester,
        "post",
        lambda r: reverse("identity:status_confirm_email", args=[r.reference]),
    ),
    "request form shown again with what was typed": (
        _requester,
        "post",
        lambda r: reverse("requests_app:request_create", args=["access"]),
    ),
    "agent's dashboard": (_agent, "get", lambda r: reverse("agents:dashboard")),
    "agent's re-authentication page": (_agent, "get", lambda r: reverse("agents:reauthenticate")),
    "agent's request form": (_agent, "get", lambda r: reverse("agents:request_create", args=["access"])),
    "staff queue": (_staff, "get", lambda r: reverse("casework:queue")),
    "staff case page": (_staff, "get", lambda r: reverse("casework:request_detail", args=[r.reference])),
    "admin list of requests": (_admin, "get", lambda r: reverse("admin:requests_app_datasubjectrequest_changelist")),
    "admin page of one request": (
        _admin,
        "get",
        lambda r: reverse("admin:requests_app_datasubjectrequest_change", args=[r.pk]),
    ),
}


@pytest.mark.parametrize("kind", PERSONAL_PAGES)
def test_pages_with_personal_data_tell_browsers_and_proxies_to_keep_no_copy(kind):
    """A shared computer's browser cache, or a proxy's, never keeps a page that shows someone's request."""
    who, method, url = PERSONAL_PAGES[kind]
    client, request = who()
    # Posted forms fail validation on purpose: the page comes back with what was typed.
    data = {"code": "000000"} if "code" in kind else {"name": "Grace Hopper", "email": "grace@example.com"}

    response = getattr(client, method)(url(request), data if method == "post" else None)

    assert response.status_code in {200, 400}, kind
    assert "no-store" in response["Cache-Control"]


def test_the_subject_asked_about_an_agent_gets_a_page_no_cache_keeps():
    token = "a-link-token-for-this-test-only-abcdefghijklmnop"
    SubjectConfirmationFactory(token=token)

    response = Client().get(reverse("identity:subject_confirm", args=[token]))

    assert response.status_code == 200
    assert "Is someone acting for you?" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


# --- Permissions-Policy -----------------------------------------------------------------------------------------

DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb", "interest-cohort", "browsing-topics")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/", 200),
        ("get", "/request/access/", 200),
        ("get", "/agents/", 302),
        ("get", "/status/no-such-reference/", 404),
        ("delete", "/", 405),
        ("get", "/healthz", 200),
    ],
)
def test_every_response_denies_browser_features_the_portal_never_uses(method, path, status):
    """Camera, microphone, location, payment, USB and ad-interest tracking stay off, for the portal and anything
    it could ever embed."""
    response = getattr(Client(), method)(path)

    assert response.status_code == status
    policy = dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))
    for feature in DENIED_FEATURES:
        assert policy[feature] == "()", feature


# --- No server banner -------------------------------------------------------------------------------------------


def test_the_portals_own_responses_name_no_server_software():
    response = Client().get("/")

    assert not response.has_header("Server")
    assert not response.has_header("X-Powered-By")


def test_the_readmes_proxy_example_drops_gunicorns_banner_and_hides_its_own_version():
    """gunicorn always sends ``Server: gunicorn`` and has no setting to drop it; the proxy in front must not pass it
    on, and must not announce its own version."""
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text()
    example = re.search(r"```nginx\n(.*?)```", readme, re.S)
    assert example, "the README has no nginx example"
    config = example.group(1)

    assert re.search(r"^\s*server_tokens off;", config, re.M)
    # nginx's default already hides an upstream's Server header; the example must not undo that.
    assert "proxy_pass_header Server" not in config
    assert re.search(r"^\s*proxy_pass http://", config, re.M)


# --- Methods no page uses ---------------------------------------------------------------------------------------

UNUSED_METHODS = ("DELETE", "PUT", "PROPFIND", "TRACE")


def _anonymous() -> tuple[Client, DataSubjectRequest]:
    client = Client()
    return client, DataSubjectRequest.objects.first() or _requester()[1]


PAGES = {
    "start": (_anonymous, lambda r: reverse("requests_app:start")),
    "request form": (_anonymous, lambda r: reverse("requests_app:request_create", args=["access"])),
    "lost link": (_anonymous, lambda r: reverse("requests_app:status_lost_link")),
    "status link": (_anonymous, lambda r: reverse("requests_app:status_link", args=["some-token"])),
    "status page": (_requester, lambda r: reverse("requests_app:status_detail", args=[r.reference])),
    "withdrawal page": (_requester, lambda r: reverse("requests_app:status_withdraw", args=[r.reference])),
    "code on the status page": (_requester, lambda r: reverse("identity:status_confirm_email", args=[r.reference])),
    "agent sign-in": (_anonymous, lambda r: reverse("agents:sign_in")),
    "agent dashboard, signed out": (_anonymous, lambda r: reverse("agents:dashboard")),
    "agent dashboard": (_agent, lambda r: reverse("agents:dashboard")),
    "agent's request": (_agent, lambda r: reverse("agents:request_open", args=[r.reference])),
    "staff queue": (_staff, lambda r: reverse("casework:queue")),
    "staff case": (_staff, lambda r: reverse("casework:request_detail", args=[r.reference])),
    "admin": (_admin, lambda r: reverse("admin:requests_app_datasubjectrequest_changelist")),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("method", UNUSED_METHODS)
def test_methods_no_page_uses_are_answered_405_and_change_nothing(page, method):
    """DELETE, PUT, PROPFIND and the like get 405 with the methods a page does take, before any view, sign-in
    redirect or CSRF check runs."""
    who, url = PAGES[page]
    client, request = who()
    status_before = DataSubjectRequest.objects.values_list("pk", "status").order_by("pk")
    before = list(status_before)

    response = client.generic(method, url(request))

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert list(status_before) == before
