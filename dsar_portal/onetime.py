"""Secrets handed to people (one-time codes, link tokens): random, stored only as keyed hashes.

The kernel's kit for every app that sends someone a code or a link: requesters confirming their e-mail address,
agents signing in. ``OneTimeCode`` is the abstract row each app extends with what the code belongs to.
"""

import enum
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

CODE_DIGITS = 6


def new_code() -> str:
    """A numeric one-time code from a secure random source."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_link_token() -> str:
    """256 bits of randomness, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_hash(value: str, *, purpose: str) -> str:
    """Keyed hash of a secret, so a database leak reveals no usable code or link."""
    key = hashlib.sha256(f"{purpose}:".encode() + settings.FIELD_HASH_KEY).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def secret_matches(value: str, stored_hash: str, *, purpose: str) -> bool:
    # Constant time, so response timing reveals nothing about the stored code.
    return hmac.compare_digest(secret_hash(value, purpose=purpose), stored_hash)


class OneTimeCode(models.Model):
    """A code sent to someone's e-mail address: only a keyed hash is stored; single use,
    expiring in minutes, a handful of attempts. Issuing a new code retires the earlier
    ones. Checked by one_time_code_check."""

    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]


class CodeCheck(enum.Enum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"
    EXPIRED = "expired"  # expired, used up its attempts, or never issued


def one_time_code_check(live: QuerySet, code: str, *, purpose: str, max_attempts: int) -> CodeCheck:
    """Check a typed code against the newest live code in ``live`` (a OneTimeCode queryset).

    Each try counts against the code's attempts, right or wrong; a spent code
    cannot be used again.
    """
    code = "".join(code.split())
    now = timezone.now()
    with transaction.atomic():
        current = live.select_for_update().filter(used_at=None, retired_at=None).exclude(code_hash="").first()
        if current is None or current.expires_at <= now or current.attempts >= max_attempts:
            return CodeCheck.EXPIRED
        current.attempts += 1
        if secret_matches(code, current.code_hash, purpose=purpose):
            current.used_at = now
            current.save(update_fields=["attempts", "used_at"])
            return CodeCheck.CONFIRMED
        current.save(update_fields=["attempts"])
        return CodeCheck.WRONG
