"""Writes on data subject requests. Views, admin and tasks call these; nothing else saves requests."""

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar_portal.crypto import email_lookup_hash
from identity import services as identity_services
from identity.tokens import new_link_token, secret_hash
from organisation.selectors import organisation_get

from . import deadlines, documents, tasks
from .models import (
    DataSubjectRequest,
    DocumentPurpose,
    DueDateChange,
    EventKind,
    Message,
    MessageKind,
    Outcome,
    PauseReason,
    RefusalGround,
    RequestDocument,
    RequesterRole,
    RequestEvent,
    Status,
    StatusLink,
)
from .workflow import EXTENDABLE_STATUSES, IllegalTransition, transition

logger = logging.getLogger(__name__)

# Crockford's base32 without I, L, O, U: easy to read aloud and to type back.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
STATUS_LINK_LIFETIME = timedelta(days=365)
# A message not sent this long after it was stored was never queued. Longer than a delivery task's own retries
# take (8, backing off up to 30 minutes), so the sweep does not start a second round of them.
UNDELIVERED_AFTER = timedelta(hours=3)
# Shown on the status page in place of secrets that went only into the e-mail;
# the task puts the real link and code in their place when it sends.
LINK_PLACEHOLDER = "[your private link: in the e-mail we sent you]"
CODE_PLACEHOLDER = "[your code: in the e-mail we sent you]"

REQUESTER = "requester"
SYSTEM = "system"
STAFF = "staff"


class RequestError(Exception):
    """A rule of the lifecycle refuses what was asked; the message is safe to show staff."""


def new_reference() -> str:
    """80 random bits in four groups of four, e.g. DSAR-7K3M-Q9TX-W2PA-H4RN."""
    bits = int.from_bytes(secrets.token_bytes(10))
    characters = "".join(REFERENCE_ALPHABET[(bits >> shift) & 31] for shift in range(0, 80, 5))
    return "DSAR-" + "-".join(characters[i : i + 4] for i in range(0, 16, 4))


