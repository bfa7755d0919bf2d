"""Agents cannot lock themselves out: a new confirmation code, a password reset that keeps the second factor,
and account e-mails that survive a mail server's bad moment without being sent twice."""

import logging
import re
import smtplib
from datetime import timedelta

import pyotp
import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents import services, tasks
from agents.models import Agent, AgentCode
from agents.views import CONFIRMATION_SENT_AT
from dsar_portal.crypto import email_lookup_hash
from tests.factories import AGENT_PASSWORD, AgentFactory

# Real commits: codes and links arrive by e-mail sent after commit.
pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "sol@lawfirm.example"
PASSWORD = AGENT_PASSWORD
NEW_PASSWORD = "a different and longer passphrase"


def _code(message) -> str:
    return re.search(r"^\s+(\d{6})\s*$", message.body, re.M).group(1)


def _reset_path(message, settings) -> str:
    url = re.search(re.escape(settings.DSAR_PUBLIC_URL) + r"(/agents/password-reset/\S+/)", message.body).group(1)
    return url


def _to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def _sign_up(client, email=EMAIL):
    return client.post(
        reverse("agents:sign_up"),
        {
            "full_name": "Sam Solicitor",
            "email": email,
            "organisation_name": "",
            "role": "Solicitor",
            "password": PASSWORD,
        },
    )


def _time_passes(client=None, *, minutes: int) -> None:
    """Move every recorded moment of this test back, as if ``minutes`` had passed."""
    delta = timedelta(minutes=minutes)
    for code in AgentCode.objects.all():
        AgentCode.objects.filter(pk=code.pk).update(
            created_at=code.created_at - delta, expires_at=code.expires_at - delta
        )
    if client is not None and CONFIRMATION_SENT_AT in client.session:
        session = client.session
        session[CONFIRMATION_SENT_AT] -= delta.total_seconds()
        session.save()


def _confirmed_agent(client, email=EMAIL) -> Agent:
    _sign_up(client, email)
    client.post(reverse("agents:confirm_email"), {"code": _code(_to(email)[-1])})
    agent = Agent.objects.get(user__username=email_lookup_hash(email))
    assert agent.email_confirmed_at is not None
    return agent


def _sign_in(client, email=EMAIL, password=PASSWORD):
    return client.post(reverse("agents:sign_in"), {"email": email, "password": password})


# --- A new confirmation code ----------------------------------------------------------------------


def test_an_agent_whose_code_expired_asks_for_a_new_one_and_confirms(client, mailoutbox):
    _sign_up(client)
    expired = _code(_to(EMAIL)[-1])
    _time_passes(client, minutes=16)

    refused = client.post(reverse("agents:confirm_email"), {"code": expired})
    assert refused.status_code == 400
    assert "ask for a new code below" in refused.content.decode()
    assert "Send me a new code" in refused.content.decode()

    response = client.post(reverse("agents:confirm_email_resend"), follow=True)
    assert "We have sent you a new code" in response.content.decode()
    assert len(_to(EMAIL)) == 2
    fresh = _code(_to(EMAIL)[-1])
    response = client.post(reverse("agents:confirm_email"), {"code": fresh})
    assert response["Location"] == reverse("agents:sign_in")
    assert Agent.objects.get().email_confirmed_at is not None


def test_an_unconfirmed_agent_who_signs_in_later_gets_a_new_code_instead_of_a_dead_end(mailoutbox):
    _sign_up(Client())  # the browser that signed up is gone
    _time_passes(minutes=16)

    browser = Client()
    response = _sign_in(browser)
    assert response["Location"] == reverse("agents:confirm_email")
    page = browser.get(response["Location"])
    assert "Your e-mail address is not confirmed yet" in page.content.decode()
    assert len(_to(EMAIL)) == 2
    browser.post(reverse("agents:confirm_email"), {"code": _code(_to(EMAIL)[-1])})

    # Confirmed: the same password now leads on to the second factor.
    assert _sign_in(browser)["Location"] == reverse("agents:second_factor")


def test_a_wrong_password_for_an_unconfirmed_account_reveals_nothing_and_sends_nothing(client, mailoutbox):
    _sign_up(Client())
    response = _sign_in(client, password="not the password")
    assert response.status_code == 400
    assert "The e-mail address or password is not right." in response.content.decode()
    assert len(_to(EMAIL)) == 1


