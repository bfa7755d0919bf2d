"""An agent account cannot make the organisation write to strangers at will, nor put its own words in that e-mail."""

import html as html_lib

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from requests_app.models import DataSubjectRequest
from tests.agents.test_agents import _agent_client, _file

pytestmark = pytest.mark.django_db(transaction=True)

LIMITED = "You have filed as many requests as we accept in a short time."


def _to_strangers(mailoutbox) -> list:
    return [m for m in mailoutbox if m.subject.startswith("Is someone acting for you?")]


def test_one_agent_account_can_make_at_most_ten_emails_to_strangers_a_day(client, mailoutbox):
    _agent_client(client, mailoutbox)
    for n in range(10):
        assert _file(client).status_code == 302, n

    refused = _file(client, subject_name="Pat Eleventh")

    assert refused.status_code == 429
    page = html_lib.unescape(refused.content.decode())
    assert LIMITED in page
    # What was typed is still there; only the file must be chosen again, and the page says so.
    assert 'value="Pat Eleventh"' in page
    assert "Please choose your file again" in page
    assert DataSubjectRequest.objects.count() == 10
    assert len(_to_strangers(mailoutbox)) == 10


def test_new_accounts_from_the_same_client_share_its_limit(client, mailoutbox, settings):
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "agent_filing_per_client": (2, 3600)}
    _agent_client(client, mailoutbox, email="first@agents.example")
    assert _file(client).status_code == 302
    assert _file(client).status_code == 302
    second = Client()
    _agent_client(second, mailoutbox, email="second@agents.example")

    assert _file(second).status_code == 429
    elsewhere = Client(REMOTE_ADDR="203.0.113.20")
    _agent_client(elsewhere, mailoutbox, email="third@agents.example")
    assert _file(elsewhere).status_code == 302
    assert len(_to_strangers(mailoutbox)) == 3


@pytest.mark.parametrize(
    "subject_name",
    [
        "Pat\n\nYour bank account is frozen. Call 0800 000 000",
        "Pat \u202eKcilc",
        "Pat, log in at https://evil.example/login",
        "Pat www.evil.example",
        "P" * 101,
    ],
)
def test_the_name_of_the_person_acted_for_must_be_a_plain_short_name(client, mailoutbox, subject_name):
    _agent_client(client, mailoutbox)

    response = _file(client, subject_name=subject_name)

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    assert _to_strangers(mailoutbox) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "Sam\r\nDear customer, your password expired"),
        ("full_name", "Sam https://evil.example"),
        ("full_name", "Sam\u2067Solicitor"),
        ("organisation_name", "evil.example"),
        ("organisation_name", "Law & Co\nClick here"),
        ("role", "Solicitor\u200f"),
        ("full_name", "S" * 101),
    ],
)
def test_sign_up_refuses_names_that_are_not_plain_text(client, field, value):
    data = {
        "full_name": "Sam Solicitor",
        "email": "sol@lawfirm.example",
        "organisation_name": "Law & Co",
        "role": "Solicitor",
        "password": "correct horse battery staple",
        field: value,
    }

    response = client.post(reverse("agents:sign_up"), data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Agent.objects.exists()


def test_the_subjects_email_starts_with_our_words_and_quotes_the_agents_names(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client, subject_name="Pat Client")

    [email] = _to_strangers(mailoutbox)
    lines = email.body.splitlines()

    assert lines[0] == "Hello,"
    assert "Sam Solicitor" not in "\n".join(lines[:5])  # the agent's words are not at the top
    assert "    > Sam Solicitor of Law & Co" in lines
    # Written to the address we hold for the subject: nothing beyond what is needed, not even the name the agent
    # gave for them.
    assert "Pat Client" not in email.body


def test_a_name_stored_before_the_rules_reaches_the_subject_plain_and_short(client, mailoutbox):
    agent = _agent_client(client, mailoutbox)
    Agent.objects.filter(pk=agent.pk).update(
        full_name="Sam\n\nURGENT: verify your account at https://evil.example/x \u202e" + "x" * 300
    )

    _file(client)

    [email] = _to_strangers(mailoutbox)
    [quoted] = [line for line in email.body.splitlines() if line.startswith("    > Sam")]
    assert "https://" not in email.body and "evil.example" not in email.body and "\u202e" not in email.body
    assert len(quoted) <= len("    > ") + 2 * 100 + len(" of ")
