"""Authorised agents: accounts with a second factor, filing for someone else, and the subject's own say."""

import hmac
import logging
from dataclasses import replace
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar_portal import filestore
from dsar_portal.crypto import normalise_email
from dsar_portal.onetime import CodeCheck, new_code, one_time_code_check, secret_hash
from identity import services as identity_services
from organisation.selectors import organisation_get
from requests_app import services as request_services
from requests_app.models import DocumentPurpose, RequesterRole

from . import tasks
from .models import Agent, AgentCode, AgentFiling

logger = logging.getLogger(__name__)

AGENT_CODE_PURPOSE = "agent-code"
CODE_LIFETIME = timedelta(minutes=15)
MAX_CODE_ATTEMPTS = 5


class AgentError(Exception):
    """A rule refuses what was asked; the message is safe to show."""


# --- Accounts -------------------------------------------------------------------------------------


def agent_sign_up(*, full_name: str, email: str, password: str, organisation_name: str, role: str) -> Agent | None:
    """Create an agent account and send a code to confirm the address.

    If the address already has an account, its owner is told by e-mail instead,
    and the caller shows the same page either way: sign-up reveals nothing about
    who has an account.
    """
    username = normalise_email(email)
    user_model = get_user_model()
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=username, email=email.strip(), password=password)
            agent = Agent.objects.create(
                user=user, full_name=full_name.strip(), organisation_name=organisation_name.strip(), role=role.strip()
            )
            _code_send(agent, AgentCode.Purpose.CONFIRM_EMAIL)
    except IntegrityError:
        existing = Agent.objects.filter(user__username=username).first()
        if existing is not None:
            transaction.on_commit(lambda: tasks.send_account_exists_notice.delay(existing.pk))
        return None
    logger.info("agent %s signed up", agent.pk)
    return agent


def _code_send(agent: Agent, purpose: str) -> AgentCode:
    now = timezone.now()
    AgentCode.objects.filter(agent=agent, purpose=purpose, used_at=None, retired_at=None).update(retired_at=now)
    # The code itself is made by the task at sending time, so it never passes through the broker.
    code = AgentCode.objects.create(agent=agent, purpose=purpose, code_hash="", expires_at=now + CODE_LIFETIME)
    transaction.on_commit(lambda: tasks.send_agent_code.delay(code.pk))
    return code


def agent_code_deliver(*, code_id: int) -> bool:
    """Make the secret, store its hash and e-mail it; a second run sends nothing."""
    with transaction.atomic():
        code = AgentCode.objects.select_for_update().select_related("agent__user").filter(pk=code_id).first()
        if code is None or code.code_hash or code.retired_at or code.used_at:
            return False
        secret = new_code()
        code.code_hash = secret_hash(secret, purpose=AGENT_CODE_PURPOSE)
        code.save(update_fields=["code_hash"])
        body = render_to_string(
            "agents/emails/agent_code.txt", {"agent": code.agent, "code": secret, "purpose": code.purpose}
        )
        EmailMessage(subject=str(code.get_purpose_display()), body=body, to=[code.agent.user.email]).send()
    return True


def account_exists_notice_deliver(*, agent_id: int) -> None:
    agent = Agent.objects.select_related("user").get(pk=agent_id)
    body = render_to_string(
        "agents/emails/account_exists.txt", {"agent": agent, "public_url": settings.DSAR_PUBLIC_URL}
    )
    EmailMessage(subject="Someone tried to open an account with your address", body=body, to=[agent.user.email]).send()


def agent_code_check(*, agent: Agent, purpose: str, code: str) -> bool:
    result = one_time_code_check(
        AgentCode.objects.filter(agent=agent, purpose=purpose),
        code,
        purpose=AGENT_CODE_PURPOSE,
        max_attempts=MAX_CODE_ATTEMPTS,
    )
    return result is CodeCheck.CONFIRMED


