"""Names and free text on the public forms are plain text: what reaches staff and e-mails reads as what it is."""

import html as html_lib

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from requests_app import services
from requests_app.models import DataSubjectRequest, Status
from tests.factories import StaffUserFactory, in_progress_extendable, status_link_path_in

pytestmark = pytest.mark.django_db(transaction=True)

ABOUT_ME = {"requester_role": "data_subject", "name": "Grace Hopper", "email": "grace@example.com"}
RESTRICTION = {"restriction_ground": "accuracy_contested", "restriction_data": "My postal address"}
ONE_LINE = "Please use plain text on one line: no line breaks, control or text-direction characters."
PLAIN = "Please use plain text: no control or text-direction characters."
NO_LINK = "A name cannot contain a web or e-mail address."


def _post(client, **data):
    return client.post(
        reverse("requests_app:request_create", args=["restriction"]), {**ABOUT_ME, **RESTRICTION, **data}
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Grace\n\nYour account is locked, call 0800 000 000", ONE_LINE),
        ("name", "Grace \u202eHopper", ONE_LINE),
        ("name", "Grace\u2028Hopper", ONE_LINE),
        ("name", "Grace, sign in at https://evil.example", NO_LINK),
        ("name", "Grace evil.example", NO_LINK),
        ("customer_number", "C-1\r\n001", ONE_LINE),
        ("phone", "0700\u200e900", ONE_LINE),
        ("description", "I was a customer\u2066 until 2022", PLAIN),
        ("restriction_data", "My address\x1b[2J", PLAIN),
        ("address", "1 High St\x00", None),  # Django's own null-character check
    ],
)
def test_the_public_form_refuses_text_that_is_not_plain_and_keeps_what_was_typed(client, field, value, message):
    response = _post(client, **{field: value})

    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    if message:
        assert errors[0].startswith(message)
    page = html_lib.unescape(response.content.decode())
    assert 'value="grace@example.com"' in page
    assert not DataSubjectRequest.objects.exists()
    assert mail.outbox == []


def test_free_text_keeps_its_line_breaks_and_any_script(client):
    response = _post(
        client,
        name="Zoë O'Brien-李",
        description="First line\r\nSecond line\twith a tab, عربى and עברית",
        address="1 High Street\r\nLondon",
    )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert request.requester_name == "Zoë O'Brien-李"


def test_a_reply_and_a_withdrawal_reason_refuse_direction_characters(client):
    request = in_progress_extendable()
    services.request_clarification_ask(request=request, actor=StaffUserFactory(), question="Which newsletter?")
    browser = Client()
    browser.get(browser.get(status_link_path_in(mail.outbox[-1]))["Location"])

    reply = browser.post(reverse("requests_app:status_reply", args=[request.reference]), {"answer": "abc\u202edcb"})
    withdraw = browser.post(reverse("requests_app:status_withdraw", args=[request.reference]), {"reason": "x\u2067y"})

    assert reply.status_code == 400 and reply.context["form"].errors["answer"] == [PLAIN]
    assert withdraw.context["form"].errors["reason"] == [PLAIN]
    request.refresh_from_db()
    assert request.status == Status.AWAITING_CLARIFICATION
