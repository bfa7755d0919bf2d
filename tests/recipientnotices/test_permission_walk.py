"""Every staff action on a recipient notice, walked as every role and as an anonymous visitor: only staff who may
act on the case reach it, and a case handler only on a case that is free or theirs (GDPR Art. 32: object-level
checks)."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, get_resolver, reverse

from casework import roles
from recipientnotices import services
from recipientnotices.models import NoticeStatus
from tests.factories import StaffUserFactory, assignment_make

from .conftest import erasure_request

pytestmark = pytest.mark.django_db

ACTIONS = ("acknowledge", "judge", "retry", "posted")


def _member(role: str, username: str):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_the_walk_covers_every_action():
    (include,) = [p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "recipientnotices"]
    assert {pattern.name for pattern in include.url_patterns if isinstance(pattern, URLPattern)} == set(ACTIONS)


# On a free case and on a case assigned to another handler: "ok" means the action was let through.
EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": ("ok", "ok"),
    "handler": ("ok", 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(EXPECTED))
def test_each_visitor_may_act_on_a_notice_only_if_they_may(client, dpo, handler, mailing, tax_office, visitor):
    visitors = {
        "anonymous": None,
        "dpo": dpo,
        "handler": handler,
        "auditor": _member(roles.AUDITOR, "auditor"),
        "system_owner": _member(roles.SYSTEM_OWNER, "owner"),
        "staff_without_role": StaffUserFactory(username="no-role"),
    }
    notices = {}
    for which in ("free", "theirs"):
        request = erasure_request(email=f"{which}@example.com")
        (notices[which],) = services.notices_plan(request_id=request.pk, system_ids=[mailing.pk], change_kind="erase")
    assignment_make(notices["theirs"].request, _member(roles.CASE_HANDLER, "other-handler"))
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    for which, expected in zip(("free", "theirs"), EXPECTED[visitor], strict=True):
        notice = notices[which]
        for action in ACTIONS:
            url = reverse(f"recipientnotices:{action}", args=[notice.request.reference, notice.public_id])
            response = client.post(url, {f"j{notice.pk}-reason": "x", f"a{notice.pk}-answer": "x"})
            if response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL)):
                outcome = "login"
            elif response.status_code in (302, 400):
                outcome = "ok"
            else:
                outcome = response.status_code
            assert outcome == expected, f"{visitor} {action} on the {which} case"
        notice.refresh_from_db()
        assert (notice.status == NoticeStatus.SENT) is (expected == "ok"), f"{visitor} posted on the {which} case"
