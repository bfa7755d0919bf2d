"""Agents' sign-in holds up under attack and under mishap: the address is not kept in clear, guesses are limited
per account, a spent code says so, a lost phone has recovery codes, and changing the second factor needs the
password again and is told by e-mail."""

import importlib
import re
import time

import pyotp
import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from agents import services, tasks
from agents.models import Agent, AgentNotice, AgentRecoveryCode
from agents.views import REAUTHENTICATED_AT, REAUTHENTICATION_SECONDS
from dsar_portal.crypto import email_lookup_hash
from tests.factories import AGENT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "Sol.Solicitor@LawFirm.example"
PASSWORD = AGENT_PASSWORD
SETTINGS_CHANGED = "Your sign-in settings changed"


def _code(message) -> str:
    return re.search(r"^\s+(\d{6})\s*$", message.body, re.M).group(1)


def _to_agent() -> list:
    return [message for message in mail.outbox if message.to == [EMAIL]]


def _sign_up(client: Client) -> Agent:
    client.post(
        reverse("agents:sign_up"),
        {
            "full_name": "Sam Solicitor",
            "email": EMAIL,
            "organisation_name": "",
            "role": "Solicitor",
            "password": PASSWORD,
        },
    )
    client.post(reverse("agents:confirm_email"), {"code": _code(_to_agent()[-1])})
    agent = services.agents_with_address(EMAIL).get()
    assert agent.email_confirmed_at is not None
    return agent


def _sign_in(client: Client, email: str = EMAIL, password: str = PASSWORD, **extra):
    return client.post(reverse("agents:sign_in"), {"email": email, "password": password}, **extra)


def _signed_in_agent(client: Client) -> Agent:
    agent = _sign_up(client)
    _sign_in(client)
    response = client.post(reverse("agents:second_factor"), {"code": _code(_to_agent()[-1])})
    assert response["Location"] == reverse("agents:dashboard")
    return agent


def _next_totp(secret: str, agent: Agent) -> str:
    """The app's current code, as if it were the next one (a TOTP code is good once, and tests do not wait)."""
    Agent.objects.filter(pk=agent.pk).update(totp_last_step=None)
    return pyotp.TOTP(secret).now()


