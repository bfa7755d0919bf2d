"""Authorised agents: accounts with a second factor, filing for someone else, and the subject's own say."""

import enum
import hmac
import logging
import re
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

import pyotp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar_portal import filestore
from dsar_portal.crypto import email_lookup_hash
from dsar_portal.onetime import CodeCheck, new_code, new_link_token, one_time_code_check, secret_hash
from identity import services as identity_services
from organisation.selectors import organisation_get
from requests_app import services as request_services
from requests_app.models import DocumentPurpose, RequesterRole

from . import tasks
from .models import Agent, AgentCode, AgentFiling, AgentNotice, AgentRecoveryCode

logger = logging.getLogger(__name__)

AGENT_CODE_PURPOSE = "agent-code"
RESET_LINK_PURPOSE = "agent-password-reset"
CODE_LIFETIME = timedelta(minutes=15)
MAX_CODE_ATTEMPTS = 5
RESET_LINK_LIFETIME = timedelta(hours=1)
RECOVERY_CODE_PURPOSE = "agent-recovery-code"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_RE = re.compile(r"[0-9a-f]{10}")
# One "someone tried to open an account with your address" e-mail per window, however many tries or retries.
ACCOUNT_EXISTS_NOTICE_WINDOW = timedelta(hours=1)


class CodeResult(enum.Enum):
    """What a typed code (e-mailed, authenticator or recovery) did; the caller turns it into a message."""

    ACCEPTED = "accepted"
    REFUSED = "refused"  # wrong, expired or never sent
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # this code has had all its tries: only a new one will do


# --- Accounts -------------------------------------------------------------------------------------


def agents_with_address(email: str) -> QuerySet[Agent]:
    """The account (at most one) whose address this is, found by its keyed look-up hash (the username)."""
    return Agent.objects.filter(user__username=email_lookup_hash(email))


def sign_in_account_key(email: str) -> str:
    """The per-account rate-limit key for an address: its keyed hash, never the address, whether or not
    an account has it (so the limit says nothing about who has one)."""
    return email_lookup_hash(email)


def agent_sign_up(*, full_name: str, email: str, password: str, organisation_name: str, role: str) -> Agent | None:
    """Create an agent account and send a code to confirm the address.

    If the address already has an account, its owner is told by e-mail instead,
    and the caller shows the same page either way: sign-up reveals nothing about
    who has an account.
    """
    username = email_lookup_hash(email)
    user_model = get_user_model()
    try:
        with transaction.atomic():
            # The address lives encrypted on the Agent; auth_user holds only its keyed hash.
            user = user_model.objects.create_user(username=username, email="", password=password)
            agent = Agent.objects.create(
                user=user,
                email=email.strip(),
                full_name=full_name.strip(),
                organisation_name=organisation_name.strip(),
                role=role.strip(),
            )
            _code_send(agent, AgentCode.Purpose.CONFIRM_EMAIL)
    except IntegrityError:
        existing = agents_with_address(email).first()
        if existing is not None:
            transaction.on_commit(lambda: tasks.send_account_exists_notice.delay(existing.pk))
        return None
    logger.info("agent %s signed up", agent.pk)
    return agent


def _code_send(agent: Agent, purpose: str, *, lifetime: timedelta = CODE_LIFETIME) -> AgentCode:
    now = timezone.now()
    AgentCode.objects.filter(agent=agent, purpose=purpose, used_at=None, retired_at=None).update(retired_at=now)
    # The code itself is made by the task at sending time, so it never passes through the broker.
    code = AgentCode.objects.create(agent=agent, purpose=purpose, code_hash="", expires_at=now + lifetime)
    task = tasks.send_password_reset if purpose == AgentCode.Purpose.PASSWORD_RESET else tasks.send_agent_code
    transaction.on_commit(lambda: task.delay(code.pk))
    return code


def _code_recently_sent(agent: Agent, purpose: str) -> bool:
    """True within the resend wait after the last code of this purpose, so no one can make us send in a loop."""
    wait = timedelta(seconds=settings.DSAR_EMAIL_CODE_RESEND_SECONDS)
    return AgentCode.objects.filter(agent=agent, purpose=purpose, created_at__gt=timezone.now() - wait).exists()


