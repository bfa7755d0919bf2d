"""How staff sign in: django-allauth with its MFA, shaped to the portal's rules.

Staff accounts are made by the DPO (never by sign-up); every staff account has a second factor (TOTP with recovery
codes, or a passkey); the TOTP secret is kept under the portal's own field-encryption keys; and pages that show
what the law protects most (identity evidence) ask for a factor again when none was given in the last few minutes
(GDPR Art. 32(1)(b): confidentiality of processing systems). The kernel knows no app: nothing here imports one.
"""

import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import authentication_step_completed
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt, is_mfa_enabled
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.dispatch import receiver
from django.http import HttpRequest

from dsar_portal import crypto

# When the session's user last gave a second factor (at sign-in or on a step-up), as a Unix time.
FACTOR_GIVEN_AT_SESSION_KEY = "dsar_factor_given_at"


class StaffAccountAdapter(DefaultAccountAdapter):
    """allauth's account rules for the portal's staff."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Staff accounts are created by the DPO in the admin; agents have their own sign-up (agents app).
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # Setting up the first factor right after signing in with the password asks for nothing more: there is no
        # factor yet to ask for. Once a factor exists, changing factors or recovery codes needs it again.
        if app == "allauth.mfa":
            user = getattr(context.request, "user", None)
            if user is None or not is_mfa_enabled(user):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)


class PortalMFAAdapter(DefaultMFAAdapter):
    """allauth's MFA with its stored secrets under the portal's keys (AES-256-GCM, rotatable key ids)."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)


@receiver(authentication_step_completed)
def _remember_factor(sender, request: HttpRequest, method: str, **kwargs) -> None:
    """Note when a second factor was given, at sign-in as on a step-up, so the step-up window starts from it."""
    if method == "mfa":
        request.session[FACTOR_GIVEN_AT_SESSION_KEY] = time.time()


def factor_given_recently(request: HttpRequest) -> bool:
    """Did the signed-in user give a second factor within the step-up window (ACCOUNT_REAUTHENTICATION_TIMEOUT)?"""
    given_at = request.session.get(FACTOR_GIVEN_AT_SESSION_KEY)
    if given_at is None:
        return False
    return time.time() - float(given_at) < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def step_up_needed(request: HttpRequest) -> bool:
    """For allauth's ``reauthentication_required(enabled=...)``: ask for a factor unless one was given recently."""
    return not factor_given_recently(request)


def staff_needs_factor(user: AbstractBaseUser) -> bool:
    """A staff account with no authenticator may open no staff or admin page until it sets one up."""
    return bool(getattr(user, "is_staff", False)) and not is_mfa_enabled(user)


def totp_authenticator_add(*, user: AbstractBaseUser, secret: str) -> Authenticator:
    """Give ``user`` an authenticator app (TOTP) with ``secret`` (base32), stored encrypted under the portal's keys.

    For accounts set up outside the sign-in pages (the demo's DPO); staff add their own factor on allauth's page.
    """
    return Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)})


def totp_secrets_reencrypt() -> int:
    """Re-seal every stored TOTP secret under the active field-encryption key; returns how many changed.

    Run by ``rotate_encryption_keys`` with the fields and files, so an old key can be retired.
    """
    changed = 0
    for authenticator in Authenticator.objects.filter(type=Authenticator.Type.TOTP).iterator(chunk_size=500):
        sealed = authenticator.data["secret"]
        if crypto.needs_rotation(sealed):
            authenticator.data["secret"] = crypto.reencrypt(sealed)
            authenticator.save(update_fields=["data"])
            changed += 1
    return changed