def normalise_reference(value: str) -> str:
    cleaned = "".join(ch for ch in value.upper() if ch.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if cleaned.startswith("DSAR"):
        cleaned = cleaned[4:]
    return "DSAR-" + "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


# --- The statutory clock ---------------------------------------------------------


def _recompute_deadline(request: DataSubjectRequest, event: RequestEvent) -> None:
    """Recompute the legal and internal dates and keep the history of each change."""
    due_on = deadlines.due_date(
        clock_start=request.clock_started_on,
        jurisdiction=request.jurisdiction,
        extension_months=request.extension_months,
        paused_days=request.paused_days,
    )
    target_on = deadlines.internal_target_date(
        clock_start=request.clock_started_on,
        jurisdiction=request.jurisdiction,
        target_days=settings.DSAR_INTERNAL_TARGET_DAYS,
        paused_days=request.paused_days,
    )
    if due_on != request.due_on or target_on != request.target_on:
        DueDateChange.objects.create(
            request=request,
            event=event,
            previous_due_on=request.due_on,
            due_on=due_on,
            target_on=target_on,
        )
        request.due_on = due_on
        request.target_on = target_on
    request.save(
        update_fields=[
            "clock_started_on",
            "clock_paused_on",
            "clock_pause_reason",
            "paused_days",
            "extension_months",
            "due_on",
            "target_on",
            "updated_at",
        ]
    )


def _clock_pause(request: DataSubjectRequest, *, reason: str, on: date, actor_kind: str) -> None:
    if request.clock_paused_on is not None:
        return
    request.clock_paused_on = on
    request.clock_pause_reason = reason
    request.save(update_fields=["clock_paused_on", "clock_pause_reason", "updated_at"])
    _record(request, EventKind.CLOCK_PAUSED, actor_kind=actor_kind, reason=PauseReason(reason).label)


def _clock_resume(request: DataSubjectRequest, *, on: date, actor: AbstractBaseUser | None, actor_kind: str) -> None:
    """End a pause. UK: identity evidence restarts the clock from the day it arrives;
    otherwise (and in the EU, EDPB Guidelines 01/2022) the paused days are added."""
    if request.clock_paused_on is None:
        return
    restart = request.clock_pause_reason == PauseReason.IDENTITY and deadlines.is_uk(request.jurisdiction)
    if restart:
        request.clock_started_on = on
        request.paused_days = 0
        kind = EventKind.CLOCK_RESTARTED
    else:
        request.paused_days += deadlines.paused_days_between(request.clock_paused_on, on)
        kind = EventKind.CLOCK_RESUMED
    request.clock_paused_on = None
    request.clock_pause_reason = ""
    event = _record(request, kind, actor=actor, actor_kind=actor_kind)
    _recompute_deadline(request, event)


def _record(
    request: DataSubjectRequest,
    kind: str,
    *,
    actor: AbstractBaseUser | None = None,
    actor_kind: str,
    reason: str = "",
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_kind=actor_kind,
        reason=reason,
    )


# --- Messages to the requester ----------------------------------------------------


def _message_new(request: DataSubjectRequest, kind: str, extra: dict | None = None, *, organisation=None) -> Message:
    """A message for the status page, not yet stored: the e-mail carries only the name and the reference.

    Everything else is on the status page behind the link.
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
        subject=f"{MessageKind(kind).label} ({request.reference})",
        body=render_to_string(f"requests_app/emails/{kind}.txt", context).strip(),
    )


def _message_enqueue(message: Message) -> None:
    """E-mail a stored message once the transaction commits. The audit event is written when the e-mail has
    really gone (message_deliver), not when it is queued."""
    transaction.on_commit(lambda: _message_queue(message.pk))


def _message_queue(message_id: int) -> bool:
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
    return True


def _message_send(request: DataSubjectRequest, kind: str, extra: dict | None = None, *, organisation=None) -> Message:
    """Store a message for the status page and e-mail it after the transaction commits."""
    message = _message_new(request, kind, extra, organisation=organisation)
    message.save(force_insert=True)
    _message_enqueue(message)
    return message


def message_deliver(*, message_id: int) -> bool:
    """E-mail a stored message; a second run sends nothing. Returns whether it sent."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("request")
            .filter(pk=message_id, sent_at=None, direction=Message.Direction.TO_REQUESTER)
            .first()
        )
        if message is None:
            return False
        request = message.request
        # Secrets are made here, at sending time, so they exist only in the e-mail.
        token = new_link_token()
        StatusLink.objects.create(
            request=request,
            token_hash=secret_hash(token, purpose=StatusLink.TOKEN_PURPOSE),
            expires_at=timezone.now() + STATUS_LINK_LIFETIME,
        )
        body = message.body.replace(
            LINK_PLACEHOLDER, settings.DSAR_PUBLIC_URL + reverse("requests_app:status_link", args=[token])
        )
        if CODE_PLACEHOLDER in body:
            body = body.replace(CODE_PLACEHOLDER, identity_services.email_code_issue(request=request))
        EmailMessage(subject=message.subject, body=body, to=[request.requester_email]).send()
        message.sent_at = timezone.now()
        message.save(update_fields=["sent_at"])
        _record(request, EventKind.MESSAGE_SENT, actor_kind=SYSTEM, reason=str(MessageKind(message.kind).label))
    logger.info("message %s for request %s sent", message.pk, request.pk)
    return True


def message_delivery_failed(*, message_id: int, error: str) -> None:
    """Record that an e-mail could not be delivered after every retry (no personal data: the error's type)."""
    message = Message.objects.select_related("request").filter(pk=message_id).first()
    if message is None or message.sent_at is not None:
        return
    message.delivery_failed_at = timezone.now()
    message.save(update_fields=["delivery_failed_at"])
    _record(
        message.request,
        EventKind.MESSAGE_FAILED,
        actor_kind=SYSTEM,
        reason=f"{MessageKind(message.kind).label}: {error}",
    )
    logger.error("message %s for request %s could not be delivered: %s", message.pk, message.request_id, error)


# --- Intake ----------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    right: str
    requester_role: str
    name: str
    email: str
    identifiers: dict
    details: dict
    description: str


def _request_new(
    *,
    submission: Submission,
    received_at,
    organisation,
    agent=None,
    email_confirmed_at=None,
    reason: str = "",
) -> tuple[DataSubjectRequest, RequestEvent, DueDateChange]:
    """A new request with its submission event and its first due date, not yet stored.

    The clock starts on the day of receipt in the organisation's time zone.
    """
    received_on = timezone.localdate(received_at)
    jurisdiction = organisation.jurisdiction
    request = DataSubjectRequest(
        reference=new_reference(),
        right=submission.right,
        requester_role=submission.requester_role,
        agent=agent,
        requester_name=submission.name.strip(),
        requester_email=submission.email.strip(),
        email_hash=email_lookup_hash(submission.email),
        identifiers={k: v for k, v in submission.identifiers.items() if v},
        details=submission.details,
        description=submission.description.strip(),
        jurisdiction=jurisdiction,
        received_at=received_at,
        email_confirmed_at=email_confirmed_at,
        clock_started_on=received_on,
        due_on=deadlines.response_due_date(received_on, jurisdiction),
        target_on=deadlines.internal_target_date(
            clock_start=received_on, jurisdiction=jurisdiction, target_days=settings.DSAR_INTERNAL_TARGET_DAYS
        ),
    )
    event = RequestEvent(request=request, kind=EventKind.SUBMITTED, actor_kind=REQUESTER, reason=reason)
    first_due_date = DueDateChange(
        request=request, event=event, previous_due_on=None, due_on=request.due_on, target_on=request.target_on
    )
    return request, event, first_due_date


