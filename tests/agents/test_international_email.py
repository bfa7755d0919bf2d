"""Agents with an internationalised domain can sign up, and sign in however their browser writes the address."""

import pytest
from django.urls import reverse

from agents.models import Agent
from tests.agents.test_agents import PASSWORD, _code

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_signs_up_at_an_internationalised_domain_and_signs_in_with_its_ascii_form(client, mailoutbox):
    response = client.post(
        reverse("agents:sign_up"),
        {"full_name": "Zoë Agent", "email": "zoe@rechtsanwälte.example", "role": "Solicitor", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert mailoutbox[-1].to == ["zoe@rechtsanwälte.example"]
    client.post(reverse("agents:confirm_email"), {"code": _code(mailoutbox[-1])})
    assert Agent.objects.get().email_confirmed_at is not None

    response = client.post(
        reverse("agents:sign_in"), {"email": "zoe@xn--rechtsanwlte-ocb.example", "password": PASSWORD}
    )

    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == reverse("agents:second_factor")