def _code_secret_claim(code_id: int, *, make_secret, hash_purpose: str) -> tuple[AgentCode, str] | None:
    """Make a code's secret once and store its keyed hash; None if it was made before, retired or used.

    Called inside the delivery's transaction; it locks only the code's row, so the agent's row is not held while
    the mail server answers.
    """
    code = AgentCode.objects.select_for_update(of=("self",)).select_related("agent__user").filter(pk=code_id).first()
    if code is None or code.code_hash or code.retired_at or code.used_at:
        return None
    secret = make_secret()
    code.code_hash = secret_hash(secret, purpose=hash_purpose)
    code.save(update_fields=["code_hash"])
    return code, secret


def agent_code_deliver(*, code_id: int) -> bool:
    """Make the secret, store its hash and e-mail it; a second run sends nothing."""
    with transaction.atomic():
        claimed = _code_secret_claim(code_id, make_secret=new_code, hash_purpose=AGENT_CODE_PURPOSE)
        if claimed is None:
            return False
        code, secret = claimed
        body = render_to_string(
            "agents/emails/agent_code.txt",
            {"agent": code.agent, "code": secret, "purpose": code.purpose, "public_url": settings.DSAR_PUBLIC_URL},
        )
        EmailMessage(subject=str(code.get_purpose_display()), body=body, to=[code.agent.email]).send()
    return True


def account_exists_notice_deliver(*, agent_id: int, now: datetime | None = None) -> bool:
    """Tell an account's owner that someone tried to sign up with their address: at most once per window.

    The window makes the notice idempotent (a retried or duplicated task sends
    one e-mail) and stops repeated sign-up attempts from flooding the owner's
    inbox. The slot is claimed before sending and given back if the mail server
    refuses, so a retry after an SMTP error still sends; no row lock is held
    while talking to the mail server.
    """
    now = now or timezone.now()
    with transaction.atomic():
        agent = Agent.objects.select_for_update(of=("self",)).select_related("user").filter(pk=agent_id).first()
        if agent is None:
            return False
        previous = agent.account_exists_notice_sent_at
        if previous is not None and now - previous < ACCOUNT_EXISTS_NOTICE_WINDOW:
            return False
        agent.account_exists_notice_sent_at = now
        agent.save(update_fields=["account_exists_notice_sent_at"])
    body = render_to_string(
        "agents/emails/account_exists.txt", {"agent": agent, "public_url": settings.DSAR_PUBLIC_URL}
    )
    try:
        EmailMessage(subject="Someone tried to open an account with your address", body=body, to=[agent.email]).send()
    except Exception:
        # Give the slot back (only if no later run took it), so the retry sends.
        Agent.objects.filter(pk=agent_id, account_exists_notice_sent_at=now).update(
            account_exists_notice_sent_at=previous
        )
        raise
    return True


def agent_code_check(*, agent: Agent, purpose: str, code: str) -> CodeResult:
    """Check an e-mailed code; once its tries are spent the answer says so, so the agent asks for a new one
    instead of retyping a code that can no longer work."""
    result = one_time_code_check(
        AgentCode.objects.filter(agent=agent, purpose=purpose),
        code,
        purpose=AGENT_CODE_PURPOSE,
        max_attempts=MAX_CODE_ATTEMPTS,
    )
    if result is CodeCheck.CONFIRMED:
        return CodeResult.ACCEPTED
    return CodeResult.TOO_MANY_ATTEMPTS if _code_tries_spent(agent, purpose) else CodeResult.REFUSED


def _code_tries_spent(agent: Agent, purpose: str) -> bool:
    """The live code (the one ``one_time_code_check`` looks at) is unexpired but has had all its tries."""
    current = (
        AgentCode.objects.filter(agent=agent, purpose=purpose, used_at=None, retired_at=None)
        .exclude(code_hash="")
        .first()
    )
    return current is not None and current.expires_at > timezone.now() and current.attempts >= MAX_CODE_ATTEMPTS


def agent_confirm_email(*, agent: Agent, code: str) -> CodeResult:
    if agent.email_confirmed_at:
        return CodeResult.ACCEPTED
    result = agent_code_check(agent=agent, purpose=AgentCode.Purpose.CONFIRM_EMAIL, code=code)
    if result is CodeResult.ACCEPTED:
        agent.email_confirmed_at = timezone.now()
        agent.save(update_fields=["email_confirmed_at"])
    return result


