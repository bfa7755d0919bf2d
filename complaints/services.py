"""Every write on a complaint (UK DPA 2018 s.164A): receipt, acknowledgement, progress, outcome, withdrawal.

Each step moves the complaint through ``COMPLAINT_LIFECYCLE`` (the shared guarded setter of
``requests_app.lifecycle``), writes the complaint's own history and, for a complaint about a request, the request's
audit trail too, and e-mails the complainant after the commit through ``tasks.deliver_complaint_message``; a
complainant who gets notices by post (a letter-writer with no e-mail address, or one who asked for post) is written a
letter instead, kept with the complaint for staff to print, post and record (``complaint_letter_posted``).
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar_portal.crypto import email_lookup_hash
from organisation.selectors import organisation_get
from requests_app.audit import REQUESTER, STAFF, SYSTEM, actor_kind_of, event_record
from requests_app.deadlines import day_of_receipt
from requests_app.lifecycle import IllegalTransition, Lifecycle
from requests_app.models import DataSubjectRequest, EventKind
from requests_app.references import normalise_reference

from . import tasks
from .deadlines import acknowledgement_due
from .models import (
    Channel,
    Complaint,
    ComplaintEvent,
    ComplaintMessage,
    ComplaintMessageKind,
    ComplaintStatus,
)
from .references import new_complaint_reference

logger = logging.getLogger(__name__)

__all__ = [
    "COMPLAINT_LIFECYCLE",
    "ComplaintSubmission",
    "IllegalTransition",
    "complaint_acknowledge",
    "complaint_letter_posted",
    "complaint_log",
    "complaint_message_deliver",
    "complaint_message_failed",
    "complaint_progress",
    "complaint_resolve",
    "complaint_submit",
    "complaint_withdraw",
]

# How long one worker holds a message while it talks to the mail server (longer than EMAIL_TIMEOUT).
SENDING_CLAIM = timedelta(minutes=5)

# The kinds of the complaint's history are the request trail's: a linked complaint writes each step to both.
MESSAGE_SENT = EventKind.MESSAGE_SENT
MESSAGE_FAILED = EventKind.MESSAGE_FAILED
_TRAIL_KIND = {
    ComplaintStatus.RECEIVED: EventKind.COMPLAINT_RECEIVED,
    ComplaintStatus.ACKNOWLEDGED: EventKind.COMPLAINT_ACKNOWLEDGED,
    ComplaintStatus.INVESTIGATING: EventKind.COMPLAINT_INVESTIGATING,
    ComplaintStatus.RESOLVED: EventKind.COMPLAINT_RESOLVED,
    ComplaintStatus.WITHDRAWN: EventKind.COMPLAINT_WITHDRAWN,
}


def _history_record(
    complaint: Complaint,
    *,
    kind: str,
    actor: AbstractBaseUser | None = None,
    actor_kind: str,
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
) -> ComplaintEvent:
    """Write one step to the complaint's history and, for a complaint about a request, to that request's trail."""
    event = ComplaintEvent.objects.create(
        complaint=complaint,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_kind=actor_kind,
        reason=str(reason),
    )
    if complaint.request_id is not None:
        # Every kind here is also a kind of the request's trail (the e-mails' too). The request's statuses are not the
        # complaint's, so the trail names the complaint and what was written instead.
        event_record(
            request_id=complaint.request_id,
            kind=kind,
            actor=actor,
            actor_kind=actor_kind,
            reason=f"{complaint.reference}: {reason}" if reason else complaint.reference,
        )
    return event


COMPLAINT_LIFECYCLE = Lifecycle(
    name="complaint",
    model=Complaint,
    transitions={
        # s.164A(3): acknowledge within 30 days; an outcome sent first acknowledges it too.
        ComplaintStatus.RECEIVED: frozenset(
            {ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.RESOLVED, ComplaintStatus.WITHDRAWN}
        ),
        # s.164A(4)-(5): enquiries into the subject matter, progress told, the outcome told.
        ComplaintStatus.ACKNOWLEDGED: frozenset(
            {ComplaintStatus.INVESTIGATING, ComplaintStatus.RESOLVED, ComplaintStatus.WITHDRAWN}
        ),
        ComplaintStatus.INVESTIGATING: frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.WITHDRAWN}),
        ComplaintStatus.RESOLVED: frozenset(),
        ComplaintStatus.WITHDRAWN: frozenset(),
    },
    event_kind=_TRAIL_KIND,
    record=_history_record,
)


@dataclass(frozen=True)
class ComplaintSubmission:
    name: str
    email: str
    text: str
    # A request reference the complainant typed: linked only if it is theirs (same e-mail address).
    request_reference: str = ""


def complaint_submit(*, submission: ComplaintSubmission, received_at: datetime | None = None) -> Complaint:
    """A complaint from the public form (s.164A(2): a form that can be completed electronically).

    The request reference is linked only when a request with that reference was made from the same e-mail address;
    otherwise the complaint is kept unlinked and nothing tells the visitor whether the reference exists.
    """
    request = _own_request(submission.request_reference, submission.email)
    return _complaint_create(
        name=submission.name,
        email=submission.email,
        text=submission.text,
        channel=Channel.WEB_FORM,
        received_at=received_at or timezone.now(),
        request=request,
        actor=None,
        actor_kind=REQUESTER,
    )


def complaint_log(
    *,
    actor: AbstractBaseUser,
    name: str,
    email: str,
    text: str,
    channel: str,
    received_at: datetime,
    request: DataSubjectRequest | None = None,
    postal_address: str = "",
    by_post: bool = False,
) -> Complaint:
    """A complaint that reached us another way (letter, e-mail, phone, in person), logged by staff with the time it
    truly arrived: the 30 days of s.164A(3) run from that day, not from the day it was typed in.

    A complaint is a complaint however it comes and whoever makes it (s.164A(1)-(2) ask only that the controller
    facilitates making one): a letter from someone with no e-mail address is logged with their postal address, and
    every notice to them (receipt, acknowledgement, progress, outcome) is a letter. ``by_post`` sends letters to a
    complainant who gave both addresses and asked for post. One of the two addresses is needed to answer at all.
    """
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}.")
    if received_at > timezone.now():
        raise ValueError("A complaint cannot be received in the future.")
    email, postal_address = email.strip(), postal_address.strip()
    if not email and not postal_address:
        raise ValueError(_("Give an e-mail address or a postal address to answer the complainant at."))
    if by_post and not postal_address:
        raise ValueError(_("Give the postal address to send the letters to."))
    return _complaint_create(
        name=name,
        email=email,
        text=text,
        channel=channel,
        received_at=received_at,
        request=request,
        actor=actor,
        actor_kind=STAFF,
        postal_address=postal_address,
        notices_by_post=by_post or not email,
    )


def _own_request(reference: str, email: str) -> DataSubjectRequest | None:
    if not reference.strip():
        return None
    return DataSubjectRequest.objects.filter(
        reference=normalise_reference(reference), email_hash=email_lookup_hash(email)
    ).first()


def _complaint_create(
    *,
    name: str,
    email: str,
    text: str,
    channel: str,
    received_at: datetime,
    request: DataSubjectRequest | None,
    actor: AbstractBaseUser | None,
    actor_kind: str,
    postal_address: str = "",
    notices_by_post: bool = False,
) -> Complaint:
    organisation = organisation_get()
    email = email.strip()
    received_on = day_of_receipt(received_at, organisation.jurisdiction)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            reference=new_complaint_reference(),
            complainant_name=name.strip(),
            complainant_email=email,
            # No hash for no address: an empty address must never match another complainant's or a request's.
            email_hash=email_lookup_hash(email) if email else "",
            postal_address=postal_address,
            notices_by_post=notices_by_post,
            channel=channel,
            received_at=received_at,
            received_on=received_on,
            text=text.strip(),
            request=request,
            acknowledge_by=acknowledgement_due(received_on),
            logged_by=actor if actor is not None and actor.is_authenticated else None,
        )
        _history_record(
            complaint,
            kind=EventKind.COMPLAINT_RECEIVED,
            actor=actor,
            actor_kind=actor_kind,
            reason=Channel(channel).label,
            to_status=ComplaintStatus.RECEIVED,
        )
        _message_send(complaint, ComplaintMessageKind.RECEIPT)
    logger.info("complaint %s received (request %s)", complaint.pk, complaint.request_id)
    return complaint


def complaint_acknowledge(*, complaint: Complaint, actor: AbstractBaseUser, note: str = "") -> Complaint:
    """Acknowledge receipt (s.164A(3): within 30 days) and tell the complainant we are looking into it.

    For a complainant who gets notices by post, the acknowledgement is given when this step is taken: the letter is
    written now, ``acknowledged_at`` is now, and that is what the 30 days of s.164A(3) are counted against. The day
    the letter is posted is recorded afterwards (``complaint_letter_posted``) as the proof that it went, shown on the
    complaint page, in its timeline and in the case pack; an acknowledgement letter still waiting to be posted stays
    under "Letters to post" until it is. (Counting from the posting day instead would leave a complaint overdue for a
    step that was taken in time, and tie the legal record to when someone next reached the post room.)
    """
    with transaction.atomic():
        move = COMPLAINT_LIFECYCLE.move(
            complaint,
            ComplaintStatus.ACKNOWLEDGED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=note.strip(),
            changes={"acknowledged_at": timezone.now()},
        )
        if move.changed:
            _message_send(complaint, ComplaintMessageKind.ACKNOWLEDGEMENT, {"note": note.strip()})
    return complaint


def complaint_progress(*, complaint: Complaint, actor: AbstractBaseUser, note: str) -> Complaint:
    """Tell the complainant how the complaint is progressing (s.164A(5)(b)); the first note starts the enquiries
    (s.164A(5)(a)). A complaint must be acknowledged first, and one that is closed takes no more notes."""
    note = note.strip()
    if not note:
        raise ValueError(_("A progress note needs some text."))
    with transaction.atomic():
        move = COMPLAINT_LIFECYCLE.move(
            complaint, ComplaintStatus.INVESTIGATING, actor=actor, actor_kind=actor_kind_of(actor), reason=note
        )
        if not move.changed:
            # Already being looked into: the note is a step of its own, not a move.
            _history_record(
                complaint, kind=EventKind.COMPLAINT_PROGRESS, actor=actor, actor_kind=actor_kind_of(actor), reason=note
            )
        _message_send(complaint, ComplaintMessageKind.PROGRESS, {"note": note})
    return complaint


def complaint_resolve(*, complaint: Complaint, actor: AbstractBaseUser, outcome: str) -> Complaint:
    """Record the outcome and send it to the complainant (s.164A(4)(b)), with where they may go next."""
    outcome = outcome.strip()
    if not outcome:
        raise ValueError(_("The outcome must say what we found and what we will do."))
    now = timezone.now()
    with transaction.atomic():
        changes = {"outcome": outcome, "resolved_at": now}
        if complaint.acknowledged_at is None:
            changes["acknowledged_at"] = now
        move = COMPLAINT_LIFECYCLE.move(
            complaint,
            ComplaintStatus.RESOLVED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=outcome,
            changes=changes,
        )
        if move.changed:
            _message_send(complaint, ComplaintMessageKind.OUTCOME, {"outcome": outcome})
    return complaint


def complaint_withdraw(*, complaint: Complaint, actor: AbstractBaseUser, reason: str) -> Complaint:
    """Record that the complainant withdrew the complaint (how they told us is the reason); nothing is sent."""
    if not reason.strip():
        raise ValueError(_("Say how the complainant withdrew the complaint."))
    COMPLAINT_LIFECYCLE.move(
        complaint, ComplaintStatus.WITHDRAWN, actor=actor, actor_kind=actor_kind_of(actor), reason=reason.strip()
    )
    return complaint


def _message_send(complaint: Complaint, kind: str, extra: dict | None = None) -> ComplaintMessage:
    """Store the notice to the complainant: an e-mail, queued once the transaction commits, or, for a complainant who
    gets notices by post, a letter with the same text that waits for staff to post it (nothing is e-mailed)."""
    context = {"complaint": complaint, "organisation": organisation_get(), **(extra or {})}
    message = ComplaintMessage.objects.create(
        complaint=complaint,
        kind=kind,
        subject=f"{ComplaintMessageKind(kind).label} ({complaint.reference})",
        body=render_to_string(f"complaints/emails/{kind}.txt", context).strip(),
        by_post=complaint.notices_by_post,
    )
    if message.by_post:
        return message
    message_id = message.pk
    transaction.on_commit(lambda: _message_queue(message_id))
    return message


def _message_queue(message_id: int) -> None:
    try:
        tasks.deliver_complaint_message.delay(message_id)
    except Exception as error:  # noqa: BLE001 - the complaint is stored; a failed queue must not be an error page
        logger.error("complaint message %s not queued (%s)", message_id, type(error).__name__)


def complaint_message_deliver(*, message_id: int) -> bool:
    """E-mail one stored message; a second run (a retry, a duplicate task) sends nothing. Returns whether it sent.

    The message is claimed by a conditional update, so no row lock is held while the mail server is talked to.
    """
    now = timezone.now()
    claimed = (
        ComplaintMessage.objects.filter(pk=message_id, sent_at=None, by_post=False)
        .filter(Q(sending_until=None) | Q(sending_until__lte=now))
        .update(sending_until=now + SENDING_CLAIM)
    )
    if not claimed:
        return False
    message = ComplaintMessage.objects.select_related("complaint").get(pk=message_id)
    try:
        EmailMessage(subject=message.subject, body=message.body, to=[message.complaint.complainant_email]).send()
    except Exception:
        ComplaintMessage.objects.filter(pk=message_id, sent_at=None).update(sending_until=None)
        raise
    with transaction.atomic():
        if ComplaintMessage.objects.filter(pk=message_id, sent_at=None).update(
            sent_at=timezone.now(), sending_until=None
        ):
            _history_record(
                message.complaint,
                kind=MESSAGE_SENT,
                actor_kind=SYSTEM,
                reason=str(ComplaintMessageKind(message.kind).label),
            )
    logger.info("complaint message %s for complaint %s sent", message_id, message.complaint_id)
    return True


def complaint_letter_posted(*, message: ComplaintMessage, actor: AbstractBaseUser, posted_on: date) -> bool:
    """Record the day a letter to the complainant was posted; False when it already was (a second click, a colleague).

    The complaint keeps what was posted and when, as it keeps what was e-mailed: the proof that each notice of
    s.164A(3)-(5) went (GDPR Art. 5(2), accountability). A letter cannot be posted before it was written, nor on a day
    still to come.
    """
    if not message.by_post:
        raise ValueError("Only a letter is posted.")
    if posted_on > timezone.localdate():
        raise ValueError(_("A letter cannot be posted on a day still to come."))
    if posted_on < timezone.localdate(message.created_at):
        raise ValueError(_("A letter cannot be posted before it was written."))
    with transaction.atomic():
        marked = ComplaintMessage.objects.filter(pk=message.pk, by_post=True, posted_on=None).update(
            posted_on=posted_on
        )
        if not marked:
            return False
        _history_record(
            message.complaint,
            kind=EventKind.LETTER_POSTED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=f"{ComplaintMessageKind(message.kind).label}: posted on {posted_on.isoformat()}",
        )
    message.posted_on = posted_on
    logger.info("complaint letter %s for complaint %s posted", message.pk, message.complaint_id)
    return True


def complaint_message_failed(*, message_id: int, error: str) -> None:
    """Record that an e-mail could not be delivered after every retry (the error's type only)."""
    message = ComplaintMessage.objects.select_related("complaint").filter(pk=message_id, sent_at=None).first()
    if message is None:
        return
    ComplaintMessage.objects.filter(pk=message_id).update(delivery_failed_at=timezone.now(), sending_until=None)
    _history_record(
        message.complaint,
        kind=MESSAGE_FAILED,
        actor_kind=SYSTEM,
        reason=f"{ComplaintMessageKind(message.kind).label}: {error}",
    )
    logger.error("complaint message %s for complaint %s not delivered: %s", message_id, message.complaint_id, error)
