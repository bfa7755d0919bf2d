"""Field-level encryption and keyed lookup hashes for requester personal data.

Why this exists: names, e-mail addresses, identifiers and free text that a data
subject gives us must not sit in the database (or its backups) in clear text.
Values are sealed with AES-256-GCM under a named key so that keys can be
rotated: the first key in ``settings.FIELD_ENCRYPTION_KEYS`` encrypts, every
listed key can still decrypt. Because encrypted values cannot be searched, a
keyed HMAC of the normalised e-mail address is stored alongside for lookups.

Stored token format (compact ASCII, safe for a text column)::

    v1:<kid>:<urlsafe-base64 without padding of (12-byte nonce + ciphertext + tag)>

The header ``v1:<kid>`` is authenticated as GCM associated data, so a token
whose version or key id has been altered fails to decrypt instead of being
silently read under another key.

Settings are read at call time (never at import time) so that
``override_settings`` works and a settings change needs no restart logic here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "KEY_ID_RE",
    "DecryptionError",
    "decrypt",
    "derived_key",
    "email_lookup_hash",
    "encrypt",
    "generate_key",
    "lookup_hash",
    "needs_rotation",
    "normalise_email",
    "parse_key_list",
    "reencrypt",
]

TOKEN_VERSION = "v1"
KEY_LENGTH = 32  # AES-256
NONCE_LENGTH = 12  # 96-bit nonce, the size GCM is designed for
TAG_LENGTH = 16
KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Unpadded or padded urlsafe base64; "+" and "/" are rejected on purpose.
_URLSAFE_B64_RE = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")


class DecryptionError(Exception):
    """A stored token could not be decrypted (malformed, unknown key id or tampered).

    Messages never contain plaintext or key material, so they are safe to log.
    """


# --------------------------------------------------------------------------
# Key handling
# --------------------------------------------------------------------------


def _b64decode_urlsafe(value: str) -> bytes:
    """Strictly decode urlsafe base64, with or without "=" padding."""
    if not _URLSAFE_B64_RE.fullmatch(value):
        raise ValueError("not urlsafe base64")
    stripped = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not urlsafe base64") from None


def _b64encode_urlsafe(data: bytes) -> str:
    """Encode as urlsafe base64 without padding (shorter tokens, no "=" noise)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_key_list(value: str) -> dict[str, bytes]:
    """Parse ``"kid:<urlsafe-b64 key>,kid2:<...>"`` from an environment variable.

    Order is preserved: the first key is the active one, the rest only decrypt
    (rotation). Error messages name the entry position and never echo key
    material, because they end up in deployment logs.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Encryption key list is empty; expected 'kid:<base64 key>[,...]'.")
    keys: dict[str, bytes] = {}
    for position, raw_entry in enumerate(value.split(","), start=1):
        entry = raw_entry.strip()
        if not entry:
            raise ValueError(f"Encryption key list entry {position} is empty (stray comma?).")
        kid, sep, encoded = entry.partition(":")
        kid = kid.strip()
        encoded = encoded.strip()
        if not sep:
            raise ValueError(f"Encryption key list entry {position} has no ':'; expected 'kid:<base64 key>'.")
        if not KEY_ID_RE.fullmatch(kid):
            # Deliberately not echoing the id: a swapped 'key:kid' would leak the key.
            raise ValueError(
                f"Encryption key list entry {position} has an invalid key id; it must match {KEY_ID_RE.pattern}."
            )
        if kid in keys:
            raise ValueError(f"Encryption key list has a duplicate key id {kid!r}.")
        try:
            key = _b64decode_urlsafe(encoded)
        except ValueError:
            raise ValueError(
                f"Encryption key {kid!r} is not valid urlsafe base64 (use '-' and '_' rather than '+' and '/')."
            ) from None
        if len(key) != KEY_LENGTH:
            raise ValueError(f"Encryption key {kid!r} decodes to {len(key)} bytes; AES-256 needs exactly {KEY_LENGTH}.")
        keys[kid] = key
    return keys


def generate_key() -> str:
    """Return a fresh random 32-byte key as urlsafe base64, for use in key lists."""
    return base64.urlsafe_b64encode(os.urandom(KEY_LENGTH)).decode("ascii")


def _encryption_keys() -> dict[str, bytes]:
    """Read and sanity-check ``FIELD_ENCRYPTION_KEYS`` at call time.

    A misconfiguration is an operator error, so it is reported as
    ImproperlyConfigured rather than as a DecryptionError.
    """
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None)
    if not isinstance(keys, dict) or not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be a non-empty dict of key id -> 32-byte key.")
    for kid, key in keys.items():
        if not isinstance(kid, str) or not KEY_ID_RE.fullmatch(kid):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS has an invalid key id; ids must match {KEY_ID_RE.pattern}."
            )
        if not isinstance(key, bytes) or len(key) != KEY_LENGTH:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS[{kid!r}] must be exactly {KEY_LENGTH} bytes.")
    return keys


def _active_key_id() -> str:
    return next(iter(_encryption_keys()))


def _hash_key() -> bytes:
    key = getattr(settings, "FIELD_HASH_KEY", None)
    if not isinstance(key, bytes) or len(key) != KEY_LENGTH:
        raise ImproperlyConfigured(f"FIELD_HASH_KEY must be exactly {KEY_LENGTH} bytes.")
    return key


# --------------------------------------------------------------------------
# Encryption
# --------------------------------------------------------------------------


def _associated_data(kid: str) -> bytes:
    """The authenticated header: binds format version and key id to the ciphertext."""
    return f"{TOKEN_VERSION}:{kid}".encode("ascii")


def _split_token(token: str) -> tuple[str, bytes]:
    """Return (kid, nonce+ciphertext) or raise DecryptionError for a malformed token."""
    if not isinstance(token, str):
        raise DecryptionError("Encrypted value must be a str token.")
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise DecryptionError("Encrypted value is not a v1 token.")
    _, kid, payload = parts
    if not KEY_ID_RE.fullmatch(kid):
        raise DecryptionError("Encrypted value has an invalid key id.")
    if "=" in payload:
        raise DecryptionError("Encrypted value payload is not valid base64.")
    try:
        blob = _b64decode_urlsafe(payload)
    except ValueError:
        raise DecryptionError("Encrypted value payload is not valid base64.") from None
    if len(blob) < NONCE_LENGTH + TAG_LENGTH:
        raise DecryptionError("Encrypted value payload is too short.")
    return kid, blob


def _token_key_id(token: str) -> str:
    return _split_token(token)[0]


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` under the active key with a fresh random nonce.

    A random nonce per value means equal inputs give different tokens, so the
    database does not reveal which requesters share a name or address.
    """
    if not isinstance(plaintext, str):
        raise TypeError(f"encrypt() expects str, got {type(plaintext).__name__}.")
    keys = _encryption_keys()
    kid = next(iter(keys))
    nonce = os.urandom(NONCE_LENGTH)
    ciphertext = AESGCM(keys[kid]).encrypt(nonce, plaintext.encode("utf-8"), _associated_data(kid))
    return f"{TOKEN_VERSION}:{kid}:{_b64encode_urlsafe(nonce + ciphertext)}"