def agent_resend_confirmation(*, agent: Agent) -> bool:
    """Send a new confirmation code, unless the address is confirmed or one went out within the resend wait.

    Without this an agent whose code expired could neither confirm, nor sign in,
    nor sign up again with the same address.
    """
    with transaction.atomic():
        # Locked, so two resends at once cannot both pass the wait.
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        if agent.email_confirmed_at is not None or _code_recently_sent(agent, AgentCode.Purpose.CONFIRM_EMAIL):
            return False
        _code_send(agent, AgentCode.Purpose.CONFIRM_EMAIL)
    logger.info("agent %s: confirmation code sent again", agent.pk)
    return True


# --- Password reset ----------------------------------------------------------------------------------
# A reset proves control of the address and sets a new password; it never touches the second factor and
# never signs anyone in, so whoever resets still needs the authenticator app (or the e-mailed code) to get in.


def agent_password_reset_request(*, email: str) -> None:
    """E-mail a single-use reset link if the address has an active agent account.

    Returns nothing, so the caller gives the same answer whether or not there is
    an account. At most one link per resend wait, so the form cannot be used to
    flood someone's inbox.
    """
    agent = agents_with_address(email).filter(user__is_active=True).first()
    if agent is None:
        return
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        if _code_recently_sent(agent, AgentCode.Purpose.PASSWORD_RESET):
            return
        code = _code_send(agent, AgentCode.Purpose.PASSWORD_RESET, lifetime=RESET_LINK_LIFETIME)
    logger.info("agent %s: password reset link %s requested", agent.pk, code.pk)