def _save_new(*objects) -> None:
    """Store new rows in order, each after the row it points to; the caller holds the transaction."""
    for new in objects:
        new.save(force_insert=True)


def request_submit(*, submission: Submission, supporting_document=None, received_at=None) -> DataSubjectRequest:
    """File a new request from the public form; the person then confirms their e-mail address."""
    organisation = organisation_get()
    filed = _request_new(submission=submission, received_at=received_at or timezone.now(), organisation=organisation)
    request = filed[0]
    message = _message_new(request, MessageKind.EMAIL_CONFIRMATION, organisation=organisation)
    with transaction.atomic():
        _save_new(*filed, message)
        if supporting_document is not None:
            _document_store(request, supporting_document, purpose=DocumentPurpose.SUPPORTING)
    _message_enqueue(message)
    logger.info("request %s submitted", request.pk)
    return request


def request_submit_by_agent(
    *,
    agent,
    submission: Submission,
    authority_document,
    subject_email: str = "",
    received_at=None,
) -> DataSubjectRequest:
    """An authorised agent files for a data subject from their signed-in account.

    The agent's address is already confirmed, so the request goes straight to
    checking their authority (and, where we can reach them, the subject).
    """
    from agents import services as agent_services

    received_at = received_at or timezone.now()
    as_agent = replace(submission, requester_role=RequesterRole.AGENT, name=agent.full_name, email=agent.user.email)
    with transaction.atomic():
        filed = _request_new(
            submission=as_agent,
            received_at=received_at,
            organisation=organisation_get(),
            agent=agent,
            email_confirmed_at=received_at,
            reason=_("Filed by an authorised agent"),
        )
        _save_new(*filed)
        request = filed[0]
        decision = identity_services.verification_start(request=request)
        transition(request, Status.AWAITING_IDENTITY_VERIFICATION, actor_kind=SYSTEM, reason=decision.summary)
        _clock_pause(request, reason=PauseReason.IDENTITY, on=request.clock_started_on, actor_kind=SYSTEM)
        _document_store(request, authority_document, purpose=DocumentPurpose.AUTHORITY)
        identity_services.evidence_received(request=request)
        if subject_email.strip():
            agent_services.subject_confirmation_create(request=request, subject_email=subject_email)
        _message_send(request, MessageKind.RECEIPT)
    logger.info("request %s filed by agent %s", request.pk, agent.pk)
    return request


def record_subject_answer(*, request: DataSubjectRequest, kind: str) -> None:
    _record(request, kind, actor_kind="data_subject")


def _document_store(request: DataSubjectRequest, upload, *, purpose: str) -> RequestDocument:
    document = documents.document_store(request=request, upload=upload, purpose=purpose)
    _record(request, EventKind.DOCUMENT_UPLOADED, actor_kind=REQUESTER, reason=DocumentPurpose(purpose).label)
    return document


# --- E-mail confirmation ------------------------------------------------------------


def request_confirm_email(*, request: DataSubjectRequest, code: str) -> identity_services.CodeCheck:
    """Check the code; on success move the request on to identity checks or to work."""
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.AWAITING_EMAIL_CONFIRMATION:
            return identity_services.CodeCheck.EXPIRED
        result = identity_services.email_code_check(request=request, code=code)
        if result is not identity_services.CodeCheck.CONFIRMED:
            _record(request, EventKind.EMAIL_CODE_FAILED, actor_kind=REQUESTER)
            return result
        request.email_confirmed_at = timezone.now()
        request.save(update_fields=["email_confirmed_at", "updated_at"])
        _record(request, EventKind.EMAIL_CONFIRMED, actor_kind=REQUESTER)
        decision = identity_services.verification_start(request=request)
        if decision.verified:
            transition(request, Status.IN_PROGRESS, actor_kind=SYSTEM, reason=decision.summary)
            _message_send(request, MessageKind.RECEIPT)
        else:
            transition(request, Status.AWAITING_IDENTITY_VERIFICATION, actor_kind=SYSTEM, reason=decision.summary)
            _clock_pause(request, reason=PauseReason.IDENTITY, on=timezone.localdate(), actor_kind=SYSTEM)
            _message_send(request, MessageKind.RECEIPT)
            _message_send(request, MessageKind.IDENTITY_NEEDED, {"explanation": decision.explanation})
    return result


