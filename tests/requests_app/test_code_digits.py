"""The e-mail confirmation code takes the digits 0-9 only, as we send them."""

import pytest
from django.test import Client
from django.urls import reverse

from requests_app.forms import ConfirmEmailForm
from requests_app.models import DataSubjectRequest, EmailConfirmation, Status

FILING = {
    "requester_role": "data_subject",
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "access_scope": "all",
    "access_format": "report",
}
OTHER_DIGITS = {
    "Arabic-Indic": "١٢٣٤٥٦",
    "Eastern Arabic-Indic": "۱۲۳۴۵۶",
    "Devanagari": "१२३४५६",
    "fullwidth": "１２３４５６",
    "superscript": "¹²³⁴⁵⁶",
    "one fullwidth among ASCII": "12345６",
}


@pytest.mark.parametrize("script", OTHER_DIGITS)
def test_digits_other_than_0_to_9_are_refused_with_a_clear_message(script):
    form = ConfirmEmailForm(data={"code": OTHER_DIGITS[script]})

    assert not form.is_valid()
    assert form.errors["code"] == ["Type the code with the digits 0 to 9."]


def test_a_code_typed_with_spaces_still_counts():
    form = ConfirmEmailForm(data={"code": " 123 456 "})

    assert form.is_valid()
    assert form.cleaned_data["code"] == "123456"


@pytest.mark.django_db(transaction=True)
def test_a_code_in_other_digits_does_not_use_up_one_of_the_persons_tries():
    """The form stops it before the code is checked: the person keeps every attempt they had."""
    client = Client()
    filed = client.post(reverse("requests_app:request_create", args=["access"]), FILING)
    assert filed.status_code == 302
    request = DataSubjectRequest.objects.get()

    page = client.post(reverse("identity:status_confirm_email", args=[request.reference]), {"code": "١٢٣٤٥٦"})

    assert page.status_code == 400
    assert "Type the code with the digits 0 to 9." in page.content.decode()
    assert EmailConfirmation.objects.get(request=request).attempts == 0
    request.refresh_from_db()
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION
