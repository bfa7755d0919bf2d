"""Standard Webhooks signatures (https://www.standardwebhooks.com/), for the HTTP connector's requests and answers and
for the signed callbacks by which a system answers a search later.

A message is signed with HMAC-SHA256 over ``webhook-id.webhook-timestamp.body`` with a secret the portal and the
system share (base64, optionally prefixed ``whsec_``); the secret lives in an environment variable, never in the
database. ``standardwebhooks`` does the signing and checks the signature and the timestamp (within
``TOLERANCE`` either way); ``verify_callback`` adds replay protection: a message id seen once is refused for as long
as its timestamp could still pass.

Why it matters: a forged or replayed callback would put someone else's data, or stale data, into a person's access
answer (GDPR Art. 5(1)(d) accuracy, Art. 5(1)(f) integrity, Art. 32 security of processing).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import ipaddress
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

# The window standardwebhooks allows a message's timestamp either side of now (fixed in the library).
TOLERANCE = timedelta(minutes=5)
CACHE_PREFIX = "webhook-seen:"


class SignatureError(Exception):
    """A message's signature, timestamp or id is wrong, or it was seen before. The message says which, in words fit
    for a log: never the body, never the secret."""


class SecretError(Exception):
    """The signing secret is not a base64 key (``whsec_...``)."""


def _webhook(secret: str) -> Webhook:
    try:
        return Webhook(secret)
    except (EmptyWebhookSecretError, binascii.Error, ValueError, RuntimeError):
        raise SecretError("The signing secret must be a non-empty base64 key (optionally starting whsec_).") from None


def check_secret(secret: str) -> None:
    """Raise SecretError unless ``secret`` can sign."""
    _webhook(secret)


def sign(body: bytes, secret: str, *, msg_id: str = "", timestamp: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``: a fresh message id and now, unless given."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = timestamp or datetime.now(tz=UTC)
    signature = _webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }


def verify_signature(headers: Mapping[str, str], body: bytes, secret: str) -> str:
    """Check the signature and timestamp of a message; return its webhook-id. Raise SignatureError if wrong."""
    webhook = _webhook(secret)
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise SignatureError("The message body is not UTF-8 text.") from None
    lowered = {str(key).lower(): str(value) for key, value in headers.items()}
    try:
        webhook.verify(text, lowered, json_parse=False)
    except WebhookVerificationError as error:
        # The library's messages are fixed phrases ("Message timestamp too old", "No matching signature found").
        raise SignatureError(f"The message's signature was refused: {error}.") from None
    except (ValueError, binascii.Error):
        # A signature header that is not "v1,<base64>".
        raise SignatureError("The message's signature header is malformed.") from None
    return lowered["webhook-id"]


def verify_callback(headers: Mapping[str, str], body: bytes, secret: str) -> dict[str, Any]:
    """Verify a system's signed callback and return its JSON payload (an object).

    Refuses (SignatureError) a wrong signature, a timestamp more than ``TOLERANCE`` from now, a message id already
    accepted within the tolerance window (a replay), and a body that is not a JSON object. The id is remembered only
    after the signature is good, so nobody without the secret can use up a system's ids; it is remembered under a key
    derived from the secret, so two systems using the same ids do not collide.
    """
    msg_id = verify_signature(headers, body, secret)
    try:
        payload = json.loads(body)
    except ValueError:
        raise SignatureError("The message is signed but is not JSON.") from None
    if not isinstance(payload, dict):
        raise SignatureError("The message is signed but is not a JSON object.")
    key = CACHE_PREFIX + hmac.new(secret.encode(), msg_id.encode(), hashlib.sha256).hexdigest()
    # A timestamp passes while it is within TOLERANCE of now, either way: an id seen now could come back with a
    # passing timestamp for up to twice the tolerance. cache.add is atomic on Redis (SET NX) and locmem.
    window = int(2 * TOLERANCE.total_seconds()) + 60
    if not cache.add(key, 1, timeout=window):
        raise SignatureError("The message was already received (a replay), or the cache could not record it.")
    return payload


# --- Where a signed request may go ---------------------------------------------------------------------------------

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def outbound_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as the address of a signed request carrying personal data, or None: "invalid" (not
    a URL), "scheme" (not http(s) with a host), "credentials" (a user or password in it: the signature authenticates)
    or "insecure" (plain http to another host than this one, unless DSAR_CONNECTOR_HTTP_ALLOW_INSECURE). GDPR Art.
    32(1)(a): the identifiers sent and the data received travel encrypted. Used by the HTTP connector and by direct
    transmission, each saying it in its own words."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        return "invalid"
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host:
        return "scheme"
    if parts.username or parts.password:
        return "credentials"
    if parts.scheme == "http" and not _is_local(host) and not settings.DSAR_CONNECTOR_HTTP_ALLOW_INSECURE:
        return "insecure"
    return None


def _is_local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
