"""The register says how each recipient is told of a change (GDPR Art. 19): by e-mail, by post, or by a signed HTTP
request to an allowed endpoint whose secret lives in a named environment variable, never in the database."""

import pytest
from django.urls import reverse

from datasystems.models import Recipient

pytestmark = pytest.mark.django_db

BASE = {"name": "Partner Ltd", "kind": "controller", "role": "Delivers orders", "country": "United Kingdom"}


def _post(client, **values):
    return client.post(reverse("datasystems:recipient_new"), {**BASE, **values})


def test_an_http_recipient_needs_an_allowed_endpoint_and_the_secrets_variable_name(client, dpo):
    client.force_login(dpo)
    response = _post(
        client, notify_by="http", notify_url="http://partner.example/notices", notify_secret_env="whsec_abc"
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Use https://" in page and "Name the environment variable" in page
    # What was typed is kept.
    assert 'value="http://partner.example/notices"' in page and 'value="Partner Ltd"' in page
    assert not Recipient.objects.exists()
    response = _post(
        client,
        notify_by="http",
        notify_url="https://partner.example/notices",
        notify_secret_env="PARTNER_NOTICE_SECRET",
    )
    assert response.status_code == 302
    saved = Recipient.objects.get()
    assert (saved.notify_by, saved.notify_secret_env) == ("http", "PARTNER_NOTICE_SECRET")


def test_a_url_with_credentials_is_refused(client, dpo):
    client.force_login(dpo)
    response = _post(
        client,
        notify_by="http",
        notify_url="https://user:pass@partner.example/notices",
        notify_secret_env="PARTNER_NOTICE_SECRET",
    )
    assert response.status_code == 400 and "No user name or password" in response.content.decode()


def test_an_email_recipient_needs_an_address_and_a_postal_one_an_address(client, dpo):
    client.force_login(dpo)
    assert "Give a contact e-mail" in _post(client, notify_by="email").content.decode()
    assert "Give a postal address" in _post(client, notify_by="post", email="a@b.example").content.decode()
    assert _post(client, notify_by="post", address="BX9 1AA").status_code == 302