def agent_password_reset_deliver(*, code_id: int) -> bool:
    """Make the link's token, store its keyed hash and e-mail the link; a second run sends nothing."""
    with transaction.atomic():
        claimed = _code_secret_claim(code_id, make_secret=new_link_token, hash_purpose=RESET_LINK_PURPOSE)
        if claimed is None:
            return False
        code, token = claimed
        body = render_to_string(
            "agents/emails/password_reset.txt",
            {
                "url": settings.DSAR_PUBLIC_URL + reverse("agents:password_reset_link", args=[token]),
                "minutes": int(RESET_LINK_LIFETIME.total_seconds() // 60),
            },
        )
        EmailMessage(subject="Reset your agent account password", body=body, to=[code.agent.email]).send()
    return True


def _reset_links_live(now: datetime) -> QuerySet[AgentCode]:
    return AgentCode.objects.filter(
        purpose=AgentCode.Purpose.PASSWORD_RESET, used_at=None, retired_at=None, expires_at__gt=now
    ).exclude(code_hash="")


def agent_password_reset_link_check(*, token: str) -> int | None:
    """The ID of the live reset link this token opens, or None (unknown, used, replaced or expired)."""
    code = _reset_links_live(timezone.now()).filter(code_hash=secret_hash(token, purpose=RESET_LINK_PURPOSE)).first()
    return code.pk if code is not None else None


def agent_password_reset_link_agent(*, code_id: int) -> Agent | None:
    """The agent whose live reset link this is, or None once it is used, replaced or expired."""
    code = _reset_links_live(timezone.now()).select_related("agent__user").filter(pk=code_id).first()
    return code.agent if code is not None else None


def agent_password_reset_complete(*, code_id: int, password: str) -> Agent | None:
    """Set a new password through a live reset link, used up in the same transaction.

    Changing the password ends every existing session of the account (Django
    checks each session against a hash of the password). The second factor
    stays as it was, and the caller does not sign the person in. Following the
    link proves control of the address, so an unconfirmed address counts as
    confirmed. Returns None if the link is no longer live.
    """
    now = timezone.now()
    agent_id = _reset_links_live(now).filter(pk=code_id).values_list("agent_id", flat=True).first()
    if agent_id is None:
        return None
    with transaction.atomic():
        # The agent's rows first, then its codes: the order every account operation here locks in.
        agent = Agent.objects.select_for_update().select_related("user").get(pk=agent_id)
        code = _reset_links_live(now).select_for_update().filter(pk=code_id).first()
        if code is None:  # used by another tab a moment ago
            return None
        code.used_at = now
        code.save(update_fields=["used_at"])
        AgentCode.objects.filter(
            agent_id=agent_id, purpose=AgentCode.Purpose.PASSWORD_RESET, used_at=None, retired_at=None
        ).update(retired_at=now)
        agent.user.set_password(password)
        agent.user.save(update_fields=["password"])
        if agent.email_confirmed_at is None:
            agent.email_confirmed_at = now
            agent.save(update_fields=["email_confirmed_at"])
    logger.info("agent %s: password reset with link %s", agent.pk, code.pk)
    return agent


# --- The second factor -------------------------------------------------------------------------------


def agent_second_factor_start(*, agent: Agent) -> None:
    """Without an authenticator app, the second factor is a code sent to the confirmed address."""
    if not agent.uses_authenticator:
        with transaction.atomic():
            _code_send(agent, AgentCode.Purpose.SIGN_IN)


def agent_second_factor_check(*, agent: Agent, code: str) -> CodeResult:
    """The second sign-in step: the authenticator's code (or, if the phone is lost, one recovery code), or the
    code e-mailed for this sign-in."""
    if agent.uses_authenticator:
        return _authenticator_check(agent, code)
    return agent_code_check(agent=agent, purpose=AgentCode.Purpose.SIGN_IN, code=code)


def _authenticator_check(agent: Agent, code: str) -> CodeResult:
    if recovery_code_shape(code):
        return CodeResult.ACCEPTED if _recovery_code_use(agent, code) else CodeResult.REFUSED
    return CodeResult.ACCEPTED if _totp_check(agent, agent.totp_secret, code, save=True) else CodeResult.REFUSED


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
    return pyotp.TOTP(secret).provisioning_uri(name=agent.email, issuer_name=organisation_get().name)


def agent_reauthenticate(*, agent: Agent, password: str, code: str) -> bool:
    """Prove again, before the second factor changes, that it is the account's owner at the keyboard:
    the password, and the current authenticator's code (or a recovery code) where one is set. A session
    left open on a shared computer is then not enough to take the account over."""
    if not agent.user.check_password(password):
        return False
    if agent.uses_authenticator:
        return _authenticator_check(agent, code) is CodeResult.ACCEPTED
    return True


def agent_enable_authenticator(*, agent: Agent, secret: str, code: str) -> list[str] | None:
    """Switch the agent to an authenticator app (or a new one), once they prove it produces the right codes.

    Returns a fresh set of recovery codes to show once, or None if the code was not right. The agent is
    told by e-mail, so a change they did not make does not go unnoticed.
    """
    # A code of the new app is checked on its own: the step last used belongs to the old app, and may well be
    # the one just used to re-authenticate a moment ago.
    last_step, agent.totp_last_step = agent.totp_last_step, None
    if not _totp_check(agent, secret, code, save=False):
        agent.totp_last_step = last_step
        return None
    with transaction.atomic():
        replaced = Agent.objects.select_for_update().get(pk=agent.pk).uses_authenticator
        agent.totp_secret = secret
        agent.save(update_fields=["totp_secret", "totp_last_step"])
        codes = _recovery_codes_issue(agent)
        _notice_send(agent, AgentNotice.Kind.AUTHENTICATOR_REPLACED if replaced else AgentNotice.Kind.AUTHENTICATOR_ON)
    logger.info("agent %s: authenticator %s", agent.pk, "replaced" if replaced else "turned on")
    return codes


# --- Recovery codes: single use, in place of the authenticator's code --------------------------------


def recovery_code_shape(code: str) -> bool:
    """True if what was typed looks like a recovery code (10 letters and digits, spaces and dashes aside)."""
    return bool(RECOVERY_CODE_RE.fullmatch(_recovery_code_normalise(code)))


def _recovery_code_normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _recovery_codes_issue(agent: Agent) -> list[str]:
    """A new set replaces the old one; only keyed hashes are kept, so the codes are shown this once."""
    AgentRecoveryCode.objects.filter(agent=agent).delete()
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT)]
    AgentRecoveryCode.objects.bulk_create(
        AgentRecoveryCode(agent=agent, code_hash=secret_hash(code, purpose=RECOVERY_CODE_PURPOSE)) for code in codes
    )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _recovery_code_use(agent: Agent, code: str) -> bool:
    """Accept an unused recovery code of this agent, and mark it used in the same transaction."""
    code_hash = secret_hash(_recovery_code_normalise(code), purpose=RECOVERY_CODE_PURPOSE)
    with transaction.atomic():
        row = (
            AgentRecoveryCode.objects.select_for_update().filter(agent=agent, used_at=None, code_hash=code_hash).first()
        )
        if row is None:
            return False
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        _notice_send(agent, AgentNotice.Kind.RECOVERY_CODE_USED)
    logger.info("agent %s: recovery code %s used", agent.pk, row.pk)
    return True


