"""Direct transmission of a portability answer to another controller (GDPR Art. 20(2)): the register of receiving
controllers' endpoints, their verification, the case handler's feasibility decision, and the sending.

The rules (LAW.md §6(g)):

- GDPR Art. 20(2): the person has the right to have the data "transmitted directly from one controller to another,
  where technically feasible". Whether it is feasible is a decision a case handler records on the case page with its
  reason; not feasible, the person receives the answer to download instead (Art. 20(1)), and the reason is kept.
- GDPR Art. 5(1)(f), Art. 32: the answer goes only to a *verified* endpoint of the register: an HTTPS URL (plain
  HTTP only for localhost) that answered a signed verification challenge, proving it holds the shared secret. The
  archive is sent streamed, signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature`` over ``id.timestamp.body``), redirects never followed.
- Every attempt is a ``TransmissionAttempt`` row and every move of the transmission is in the request's audit trail
  (Art. 5(2) accountability); nothing personal is logged.

When it is sent: once the answer is released. A release becoming available (``review.release_make_available``)
calls ``portability_transmit_after_release(release_id)``, and a decision made after the release sends at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from datasystems import webhooks
from dsar_portal import filestore
from requests_app.audit import event_record
from requests_app.lifecycle import Lifecycle
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, Right
from requests_app.scope import PortabilityScope, scope_of

from .models import (
    Compilation,
    ReceivingEndpoint,
    Release,
    ReleaseStatus,
    Transmission,
    TransmissionAttempt,
    TransmissionStatus,
)

logger = logging.getLogger(__name__)

ARCHIVES = filestore.FileStore("archives")
RELEASES = filestore.FileStore("releases")
CHALLENGE_TYPE = "endpoint.verification"
TRANSMISSION_TYPE = "portability.archive"

TRANSMISSION_LIFECYCLE = Lifecycle(
    name="transmission",
    model=Transmission,
    transitions={
        # A decision may change until the answer is on its way.
        TransmissionStatus.NOT_FEASIBLE: frozenset({TransmissionStatus.PENDING}),
        TransmissionStatus.PENDING: frozenset({TransmissionStatus.NOT_FEASIBLE, TransmissionStatus.SENDING}),
        # Back to pending: a transient error, retried with backoff.
        TransmissionStatus.SENDING: frozenset(
            {TransmissionStatus.SENT, TransmissionStatus.FAILED, TransmissionStatus.PENDING}
        ),
        # Staff send again, or decide it is not feasible after all (the person downloads).
        TransmissionStatus.FAILED: frozenset({TransmissionStatus.PENDING, TransmissionStatus.NOT_FEASIBLE}),
        TransmissionStatus.SENT: frozenset(),
    },
    event_kind=EventKind.TRANSMISSION_STATUS_CHANGED,
)


class TransmissionError(Exception):
    """A decision or an endpoint the rules refuse; the message is for staff (no personal data, no secret)."""


class TransmissionTemporaryError(Exception):
    """The receiver could not be reached or answered 5xx: the task retries with backoff."""


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_attempts() -> int:
    """How many attempts before a transmission fails and waits for staff."""
    return _setting("FULFILMENT_MAX_ATTEMPTS", 5)


def sending_timeout() -> timedelta:
    """A transmission ``sending`` this long lost its worker: a later delivery of the task takes it over."""
    return timedelta(seconds=_setting("FULFILMENT_RUNNING_TIMEOUT_SECONDS", 30 * 60))


def _timeout() -> int:
    return int(settings.DSAR_CONNECTOR_HTTP_TIMEOUT)


# --- The register of endpoints -------------------------------------------------------------------------------------


def endpoint_url_check(url: str) -> str:
    """An absolute https:// URL without credentials (http:// only for localhost, or where the portal allows it for
    its HTTP connectors). GDPR Art. 32(1)(a): the answer travels encrypted."""
    url = url.strip()
    problem = webhooks.outbound_url_problem(url)
    if problem is not None:
        raise TransmissionError(
            {
                "invalid": "This is not a valid URL.",
                "scheme": "The endpoint must be an https:// URL with a host.",
                "credentials": "The URL must not hold credentials: requests are authenticated by their signature.",
                "insecure": "The endpoint must use https:// (plain http is allowed only for localhost).",
            }[problem]
        )
    return url


def secret_generate() -> str:
    """A fresh Standard Webhooks secret (``whsec_`` and 32 random bytes in base64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoint_create(*, controller_name: str, contact: str, url: str, actor: AbstractBaseUser) -> ReceivingEndpoint:
    """Add a receiving controller's endpoint, unverified, with a new secret (shown once to the DPO by the view)."""
    return ReceivingEndpoint.objects.create(
        controller_name=controller_name.strip(),
        contact=contact.strip(),
        url=endpoint_url_check(url),
        secret=secret_generate(),
        created_by=actor,
    )


def endpoint_update(
    *, endpoint: ReceivingEndpoint, controller_name: str, contact: str, url: str, active: bool
) -> ReceivingEndpoint:
    """Change an endpoint; a new URL needs a new verification (it may be someone else's server)."""
    url = endpoint_url_check(url)
    with transaction.atomic():
        locked = ReceivingEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.url != url:
            locked.verified_at = None
            locked.verified_by = None
            locked.verification_note = "The URL changed: verify the endpoint again."
        locked.controller_name = controller_name.strip()
        locked.contact = contact.strip()
        locked.url = url
        locked.active = active
        locked.save()
    return locked


def endpoint_secret_rotate(*, endpoint: ReceivingEndpoint) -> str:
    """A new secret for the endpoint (returned once, for the DPO to hand over); it must be verified again."""
    secret = secret_generate()
    with transaction.atomic():
        locked = ReceivingEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.secret = secret
        locked.verified_at = None
        locked.verified_by = None
        locked.verification_note = "A new secret was issued: verify the endpoint again."
        locked.save()
    return secret


def _opener() -> urllib.request.OpenerDirector:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        """A redirect would send the signed archive somewhere the register does not name."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
            return None

    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=ssl.create_default_context()), NoRedirect)


def endpoint_verify(*, endpoint: ReceivingEndpoint, actor: AbstractBaseUser) -> ReceivingEndpoint:
    """Verify an endpoint by a signed challenge: POST ``{"type": "endpoint.verification", "challenge": "..."}``
    signed with its secret; the endpoint proves it holds the secret and controls the URL by answering 200 with
    ``{"challenge": "<the same>"}``. Records who verified, when and how; raises TransmissionError (recorded in the
    note) when the endpoint did not answer as it must."""
    url = endpoint_url_check(endpoint.url)
    challenge = secrets.token_urlsafe(32)
    body = json.dumps({"type": CHALLENGE_TYPE, "challenge": challenge}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "dsar-portal", **webhooks.sign(body, endpoint.secret)}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (checked above)
    problem = ""
    try:
        with _opener().open(request, timeout=min(_timeout(), 30)) as response:
            answer = response.read(4096)
            status = response.status
        if status != 200:
            problem = f"The endpoint answered {status}; the challenge needs 200."
        else:
            try:
                echoed = json.loads(answer).get("challenge")
            except (ValueError, AttributeError):
                echoed = None
            if not isinstance(echoed, str) or not hmac.compare_digest(echoed, challenge):
                problem = "The endpoint did not echo the challenge."
    except urllib.error.HTTPError as error:
        error.close()
        problem = f"The endpoint answered {error.code}; the challenge needs 200."
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        problem = f"The endpoint could not be reached ({type(reason).__name__})."
    now = timezone.now()
    with transaction.atomic():
        locked = ReceivingEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if problem:
            locked.verified_at = None
            locked.verified_by = None
            locked.verification_note = f"Verification failed on {now:%Y-%m-%d %H:%M} UTC: {problem}"[:500]
        else:
            locked.verified_at = now
            locked.verified_by = actor
            locked.verification_note = "Answered the portal's signed challenge at this URL (Standard Webhooks)."
        locked.save(update_fields=["verified_at", "verified_by", "verification_note", "updated_at"])
    logger.info("transmission endpoint %s: verification %s", endpoint.pk, "failed" if problem else "passed")
    if problem:
        raise TransmissionError(problem)
    return locked


def verified_endpoints():
    return ReceivingEndpoint.objects.filter(active=True, verified_at__isnull=False)


# --- The feasibility decision --------------------------------------------------------------------------------------


def transmission_wanted(request: DataSubjectRequest) -> bool:
    """The person asked, on a portability request, for the data to go directly to another controller."""
    if request.right != Right.PORTABILITY:
        return False
    scope = scope_of(request)
    return isinstance(scope, PortabilityScope) and scope.transmit_to_controller


def _sendable_of(request_id: int) -> tuple[Compilation | None, Release | None]:
    """What may be sent now: the newest available release of the portability answer (nothing leaves the portal
    before it is reviewed and approved: fulfilment.review)."""
    release = (
        Release.objects.filter(request_id=request_id, status=ReleaseStatus.AVAILABLE, compilation__portability=True)
        .order_by("-copy_number")
        .first()
    )
    if release is not None:
        return release.compilation, release
    return None, None


def transmission_decide(
    *,
    request: DataSubjectRequest,
    feasible: bool,
    reason: str,
    endpoint: ReceivingEndpoint | None,
    actor: AbstractBaseUser,
) -> Transmission:
    """Record whether direct transmission is technically feasible (GDPR Art. 20(2)), with the reason, and to which
    verified endpoint. Feasible and the answer ready: it is sent (after this commits). Not feasible: the person
    downloads the answer instead (Art. 20(1)). A decision may change until the answer is on its way."""
    reason = reason.strip()
    if not transmission_wanted(request):
        raise TransmissionError("This request did not ask for the data to be sent to another controller.")
    if not reason:
        raise TransmissionError("Give the reason for the decision.")
    if feasible and (endpoint is None or not verified_endpoints().filter(pk=endpoint.pk).exists()):
        raise TransmissionError("Direct transmission goes only to a verified endpoint of the register.")
    status = TransmissionStatus.PENDING if feasible else TransmissionStatus.NOT_FEASIBLE
    fields = {
        "feasible": feasible,
        "reason": reason[:1000],
        "endpoint": endpoint if feasible else None,
        "decided_by": actor,
        "decided_at": timezone.now(),
    }
    words = (
        f"Direct transmission is technically feasible, to {endpoint.controller_name}: {reason}"
        if feasible
        else f"Direct transmission is not technically feasible; the person downloads the answer instead: {reason}"
    )
    with transaction.atomic():
        request_lock(request.pk)
        existing = Transmission.objects.select_for_update().filter(request=request).first()
        if existing is None:
            transmission = Transmission.objects.create(request=request, status=status, **fields)
            event_record(
                request_id=request.pk,
                kind=EventKind.TRANSMISSION_STATUS_CHANGED,
                actor=actor,
                actor_kind="staff",
                to_status=status,
                reason=words[:1000],
            )
        else:
            if existing.status in (TransmissionStatus.SENDING, TransmissionStatus.SENT):
                raise TransmissionError("The answer is already on its way to the receiving controller.")
            if existing.status == status:
                # The same status with a new endpoint or reason: recorded as a decision of its own.
                for name, value in fields.items():
                    setattr(existing, name, value)
                existing.save()
                event_record(
                    request_id=request.pk,
                    kind=EventKind.TRANSMISSION_STATUS_CHANGED,
                    actor=actor,
                    actor_kind="staff",
                    from_status=status,
                    to_status=status,
                    reason=words[:1000],
                )
            else:
                TRANSMISSION_LIFECYCLE.move(
                    existing, status, actor=actor, actor_kind="staff", reason=words[:1000], changes=fields
                )
            transmission = existing
        if feasible:
            transaction.on_commit(lambda: transmission_trigger(request_id=request.pk))
    return transmission


def transmission_retry(*, transmission: Transmission, actor: AbstractBaseUser) -> bool:
    """Staff send a failed transmission again (to its endpoint, if still verified). False if it was not failed."""
    if transmission.endpoint is None or not transmission.endpoint.is_verified:
        raise TransmissionError("The endpoint is no longer verified: verify it, or choose another, first.")
    with transaction.atomic():
        move = TRANSMISSION_LIFECYCLE.move(
            transmission,
            TransmissionStatus.PENDING,
            actor=actor,
            actor_kind="staff",
            reason="Sending to the receiving controller retried",
            changes={"attempts": 0, "last_error": ""},
        )
        if move.changed:
            transaction.on_commit(lambda: transmission_trigger(request_id=transmission.request_id))
    return move.changed


# --- Triggers: the answer is ready -------------------------------------------------------------------------------


def _enqueue(transmission_id: int) -> None:
    from . import tasks

    try:
        tasks.transmit_portability_answer.delay(transmission_id)
    except Exception:
        # The broker is away (or, run eagerly, the first attempt is to be retried): the decision stands, and the
        # sweep sends it later (transmissions_sweep).
        logger.warning("transmission %s: not sent now; the sweep will send it", transmission_id)


def transmission_trigger(*, request_id: int) -> bool:
    """Enqueue the sending of a pending, feasible transmission whose answer is ready; True if enqueued."""
    transmission = Transmission.objects.filter(request_id=request_id, status=TransmissionStatus.PENDING).first()
    if transmission is None:
        return False
    compilation, _release = _sendable_of(request_id)
    if compilation is None:
        return False
    transaction.on_commit(lambda: _enqueue(transmission.pk))
    return True


def portability_transmit_after_release(release_id: int) -> bool:
    """The hook for the review-and-release work: a released portability answer goes to the receiving controller
    when a case handler decided that is feasible. Idempotent (the transmission's status decides)."""
    release = Release.objects.filter(pk=release_id).values("request_id", "status").first()
    if release is None or release["status"] != ReleaseStatus.AVAILABLE:
        return False
    return transmission_trigger(request_id=release["request_id"])


# --- Sending -----------------------------------------------------------------------------------------------------


def _key(secret: str) -> bytes:
    webhooks.check_secret(secret)
    return base64.b64decode(secret.removeprefix("whsec_"))


def _archive_chunks(store: filestore.FileStore, name: str) -> Iterator[bytes]:
    with store.open(name) as reader:
        while chunk := reader.read(filestore.CHUNK_SIZE):
            yield chunk


def stream_signature(secret: str, msg_id: str, timestamp: int, chunks: Iterator[bytes]) -> tuple[str, str, int]:
    """The Standard Webhooks signature (``v1,<base64 HMAC-SHA256 of id.timestamp.body>``) of a body read as
    chunks, with its SHA-256 and size: the library signs text, the archive is binary and is never read whole."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode(), hashlib.sha256)
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        mac.update(chunk)
        digest.update(chunk)
        size += len(chunk)
    return "v1," + base64.b64encode(mac.digest()).decode(), digest.hexdigest(), size


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    http_status: int | None = None
    error: str = ""
    temporary: bool = False


def _claim(transmission_id: int, now: datetime) -> Transmission | None:
    """Move a pending transmission (or one whose sender was lost) to sending, counting the attempt."""
    with transaction.atomic():
        transmission = Transmission.objects.filter(pk=transmission_id).first()
        if transmission is None:
            return None
        request_lock(transmission.request_id)
        transmission = (
            Transmission.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=transmission_id)
        )
        stale = (
            transmission.status == TransmissionStatus.SENDING
            and transmission.started_at is not None
            and transmission.started_at < now - sending_timeout()
        )
        if transmission.status != TransmissionStatus.PENDING and not stale:
            return None
        compilation, release = _sendable_of(transmission.request_id)
        if compilation is None:
            return None
        changes = {
            "attempts": transmission.attempts + 1,
            "started_at": now,
            "compilation": compilation,
            "release": release,
        }
        if stale:
            Transmission.objects.filter(pk=transmission.pk).update(**changes)
            transmission.refresh_from_db()
        else:
            TRANSMISSION_LIFECYCLE.move(
                transmission,
                TransmissionStatus.SENDING,
                actor_kind="system",
                reason=f"Attempt {transmission.attempts + 1} to send the answer to "
                f"{transmission.endpoint.controller_name}",
                changes=changes,
            )
        return transmission


def _post(transmission: Transmission, store: filestore.FileStore, name: str) -> tuple[Outcome, str, int]:
    endpoint = transmission.endpoint
    if endpoint is None or not endpoint.is_verified:
        return Outcome(False, error="The endpoint is no longer verified."), "", 0
    try:
        url = endpoint_url_check(endpoint.url)
    except TransmissionError as error:
        return Outcome(False, error=str(error)), "", 0
    # The same id on every attempt: the receiver can tell a retry from a new answer (Standard Webhooks).
    msg_id = f"msg_{transmission.public_id.hex}"
    timestamp = int(datetime.now(tz=UTC).timestamp())
    try:
        signature, sha256, size = stream_signature(endpoint.secret, msg_id, timestamp, _archive_chunks(store, name))
    except (FileNotFoundError, filestore.FileDecryptionError):
        return Outcome(False, error="The answer's archive could not be read."), "", 0
    headers = {
        "Content-Type": "application/zip",
        "Content-Length": str(size),
        "User-Agent": "dsar-portal",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
        # What it is and its hash, so the receiver can check it against the manifest; no personal data.
        "dsar-transmission-type": TRANSMISSION_TYPE,
        "dsar-archive-sha256": sha256,
    }
    request = urllib.request.Request(  # noqa: S310 (endpoint_url_check allowed http(s) only)
        url, data=_archive_chunks(store, name), headers=headers, method="POST"
    )
    try:
        with _opener().open(request, timeout=_timeout()) as response:
            status = response.status
        if 200 <= status < 300:
            return Outcome(True, http_status=status), sha256, size
        return Outcome(False, http_status=status, error=f"The receiver answered {status}."), sha256, size
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()  # the body is never read
        if status >= 500 or status == 429:
            return Outcome(False, status, f"The receiver answered {status}; will try again.", True), sha256, size
        return Outcome(False, status, f"The receiver refused the answer: it answered {status}."), sha256, size
    except TimeoutError:
        return Outcome(False, error="The receiver did not answer in time.", temporary=True), sha256, size
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLError):
            return Outcome(False, error=f"The receiver's TLS failed ({type(reason).__name__})."), sha256, size
        message = f"The receiver could not be reached ({type(reason).__name__})."
        return Outcome(False, error=message, temporary=True), sha256, size
    except (OSError, ValueError) as error:
        message = f"The receiver could not be reached ({type(error).__name__})."
        return Outcome(False, error=message, temporary=True), sha256, size


def transmission_send(*, transmission_id: int, worker: str = "") -> str:
    """Send the answer to the verified endpoint once: streamed from the encrypted archive, signed, each attempt
    recorded as a row and in the request's trail. A transient failure puts it back to pending and raises
    TransmissionTemporaryError (the task retries with backoff) until ``max_attempts``; then it fails for staff.
    Returns the transmission's status; a repeat after it was sent, or while another worker sends it, is a no-op."""
    transmission = _claim(transmission_id, timezone.now())
    if transmission is None:
        return Transmission.objects.filter(pk=transmission_id).values_list("status", flat=True).first() or ""
    if transmission.release_id and transmission.release.archive_name:
        store, name = RELEASES, transmission.release.archive_name
    else:
        store, name = ARCHIVES, transmission.compilation.archive_name
    outcome, sha256, size = _post(transmission, store, name)
    with transaction.atomic():
        request_lock(transmission.request_id)
        locked = Transmission.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=transmission_id)
        TransmissionAttempt.objects.create(
            transmission=locked,
            # Counted over every attempt ever made (``attempts`` starts again when staff retry).
            number=locked.attempt_rows.count() + 1,
            worker=worker[:200],
            url=locked.endpoint.url if locked.endpoint else "",
            archive_sha256=sha256,
            archive_bytes=size or None,
            succeeded=outcome.succeeded,
            http_status=outcome.http_status,
            error=outcome.error[:500],
        )
        controller = locked.endpoint.controller_name if locked.endpoint else "the receiving controller"
        if outcome.succeeded:
            status = TransmissionStatus.SENT
            reason = f"The answer was sent to {controller} (attempt {locked.attempts}, HTTP {outcome.http_status})"
            changes = {"sent_at": timezone.now(), "last_error": ""}
        elif outcome.temporary and locked.attempts < max_attempts():
            status = TransmissionStatus.PENDING
            reason = f"Attempt {locked.attempts} to send to {controller} failed: {outcome.error}"
            changes = {"last_error": outcome.error[:500]}
        else:
            status = TransmissionStatus.FAILED
            reason = f"Sending to {controller} failed: {outcome.error}"
            changes = {"last_error": outcome.error[:500]}
        TRANSMISSION_LIFECYCLE.move(locked, status, actor_kind="system", reason=reason[:1000], changes=changes)
    logger.info("transmission %s: attempt %s, %s", transmission_id, locked.attempts, status)
    if status == TransmissionStatus.PENDING:
        raise TransmissionTemporaryError(outcome.error)
    return status


def transmissions_sweep(*, now: datetime | None = None) -> int:
    """Enqueue again the transmissions a lost message left pending with their answer ready, or a killed worker left
    sending past the timeout (the rows are the truth, not the broker). Returns how many were enqueued."""
    now = now or timezone.now()
    pending = Transmission.objects.filter(status=TransmissionStatus.PENDING, updated_at__lt=now - timedelta(minutes=10))
    stale = Transmission.objects.filter(status=TransmissionStatus.SENDING, started_at__lt=now - sending_timeout())
    enqueued = 0
    for transmission_id, request_id in [
        *pending.values_list("pk", "request_id"),
        *stale.values_list("pk", "request_id"),
    ]:
        if _sendable_of(request_id)[0] is not None:
            transaction.on_commit(lambda transmission_id=transmission_id: _enqueue(transmission_id))
            enqueued += 1
    return enqueued