def _turn_on_authenticator(client: Client, agent: Agent) -> tuple[str, list[str]]:
    """Re-authenticate, set up the app, and read the recovery codes off the page shown once."""
    client.post(reverse("agents:reauthenticate"), {"password": PASSWORD})
    client.get(reverse("agents:security"))
    secret = client.session["agent_new_totp_secret"]
    response = client.post(reverse("agents:security"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r'<code class="reference">([0-9a-f]{5}-[0-9a-f]{5})</code>', response.content.decode())
    return secret, codes


def _fresh_sign_in(client: Client) -> None:
    client.post(reverse("agents:sign_out"))
    assert _sign_in(client)["Location"] == reverse("agents:second_factor")


def _rate_counters_reset() -> None:
    # Only the counters: on Redis the cache also holds the session (and may share the server with the broker).
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("ratelimit:*")
    else:
        cache.clear()


# --- The address is not kept in clear ----------------------------------------------------------------


def _rows_mentioning(value: str) -> list:
    """Every text cell of auth_user and agents_agent that contains ``value``, ignoring case."""
    found = []
    with connection.cursor() as cursor:
        for table in ("auth_user", "agents_agent"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            for row in cursor.fetchall():
                found += [cell for cell in row if isinstance(cell, str) and value.lower() in cell.lower()]
    return found


def test_an_agents_e_mail_address_is_stored_only_encrypted_and_they_still_sign_in_with_it(mailoutbox):
    agent = _sign_up(Client())

    assert _rows_mentioning("lawfirm.example") == []
    user = get_user_model().objects.get(pk=agent.user_id)
    assert user.email == "" and user.username == email_lookup_hash(EMAIL)
    assert Agent.objects.get(pk=agent.pk).email == EMAIL
    # The address as typed at sign-in, in any case, finds the account; codes go to the address.
    assert _sign_in(Client(), email=EMAIL.lower())["Location"] == reverse("agents:second_factor")
    assert _to_agent()[-1].subject == "Sign in"


def test_existing_agent_accounts_have_their_address_moved_out_of_auth_user(mailoutbox):
    migration = importlib.import_module("agents.migrations.0005_agent_email_encrypted_recovery_codes")

    user = get_user_model().objects.create_user(username="old@lawfirm.example", email="Old@LawFirm.example")
    agent = Agent.objects.create(user=user, full_name="Old Agent", role="Solicitor")

    migration.encrypt_agent_addresses(django_apps, None)
    migration.encrypt_agent_addresses(django_apps, None)  # a second run changes nothing

    user.refresh_from_db()
    assert user.username == email_lookup_hash("old@lawfirm.example") and user.email == ""
    assert Agent.objects.get(pk=agent.pk).email.lower() == "old@lawfirm.example"
    assert _rows_mentioning("lawfirm.example") == []


# --- Password guesses are limited per account ----------------------------------------------------------


def test_password_guesses_on_one_account_are_limited_from_any_number_of_clients(mailoutbox, settings):
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "password_per_account": (3, 900)}
    _sign_up(Client())
    for guess in range(3):
        wrong = _sign_in(Client(), password=f"guess {guess}", REMOTE_ADDR=f"198.51.100.{guess}")
        assert "The e-mail address or password is not right." in wrong.content.decode()

    # A fourth client, even with the right password, is turned away with the sign-in's usual message.
    refused = _sign_in(Client(), REMOTE_ADDR="198.51.100.99")
    assert refused.status_code == 400
    assert "Too many attempts. Please wait 15 minutes and try again." in refused.content.decode()
    assert "agent_pending_second_factor" not in refused.wsgi_request.session

    # An address with no account is limited the same way, so the answer says nothing about who has one.
    for guess in range(3):
        _sign_in(Client(), email="nobody@example.com", REMOTE_ADDR=f"203.0.113.{guess}")
    unknown = _sign_in(Client(), email="nobody@example.com", REMOTE_ADDR="203.0.113.99")
    assert unknown.status_code == refused.status_code
    assert "Too many attempts. Please wait 15 minutes and try again." in unknown.content.decode()
    # The counters are keyed without the address in clear.
    keys = " ".join(str(key) for key in cache.keys("*")) if hasattr(cache, "keys") else " ".join(cache._cache)
    assert "lawfirm" not in keys.lower() and "nobody" not in keys


# --- A spent code says so ----------------------------------------------------------------------------


def test_an_e_mailed_sign_in_code_that_has_had_all_its_tries_says_to_sign_in_again(mailoutbox):
    _sign_up(Client())
    client = Client()
    _sign_in(client)
    good = _code(_to_agent()[-1])
    wrong = "000000" if good != "000000" else "111111"
    answers = [client.post(reverse("agents:second_factor"), {"code": wrong}).content.decode() for _ in range(5)]
    assert all("That code is not right, or it has expired." in answer for answer in answers[:4])
    assert "Too many wrong tries: this code no longer works. Sign in again" in answers[4]

    # Even the right code is now refused with the same advice, and signing in again sends a new one that works.
    spent = client.post(reverse("agents:second_factor"), {"code": good})
    assert spent.status_code == 400 and "Too many wrong tries" in spent.content.decode()
    _sign_in(client)
    response = client.post(reverse("agents:second_factor"), {"code": _code(_to_agent()[-1])})
    assert response["Location"] == reverse("agents:dashboard")


def test_a_confirmation_code_that_has_had_all_its_tries_says_to_ask_for_a_new_one(client, mailoutbox):
    client.post(
        reverse("agents:sign_up"),
        {"full_name": "Sam Solicitor", "email": EMAIL, "role": "Solicitor", "password": PASSWORD},
    )
    good = _code(_to_agent()[-1])
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        last = client.post(reverse("agents:confirm_email"), {"code": wrong})
    assert "Too many wrong tries: this code no longer works. Ask for a new code below." in last.content.decode()
    assert "Too many wrong tries" in client.post(reverse("agents:confirm_email"), {"code": good}).content.decode()


def test_authenticator_codes_refused_by_the_rate_limit_say_to_wait_not_that_the_code_is_wrong(mailoutbox, settings):
    client = Client()
    agent = _signed_in_agent(client)
    secret, _codes = _turn_on_authenticator(client, agent)
    _fresh_sign_in(client)
    _rate_counters_reset()
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "code_per_request": (2, 900)}
    for _ in range(2):
        wrong = client.post(reverse("agents:second_factor"), {"code": "000000"})
        assert "That code is not right, or it has expired." in wrong.content.decode()
    limited = client.post(reverse("agents:second_factor"), {"code": _next_totp(secret, agent)})
    assert limited.status_code == 400
    page = limited.content.decode()
    assert "Too many attempts. Please wait 15 minutes and try again." in page
    assert "That code is not right" not in page