def test_a_new_code_at_most_once_a_minute_with_the_same_answer_for_an_address_that_had_an_account(mailoutbox):
    _confirmed_agent(Client())
    new_account, existing_address = Client(), Client()
    _sign_up(new_account, "new@lawfirm.example")
    _sign_up(existing_address, EMAIL)
    sent = len(mail.outbox)

    answers = []
    for browser in (new_account, existing_address):
        too_soon = browser.post(reverse("agents:confirm_email_resend"), follow=True).content.decode()
        assert "Please wait a minute before asking for another code." in too_soon
        _time_passes(browser, minutes=1)
        later = browser.post(reverse("agents:confirm_email_resend"), follow=True)
        answers.append((later.status_code, later.redirect_chain, _messages(later)))

    assert answers[0] == answers[1]
    assert "We have sent you a new code. It works for 15 minutes." in answers[0][2]
    # Only the new account had a code to resend; the owner of the existing one gets no code.
    assert [message.to for message in mail.outbox[sent:]] == [["new@lawfirm.example"]]


def test_asking_for_new_codes_is_rate_limited_per_client(client, mailoutbox, settings):
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "account_email_per_client": (2, 3600)}
    _sign_up(client)
    for _ in range(2):
        _time_passes(client, minutes=1)
        assert "We have sent you a new code" in _messages(
            client.post(reverse("agents:confirm_email_resend"), follow=True)
        )
    _time_passes(client, minutes=1)
    response = client.post(reverse("agents:confirm_email_resend"), follow=True)
    assert "Too many attempts" in _messages(response)
    assert len(_to(EMAIL)) == 3


