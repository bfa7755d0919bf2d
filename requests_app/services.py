"""Writes on data subject requests: the request core's public face.

Views, admin, tasks and the apps above (identity, agents) call these; nothing else saves requests. The pieces
live in modules a reader can hold in their head: ``references`` (request references), ``clock`` (pauses, restarts,
due dates), ``audit`` (the trail), ``correspondence`` (messages, e-mails, status links), ``confirmation`` (the
e-mail code), ``lifecycle``/``workflow`` (the guarded status moves) and ``locks`` (the lock order). Services that
depend on the date take it as an argument, defaulting to today in the organisation's time zone.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar_portal import filestore
from dsar_portal.crypto import email_lookup_hash
from dsar_portal.onetime import CodeCheck
from organisation.selectors import organisation_get

from . import deadlines, documents
from .audit import REQUESTER, STAFF, SYSTEM, actor_kind_of, event_record
from .clock import clock_change_record, clock_pause, deadline_recompute, pause_ended_without_answer, resume_planned
from .confirmation import email_code_check, email_code_resend_allowed
from .correspondence import (
    message_deliver,
    message_delivery_failed,
    message_send,
    undelivered_messages_sweep,
)
from .locks import request_lock
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
    Status,
)
from .references import new_reference, normalise_reference
from .workflow import EXTENDABLE_STATUSES, IllegalTransition, transition

__all__ = [
    "CodeCheck",
    "IllegalTransition",
    "RequestError",
    "Submission",
    "message_deliver",
    "message_delivery_failed",
    "new_reference",
    "normalise_reference",
    "undelivered_messages_sweep",
]

logger = logging.getLogger(__name__)


class RequestError(Exception):
    """A rule of the lifecycle refuses what was asked; the message is safe to show to the person acting."""


def _moved_on_meanwhile(request: DataSubjectRequest) -> RequestError:
    """The message for an action that lost a race: someone else changed the request a moment before."""
    request.refresh_from_db(fields=["status"])
    return RequestError(
        _("This request changed while you were working on it: it is now '%(status)s'. Nothing else was changed.")
        % {"status": request.get_status_display()}
    )


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


def request_file(
    *,
    submission: Submission,
    received_at=None,
    email_confirmed_at=None,
    reason: str = "",
) -> DataSubjectRequest:
    """Store a new request with its submission event and its first due date; the caller holds the transaction.

    The clock starts on the day of receipt in the organisation's time zone.
    """
    received_at = received_at or timezone.now()
    received_on = timezone.localdate(received_at)
    jurisdiction = organisation_get().jurisdiction
    request = DataSubjectRequest.objects.create(
        reference=new_reference(),
        right=submission.right,
        requester_role=submission.requester_role,
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
    event = event_record(request_id=request.pk, kind=EventKind.SUBMITTED, actor_kind=REQUESTER, reason=reason)
    DueDateChange.objects.create(
        request=request, event=event, previous_due_on=None, due_on=request.due_on, target_on=request.target_on
    )
    return request


def request_submit(*, submission: Submission, supporting_document=None, received_at=None) -> DataSubjectRequest:
    """File a new request from the public form; the person then confirms their e-mail address."""
    # filestore.atomic: a rollback leaves no document file behind.
    with filestore.atomic():
        request = request_file(submission=submission, received_at=received_at)
        if supporting_document is not None:
            request_document_store(request=request, upload=supporting_document, purpose=DocumentPurpose.SUPPORTING)
        message_send(request, MessageKind.EMAIL_CONFIRMATION)
    logger.info("request %s submitted", request.pk)
    return request


def request_email_confirm(*, request: DataSubjectRequest, code: str) -> CodeCheck:
    """Check the code the person typed; on success record that the address is confirmed.

    What follows (identity checks, then work) is decided above the request core, in the same transaction
    (``identity.services.request_confirm_email``).
    """
    with transaction.atomic():
        locked = request_lock(request.pk)
        if locked.status != Status.AWAITING_EMAIL_CONFIRMATION:
            return CodeCheck.EXPIRED
        result = email_code_check(request=locked, code=code)
        if result is not CodeCheck.CONFIRMED:
            event_record(request_id=locked.pk, kind=EventKind.EMAIL_CODE_FAILED, actor_kind=REQUESTER)
            return result
        locked.email_confirmed_at = timezone.now()
        locked.save(update_fields=["email_confirmed_at", "updated_at"])
        event_record(request_id=locked.pk, kind=EventKind.EMAIL_CONFIRMED, actor_kind=REQUESTER)
        request.email_confirmed_at = locked.email_confirmed_at
    return result


def request_work_begin(*, request: DataSubjectRequest, reason: str, receipt: bool = True) -> DataSubjectRequest:
    """Identity needs no more: the request goes to work, and the person gets the receipt."""
    with transaction.atomic():
        transition(request, Status.IN_PROGRESS, actor_kind=SYSTEM, reason=reason)
        if receipt:
            message_send(request, MessageKind.RECEIPT)
    return request


def request_identity_check_begin(
    *, request: DataSubjectRequest, reason: str, on: date, explanation: str | None = None
) -> DataSubjectRequest:
    """Wait for proof of identity (or authority) from ``on``: the clock stops (UK GDPR Art. 12(6), 12(3A)).

    ``explanation`` (what to send and why) is e-mailed to the person with the receipt; without one only the
    receipt goes (an agent's document is already here).
    """
    with transaction.atomic():
        transition(request, Status.AWAITING_IDENTITY_VERIFICATION, actor_kind=SYSTEM, reason=reason)
        clock_pause(request, reason=PauseReason.IDENTITY, on=on, actor_kind=SYSTEM)
        message_send(request, MessageKind.RECEIPT)
        if explanation is not None:
            message_send(request, MessageKind.IDENTITY_NEEDED, {"explanation": explanation})
    return request


def request_resend_confirmation(*, request: DataSubjectRequest) -> bool:
    """Send a new code if the person is still confirming and the resend wait has passed."""
    with transaction.atomic():
        request = request_lock(request.pk)
        if request.status != Status.AWAITING_EMAIL_CONFIRMATION:
            return False
        if not email_code_resend_allowed(request=request):
            return False
        message_send(request, MessageKind.EMAIL_CONFIRMATION)
    return True


# --- Documents -------------------------------------------------------------------------------


def request_document_store(
    *, request: DataSubjectRequest, upload, purpose: str, actor_kind: str = REQUESTER
) -> RequestDocument:
    """Validate, encrypt and keep a document the person sent, and record it in the trail.

    GDPR Art. 5(1)(c) and 32: a request holds at most DSAR_MAX_DOCUMENTS_PER_REQUEST live documents of at most
    DSAR_MAX_DOCUMENT_BYTES_PER_REQUEST together; past that a RequestError says so. The request's row is locked
    while counting, so two uploads at once cannot both take the last place.
    """
    documents.validate_document(upload)  # before the lock: the parse takes a moment
    with filestore.atomic():
        request_lock(request.pk)
        _document_room_check(request=request, upload=upload)
        document = documents.document_store(request=request, upload=upload, purpose=purpose)
    event_record(
        request_id=request.pk,
        kind=EventKind.DOCUMENT_UPLOADED,
        actor_kind=actor_kind,
        reason=DocumentPurpose(purpose).label,
    )
    return document


def _document_room_check(*, request: DataSubjectRequest, upload) -> None:
    live = RequestDocument.objects.filter(request=request, deleted_at=None).aggregate(
        count=Count("pk"), total=Sum("size")
    )
    if live["count"] >= settings.DSAR_MAX_DOCUMENTS_PER_REQUEST:
        raise RequestError(
            _(
                "We already have %(count)s documents for this request, as many as we keep for one request. "
                "If we need anything else, we will ask you."
            )
            % {"count": live["count"]}
        )
    if (live["total"] or 0) + (upload.size or 0) > settings.DSAR_MAX_DOCUMENT_BYTES_PER_REQUEST:
        raise RequestError(
            _(
                "With the documents we already have for this request, this file is more than we keep for one "
                "request (%(size)s MB in all). Please send a smaller file, or write to us."
            )
            % {"size": round(settings.DSAR_MAX_DOCUMENT_BYTES_PER_REQUEST / (1024 * 1024))}
        )


def request_document_delete(*, document: RequestDocument, on=None, actor_kind: str = SYSTEM) -> bool:
    """Delete a stored document's file and record it; the row stays as the record that it existed.

    Returns False if it was already deleted. Evidence is deleted soon after its decision (EDPB Guidelines
    01/2022, storage limitation, Art. 5(1)(e)).
    """
    with transaction.atomic():
        locked = RequestDocument.objects.select_for_update().filter(pk=document.pk, deleted_at=None).first()
        if locked is None:
            return False
        # The file goes once the row says so: a rollback keeps both; a crash in between leaves a file of a
        # deleted row, which the orphan sweep removes.
        transaction.on_commit(lambda: documents.document_erase_file(locked))
        locked.deleted_at = on or timezone.now()
        locked.save(update_fields=["deleted_at"])
        event_record(
            request_id=locked.request_id,
            kind=EventKind.DOCUMENT_DELETED,
            actor_kind=actor_kind,
            reason=DocumentPurpose(locked.purpose).label,
        )
        document.deleted_at = locked.deleted_at
    return True


def record_document_viewed(*, document: RequestDocument, actor: AbstractBaseUser) -> None:
    event_record(
        request_id=document.request_id,
        kind=EventKind.DOCUMENT_VIEWED,
        actor=actor,
        actor_kind=STAFF,
        reason=DocumentPurpose(document.purpose).label,
    )


# --- The requester's own actions -------------------------------------------------------


def request_withdraw(*, request: DataSubjectRequest, reason: str = "") -> DataSubjectRequest:
    """The person withdraws. If staff closed the request a moment before, they are told what happened."""
    with transaction.atomic():
        try:
            result = transition(request, Status.WITHDRAWN, actor_kind=REQUESTER, reason=reason)
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            message_send(request, MessageKind.WITHDRAWAL)
    return request


def request_clarification_answer(
    *, request: DataSubjectRequest, answer: str, document=None, answered_on: date | None = None
) -> DataSubjectRequest:
    """Record the person's reply; the clock resumes from the day it arrives."""
    answered_on = answered_on or timezone.localdate()
    with filestore.atomic():
        request = request_lock(request.pk)
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
        event_record(request_id=request.pk, kind=EventKind.CLARIFICATION_ANSWERED, actor_kind=REQUESTER)
        if document is not None:
            request_document_store(request=request, upload=document, purpose=DocumentPurpose.CLARIFICATION)
        clock = resume_planned(request, on=answered_on)
        result = transition(
            request,
            Status.IN_PROGRESS,
            actor_kind=REQUESTER,
            reason=_("Clarification received"),
            changes=clock.changes if clock else None,
        )
        if clock is not None:
            clock_change_record(request, clock, move_event=result.event, actor_kind=REQUESTER)
    return request


# --- Staff actions ------------------------------------------------------------------------


def request_identity_verified(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser | None,
    evidence_received_on: date | None = None,
    note: str = "",
) -> DataSubjectRequest:
    """Identity is confirmed. UK: the clock starts again from the day the evidence arrived (UK GDPR Art. 12(3A));
    EU: the days spent waiting are added to the deadline.

    The person is told the date now due: the UK receipt promised it ("we will write to tell you the date then"), and
    in the EU the date has moved by the days waited (Art. 12(1): clear information; LAW.md N4).
    """
    evidence_received_on = evidence_received_on or timezone.localdate()
    with transaction.atomic():
        locked = request_lock(request.pk)
        clock = resume_planned(locked, on=evidence_received_on) if locked.status != Status.IN_PROGRESS else None
        try:
            result = transition(
                request,
                Status.IN_PROGRESS,
                actor=actor,
                actor_kind=actor_kind_of(actor),
                reason=note,
                changes=clock.changes if clock else None,
            )
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed and clock is not None:
            clock_change_record(request, clock, move_event=result.event, actor=actor, actor_kind=actor_kind_of(actor))
            message_send(request, MessageKind.IDENTITY_CONFIRMED)
    return request


def request_clarification_ask(
    *, request: DataSubjectRequest, actor: AbstractBaseUser, question: str, asked_on: date | None = None
) -> DataSubjectRequest:
    """Ask the person to clarify; the clock pauses from the day we ask (UK GDPR Art. 12(3A), ICO)."""
    if not question.strip():
        raise RequestError(_("Say what you need the person to clarify."))
    asked_on = asked_on or timezone.localdate()
    with transaction.atomic():
        try:
            result = transition(request, Status.AWAITING_CLARIFICATION, actor=actor, actor_kind=STAFF, reason=question)
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            event_record(
                request_id=request.pk,
                kind=EventKind.CLARIFICATION_REQUESTED,
                actor=actor,
                actor_kind=STAFF,
                reason=question,
            )
            clock_pause(request, reason=PauseReason.CLARIFICATION, on=asked_on, actor_kind=STAFF)
            message_send(request, MessageKind.CLARIFICATION_REQUESTED, {"question": question.strip()})
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
        request = request_lock(request.pk)
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
        event = event_record(
            request_id=request.pk, kind=EventKind.EXTENDED, actor=actor, actor_kind=STAFF, reason=reasons
        )
        deadline_recompute(request, event)
        message_send(request, MessageKind.EXTENSION, {"reasons": reasons.strip()})
    return request


def request_refuse(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser | None,
    ground: str,
    reasons: str,
    on: date | None = None,
) -> DataSubjectRequest:
    """Refuse, with a ground and reasons; the person is told how to complain (Art. 12(4)).

    A pause still running ends on ``on``; its days are kept with the ground, in the same move.
    """
    if ground not in RefusalGround.values:
        raise RequestError(_("Choose the ground for refusing."))
    if not reasons.strip():
        raise RequestError(_("A refusal needs reasons, which we send to the person."))
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = request_lock(request.pk)
        clock = pause_ended_without_answer(locked, on=on) if locked.status != Status.REFUSED else None
        try:
            result = transition(
                request,
                Status.REFUSED,
                actor=actor,
                actor_kind=actor_kind_of(actor),
                reason=reasons,
                changes={"refusal_ground": ground, **(clock.changes if clock else {})},
            )
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            if clock is not None:
                clock_change_record(request, clock, move_event=result.event, actor_kind=actor_kind_of(actor))
            message_send(
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
        try:
            result = transition(
                request,
                Status.COMPLETED,
                actor=actor,
                actor_kind=STAFF,
                reason=summary,
                changes={"outcome": outcome},
            )
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            message_send(
                request, MessageKind.COMPLETION, {"outcome": Outcome(outcome).label, "summary": summary.strip()}
            )
    return request


def request_reopen(*, request: DataSubjectRequest, actor: AbstractBaseUser, reason: str) -> DataSubjectRequest:
    if not reason.strip():
        raise RequestError(_("Say why the request is reopened."))
    with transaction.atomic():
        try:
            result = transition(
                request,
                Status.IN_PROGRESS,
                actor=actor,
                actor_kind=STAFF,
                reason=reason,
                changes={"outcome": "", "refusal_ground": ""},
            )
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            message_send(request, MessageKind.REOPENED)
    return request


def request_identity_more_needed(
    *, request: DataSubjectRequest, actor: AbstractBaseUser | None, explanation: str
) -> DataSubjectRequest:
    """Tell the person what further evidence we need and why; the clock stays paused."""
    with transaction.atomic():
        request = request_lock(request.pk)
        if request.status != Status.AWAITING_IDENTITY_VERIFICATION:
            raise _moved_on_meanwhile(request)
        event_record(
            request_id=request.pk,
            kind=EventKind.IDENTITY_EVIDENCE_REQUESTED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=explanation,
        )
        message_send(request, MessageKind.IDENTITY_NEEDED, {"explanation": explanation})
    return request


def request_identity_reminder(*, request: DataSubjectRequest, explanation: str, closes_on: date) -> None:
    with transaction.atomic():
        event_record(request_id=request.pk, kind=EventKind.REMINDER_SENT, actor_kind=SYSTEM)
        message_send(request, MessageKind.IDENTITY_REMINDER, {"explanation": explanation, "closes_on": closes_on})


# --- Status links ------------------------------------------------------------------------


def status_link_resend(*, reference: str, email: str) -> None:
    """Send a fresh status link when reference and e-mail match; say nothing either way."""
    request = DataSubjectRequest.objects.filter(
        reference=normalise_reference(reference), email_hash=email_lookup_hash(email)
    ).first()
    if request is None:
        return
    with transaction.atomic():
        event_record(request_id=request.pk, kind=EventKind.STATUS_LINK_SENT, actor_kind=REQUESTER)
        message_send(request, MessageKind.STATUS_LINK)


# --- Sweeps run by beat ---------------------------------------------------------------------


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
                message_send(request, MessageKind.CLOSED_UNCONFIRMED)
                closed += 1
    for request_id in waiting.filter(
        received_at__lte=remind_before, received_at__gt=close_before, unconfirmed_reminder_sent_at=None
    ).values_list("pk", flat=True):
        with transaction.atomic():
            request = request_lock(request_id)
            if request.status != Status.AWAITING_EMAIL_CONFIRMATION or request.unconfirmed_reminder_sent_at:
                continue
            request.unconfirmed_reminder_sent_at = now
            request.save(update_fields=["unconfirmed_reminder_sent_at", "updated_at"])
            event_record(request_id=request.pk, kind=EventKind.REMINDER_SENT, actor_kind=SYSTEM)
            message_send(request, MessageKind.UNCONFIRMED_REMINDER)
            reminded += 1
    return reminded, closed
