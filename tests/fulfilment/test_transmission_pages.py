"""The staff pages of direct transmission (GDPR Art. 20(2)), walked as every role and as an anonymous visitor: the
register of receiving endpoints is the DPO's; the feasibility decision belongs to those who act on the case."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, get_resolver, reverse

from casework import roles
from casework import services as casework_services
from fulfilment import transmission
from fulfilment.models import ReceivingEndpoint, Transmission, TransmissionStatus
from requests_app.models import Right
from requests_app.scope import PortabilityScope
from tests.factories import StaffUserFactory, in_progress_request

pytestmark = pytest.mark.django_db


def _member(role: str, username: str):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def visitors(dpo, handler):
    return {
        "anonymous": None,
        "dpo": dpo,
        "handler": handler,
        "auditor": _member(roles.AUDITOR, "auditor"),
        "system_owner": _member(roles.SYSTEM_OWNER, "owner"),
        "staff_without_role": StaffUserFactory(username="no-role"),
    }


def _outcome(response) -> object:
    if response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL)):
        return "login"
    return response.status_code


def test_the_walk_covers_every_endpoint_page():
    (include,) = [p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "transmission"]
    names = {pattern.name for pattern in include.url_patterns if isinstance(pattern, URLPattern)}
    assert names == {"endpoint_list", "endpoint_new", "endpoint_detail", "endpoint_verify", "endpoint_rotate"}


ENDPOINT_EXPECTED = {
    "anonymous": "login",
    "dpo": "ok",
    "handler": 403,
    "auditor": 403,
    "system_owner": 403,
    "staff_without_role": 403,
}


@pytest.mark.parametrize("visitor", list(ENDPOINT_EXPECTED))
def test_only_the_dpo_keeps_the_register_of_endpoints(client, visitors, dpo, visitor):
    endpoint = transmission.endpoint_create(
        controller_name="NewBank Ltd", contact="", url="https://127.0.0.1:9/inbox", actor=dpo
    )
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    expected = ENDPOINT_EXPECTED[visitor]
    for name in ("endpoint_list", "endpoint_new", "endpoint_detail"):
        args = [endpoint.public_id] if name == "endpoint_detail" else []
        outcome = _outcome(client.get(reverse(f"transmission:{name}", args=args)))
        assert outcome == (200 if expected == "ok" else expected), f"{visitor} GET {name}"
    secret = endpoint.secret
    rotate = _outcome(client.post(reverse("transmission:endpoint_rotate", args=[endpoint.public_id])))
    assert rotate == (200 if expected == "ok" else expected)
    endpoint.refresh_from_db()
    assert (endpoint.secret != secret) is (expected == "ok")
    # No HTTP call is made for the others: refused before the service runs (the DPO's fails: nothing listens there).
    verify = _outcome(client.post(reverse("transmission:endpoint_verify", args=[endpoint.public_id])))
    assert verify == (302 if expected == "ok" else expected)
    new = client.post(reverse("transmission:endpoint_new"), {"controller_name": "X", "url": "https://x.example/"})
    assert _outcome(new) == (200 if expected == "ok" else expected)
    assert ReceivingEndpoint.objects.filter(controller_name="X").exists() is (expected == "ok")


def test_the_dpo_adds_an_endpoint_and_sees_its_secret_once(client, dpo):
    client.force_login(dpo)
    refused = client.post(
        reverse("transmission:endpoint_new"), {"controller_name": "NewBank", "url": "http://nb.example"}
    )
    assert refused.status_code == 400 and "https" in refused.content.decode()
    assert 'value="NewBank"' in refused.content.decode()
    response = client.post(
        reverse("transmission:endpoint_new"), {"controller_name": "NewBank", "url": "https://nb.example/inbox"}
    )
    endpoint = ReceivingEndpoint.objects.get()
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    detail = client.get(reverse("transmission:endpoint_detail", args=[endpoint.public_id])).content.decode()
    assert endpoint.secret not in detail and "Not verified" in detail
    listing = client.get(reverse("transmission:endpoint_list")).content.decode()
    assert "NewBank" in listing and "Transmission endpoints" in listing


# Deciding and retrying on a case: the DPO on any, a case handler on those they may see, nobody else.
DECIDE_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (302, 302),
    "handler": (302, 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(DECIDE_EXPECTED))
def test_each_visitor_may_decide_on_transmission_only_where_they_may(client, visitors, dpo, visitor):
    scope = PortabilityScope(transmit_to_controller=True, recipient_name="NewBank")
    free, theirs = (
        in_progress_request(right=Right.PORTABILITY, email=f"{n}@example.com", details=scope.as_details())
        for n in ("free", "theirs")
    )
    casework_services.request_assign(request=theirs, assignee=_member(roles.CASE_HANDLER, "handler-b"), actor=dpo)
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    for which, request, expected in (
        ("free", free, DECIDE_EXPECTED[visitor][0]),
        ("theirs", theirs, DECIDE_EXPECTED[visitor][1]),
    ):
        path = reverse("fulfilment:transmission_decide", args=[request.reference])
        assert _outcome(client.get(path)) in ("login", 405)
        response = client.post(path, {"feasible": "no", "reason": "No endpoint."})
        assert _outcome(response) == expected, f"{visitor} deciding on {which}"
        assert Transmission.objects.filter(request=request).exists() is (expected == 302)
        retry = client.post(reverse("fulfilment:transmission_retry", args=[request.reference]))
        # Nothing failed: the DPO and the handler are told so, or find nothing to retry where none was decided.
        assert _outcome(retry) == (302 if expected == 302 else expected)
        if expected == 302:
            assert Transmission.objects.get(request=request).status == TransmissionStatus.NOT_FEASIBLE