def _messages(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


# --- Password reset -------------------------------------------------------------------------------


def _with_authenticator(client, agent: Agent) -> str:
    """Sign in fully and switch the account to an authenticator app; returns its secret."""
    _sign_in(client)
    client.post(reverse("agents:second_factor"), {"code": _code(_to(EMAIL)[-1])})
    client.post(reverse("agents:reauthenticate"), {"password": PASSWORD})
    client.get(reverse("agents:security"))
    secret = client.session["agent_new_totp_secret"]
    client.post(reverse("agents:security"), {"code": pyotp.TOTP(secret).now()})
    agent.refresh_from_db()
    assert agent.uses_authenticator
    return secret


def test_a_reset_changes_the_password_ends_other_sessions_and_still_demands_the_authenticator(mailoutbox, settings):
    office = Client()
    agent = _confirmed_agent(office)
    secret = _with_authenticator(office, agent)
    assert office.get(reverse("agents:dashboard")).status_code == 200

    home = Client()
    response = home.post(reverse("agents:password_reset"), {"email": "SOL@lawfirm.example"})
    assert response["Location"] == reverse("agents:password_reset_sent")
    link = _reset_path(_to(EMAIL)[-1], settings)
    assert AgentCode.objects.get(purpose=AgentCode.Purpose.PASSWORD_RESET).code_hash not in link

    # The link leads to a page whose address holds no secret.
    response = home.get(link)
    assert response["Location"] == reverse("agents:password_reset_new")
    response = home.post(
        reverse("agents:password_reset_new"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("agents:sign_in")
    assert "Your password has been changed" in _messages(home.get(response["Location"]))
    assert home.get(reverse("agents:dashboard"))["Location"] == reverse("agents:sign_in")  # not signed in by it

    # The session that was open elsewhere has ended.
    assert office.get(reverse("agents:dashboard"))["Location"] == reverse("agents:sign_in")
    # The link works once.
    assert home.get(link).status_code == 404

    # The old password is refused, the new one leads to the authenticator, never to an e-mailed code.
    assert _sign_in(home).status_code == 400
    sent = len(mail.outbox)
    assert _sign_in(home, password=NEW_PASSWORD)["Location"] == reverse("agents:second_factor")
    assert "authenticator app" in home.get(reverse("agents:second_factor")).content.decode()
    assert len(mail.outbox) == sent
    assert home.get(reverse("agents:dashboard"))["Location"] == reverse("agents:sign_in")
    assert home.post(reverse("agents:second_factor"), {"code": "000000"}).status_code == 400
    agent.refresh_from_db()
    assert agent.totp_secret == secret
    agent.totp_last_step = None  # the code used to turn the app on may be the current one
    agent.save(update_fields=["totp_last_step"])
    response = home.post(reverse("agents:second_factor"), {"code": pyotp.TOTP(secret).now()})
    assert response["Location"] == reverse("agents:dashboard")


def test_a_reset_request_for_an_unknown_address_looks_identical(client, mailoutbox):
    AgentFactory(email=EMAIL)
    sent = len(mail.outbox)

    known = client.post(reverse("agents:password_reset"), {"email": EMAIL}, follow=True)
    unknown = client.post(reverse("agents:password_reset"), {"email": "nobody@example.com"}, follow=True)

    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("agents:password_reset_sent"), 302)]
    assert known.content == unknown.content
    assert [message.to for message in mail.outbox[sent:]] == [[EMAIL]]


def test_the_reset_forms_say_what_to_fix_and_keep_what_was_typed_but_never_a_password(client, mailoutbox, settings):
    response = client.post(reverse("agents:password_reset"), {"email": "sol@lawfirm"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert 'value="sol@lawfirm"' in response.content.decode()

    _confirmed_agent(Client())
    client.post(reverse("agents:password_reset"), {"email": EMAIL})
    client.get(_reset_path(_to(EMAIL)[-1], settings))
    for typed, expected in [
        ({"new_password1": "short", "new_password2": "short"}, "This password is too short."),
        ({"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}, "The two passwords are not the same."),
        ({"new_password1": "lawfirm.example sol", "new_password2": "lawfirm.example sol"}, "too similar"),
    ]:
        response = client.post(reverse("agents:password_reset_new"), typed)
        assert response.status_code == 400
        page = response.content.decode()
        assert expected in page and 'id="error-summary"' in page
        assert f'value="{typed["new_password1"]}"' not in page and f'value="{typed["new_password2"]}"' not in page
    # The link is still good after a mistake.
    response = client.post(
        reverse("agents:password_reset_new"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("agents:sign_in")


def test_a_reset_link_expires_after_an_hour_and_a_newer_link_replaces_it(client, mailoutbox, settings):
    _confirmed_agent(Client())
    client.post(reverse("agents:password_reset"), {"email": EMAIL})
    first = _reset_path(_to(EMAIL)[-1], settings)
    _time_passes(minutes=61)
    assert client.get(first).status_code == 404

    client.post(reverse("agents:password_reset"), {"email": EMAIL})
    second = _reset_path(_to(EMAIL)[-1], settings)
    _time_passes(minutes=2)
    client.post(reverse("agents:password_reset"), {"email": EMAIL})
    third = _reset_path(_to(EMAIL)[-1], settings)
    assert client.get(second).status_code == 404
    assert client.get(third)["Location"] == reverse("agents:password_reset_new")

    # A link opened, then left until it expired, no longer sets a password.
    _time_passes(minutes=61)
    response = client.post(
        reverse("agents:password_reset_new"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 404
    assert not _sign_in(Client(), password=NEW_PASSWORD).has_header("Location")


def test_reset_links_are_sent_at_most_once_a_minute(client, mailoutbox):
    AgentFactory(email=EMAIL)
    sent = len(mail.outbox)
    for _ in range(3):
        client.post(reverse("agents:password_reset"), {"email": EMAIL})
    assert len(mail.outbox) == sent + 1


def test_a_sign_in_begun_with_the_old_password_cannot_be_finished_after_a_reset(mailoutbox, settings):
    _confirmed_agent(Client())
    intruder = Client()
    assert _sign_in(intruder)["Location"] == reverse("agents:second_factor")
    sign_in_code = _code(_to(EMAIL)[-1])
    # The code's e-mail tells an owner who did not sign in where to change the password.
    assert f"{settings.DSAR_PUBLIC_URL}/agents/password-reset/\n" in _to(EMAIL)[-1].body

    owner = Client()
    owner.post(reverse("agents:password_reset"), {"email": EMAIL})
    owner.get(_reset_path(_to(EMAIL)[-1], settings))
    owner.post(reverse("agents:password_reset_new"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = intruder.post(reverse("agents:second_factor"), {"code": sign_in_code})
    assert response["Location"] == reverse("agents:sign_in")
    assert intruder.get(reverse("agents:dashboard"))["Location"] == reverse("agents:sign_in")


def test_a_reset_of_an_unconfirmed_account_confirms_the_address_it_was_sent_to(client, mailoutbox, settings):
    _sign_up(Client())
    _time_passes(minutes=16)
    client.post(reverse("agents:password_reset"), {"email": EMAIL})
    client.get(_reset_path(_to(EMAIL)[-1], settings))
    client.post(reverse("agents:password_reset_new"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert _sign_in(client, password=NEW_PASSWORD)["Location"] == reverse("agents:second_factor")


# --- The tasks behind these e-mails ---------------------------------------------------------------


class FlakyBackend(LocmemBackend):
    """A mail server that drops the connection on the first try and then works."""

    failures_left = 0

    def send_messages(self, email_messages):
        if FlakyBackend.failures_left:
            FlakyBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")
        return super().send_messages(email_messages)


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("connection refused")


def _run(task, object_id: int):
    """Run a task as a worker would, retries included (in-process they follow at once)."""
    result = task.apply(args=[object_id], throw=False)
    assert result.successful(), result.result
    return result.result


def _unsent_code(purpose: str) -> AgentCode:
    """An account with a code waiting for its task, as left by a request whose task is still queued."""
    agent = AgentFactory(email=EMAIL)
    return AgentCode.objects.create(
        agent=agent, purpose=purpose, code_hash="", expires_at=timezone.now() + timedelta(minutes=15)
    )


@pytest.mark.parametrize(
    ("task", "purpose"),
    [
        (tasks.send_agent_code, AgentCode.Purpose.SIGN_IN),
        (tasks.send_password_reset, AgentCode.Purpose.PASSWORD_RESET),
    ],
)
def test_code_and_link_e_mails_are_retried_after_an_smtp_error_and_a_second_run_sends_nothing(
    task, purpose, mailoutbox, settings
):
    code = _unsent_code(purpose)
    sent = len(mail.outbox)
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures_left = 1

    assert _run(task, code.pk) is True
    assert FlakyBackend.failures_left == 0
    assert len(mail.outbox) == sent + 1

    assert _run(task, code.pk) is False
    assert len(mail.outbox) == sent + 1


def test_the_account_exists_notice_is_sent_once_per_window_however_often_the_task_runs(mailoutbox, settings):
    agent = AgentFactory(email=EMAIL)
    sent = len(mail.outbox)
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures_left = 1

    assert _run(tasks.send_account_exists_notice, agent.pk) is True  # after one retry
    assert FlakyBackend.failures_left == 0
    assert _run(tasks.send_account_exists_notice, agent.pk) is False
    assert len(mail.outbox) == sent + 1
    assert "already has one" in mail.outbox[-1].body

    # Another sign-up attempt with the address, later on, is told about again.
    later = timezone.now() + services.ACCOUNT_EXISTS_NOTICE_WINDOW
    assert services.account_exists_notice_deliver(agent_id=agent.pk, now=later) is True
    assert len(mail.outbox) == sent + 2


def test_repeated_sign_ups_with_an_existing_address_notify_its_owner_once(mailoutbox):
    AgentFactory(email=EMAIL)
    sent = len(mail.outbox)
    for _ in range(3):
        _sign_up(Client())
    assert len(mail.outbox) == sent + 1


@pytest.mark.parametrize(
    ("task", "purpose"),
    [
        (tasks.send_agent_code, AgentCode.Purpose.SIGN_IN),
        (tasks.send_password_reset, AgentCode.Purpose.PASSWORD_RESET),
        (tasks.send_account_exists_notice, None),
    ],
)
def test_an_agent_e_mail_given_up_on_is_logged_by_id_only(task, purpose, mailoutbox, settings, caplog):
    code = _unsent_code(purpose or AgentCode.Purpose.SIGN_IN)
    object_id = code.pk if purpose else code.agent_id
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with caplog.at_level(logging.ERROR, logger="agents.tasks"):
        result = task.apply(args=[object_id], retries=task.max_retries, throw=False)

    assert result.failed()
    assert task.max_retries == 8 and task.retry_backoff
    [record] = [record for record in caplog.records if record.name == "agents.tasks"]
    text = record.getMessage()
    assert task.name in text and f"args=[{object_id}]" in text and "SMTPServerDisconnected" in text
    assert EMAIL not in text and "Sam" not in text
    if purpose is None:  # the slot was given back, so a later run still sends
        assert Agent.objects.get(pk=object_id).account_exists_notice_sent_at is None
