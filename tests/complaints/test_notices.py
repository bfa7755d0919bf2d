"""UK refusal and completion notices point to the public complaint form (DPA 2018 s.164A)."""

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse

from organisation.selectors import organisation_get
from requests_app import services
from requests_app.models import RefusalGround
from tests.factories import StaffUserFactory, in_progress_request

# Notices are e-mailed after the commit.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_uk_refusal_names_the_public_complaint_form(settings):
    settings.DSAR_COMPLAINTS_URL = "https://portal.example.org/complaints/new/"
    request = in_progress_request()
    mail.outbox.clear()

    services.request_refuse(
        request=request,
        actor=StaffUserFactory(),
        ground=RefusalGround.MANIFESTLY_EXCESSIVE,
        reasons="Repeated.",
        note="3rd.",
    )

    [email] = mail.outbox
    assert "complaint form: https://portal.example.org/complaints/new/" in email.body


def test_an_eu_notice_does_not_offer_the_uk_complaint_form(settings):
    settings.DSAR_COMPLAINTS_URL = "https://portal.example.org/complaints/new/"
    organisation = organisation_get()
    organisation.jurisdiction = "DE"
    organisation.save()
    request = in_progress_request()
    mail.outbox.clear()

    services.request_refuse(
        request=request,
        actor=StaffUserFactory(),
        ground=RefusalGround.MANIFESTLY_EXCESSIVE,
        reasons="Repeated.",
        note="3rd.",
    )

    [email] = mail.outbox
    assert "/complaints/new/" not in email.body


def test_the_notices_name_the_address_the_complaint_form_is_served_at():
    form = reverse("complaints:complaint_create")
    assert django_settings.DSAR_COMPLAINTS_URL == django_settings.DSAR_PUBLIC_URL + form