def request_resend_confirmation(*, request: DataSubjectRequest) -> bool:
    """Send a new code if the person is still confirming and the resend wait has passed."""
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.AWAITING_EMAIL_CONFIRMATION:
            return False
        if not identity_services.email_code_resend_allowed(request=request):
            return False
        _message_send(request, MessageKind.EMAIL_CONFIRMATION)
    return True


# --- The requester's own actions -------------------------------------------------------


def request_withdraw(*, request: DataSubjectRequest, reason: str = "") -> DataSubjectRequest:
    with transaction.atomic():
        result = transition(request, Status.WITHDRAWN, actor_kind=REQUESTER, reason=reason)
        if result.changed:
            _message_send(request, MessageKind.WITHDRAWAL)
    return request


def request_clarification_answer(
    *, request: DataSubjectRequest, answer: str, document=None, answered_on: date | None = None
) -> DataSubjectRequest:
    """Record the person's reply; the clock resumes from the day it arrives."""
    answered_on = answered_on or timezone.localdate()
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.AWAITING_CLARIFICATION:
            raise RequestError(_("This request is not waiting for a reply."))
        Message.objects.create(
            request=request,
            direction=Message.Direction.FROM_REQUESTER,
            kind=MessageKind.REQUESTER_REPLY,
            subject=str(MessageKind.REQUESTER_REPLY.label),
            body=answer.strip(),
            sent_at=timezone.now(),
        )
        _record(request, EventKind.CLARIFICATION_ANSWERED, actor_kind=REQUESTER)
        if document is not None:
            _document_store(request, document, purpose=DocumentPurpose.CLARIFICATION)
        transition(request, Status.IN_PROGRESS, actor_kind=REQUESTER, reason=_("Clarification received"))
        _clock_resume(request, on=answered_on, actor=None, actor_kind=REQUESTER)
    return request


def request_evidence_upload(*, request: DataSubjectRequest, document, purpose: str) -> RequestDocument:
    """A document the person sends when we have asked for one (identity or authority)."""
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.AWAITING_IDENTITY_VERIFICATION:
            raise RequestError(_("We have not asked for a document on this request."))
        stored = _document_store(request, document, purpose=purpose)
        identity_services.evidence_received(request=request)
        return stored


# --- Staff actions ------------------------------------------------------------------------


def request_identity_verified(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser | None,
    evidence_received_on: date | None = None,
    note: str = "",
) -> DataSubjectRequest:
    """Identity is confirmed. UK: the clock starts again from the day the evidence arrived;
    EU: the days spent waiting are added to the deadline."""
    evidence_received_on = evidence_received_on or timezone.localdate()
    with transaction.atomic():
        result = transition(
            request, Status.IN_PROGRESS, actor=actor, actor_kind=STAFF if actor else SYSTEM, reason=note
        )
        if result.changed:
            _clock_resume(request, on=evidence_received_on, actor=actor, actor_kind=STAFF if actor else SYSTEM)
    return request


def request_clarification_ask(
    *, request: DataSubjectRequest, actor: AbstractBaseUser, question: str, asked_on: date | None = None
) -> DataSubjectRequest:
    """Ask the person to clarify; the clock pauses from the day we ask (UK GDPR Art. 12(3A), ICO)."""
    if not question.strip():
        raise RequestError(_("Say what you need the person to clarify."))
    asked_on = asked_on or timezone.localdate()
    with transaction.atomic():
        result = transition(request, Status.AWAITING_CLARIFICATION, actor=actor, actor_kind=STAFF, reason=question)
        if result.changed:
            _record(request, EventKind.CLARIFICATION_REQUESTED, actor=actor, actor_kind=STAFF, reason=question)
            _clock_pause(request, reason=PauseReason.CLARIFICATION, on=asked_on, actor_kind=STAFF)
            _message_send(request, MessageKind.CLARIFICATION_REQUESTED, {"question": question.strip()})
    return request