def agent_confirm_email(*, agent: Agent, code: str) -> bool:
    if agent.email_confirmed_at:
        return True
    if not agent_code_check(agent=agent, purpose=AgentCode.Purpose.CONFIRM_EMAIL, code=code):
        return False
    agent.email_confirmed_at = timezone.now()
    agent.save(update_fields=["email_confirmed_at"])
    return True


def agent_resend_confirmation(*, agent: Agent) -> None:
    if agent.email_confirmed_at is None:
        with transaction.atomic():
            _code_send(agent, AgentCode.Purpose.CONFIRM_EMAIL)


# --- The second factor -------------------------------------------------------------------------------


def agent_second_factor_start(*, agent: Agent) -> None:
    """Without an authenticator app, the second factor is a code sent to the confirmed address."""
    if not agent.uses_authenticator:
        with transaction.atomic():
            _code_send(agent, AgentCode.Purpose.SIGN_IN)


def agent_second_factor_check(*, agent: Agent, code: str) -> bool:
    if agent.uses_authenticator:
        return _totp_check(agent, agent.totp_secret, code, save=True)
    return agent_code_check(agent=agent, purpose=AgentCode.Purpose.SIGN_IN, code=code)


def _totp_check(agent: Agent, secret: str, code: str, *, save: bool) -> bool:
    code = "".join(code.split())
    totp = pyotp.TOTP(secret)
    now = timezone.now()
    for offset in (-1, 0, 1):  # allow one step of clock drift either way
        moment = now + timedelta(seconds=30 * offset)
        step = totp.timecode(moment)
        if agent.totp_last_step is not None and step <= agent.totp_last_step:
            continue  # a code is good once
        if hmac.compare_digest(totp.at(moment).encode(), code.encode()):
            agent.totp_last_step = step
            if save:
                agent.save(update_fields=["totp_last_step"])
            return True
    return False


def totp_new_secret() -> str:
    return pyotp.random_base32()


def totp_provisioning_uri(*, agent: Agent, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=agent.user.email, issuer_name=organisation_get().name)


def agent_enable_authenticator(*, agent: Agent, secret: str, code: str) -> bool:
    """Switch the agent to an authenticator app, once they prove it produces the right codes."""
    if not _totp_check(agent, secret, code, save=False):
        return False
    agent.totp_secret = secret
    agent.save(update_fields=["totp_secret", "totp_last_step"])
    return True


# --- Filing for someone ------------------------------------------------------------------------------


def request_submit_by_agent(
    *,
    agent: Agent,
    submission: request_services.Submission,
    authority_document,
    subject_email: str = "",
    received_at=None,
):
    """An authorised agent files for a data subject from their signed-in account.

    The agent's address is already confirmed, so the request goes straight to checking their authority (and,
    where we can reach them, the subject: ICO guidance on requests made on behalf of others). All of it commits
    together or not at all, the authority document's file included (``filestore.atomic``).
    """
    received_at = received_at or timezone.now()
    as_agent = replace(submission, requester_role=RequesterRole.AGENT, name=agent.full_name, email=agent.user.email)
    with filestore.atomic():
        request = request_services.request_file(
            submission=as_agent,
            received_at=received_at,
            email_confirmed_at=received_at,
            reason=_("Filed by an authorised agent"),
        )
        AgentFiling.objects.create(agent=agent, request=request)
        decision = identity_services.verification_start(request=request)
        # Their authority document is here already: the receipt goes, and no request for evidence.
        request_services.request_identity_check_begin(
            request=request, reason=decision.summary, on=request.clock_started_on
        )
        identity_services.request_evidence_upload(
            request=request, document=authority_document, purpose=DocumentPurpose.AUTHORITY
        )
        if subject_email.strip():
            identity_services.subject_confirmation_create(
                request=request, subject_email=subject_email, agent_name=agent.display_name
            )
    logger.info("request %s filed by agent %s", request.pk, agent.pk)
    return request
