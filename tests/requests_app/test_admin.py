"""The admin shows personal data only to staff allowed to see it (requests_app.view_personal_data)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from requests_app import services
from tests.factories import StaffUserFactory, in_progress_extendable

pytestmark = pytest.mark.django_db

REASON = "Bob Example at 12 Acacia Avenue told me to stop"
REPLY = "I meant the newsletter sent to ada.home@example.net"
HIDDEN = "hidden: needs permission to see personal data"


def _staff(*codenames: str):
    user = StaffUserFactory()
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="requests_app"))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def request_with_the_requesters_words():
    request = in_progress_extendable(name="Ada Lovelace")
    services.request_clarification_ask(request=request, actor=StaffUserFactory(), question="Which e-mails?")
    services.request_clarification_answer(request=request, answer=REPLY)
    request.refresh_from_db()
    services.request_withdraw(request=request, reason=REASON)
    return request


VIEW_MODELS = ("view_datasubjectrequest", "view_requestevent", "view_message")


def test_staff_without_the_personal_data_permission_see_that_reasons_and_messages_are_hidden(
    client, request_with_the_requesters_words
):
    """Viewing the case in the admin does not show the requester's words, name or messages, only that they exist."""
    client.force_login(_staff(*VIEW_MODELS))
    url = reverse("admin:requests_app_datasubjectrequest_change", args=[request_with_the_requesters_words.pk])
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()

    assert "Bob Example" not in page and "Acacia" not in page
    assert "ada.home@example.net" not in page
    assert "Ada Lovelace" not in page
    assert HIDDEN in page
    # What is not personal still shows: the trail's moves and the messages' subjects.
    assert "Withdrawn" in page
    assert request_with_the_requesters_words.reference in page


def test_staff_with_the_personal_data_permission_see_reasons_and_messages(client, request_with_the_requesters_words):
    client.force_login(_staff(*VIEW_MODELS, "view_personal_data"))
    url = reverse("admin:requests_app_datasubjectrequest_change", args=[request_with_the_requesters_words.pk])
    page = client.get(url).content.decode()

    assert REASON in page
    assert "ada.home@example.net" in page
    assert "Ada Lovelace" in page
    assert HIDDEN not in page


def test_a_holiday_override_for_a_jurisdiction_the_portal_does_not_know_cannot_be_saved(client):
    """The DPO's holiday page offers only the supported jurisdictions (UK nations, EU/EEA): a mistyped code such as
    "UK" or "GB" would correct no calendar (LAW.md D6), so the form refuses it and the database rejects it too."""
    from django.db import IntegrityError, transaction

    from requests_app.models import HolidayOverride

    dpo = _staff("add_holidayoverride", "view_holidayoverride")
    client.force_login(dpo)
    url = reverse("admin:requests_app_holidayoverride_add")
    form = {"day": "2026-10-02", "is_holiday": "on", "reason": "Proclaimed bank holiday."}

    page = client.get(url).content.decode()
    assert '<option value="GB-SCT">Scotland</option>' in page and '<option value="HU">Hungary</option>' in page
    refused = client.post(url, {**form, "jurisdiction": "UK"})
    assert refused.status_code == 200 and "Select a valid choice." in refused.content.decode()
    assert not HolidayOverride.objects.exists()

    saved = client.post(url, {**form, "jurisdiction": "GB-ENG"})
    assert saved.status_code == 302
    assert HolidayOverride.objects.get().created_by == dpo

    with pytest.raises(IntegrityError), transaction.atomic():
        HolidayOverride.objects.create(jurisdiction="EN", day="2026-10-05", is_holiday=True, reason="Typo.")