# --- Recovery codes ----------------------------------------------------------------------------------


def test_turning_on_the_app_shows_ten_recovery_codes_once_and_keeps_only_their_hashes(mailoutbox):
    client = Client()
    agent = _signed_in_agent(client)
    _secret, codes = _turn_on_authenticator(client, agent)

    assert len(codes) == len(set(codes)) == 10
    stored = list(AgentRecoveryCode.objects.filter(agent=agent).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(code.replace("-", "") in stored_hash for code in codes for stored_hash in stored)
    # They are not on the next page, nor on the settings page.
    assert codes[0] not in client.get(reverse("agents:security")).content.decode()
    assert "You have 10 recovery codes left." in client.get(reverse("agents:dashboard")).content.decode()


def test_a_recovery_code_signs_in_once_in_place_of_the_app_and_the_agent_is_told(mailoutbox):
    client = Client()
    agent = _signed_in_agent(client)
    _secret, codes = _turn_on_authenticator(client, agent)

    _fresh_sign_in(client)
    notices_before = len([m for m in _to_agent() if m.subject == SETTINGS_CHANGED])
    typed = codes[3].upper().replace("-", " ")  # as someone might type it off paper
    assert client.post(reverse("agents:second_factor"), {"code": typed})["Location"] == reverse("agents:dashboard")
    assert "You have 9 recovery codes left." in client.get(reverse("agents:dashboard")).content.decode()
    notices = [m for m in _to_agent() if m.subject == SETTINGS_CHANGED]
    assert len(notices) == notices_before + 1 and "recovery code was used" in notices[-1].body

    _fresh_sign_in(client)
    reused = client.post(reverse("agents:second_factor"), {"code": codes[3]})
    assert reused.status_code == 400 and "That code is not right" in reused.content.decode()


def test_recovery_codes_are_not_accepted_from_an_agent_who_signs_in_with_e_mailed_codes(mailoutbox):
    client = Client()
    agent = _signed_in_agent(client)
    AgentRecoveryCode.objects.create(agent=agent, code_hash="0" * 64)
    _fresh_sign_in(client)
    response = client.post(reverse("agents:second_factor"), {"code": "abcde-12345"})
    assert response.status_code == 400 and "Enter the 6 digits." in response.content.decode()


def test_new_recovery_codes_need_the_password_and_app_again_and_replace_the_old_ones(mailoutbox):
    client = Client()
    agent = _signed_in_agent(client)
    secret, old_codes = _turn_on_authenticator(client, agent)
    session = client.session
    session[REAUTHENTICATED_AT] = time.time() - REAUTHENTICATION_SECONDS - 1
    session.save()

    # Without signing in again: sent to confirm it is them.
    assert client.post(reverse("agents:recovery_codes_new"))["Location"] == reverse("agents:reauthenticate")
    # The password alone is not enough once an app is set.
    alone = client.post(reverse("agents:reauthenticate"), {"password": PASSWORD})
    assert alone.status_code == 400
    wrong = client.post(reverse("agents:reauthenticate"), {"password": "nope", "code": _next_totp(secret, agent)})
    assert wrong.status_code == 400 and "The password or code is not right." in wrong.content.decode()
    confirmed = client.post(reverse("agents:reauthenticate"), {"password": PASSWORD, "code": _next_totp(secret, agent)})
    assert confirmed["Location"] == reverse("agents:security")

    response = client.post(reverse("agents:recovery_codes_new"))
    new_codes = re.findall(r'<code class="reference">([0-9a-f]{5}-[0-9a-f]{5})</code>', response.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert "recovery codes were made" in [m for m in _to_agent() if m.subject == SETTINGS_CHANGED][-1].body.lower()

    _fresh_sign_in(client)
    assert client.post(reverse("agents:second_factor"), {"code": old_codes[0]}).status_code == 400
    assert client.post(reverse("agents:second_factor"), {"code": new_codes[0]})["Location"] == reverse(
        "agents:dashboard"
    )


# --- Re-authentication and the notice e-mail -----------------------------------------------------------


def test_setting_up_an_authenticator_needs_the_password_again_within_ten_minutes(mailoutbox):
    client = Client()
    _signed_in_agent(client)
    assert client.get(reverse("agents:security"))["Location"] == reverse("agents:reauthenticate")
    assert client.post(reverse("agents:security"), {"code": "123456"})["Location"] == reverse("agents:reauthenticate")
    refused = client.post(reverse("agents:reauthenticate"), {"password": "not it"})
    assert refused.status_code == 400 and client.get(reverse("agents:security")).status_code == 302

    assert client.post(reverse("agents:reauthenticate"), {"password": PASSWORD})["Location"] == reverse(
        "agents:security"
    )
    assert client.get(reverse("agents:security")).status_code == 200
    session = client.session
    session[REAUTHENTICATED_AT] -= REAUTHENTICATION_SECONDS
    session.save()
    assert client.get(reverse("agents:security"))["Location"] == reverse("agents:reauthenticate")


def test_replacing_the_authenticator_needs_the_current_app_and_the_agent_is_told_each_time(mailoutbox):
    client = Client()
    agent = _signed_in_agent(client)
    old_secret, _codes = _turn_on_authenticator(client, agent)
    first = [m for m in _to_agent() if m.subject == SETTINGS_CHANGED]
    assert len(first) == 1 and "An authenticator app was turned on" in first[0].body
    assert "agents/password-reset/" in first[0].body

    session = client.session
    session.pop(REAUTHENTICATED_AT)
    session.pop("agent_new_totp_secret", None)
    session.save()
    client.post(reverse("agents:reauthenticate"), {"password": PASSWORD, "code": _next_totp(old_secret, agent)})
    client.get(reverse("agents:security"))
    new_secret = client.session["agent_new_totp_secret"]
    assert client.post(reverse("agents:security"), {"code": pyotp.TOTP(new_secret).now()}).status_code == 200
    agent.refresh_from_db()
    assert agent.totp_secret == new_secret
    notices = [m for m in _to_agent() if m.subject == SETTINGS_CHANGED]
    assert len(notices) == 2 and "Your authenticator app was replaced" in notices[-1].body


def test_the_settings_changed_notice_is_sent_once_however_often_its_task_runs(mailoutbox):
    client = Client()
    agent = _signed_in_agent(client)
    _turn_on_authenticator(client, agent)
    notice = AgentNotice.objects.get(agent=agent)
    assert notice.sent_at is not None
    sent = len(mail.outbox)
    assert tasks.send_sign_in_settings_notice.apply(args=[notice.pk]).get() is False
    assert len(mail.outbox) == sent
