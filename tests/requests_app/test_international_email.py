"""Addresses with internationalised domains: accepted, written to, and found again however they are typed."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from requests_app.models import DataSubjectRequest

pytestmark = pytest.mark.django_db(transaction=True)

RESTRICTION = {"restriction_ground": "accuracy_contested", "restriction_data": "My postal address"}


def _file(email: str):
    data = {"requester_role": "data_subject", "name": "José Núñez", "email": email, **RESTRICTION}
    return Client().post(reverse("requests_app:request_create", args=["restriction"]), data)


@pytest.mark.parametrize("email", ["jose@exämple.org", "user@例子.广告", "jose@xn--exmple-cua.org"])
def test_a_request_from_an_internationalised_domain_gets_its_confirmation_email(email):
    assert _file(email).status_code == 302

    [sent] = mail.outbox
    assert sent.to == [email]
    assert DataSubjectRequest.objects.get().requester_email == email
    # What the mail server is given: the domain in its ASCII form, which every mail system can deliver to.
    assert "@xn--" in sent.message()["To"]


def test_a_lost_link_is_found_whether_the_domain_is_typed_in_unicode_or_as_a_browser_sends_it():
    """Browsers submit an internationalised domain of an e-mail field in its ASCII (punycode) form."""
    assert _file("jose@exämple.org").status_code == 302
    request = DataSubjectRequest.objects.get()
    mail.outbox.clear()

    Client().post(
        reverse("requests_app:status_lost_link"),
        {"reference": request.reference, "email": "Jose@XN--EXMPLE-CUA.org"},
    )

    [sent] = mail.outbox
    assert sent.subject.startswith("Your link to follow your request")
    assert sent.to == ["jose@exämple.org"]


def test_requests_for_one_internationalised_address_share_its_limit_however_it_is_written(settings):
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "submit_per_email": (1, 86400)}
    assert _file("jose@exämple.org").status_code == 302
    assert _file("jose@xn--exmple-cua.org").status_code == 429
