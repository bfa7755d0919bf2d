"""The staff decisions on a further copy of a released answer (GDPR Art. 15(3)), walked as every role: those who act
on requests, on the cases they may see; nobody else. An empty form is sent, so the walk changes nothing."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse

from casework import roles
from casework import services as casework_services
from fulfilment import delivery
from fulfilment.models import FurtherCopy, FurtherCopyStatus, ReleaseRecipient
from tests.factories import StaffUserFactory, in_progress_request
from tests.fulfilment.delivery_support import available_release

pytestmark = pytest.mark.django_db

DECISIONS = ("further_copy_fee", "further_copy_paid", "further_copy_free", "further_copy_decline")

# visitor: (on a free case, on a case assigned to another handler)
EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (302, 302),
    "handler": (302, 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


def _member(role: str, username: str):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


def _outcome(response) -> object:
    if response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL)):
        return "login"
    return response.status_code


@pytest.fixture
def asked():
    roles.roles_ensure()
    dpo = _member(roles.DPO, "dpo")
    other = _member(roles.CASE_HANDLER, "handler-b")
    cases = {}
    for which, email in (("free", "free@example.com"), ("theirs", "theirs@example.com")):
        request = in_progress_request(email=email)
        source = available_release(request)
        cases[which] = delivery.further_copy_ask(request=request, source=source, asked_by=ReleaseRecipient.SUBJECT)
    casework_services.request_assign(request=cases["theirs"].request, assignee=other, actor=dpo)
    return {"dpo": dpo, "cases": cases}


@pytest.mark.parametrize("visitor", list(EXPECTED))
def test_each_visitor_may_decide_on_a_further_copy_only_where_they_may(client, asked, visitor):
    users = {
        "anonymous": None,
        "dpo": asked["dpo"],
        "handler": _member(roles.CASE_HANDLER, "handler-a"),
        "auditor": _member(roles.AUDITOR, "auditor"),
        "system_owner": _member(roles.SYSTEM_OWNER, "owner"),
        "staff_without_role": StaffUserFactory(username="no-role"),
    }
    user = users[visitor]
    if user is not None:
        client.force_login(user)
    on_free, on_theirs = EXPECTED[visitor]
    for name in DECISIONS:
        for which, expected in (("free", on_free), ("theirs", on_theirs)):
            further = asked["cases"][which]
            path = reverse(f"fulfilment:{name}", args=[further.request.reference, further.pk])
            assert _outcome(client.get(path)) in ("login", 405), f"{visitor} GET {name}"
            # An empty form: the case page again with its errors (400) for a fee, a payment or a closing; a free
            # issue needs nothing (302).
            outcome = _outcome(client.post(path, {}))
            if expected == 302:
                assert outcome == (302 if name == "further_copy_free" else 400), f"{visitor} {name} on {which}"
            else:
                assert outcome == expected, f"{visitor} {name} on {which}"
    for which, expected in (("free", on_free), ("theirs", on_theirs)):
        further = FurtherCopy.objects.get(pk=asked["cases"][which].pk)
        issued = FurtherCopyStatus.ISSUED if expected == 302 else FurtherCopyStatus.ASKED
        assert further.status == issued, f"{visitor} on {which}"