def agent_recovery_codes_regenerate(*, agent: Agent) -> list[str]:
    """A new set of recovery codes (the old ones stop working); the agent is told by e-mail."""
    with transaction.atomic():
        Agent.objects.select_for_update().filter(pk=agent.pk).exists()
        codes = _recovery_codes_issue(agent)
        _notice_send(agent, AgentNotice.Kind.RECOVERY_CODES_NEW)
    logger.info("agent %s: new recovery codes", agent.pk)
    return codes


# --- "Your sign-in settings changed" -----------------------------------------------------------------


def _notice_send(agent: Agent, kind: str) -> AgentNotice:
    notice = AgentNotice.objects.create(agent=agent, kind=kind)
    transaction.on_commit(lambda: tasks.send_sign_in_settings_notice.delay(notice.pk))
    return notice


def agent_notice_deliver(*, notice_id: int) -> bool:
    """E-mail the notice and mark it sent in the same transaction: a second run sends nothing, and a
    mail server's refusal leaves it unsent for the retry."""
    with transaction.atomic():
        notice = (
            AgentNotice.objects.select_for_update(of=("self",)).select_related("agent").filter(pk=notice_id).first()
        )
        if notice is None or notice.sent_at is not None:
            return False
        body = render_to_string(
            "agents/emails/sign_in_settings_changed.txt",
            {"change": notice.get_kind_display(), "public_url": settings.DSAR_PUBLIC_URL},
        )
        EmailMessage(subject="Your sign-in settings changed", body=body, to=[notice.agent.email]).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True


# --- Filing for someone ------------------------------------------------------------------------------


def request_submit_by_agent(
    *,
    agent: Agent,
    submission: request_services.Submission,
    authority_document,
    child: dict | None = None,
    received_at=None,
):
    """An authorised agent files for a data subject from their signed-in account.

    The agent's address is already confirmed, so the request goes straight to checking their authority (and,
    where we hold their contact details, the subject: ICO guidance on requests made on behalf of others; never at
    an address the agent gives, LAW.md I3). For a child, what the agent said about them (``child``: birth date or
    age, whether they live in Scotland) is kept with the check (DPA 2018 s.208; LAW.md I4). All of it commits
    together or not at all, the authority document's file included (``filestore.atomic``).
    """
    received_at = received_at or timezone.now()
    as_agent = replace(submission, requester_role=RequesterRole.AGENT, name=agent.full_name, email=agent.email)
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
        if child is not None:
            identity_services.verification_child_record(
                request=request, birth_date=child["birth_date"], age=child["age"], in_scotland=child["in_scotland"]
            )
        identity_services.subject_confirmation_create(request=request, agent_name=agent.display_name)
    logger.info("request %s filed by agent %s", request.pk, agent.pk)
    return request


# --- The demo's agents ---------------------------------------------------------------------------------


def demo_agent_save(*, full_name: str, email: str, organisation_name: str, role: str) -> Agent:
    """An agent account for the demo data, opened as ``agent_sign_up`` opens one, its address taken as confirmed.

    Demo addresses are at ``demo.example`` (RFC 2606: no mail is ever delivered there), so the account's owner is
    the demo itself; the password is random and the account is signed in to after a password reset, whose e-mail
    the demo portal writes to its folder. Run again, it returns the existing account.
    """
    agent = agents_with_address(email).first()
    if agent is None:
        agent = (
            agent_sign_up(
                full_name=full_name,
                email=email,
                password=secrets.token_urlsafe(16),
                organisation_name=organisation_name,
                role=role,
            )
            or agents_with_address(email).get()
        )
    if agent.email_confirmed_at is None:
        agent.email_confirmed_at = timezone.now()
        agent.save(update_fields=["email_confirmed_at"])
    return agent
