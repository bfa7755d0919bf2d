"""Every /staff/systems/ page of the register, as each role and as an anonymous visitor (issue 12).

Like casework's walk, it resolves every URL pattern of the datasystems app, so a page added later is walked too; a
pattern the walk has no expectation for fails the test rather than being skipped.
"""

import pytest
from django.conf import settings
from django.urls import URLPattern, get_resolver, reverse

from datasystems.models import (
    DataSystem,
    PrivacyNoticeVersion,
    Purpose,
    Recipient,
    RegisterChange,
    SystemRecipient,
    Transfer,
)
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

VISITORS = ("anonymous", "dpo", "handler", "auditor", "system_owner", "staff_without_role")

# Pages read with GET: (on the owner's system "crm", on the DPO's system "billing"); pages about no system give the
# same outcome twice.
READ = {
    "system_list": {"anonymous": "login", "dpo": 200, "handler": 403, "auditor": 200, "system_owner": 200},
    "system_detail": {
        "anonymous": "login",
        "dpo": (200, 200),
        "handler": 403,
        "auditor": (200, 200),
        "system_owner": (200, 404),
    },
    "recipient_list": {"anonymous": "login", "dpo": 200, "handler": 403, "auditor": 200, "system_owner": 403},
    # The DPO's forms: nobody else opens them.
    "system_new": {"anonymous": "login", "dpo": 200, "handler": 403, "auditor": 403, "system_owner": 403},
    "system_edit": {"anonymous": "login", "dpo": (200, 200), "handler": 403, "auditor": 403, "system_owner": 403},
    "recipient_new": {"anonymous": "login", "dpo": 200, "handler": 403, "auditor": 403, "system_owner": 403},
    "recipient_edit": {"anonymous": "login", "dpo": 200, "handler": 403, "auditor": 403, "system_owner": 403},
    "notice_publish": {"anonymous": "login", "dpo": 200, "handler": 403, "auditor": 403, "system_owner": 403},
}
# Changes, sent as POST with an empty form so the walk changes nothing: the DPO gets the form back (400) or, for a
# removal of something that is not there, the system page (302); nobody else gets in. GET is refused (405).
WRITE = {
    "purpose_add": 400,
    "recipient_link": 400,
    "transfer_add": 400,
    "purpose_remove": 302,
    "recipient_unlink": 302,
    "transfer_remove": 302,
}
WRITE_OTHERS = {"anonymous": "login", "handler": 403, "auditor": 403, "system_owner": 403}


def _patterns() -> list[URLPattern]:
    resolver = get_resolver()
    (register,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "datasystems"]
    return list(register.url_patterns)


def test_the_walk_covers_every_register_page():
    assert {pattern.name for pattern in _patterns()} == set(READ) | set(WRITE)


@pytest.fixture
def visitors(dpo, handler, auditor, system_owner):
    return {
        "anonymous": None,
        "dpo": dpo,
        "handler": handler,
        "auditor": auditor,
        "system_owner": system_owner,
        "staff_without_role": StaffUserFactory(username="no-role"),
    }


def _outcome(response) -> object:
    if response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL)):
        return "login"
    return response.status_code


def _expected(table: dict, visitor: str) -> object:
    return table.get(visitor, 403)


def _kwargs(pattern: URLPattern, system: DataSystem, item_id: int = 999999) -> dict:
    values = {"system_id": system.pk, "item_id": item_id, "recipient_id": Recipient.objects.get().pk}
    return {name: values[name] for name in pattern.pattern.converters}


def _state() -> tuple:
    return (
        list(DataSystem.objects.values_list("name", "retention", "active").order_by("pk")),
        Purpose.objects.count(),
        SystemRecipient.objects.count(),
        Transfer.objects.count(),
        PrivacyNoticeVersion.objects.count(),
        RegisterChange.objects.count(),
    )


@pytest.mark.parametrize("visitor", VISITORS)
def test_each_visitor_reads_only_what_they_may(client, visitors, crm, billing, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    for pattern in _patterns():
        if pattern.name not in READ:
            continue
        expected = _expected(READ[pattern.name], visitor)
        on_crm, on_billing = expected if isinstance(expected, tuple) else (expected, expected)
        for system, wanted in ((crm, on_crm), (billing, on_billing)):
            path = reverse(f"datasystems:{pattern.name}", kwargs=_kwargs(pattern, system))
            assert _outcome(client.get(path)) == wanted, f"{visitor} opening {pattern.name} on {system}"


@pytest.mark.parametrize("visitor", VISITORS)
def test_each_visitor_changes_only_what_they_may(client, visitors, crm, billing, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    before = _state()
    for pattern in _patterns():
        for system in (crm, billing):
            path = reverse(f"datasystems:{pattern.name}", kwargs=_kwargs(pattern, system))
            if pattern.name in WRITE:
                expected = WRITE[pattern.name] if visitor == "dpo" else _expected(WRITE_OTHERS, visitor)
                assert _outcome(client.post(path, {})) == expected, f"{visitor} posting {pattern.name} on {system}"
                assert _outcome(client.get(path)) in ("login", 405), f"{visitor} GET {pattern.name}"
            elif pattern.name in ("system_new", "system_edit", "recipient_new", "recipient_edit", "notice_publish"):
                expected = 400 if visitor == "dpo" else _expected(WRITE_OTHERS, visitor)
                assert _outcome(client.post(path, {})) == expected, f"{visitor} posting {pattern.name} on {system}"
            else:
                assert _outcome(client.post(path, {})) in ("login", 405), f"{visitor} posting {pattern.name}"
    assert _state() == before, f"{visitor} changed the register"