def request_extend(
    *, request: DataSubjectRequest, actor: AbstractBaseUser, months: int, reasons: str, on: date | None = None
) -> DataSubjectRequest:
    """Extend by up to two further months, counted from the original start (GDPR Art. 12(3)).

    The person must be told, with reasons, within the first month: so an
    extension is only possible up to the original due date.
    """
    on = on or timezone.localdate()
    if not reasons.strip():
        raise RequestError(_("An extension needs reasons, which we send to the person."))
    if months not in (1, 2):
        raise RequestError(_("An extension is one or two further months."))
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.status not in EXTENDABLE_STATUSES:
            raise RequestError(_("Only an open request can be extended."))
        if request.extension_months + months > 2:
            raise RequestError(_("The deadline can be extended by two further months at most."))
        original_due = deadlines.latest_extension_notice_date(
            clock_start=request.clock_started_on,
            jurisdiction=request.jurisdiction,
            paused_days=request.paused_days,
        )
        # While the clock is stopped the month to tell the person is stopped too: a pause that began
        # in time keeps the extension possible until the clock runs again.
        paused_in_time = request.clock_paused_on is not None and request.clock_paused_on <= original_due
        if on > original_due and not paused_in_time:
            raise RequestError(
                _("The original deadline (%(date)s) has passed; an extension had to be notified before it.")
                % {"date": original_due.isoformat()}
            )
        request.extension_months += months
        event = _record(request, EventKind.EXTENDED, actor=actor, actor_kind=STAFF, reason=reasons)
        _recompute_deadline(request, event)
        _message_send(request, MessageKind.EXTENSION, {"reasons": reasons.strip()})
    return request


def request_refuse(
    *, request: DataSubjectRequest, actor: AbstractBaseUser | None, ground: str, reasons: str
) -> DataSubjectRequest:
    """Refuse, with a ground and reasons; the person is told how to complain (Art. 12(4))."""
    if ground not in RefusalGround.values:
        raise RequestError(_("Choose the ground for refusing."))
    if not reasons.strip():
        raise RequestError(_("A refusal needs reasons, which we send to the person."))
    with transaction.atomic():
        result = transition(request, Status.REFUSED, actor=actor, actor_kind=STAFF if actor else SYSTEM, reason=reasons)
        if result.changed:
            request.refusal_ground = ground
            request.save(update_fields=["refusal_ground", "updated_at"])
            if request.clock_paused_on is not None:
                # The pause ends here. Its days still count if the request is ever reopened;
                # nothing was received, so even in the UK the clock does not restart.
                request.paused_days += deadlines.paused_days_between(request.clock_paused_on, timezone.localdate())
                request.clock_paused_on = None
                request.clock_pause_reason = ""
                _recompute_deadline(request, result.event)
            _message_send(
                request,
                MessageKind.REFUSAL,
                {"reasons": reasons.strip(), "ground": RefusalGround(ground).label},
            )
    return request


def request_complete(
    *, request: DataSubjectRequest, actor: AbstractBaseUser, outcome: str, summary: str = ""
) -> DataSubjectRequest:
    if outcome not in Outcome.values:
        raise RequestError(_("Choose the outcome."))
    with transaction.atomic():
        result = transition(request, Status.COMPLETED, actor=actor, actor_kind=STAFF, reason=summary)
        if result.changed:
            request.outcome = outcome
            request.save(update_fields=["outcome", "updated_at"])
            _message_send(
                request, MessageKind.COMPLETION, {"outcome": Outcome(outcome).label, "summary": summary.strip()}
            )
    return request


def request_reopen(*, request: DataSubjectRequest, actor: AbstractBaseUser, reason: str) -> DataSubjectRequest:
    if not reason.strip():
        raise RequestError(_("Say why the request is reopened."))
    with transaction.atomic():
        result = transition(request, Status.IN_PROGRESS, actor=actor, actor_kind=STAFF, reason=reason)
        if result.changed:
            request.outcome = ""
            request.refusal_ground = ""
            request.save(update_fields=["outcome", "refusal_ground", "updated_at"])
            _message_send(request, MessageKind.REOPENED)
    return request


def request_identity_more_needed(
    *, request: DataSubjectRequest, actor: AbstractBaseUser | None, explanation: str
) -> DataSubjectRequest:
    """Tell the person what further evidence we need and why; the clock stays paused."""
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.AWAITING_IDENTITY_VERIFICATION:
            raise RequestError(_("This request is not waiting for identity verification."))
        _record(
            request,
            EventKind.IDENTITY_EVIDENCE_REQUESTED,
            actor=actor,
            actor_kind=STAFF if actor else SYSTEM,
            reason=explanation,
        )
        _message_send(request, MessageKind.IDENTITY_NEEDED, {"explanation": explanation})
    return request


