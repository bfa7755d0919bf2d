"""Correspondence with the requester: messages on the status page, the e-mails that carry them, status links.

A message is stored with the change that caused it and e-mailed by a task after the transaction commits. The
stored body is what the person reads on their status page; the secrets an e-mail carries (a link to the status
page, a confirmation code) are made when it is sent and never stored in the clear.

Sending happens in three steps so that no database transaction and no row lock is held while the mail server is
talked to, and so that a commit that fails after a successful send never leads to a second e-mail with a
different code or link:

1. *prepare* (one short transaction): claim the message for a few minutes, and make its secrets once: the link's
   and code's hashes are stored as usual, the secrets themselves kept encrypted on the message until it is sent;
2. *send* the e-mail, outside any transaction;
3. *record* (one short transaction): mark it sent, forget the secrets, write the audit event.

A retry after step 3 failed finds the same secrets and sends the same e-mail again; a second worker given the same
message while the first holds its claim sends nothing.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dsar_portal.onetime import new_link_token, secret_hash
from organisation.selectors import organisation_get

from . import tasks
from .audit import STAFF, SYSTEM, event_record
from .confirmation import email_code_issue
from .locks import request_lock
from .models import DataSubjectRequest, EventKind, Message, MessageKind, Status, StatusLink

logger = logging.getLogger(__name__)

STATUS_LINK_LIFETIME = timedelta(days=365)
# Links live at once per request: each e-mail brings a new one, and the oldest beyond this are revoked, so links
# forwarded or left in old mailboxes stop working.
MAX_LIVE_STATUS_LINKS = 3
# How long one worker holds a message while it talks to the mail server (longer than EMAIL_TIMEOUT).
SENDING_CLAIM = timedelta(minutes=5)
# A message that was never queued (the broker was down when it was stored) is queued again this long after it was
# stored: long enough for the on-commit publish of a message being stored right now to have happened.
UNQUEUED_AFTER = timedelta(minutes=1)
# A message queued but not sent this long after it was last queued was lost by the broker. Longer than a delivery
# task's own retries take (8, backing off up to 30 minutes), so the sweep does not start a second round of them.
UNDELIVERED_AFTER = timedelta(hours=3)
# Shown on the status page in place of secrets that went only into the e-mail;
# the task puts the real link and code in their place when it sends.
LINK_PLACEHOLDER = "[your private link: in the e-mail we sent you]"
CODE_PLACEHOLDER = "[your code: in the e-mail we sent you]"
# In a letter, in place of the private link (requests_app.models.Channel: requests received by post).
POSTAL_LINK_TEXT = "(write to us or call us, quoting your reference, to hear how your request is going)"


def message_new(
    request: DataSubjectRequest, kind: str, extra: dict | None = None, *, organisation=None, subject: str = ""
) -> Message:
    """A message for the status page, not yet stored: the e-mail carries only the name and the reference.

    Everything else is on the status page behind the link. ``subject``, when given (a message staff wrote), replaces
    the kind's own; the reference is added to it either way.
    """
    context = {
        "request": request,
        "organisation": organisation or organisation_get(),
        "status_url": LINK_PLACEHOLDER,
        "code": CODE_PLACEHOLDER,
        "code_ttl_minutes": settings.DSAR_EMAIL_CODE_TTL_MINUTES,
        **(extra or {}),
    }
    return Message(
        request=request,
        direction=Message.Direction.TO_REQUESTER,
        kind=kind,
        subject=f"{subject or MessageKind(kind).label} ({request.reference})"[:200],
        body=render_to_string(f"requests_app/emails/{kind}.txt", context).strip(),
    )


def message_enqueue(message: Message) -> None:
    """E-mail a stored message once the transaction commits. The audit event is written when the e-mail has
    really gone (message_deliver), not when it is queued."""
    transaction.on_commit(lambda: message_queue(message.pk))


def message_queue(message_id: int) -> bool:
    """Queue the e-mail task; False if it could not be queued.

    What the message belongs to is already stored, so a broker that is down
    (or, without one, an e-mail server that refuses) must not turn into an
    error page: the message waits for undelivered_messages_sweep.
    """
    try:
        tasks.deliver_message.delay(message_id)
    except Exception as error:  # noqa: BLE001 - any failure here is recovered by the sweep
        # The type only: an e-mail server's error can name the address.
        logger.error(
            "message %s not queued (%s); the undelivered-messages sweep will queue it", message_id, type(error).__name__
        )
        return False
    # Recorded once the broker has it: a message with no queued_at is one the sweep must queue within minutes.
    Message.objects.filter(pk=message_id).update(queued_at=timezone.now())
    return True


def message_send(
    request: DataSubjectRequest, kind: str, extra: dict | None = None, *, organisation=None, subject: str = ""
) -> Message:
    """Store a message for the status page and e-mail it after the transaction commits.

    A requester who gets notices by post (a postal request logged by staff) is not e-mailed: the message is marked
    for posting and staff record the day they post it (``message_posted``).
    """
    message = message_new(request, kind, extra, organisation=organisation, subject=subject)
    message.by_post = request.notices_by_post
    if message.by_post:
        # A letter carries no e-mailed link or code: say how to follow the request on paper instead.
        message.body = message.body.replace(LINK_PLACEHOLDER, POSTAL_LINK_TEXT).replace(CODE_PLACEHOLDER, "")
    message.save(force_insert=True)
    if not message.by_post:
        message_enqueue(message)
    return message


def message_posted(*, message: Message, actor, posted_on) -> bool:
    """Record that a letter to the requester was posted on ``posted_on``; False when it already was.

    The case keeps what was posted and when, as it keeps what was e-mailed (GDPR Art. 5(2), accountability).
    """
    with transaction.atomic():
        marked = Message.objects.filter(pk=message.pk, by_post=True, posted_on=None).update(posted_on=posted_on)
        if not marked:
            return False
        event_record(
            request_id=message.request_id,
            kind=EventKind.LETTER_POSTED,
            actor=actor,
            actor_kind=STAFF,
            reason=f"{MessageKind(message.kind).label}: posted on {posted_on.isoformat()}",
        )
    message.posted_on = posted_on
    return True


def message_deliver(*, message_id: int) -> bool:
    """E-mail a stored message; a second run sends nothing. Returns whether it sent."""
    prepared = _delivery_prepare(message_id)
    if prepared is None:
        return False
    message, body, address = prepared
    try:
        EmailMessage(subject=message.subject, body=body, to=[address]).send()
    except Exception:
        # Let the retry (or the sweep) take it at once rather than after the claim runs out.
        Message.objects.filter(pk=message_id, sent_at=None).update(sending_until=None)
        raise
    _delivery_record(message)
    logger.info("message %s for request %s sent", message.pk, message.request_id)
    return True


def _delivery_prepare(message_id: int) -> tuple[Message, str, str] | None:
    now = timezone.now()
    request_id = Message.objects.filter(pk=message_id).values_list("request_id", flat=True).first()
    if request_id is None:
        return None
    with transaction.atomic():
        # The request first, then its rows (requests_app.locks): minting the link and issuing a code lock rows of
        # the request that confirming the e-mail locks after the request.
        request_lock(request_id)
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("request")
            .filter(pk=message_id, sent_at=None, by_post=False, direction=Message.Direction.TO_REQUESTER)
            .filter(Q(sending_until=None) | Q(sending_until__lte=now))
            .first()
        )
        if message is None:
            return None
        secrets = dict(message.pending_secrets or {})
        if not secrets:
            # Made once per message: a retry after a failed commit sends the same link and code.
            secrets["link"] = status_link_mint(request=message.request, now=now)
            if CODE_PLACEHOLDER in message.body:
                secrets["code"] = email_code_issue(request=message.request)
        message.pending_secrets = secrets
        message.sending_until = now + SENDING_CLAIM
        message.save(update_fields=["pending_secrets", "sending_until"])
    body = message.body.replace(
        LINK_PLACEHOLDER, settings.DSAR_PUBLIC_URL + reverse("requests_app:status_link", args=[secrets["link"]])
    )
    if "code" in secrets:
        body = body.replace(CODE_PLACEHOLDER, secrets["code"])
    return message, body, message.request.delivery_email


def _delivery_record(message: Message) -> None:
    now = timezone.now()
    with transaction.atomic():
        marked = Message.objects.filter(pk=message.pk, sent_at=None).update(
            sent_at=now, sending_until=None, pending_secrets={}
        )
        if marked:
            event_record(
                request_id=message.request_id,
                kind=EventKind.MESSAGE_SENT,
                actor_kind=SYSTEM,
                reason=str(MessageKind(message.kind).label),
            )


def message_delivery_failed(*, message_id: int, error: str) -> None:
    """Record that an e-mail could not be delivered after every retry (no personal data: the error's type)."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.sent_at is not None:
        return
    Message.objects.filter(pk=message_id).update(delivery_failed_at=timezone.now(), sending_until=None)
    event_record(
        request_id=message.request_id,
        kind=EventKind.MESSAGE_FAILED,
        actor_kind=SYSTEM,
        reason=f"{MessageKind(message.kind).label}: {error}",
    )
    logger.error("message %s for request %s could not be delivered: %s", message.pk, message.request_id, error)


def undelivered_messages_sweep(*, now=None) -> int:
    """Queue again the messages to requesters that were stored but never sent nor given up on.

    Two cases, two waits. A message never queued (the broker was down as it was stored) is queued once it is
    UNQUEUED_AFTER old, so with the sweep running every few minutes a confirmation e-mail goes out within minutes
    of the broker's return. A message queued but still unsent (a task the broker lost) is queued again only
    UNDELIVERED_AFTER after it was last queued, not to start a second round of a delivery still retrying. Returns
    how many were queued; stops at the first that cannot be (the broker is still down: the next run tries again).
    A repeat is harmless: message_deliver sends a message once.
    """
    now = now or timezone.now()
    waiting = Message.objects.filter(
        Q(queued_at=None, created_at__lte=now - UNQUEUED_AFTER) | Q(queued_at__lte=now - UNDELIVERED_AFTER),
        direction=Message.Direction.TO_REQUESTER,
        sent_at=None,
        delivery_failed_at=None,
        by_post=False,
    ).order_by("pk")
    queued = 0
    for message_id in waiting.values_list("pk", flat=True):
        if not message_queue(message_id):
            break
        queued += 1
    return queued


# --- Status links ------------------------------------------------------------------------------------------


def status_link_mint(*, request: DataSubjectRequest, now=None) -> str:
    """A new bearer link to the request's status page; returns the token (stored only as a hash).

    At most MAX_LIVE_STATUS_LINKS stay live per request: minting one revokes the oldest beyond that.
    """
    now = now or timezone.now()
    token = new_link_token()
    StatusLink.objects.create(
        request=request,
        token_hash=secret_hash(token, purpose=StatusLink.TOKEN_PURPOSE),
        expires_at=now + STATUS_LINK_LIFETIME,
    )
    live = StatusLink.objects.filter(request=request, revoked_at=None, expires_at__gt=now)
    live = live.order_by("-created_at", "-pk")
    stale = list(live.values_list("pk", flat=True)[MAX_LIVE_STATUS_LINKS:])
    if stale:
        StatusLink.objects.filter(pk__in=stale).update(revoked_at=now)
    return token


def status_links_revoke(*, request_id: int, now=None) -> int:
    """End every live link to a request's status page (when its case file reaches the end of its retention, or
    when a link was sent to the wrong place). Returns how many were ended."""
    return StatusLink.objects.filter(request_id=request_id, revoked_at=None).update(revoked_at=now or timezone.now())


def status_links_retention_sweep(*, now=None) -> int:
    """End every status link of a request whose case file has reached the end of its retention.

    A link never outlives the case file it opens (storage limitation, Art. 5(1)(e); LAW.md §6(h)): closed case
    files are kept DSAR_CASE_FILE_RETENTION_DAYS after closure, requests never confirmed
    DSAR_UNCONFIRMED_RETENTION_DAYS. Returns how many links were ended; safe to run any number of times.
    """
    now = now or timezone.now()
    live = StatusLink.objects.filter(revoked_at=None, request__closed_at__isnull=False)
    unconfirmed = live.filter(
        request__status=Status.CLOSED_UNCONFIRMED,
        request__closed_at__lte=now - timedelta(days=settings.DSAR_UNCONFIRMED_RETENTION_DAYS),
    )
    closed = live.exclude(request__status=Status.CLOSED_UNCONFIRMED).filter(
        request__closed_at__lte=now - timedelta(days=settings.DSAR_CASE_FILE_RETENTION_DAYS)
    )
    return unconfirmed.update(revoked_at=now) + closed.update(revoked_at=now)