def decrypt(token: str) -> str:
    """Decrypt a token with the key named in it (active or retired).

    Raises DecryptionError if the token is malformed, names a key we no longer
    hold, or fails authentication (tampered, or header rewritten).
    """
    kid, blob = _split_token(token)
    keys = _encryption_keys()
    key = keys.get(kid)
    if key is None:
        raise DecryptionError(f"Encrypted value uses unknown key id {kid!r}.")
    nonce, ciphertext = blob[:NONCE_LENGTH], blob[NONCE_LENGTH:]
    try:
        data = AESGCM(key).decrypt(nonce, ciphertext, _associated_data(kid))
    except InvalidTag:
        raise DecryptionError(f"Encrypted value failed authentication under key id {kid!r}.") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("Decrypted value is not valid UTF-8.") from None


def needs_rotation(token: str) -> bool:
    """True if ``token`` was sealed with a key other than the currently active one."""
    return _token_key_id(token) != _active_key_id()


def reencrypt(token: str) -> str:
    """Return ``token`` re-sealed under the active key (unchanged if already active).

    Used by rotation so stored ciphertext can be upgraded without the caller
    ever handling the plaintext.
    """
    if not needs_rotation(token):
        return token
    return encrypt(decrypt(token))


# --------------------------------------------------------------------------
# Lookup hashes
# --------------------------------------------------------------------------


def lookup_hash(value: str) -> str:
    """Hex HMAC-SHA256 of ``value`` under ``FIELD_HASH_KEY``.

    Keyed (not a bare SHA-256) so that a leaked table cannot be reversed by
    hashing a list of known e-mail addresses.
    """
    if not isinstance(value, str):
        raise TypeError(f"lookup_hash() expects str, got {type(value).__name__}.")
    return hmac.new(_hash_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def derived_key(purpose: str) -> bytes:
    """A 32-byte key for one named purpose, derived from ``FIELD_HASH_KEY`` (HMAC-SHA256 of the purpose).

    Each use of a keyed hash outside the lookup columns (the erasure tombstone's hashes, a field anonymised by keyed
    hash) gets its own key, so a value hashed for one purpose cannot be matched against another's. The key is never
    stored or sent anywhere: it is derived again when needed.
    """
    if not purpose:
        raise ValueError("derived_key() needs a purpose.")
    return hmac.new(_hash_key(), b"dsar-portal derived key: " + purpose.encode("utf-8"), hashlib.sha256).digest()


def normalise_email(email: str) -> str:
    """Canonical form of an e-mail address for lookups: NFKC, stripped, lowercased, the domain in its IDNA form.

    The whole address is lowercased: strictly the local part is case-sensitive,
    but in practice no provider treats it so, and a requester who types their
    address differently must still find their request. NFKC runs first because
    it can turn exotic spaces (e.g. NBSP) into ones that strip() removes. An
    internationalised domain is one mailbox however it is written
    (``exämple.org``, ``EXÄMPLE.org``, ``xn--exmple-cua.org``, which browsers
    submit for the first), so it is kept as the ASCII form mail is delivered to.
    """
    address = unicodedata.normalize("NFKC", email).strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    try:
        # IDNA reads the ideographic full stop as a dot; NFKC has already folded the full-width ones.
        domain = domain.replace("\u3002", ".").encode("idna").decode("ascii")
    except UnicodeError:  # not a valid domain: the form refuses it; the lookup simply finds nothing
        pass
    return f"{local}@{domain}"


def email_lookup_hash(email: str) -> str:
    """Lookup hash of the normalised e-mail address."""
    return lookup_hash(normalise_email(email))