def request_identity_reminder(*, request: DataSubjectRequest, explanation: str, closes_on: date) -> None:
    with transaction.atomic():
        _record(request, EventKind.REMINDER_SENT, actor_kind=SYSTEM)
        _message_send(request, MessageKind.IDENTITY_REMINDER, {"explanation": explanation, "closes_on": closes_on})


def record_document_viewed(*, document: RequestDocument, actor: AbstractBaseUser) -> None:
    _record(
        document.request,
        EventKind.DOCUMENT_VIEWED,
        actor=actor,
        actor_kind=STAFF,
        reason=DocumentPurpose(document.purpose).label,
    )


def record_evidence_deleted(*, document: RequestDocument) -> None:
    _record(
        document.request, EventKind.DOCUMENT_DELETED, actor_kind=SYSTEM, reason=DocumentPurpose(document.purpose).label
    )


# --- Status links ------------------------------------------------------------------------


def status_link_resend(*, reference: str, email: str) -> None:
    """Send a fresh status link when reference and e-mail match; say nothing either way."""
    request = DataSubjectRequest.objects.filter(
        reference=normalise_reference(reference), email_hash=email_lookup_hash(email)
    ).first()
    if request is None:
        return
    with transaction.atomic():
        _record(request, EventKind.STATUS_LINK_SENT, actor_kind=REQUESTER)
        _message_send(request, MessageKind.STATUS_LINK)


# --- Sweeps run by beat ---------------------------------------------------------------------


def undelivered_messages_sweep(*, now=None) -> int:
    """Queue again the messages to requesters that were stored but never sent nor given up on.

    That happens when the broker was down as they were stored, or a task was
    lost. Returns how many were queued; stops at the first that cannot be (the
    broker is still down: the next run tries again). A repeat is harmless:
    message_deliver sends a message once.
    """
    now = now or timezone.now()
    waiting = Message.objects.filter(
        direction=Message.Direction.TO_REQUESTER,
        sent_at=None,
        delivery_failed_at=None,
        created_at__lte=now - UNDELIVERED_AFTER,
    ).order_by("pk")
    queued = 0
    for message_id in waiting.values_list("pk", flat=True):
        if not _message_queue(message_id):
            break
        queued += 1
    return queued


def unconfirmed_requests_sweep(*, now=None) -> tuple[int, int]:
    """Remind, then close, requests whose e-mail address was never confirmed.

    Returns (reminded, closed). Safe to run any number of times.
    """
    now = now or timezone.now()
    remind_before = now - timedelta(days=settings.DSAR_UNCONFIRMED_REMINDER_DAYS)
    close_before = now - timedelta(days=settings.DSAR_UNCONFIRMED_CLOSE_DAYS)
    reminded = closed = 0
    waiting = DataSubjectRequest.objects.filter(status=Status.AWAITING_EMAIL_CONFIRMATION)
    for request_id in waiting.filter(received_at__lte=close_before).values_list("pk", flat=True):
        with transaction.atomic():
            request = DataSubjectRequest.objects.get(pk=request_id)
            try:
                result = transition(
                    request,
                    Status.CLOSED_UNCONFIRMED,
                    actor_kind=SYSTEM,
                    reason=_("E-mail address not confirmed within %(days)s days")
                    % {"days": settings.DSAR_UNCONFIRMED_CLOSE_DAYS},
                )
            except IllegalTransition:
                continue
            if result.changed:
                _message_send(request, MessageKind.CLOSED_UNCONFIRMED)
                closed += 1
    for request_id in waiting.filter(
        received_at__lte=remind_before, received_at__gt=close_before, unconfirmed_reminder_sent_at=None
    ).values_list("pk", flat=True):
        with transaction.atomic():
            request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
            if request.status != Status.AWAITING_EMAIL_CONFIRMATION or request.unconfirmed_reminder_sent_at:
                continue
            request.unconfirmed_reminder_sent_at = now
            request.save(update_fields=["unconfirmed_reminder_sent_at", "updated_at"])
            _record(request, EventKind.REMINDER_SENT, actor_kind=SYSTEM)
            _message_send(request, MessageKind.UNCONFIRMED_REMINDER)
            reminded += 1
    return reminded, closed
