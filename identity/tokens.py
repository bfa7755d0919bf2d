"""Secrets handed to people (codes, link tokens): random, stored only as keyed hashes."""

import hashlib
import hmac
import secrets

from django.conf import settings

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
