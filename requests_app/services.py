"""Writes on data subject requests: the request core's public face.

Views, admin, tasks and the apps above (identity, agents) call these; nothing else saves requests. The pieces
live in modules a reader can hold in their head: ``references`` (request references), ``clock`` (pauses, restarts,
due dates), ``audit`` (the trail), ``correspondence`` (messages, e-mails, status links), ``confirmation`` (the
e-mail code), ``lifecycle``/``workflow`` (the guarded status moves) and ``locks`` (the lock order). Services that
depend on the date take it as an argument, defaulting to today in the organisation's time zone.
"""

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dsar_portal import filestore
from dsar_portal.crypto import email_lookup_hash
from dsar_portal.jurisdictions import TIME_ZONES
from dsar_portal.onetime import CodeCheck
from organisation.selectors import organisation_get

from . import deadlines, documents, grounds, marketing, retention_holds
from .audit import REQUESTER, STAFF, SYSTEM, actor_kind_of, event_record
from .clock import (
    calendar_for,
    clock_change_record,
    clock_pause,
    deadline_recompute,
    pause_ended_without_answer,
    resume_planned,
)
from .completion_extras import completion_extras
from .confirmation import email_code_check, email_code_resend_allowed
from .correspondence import (
    message_deliver,
    message_delivery_failed,
    message_posted,
    message_send,
    undelivered_messages_sweep,
)
from .locks import request_lock
from .models import (
    Channel,
    DataSubjectRequest,
    DocumentPurpose,
    DueDateChange,
    EventKind,
    Exemption,
    ExtensionBasis,
    FeeBasis,
    Message,
    MessageKind,
    Outcome,
    PauseReason,
    RefusalGround,
    RequestDocument,
    RespondTo,
    Right,
    Status,
)
from .references import new_reference, normalise_reference
from .scope import scope_from
from .selectors import requests_from_same_person
from .workflow import EXTENDABLE_STATUSES, IllegalTransition, transition

__all__ = [
    "CodeCheck",
    "IllegalTransition",
    "RequestError",
    "Submission",
    "message_deliver",
    "message_delivery_failed",
    "message_posted",
    "new_reference",
    "normalise_reference",
    "undelivered_messages_sweep",
]

logger = logging.getLogger(__name__)


class RequestError(Exception):
    """A rule of the lifecycle refuses what was asked; the message is safe to show to the person acting."""


def moved_on_meanwhile_message(request: DataSubjectRequest) -> str:
    """What a person is told when their action lost a race: someone else changed the request a moment before.

    Shared by every app that acts on a request (identity's decisions use it too).
    """
    return _("This request changed while you were working on it: it is now '%(status)s'. Nothing else was changed.") % {
        "status": request.get_status_display()
    }


def _moved_on_meanwhile(request: DataSubjectRequest) -> RequestError:
    request.refresh_from_db(fields=["status"])
    return RequestError(moved_on_meanwhile_message(request))


def _absolute_objection_check(request: DataSubjectRequest, what: str) -> None:
    """Refuse ``what`` for an objection to direct marketing: GDPR Art. 21(3) makes it absolute, so there is no
    pause, extension, fee or refusal as manifestly unfounded or excessive to be had (LAW.md §6(e))."""
    if marketing.is_direct_marketing_objection(request):
        raise RequestError(
            _(
                "An objection to direct marketing is absolute (GDPR Art. 21(3)): it cannot be given %(what)s. "
                "Stop the marketing and complete the request."
            )
            % {"what": what}
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
    # A second regime whose law also applies (GDPR Art. 3(2)), e.g. "IE" for an Irish resident of a UK controller.
    second_jurisdiction: str = ""
    # The language the requester used (settings.LANGUAGES); empty: the portal's default language.
    language: str = ""


def request_file(
    *,
    submission: Submission,
    received_at=None,
    email_confirmed_at=None,
    reason: str = "",
) -> DataSubjectRequest:
    """Store a new request with its submission event and its first due date; the caller holds the transaction.

    The clock starts on the day of receipt in the jurisdiction's own time zone, stored with the request
    (``deadlines.day_of_receipt``; GDPR Art. 12(3), Reg. 1182/71 Art. 3(1)). A request under two regimes
    (``Submission.second_jurisdiction``, GDPR Art. 3(2)) is due on the earlier of the two dates.
    """
    received_at = received_at or timezone.now()
    jurisdiction = organisation_get().jurisdiction
    second = submission.second_jurisdiction if submission.second_jurisdiction != jurisdiction else ""
    if second:
        deadlines.is_uk(second)  # refuses an unknown code
    received_on = deadlines.day_of_receipt(received_at, jurisdiction)
    cal = calendar_for(jurisdiction, second)
    if marketing.is_direct_marketing(scope_from(right=submission.right, details=submission.details)):
        # GDPR Art. 21(3): nothing to weigh, so the internal target is the same or the next working day.
        target_on = deadlines.direct_marketing_target_date(received_on, jurisdiction)
    else:
        target_on = deadlines.internal_target_date(
            clock_start=received_on,
            jurisdiction=jurisdiction,
            target_days=settings.DSAR_INTERNAL_TARGET_DAYS,
            overrides=cal.overrides,
            also_jurisdiction=second,
        )
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
        second_jurisdiction=second,
        received_at=received_at,
        received_on=received_on,
        received_time_zone=TIME_ZONES[jurisdiction],
        language=submission.language or settings.LANGUAGE_CODE,
        email_confirmed_at=email_confirmed_at,
        clock_started_on=received_on,
        due_on=deadlines.response_due_date(
            received_on, jurisdiction, overrides=cal.overrides, also_jurisdiction=second
        ),
        target_on=target_on,
    )
    event = event_record(request_id=request.pk, kind=EventKind.SUBMITTED, actor_kind=REQUESTER, reason=reason)
    DueDateChange.objects.create(
        request=request,
        event=event,
        previous_due_on=None,
        due_on=request.due_on,
        target_on=request.target_on,
        calendar=cal.record,
    )
    return request


def request_submit(*, submission: Submission, supporting_document=None, received_at=None) -> DataSubjectRequest:
    """File a new request from the public form; the person then confirms their e-mail address."""
    if not submission.language:
        # The language of the form the person filled in: what they read, so what we write to them in.
        submission = dataclasses.replace(submission, language=translation.get_language() or "")
    # filestore.atomic: a rollback leaves no document file behind.
    with filestore.atomic():
        request = request_file(submission=submission, received_at=received_at)
        if supporting_document is not None:
            request_document_store(request=request, upload=supporting_document, purpose=DocumentPurpose.SUPPORTING)
        message_send(request, MessageKind.EMAIL_CONFIRMATION)
    logger.info("request %s submitted", request.pk)
    return request


def request_log_received(
    *,
    submission: Submission,
    channel: str,
    received_at,
    actor: AbstractBaseUser,
    scan=None,
    postal_address: str = "",
) -> DataSubjectRequest:
    """File a request that reached us another way (letter, e-mail, phone, social media, in person), logged by staff.

    A request is valid whatever the channel (EDPB Guidelines 01/2022 para 52-56), and the clock starts on the day
    it was received, not the day it was logged (GDPR Art. 12(3)): ``received_at`` is the true receipt time. The
    trail records who logged it and how it came; a scan of what arrived is kept encrypted with the request.

    An address the request came from by e-mail is taken as confirmed (it reached us from that address); another
    address given is sent the usual confirmation code. Without an address the requester gets our notices by post.
    What follows (identity checks, then work) is decided above the request core (``casework.services``).
    """
    if received_at > timezone.now():
        raise RequestError(_("The time of receipt cannot be in the future."))
    email = submission.email.strip()
    if channel == Channel.WEB:
        raise RequestError(_("Requests made on the online form are filed by the form."))
    if not email and not postal_address.strip():
        raise RequestError(_("Give an e-mail address or a postal address to answer the requester at."))
    confirmed_at = timezone.now() if email and channel == Channel.EMAIL else None
    with filestore.atomic():
        request = request_file(submission=submission, received_at=received_at, email_confirmed_at=confirmed_at)
        request.channel = channel
        request.postal_address = postal_address.strip()
        request.notices_by_post = not email
        request.save(update_fields=["channel", "postal_address", "notices_by_post", "updated_at"])
        event_record(
            request_id=request.pk,
            kind=EventKind.RECEIVED_ANOTHER_WAY,
            actor=actor,
            actor_kind=STAFF,
            reason=_("Received by %(channel)s on %(when)s; logged by %(who)s")
            % {
                "channel": Channel(channel).label,
                "when": timezone.localtime(received_at).strftime("%Y-%m-%d %H:%M"),
                "who": actor.get_username(),
            },
        )
        if scan is not None:
            request_document_store(request=request, upload=scan, purpose=DocumentPurpose.SUPPORTING, actor_kind=STAFF)
        if email and confirmed_at is None:
            message_send(request, MessageKind.EMAIL_CONFIRMATION)
    logger.info("request %s logged by staff (%s)", request.pk, channel)
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
    *,
    request: DataSubjectRequest,
    reason: str,
    on: date,
    explanation: str | None = None,
    reasonable_doubt: str = "",
) -> DataSubjectRequest:
    """Wait for proof of identity (or authority) from ``on``: the clock stops (UK GDPR Art. 12(6), Art. 12A).

    ``reasonable_doubt`` is the doubt about who is asking that justified asking (Art. 12(6)); it is kept with the
    pause. In the UK, information asked for on a recorded doubt restarts the clock when it arrives; asked for with
    none recorded, the days waited are only added (``requests_app.clock.resume_planned``).

    ``explanation`` (what to send and why) is e-mailed to the person with the receipt; without one only the
    receipt goes (an agent's document is already here).
    """
    with transaction.atomic():
        transition(request, Status.AWAITING_IDENTITY_VERIFICATION, actor_kind=SYSTEM, reason=reason)
        clock_pause(request, reason=PauseReason.IDENTITY, on=on, actor_kind=SYSTEM, condition=reasonable_doubt.strip())
        message_send(request, MessageKind.RECEIPT)
        if explanation is not None:
            message_send(request, MessageKind.IDENTITY_NEEDED, {"explanation": explanation})
    return request


def request_respond_to_set(
    *, request: DataSubjectRequest, respond_to: str, subject_email: str = "", actor=None, reason: str = ""
) -> DataSubjectRequest:
    """Route our messages and the response to the requester or to the data subject (identity decides per authority
    type: LAW.md I3/I4; ICO guidance on requests made on behalf of others). Recorded in the trail."""
    if respond_to == RespondTo.SUBJECT and not subject_email.strip():
        raise RequestError(_("We hold no address for the data subject to send the response to."))
    with transaction.atomic():
        locked = request_lock(request.pk)
        locked.respond_to = respond_to
        locked.subject_email = subject_email.strip() if respond_to == RespondTo.SUBJECT else ""
        locked.save(update_fields=["respond_to", "subject_email", "updated_at"])
        event_record(
            request_id=locked.pk,
            kind=EventKind.RESPONSE_ROUTED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=_("Response goes to: %(who)s. %(reason)s") % {"who": RespondTo(respond_to).label, "reason": reason},
        )
        request.respond_to, request.subject_email = locked.respond_to, locked.subject_email
    return locked


def supporting_documents_retention_sweep(*, now=None) -> int:
    """Delete supporting and clarification documents with the case file: ``DSAR_CASE_FILE_RETENTION_DAYS`` after
    closure (LAW.md §6(h); Art. 5(1)(e) storage limitation), unless the case is held. The rows stay as the record
    that they existed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DSAR_CASE_FILE_RETENTION_DAYS)
    expired = RequestDocument.objects.filter(
        purpose__in=[DocumentPurpose.SUPPORTING, DocumentPurpose.CLARIFICATION],
        deleted_at=None,
        request__closed_at__lte=cutoff,
    )
    # A case under a legal hold keeps its documents with the rest of its file (requests_app.retention_holds).
    if (held := retention_holds.held("request_id")) is not None:
        expired = expired.exclude(held)
    deleted = 0
    for document in expired:
        if request_document_delete(document=document, on=now):
            deleted += 1
    return deleted


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


def request_message_write(
    *, request: DataSubjectRequest, actor: AbstractBaseUser, subject: str, body: str, template: str = ""
) -> Message:
    """Staff write to the requester from the case page: stored, shown on the status page, and delivered as every
    other notice is (e-mailed after commit, or marked for posting to a postal requester).

    Only to an address the person has confirmed, or by post: a message about a request may say something of the
    person, and an unconfirmed address may not be theirs (GDPR Art. 5(1)(f), 32). The trail records who wrote it and
    from which template; the text itself is in the correspondence, encrypted at rest.
    """
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise RequestError(_("Write a subject and a message."))
    with transaction.atomic():
        locked = request_lock(request.pk)
        if not locked.notices_by_post and locked.email_confirmed_at is None:
            raise RequestError(_("The requester has not confirmed their e-mail address: we cannot write to it yet."))
        message = message_send(locked, MessageKind.STAFF_MESSAGE, {"text": body}, subject=subject)
        event_record(
            request_id=locked.pk,
            kind=EventKind.MESSAGE_WRITTEN,
            actor=actor,
            actor_kind=STAFF,
            reason=_("From the template '%(template)s'") % {"template": template} if template else "",
        )
    return message


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
    """Record the person's reply; a stopped clock resumes from the day it arrives.

    The days from the question to the answer do not count (UK GDPR Art. 12A: both the day asked and the day
    answered are excluded; EU: EDPB Guidelines 01/2022 §5.3, counted without the day of the answer). A question
    that did not stop the clock (any right but access) changes no date.
    """
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
    on: date | None = None,
) -> DataSubjectRequest:
    """Identity is confirmed on ``on`` (default today).

    ``evidence_received_on`` is the day what we asked for arrived, from a stored receipt (a document's upload, a
    reply with further details), never the day of the decision; ``None`` when nothing was received (staff verified
    from their own records). UK (Art. 12A): the clock restarts from that day where a reasonable doubt was recorded
    (Art. 12(6)), else the days waited are added; with nothing received it resumes as if it had never stopped.
    EU (EDPB Guidelines 01/2022 §5.3): the days waited are added. See ``requests_app.clock.resume_planned``.

    The person is told the date now due: the UK receipt promised it ("we will write to tell you the date then"), and
    in the EU the date has moved by the days waited (Art. 12(1): clear information; LAW.md N4).
    """
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = request_lock(request.pk)
        clock = (
            resume_planned(locked, on=evidence_received_on, decided_on=on)
            if locked.status != Status.IN_PROGRESS
            else None
        )
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
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    question: str,
    asked_on: date | None = None,
    stops_clock: bool = False,
    condition: str = "",
) -> DataSubjectRequest:
    """Ask the person a question about their request; the clock stops only where the law lets it.

    ``stops_clock``: staff record the statutory condition, that they reasonably need the person to identify the
    information or processing activities an *access* request relates to (for example because a large amount of
    information is held), with ``condition`` saying why. UK GDPR Art. 12A (in the terms of DPA 2018 s.54(3D) as
    amended by the DUAA 2025) and ICO guidance; EU: EDPB Guidelines 01/2022 §5.3 and Recital 63. The clock then
    stops from ``asked_on``. For every other right there is no stop (LAW.md D1): staff may still ask, the clock runs,
    and the message says so.
    """
    if not question.strip():
        raise RequestError(_("Say what you need the person to clarify."))
    # Art. 21(3): an objection to direct marketing covers all of it; there is nothing to clarify before acting.
    _absolute_objection_check(request, _("a question that holds it"))
    if stops_clock and request.right != Right.ACCESS:
        raise RequestError(
            _(
                "Only an access request can stop the clock for clarification. Ask your question without stopping "
                "it: the deadline keeps running."
            )
        )
    if stops_clock and not condition.strip():
        raise RequestError(
            _("Say why you need the person to identify the information or processing activities they mean.")
        )
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
            if stops_clock:
                clock_pause(
                    request,
                    reason=PauseReason.CLARIFICATION,
                    on=asked_on,
                    actor=actor,
                    actor_kind=STAFF,
                    condition=_("Needed to identify the information or processing activities: %(why)s")
                    % {"why": condition.strip()},
                )
            message_send(
                request,
                MessageKind.CLARIFICATION_REQUESTED,
                {"question": question.strip(), "clock_stopped": stops_clock},
            )
    return request


def request_clarification_resume(
    *, request: DataSubjectRequest, actor: AbstractBaseUser, on: date, reason: str
) -> DataSubjectRequest:
    """Go back to work without an answer from ``on``: the person never replied, or asked for everything.

    ICO: if the person does not respond, the controller must still comply by making reasonable searches; EDPB
    Guidelines 01/2022 §5.3: a person who asks for all the data gets all of it (LAW.md D12). The pause ends on the
    recorded day; the days up to it do not count (without the day itself, as nothing was received). Audited with
    the reason.
    """
    if not reason.strip():
        raise RequestError(_("Say why work resumes without an answer."))
    with transaction.atomic():
        locked = request_lock(request.pk)
        if locked.status != Status.AWAITING_CLARIFICATION:
            raise _moved_on_meanwhile(locked)
        if locked.clock_paused_on is not None and on < locked.clock_paused_on:
            raise RequestError(_("The clock cannot resume before the day the question was sent."))
        label = _("Resumed without an answer")
        clock = pause_ended_without_answer(
            locked, on=on, kind=EventKind.CLOCK_RESUMED, reason=f"{label} ({on.isoformat()}): {reason.strip()}"
        )
        result = transition(
            locked,
            Status.IN_PROGRESS,
            actor=actor,
            actor_kind=STAFF,
            reason=f"{label}: {reason.strip()}",
            changes=clock.changes if clock else None,
        )
        if clock is not None:
            clock_change_record(locked, clock, move_event=result.event, actor=actor, actor_kind=STAFF)
        request.refresh_from_db()
    return request


def request_extend(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    months: int,
    basis: Iterable[str],
    reasons: str,
    on: date | None = None,
) -> DataSubjectRequest:
    """Extend by up to two further months, counted from the original start (GDPR Art. 12(3)).

    Only on a structured ``basis`` (``ExtensionBasis``): the complexity of the request, or the number of requests
    from this person (Art. 12(3); UK GDPR Art. 12A), which must be shown by their other requests
    (``requests_from_same_person``, by the keyed e-mail hash). The person reads the basis and the ``reasons``
    (Art. 12(3): "together with the reasons for the delay"). They must be told within the first month: so an
    extension is only possible up to the original due date. Never for an objection to direct marketing
    (Art. 21(3)), which is absolute.
    """
    on = on or timezone.localdate()
    basis = sorted(set(basis))
    if not basis or any(item not in ExtensionBasis.values for item in basis):
        raise RequestError(
            _(
                "Choose why more time is needed: the complexity of the request, or the number of requests from "
                "this person (GDPR Art. 12(3)). Staff shortage, holidays or our overall volume do not count."
            )
        )
    if not reasons.strip():
        raise RequestError(_("An extension needs reasons, which we send to the person."))
    if months not in (1, 2):
        raise RequestError(_("An extension is one or two further months."))
    with transaction.atomic():
        request = request_lock(request.pk)
        _absolute_objection_check(request, _("an extension"))
        if request.status not in EXTENDABLE_STATUSES:
            raise RequestError(_("Only an open request can be extended."))
        if ExtensionBasis.NUMBER_OF_REQUESTS in basis and not requests_from_same_person(request).exists():
            raise RequestError(
                _(
                    "We have no other request from this person, so the number of their requests cannot be the "
                    "reason for more time (GDPR Art. 12(3))."
                )
            )
        if request.extension_months + months > 2:
            raise RequestError(_("The deadline can be extended by two further months at most."))
        original_due = deadlines.latest_extension_notice_date(
            clock_start=request.clock_started_on,
            jurisdiction=request.jurisdiction,
            paused_days=request.paused_days,
            overrides=calendar_for(request.jurisdiction, request.second_jurisdiction).overrides,
            also_jurisdiction=request.second_jurisdiction,
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
        request.extension_basis = sorted({*request.extension_basis, *basis})
        request.save(update_fields=["extension_basis", "updated_at"])
        labels = [str(ExtensionBasis(item).label) for item in basis]
        event = event_record(
            request_id=request.pk,
            kind=EventKind.EXTENDED,
            actor=actor,
            actor_kind=STAFF,
            reason="\n".join([*labels, reasons.strip()]),
        )
        deadline_recompute(request, event)
        message_send(request, MessageKind.EXTENSION, {"basis": labels, "reasons": reasons.strip()})
    return request


def request_refuse(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser | None,
    ground: str,
    reasons: str = "",
    on: date | None = None,
    exemption: str = "",
    reference: str = "",
    note: str = "",
    statement_recorded: str = "",
    neither_confirm_nor_deny: bool = False,
) -> DataSubjectRequest:
    """Refuse, on a ground the law gives for this right, with reasons; the person is told how to complain
    (GDPR Art. 12(4)). The rules of each ground are ``grounds.refusal_check``.

    ``note`` is internal and never sent: the evidence for a manifestly unfounded or excessive request (Art. 12(5);
    the person's earlier requests, found by the keyed e-mail hash, are recorded with it), the demonstration that
    we cannot identify the person (Art. 11(2)), or why a UK "neither confirm nor deny" reply was needed. A refusal
    sent after the due date is recorded as late (Art. 12(4): "at the latest within one month").
    A pause still running ends on ``on``; its days are kept with the ground, in the same move.
    """
    if ground in (RefusalGround.MANIFESTLY_UNFOUNDED, RefusalGround.MANIFESTLY_EXCESSIVE):
        # GDPR Art. 21(3): an objection to direct marketing is never "manifestly unfounded or excessive".
        _absolute_objection_check(request, _("a refusal as manifestly unfounded or excessive"))
    on = on or timezone.localdate()
    try:
        refusal = grounds.refusal_check(
            right=request.right,
            details=request.details,
            jurisdiction=request.jurisdiction,
            ground=ground,
            reasons=reasons,
            exemption=exemption,
            reference=reference,
            note=note,
            statement_recorded=statement_recorded,
            neither_confirm_nor_deny=neither_confirm_nor_deny,
            may_neither_confirm_nor_deny=actor is not None
            and actor.is_authenticated
            and actor.has_perm(grounds.NEITHER_CONFIRM_NOR_DENY_PERMISSION),
        )
    except grounds.GroundError as error:
        raise RequestError(str(error)) from None
    with transaction.atomic():
        locked = request_lock(request.pk)
        clock = pause_ended_without_answer(locked, on=on) if locked.status != Status.REFUSED else None
        clock_changes = clock.changes if clock else {}
        answered = _answered(due_on=clock_changes.get("due_on", locked.due_on), on=on)
        try:
            result = transition(
                request,
                Status.REFUSED,
                actor=actor,
                actor_kind=actor_kind_of(actor),
                # Under "neither confirm nor deny" nothing was sent: the trail keeps only the internal reason.
                reason=refusal.note if refusal.neither_confirm_nor_deny else refusal.reasons,
                changes={**refusal.changes(), **answered, **clock_changes},
            )
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            if clock is not None:
                clock_change_record(request, clock, move_event=result.event, actor_kind=actor_kind_of(actor))
            if refusal.note:
                _decision_note_record(request, note=refusal.note, ground=refusal.ground, actor=actor)
            _late_record(request, actor=actor)
            message_send(request, MessageKind.REFUSAL, {**_complaint_context(request), **_refusal_context(refusal)})
    return request


def _refusal_context(refusal: grounds.Refusal) -> dict:
    if refusal.neither_confirm_nor_deny:
        return {"neither_confirm_nor_deny": True}
    return {
        "reasons": refusal.reasons,
        "ground": RefusalGround(refusal.ground).label,
        "exemption": Exemption(refusal.exemption).label if refusal.exemption else "",
        "exemption_reference": refusal.reference,
        "statement_recorded": refusal.statement_recorded,
    }


def _complaint_context(request: DataSubjectRequest) -> dict:
    """Which complaint rights the notice states: UK, the organisation's own route first (DPA 2018 s.164A); EU,
    also the authority where the person lives or works (GDPR Art. 77(1)). In the UK the notice names the public
    complaint form (s.164A(2)) by the URL in settings, so this app need not know the app that serves it."""
    uk_rules = deadlines.is_uk(request.jurisdiction)
    return {"uk_rules": uk_rules, "complaints_url": settings.DSAR_COMPLAINTS_URL if uk_rules else ""}


def _answered(*, due_on: date, on: date) -> dict:
    """The day a refusal or completion went, in the organisation's date, and whether it was after the due date
    (GDPR Art. 12(3)-(4): within one month of receipt, as extended; the due date itself is still in time)."""
    return {"answered_on": on, "answered_late": on > due_on}


def _late_record(request: DataSubjectRequest, *, actor: AbstractBaseUser | None) -> None:
    if request.answered_late:
        event_record(
            request_id=request.pk,
            kind=EventKind.ANSWERED_LATE,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=_("Due on %(due)s; answered on %(on)s.")
            % {"due": request.due_on.isoformat(), "on": request.answered_on.isoformat()},
        )
        logger.warning("request %s answered after its due date", request.pk)


def _decision_note_record(
    request: DataSubjectRequest, *, note: str, ground: str, actor: AbstractBaseUser | None
) -> None:
    """The internal note, kept in the trail (encrypted) even if the request is reopened. For a manifestly
    unfounded or excessive refusal the person's other requests (R3, by ``email_hash``) are listed with it, so the
    trail shows what the decision was weighed against (Art. 12(5); ICO: repetition, "reasonable intervals")."""
    text = note
    if ground in (RefusalGround.MANIFESTLY_UNFOUNDED, RefusalGround.MANIFESTLY_EXCESSIVE):
        earlier = [
            f"{other.reference} ({other.get_right_display()}, {timezone.localdate(other.received_at).isoformat()}, "
            f"{other.get_status_display()})"
            for other in requests_from_same_person(request=request)
        ]
        text = "\n".join([note, _("Other requests from this person:"), *(earlier or [_("none")])])
    event_record(
        request_id=request.pk,
        kind=EventKind.DECISION_NOTE,
        actor=actor,
        actor_kind=actor_kind_of(actor),
        reason=text,
    )


def request_complete(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    outcome: str,
    summary: str = "",
    parts: Sequence[Mapping[str, str]] = (),
    on: date | None = None,
) -> DataSubjectRequest:
    """Complete the request and tell the person (GDPR Art. 12(3)).

    "Partly fulfilled" means part of the request was not acted on, which is a refusal of that part (Art. 12(4)):
    ``parts`` says, for each, what was done, what was not, why, and on which ground the law gives for this right
    (``grounds.partial_statement_check``); the notice lists them and carries the complaint rights. "Fulfilled" and
    "no data held" take no parts. Sent after the due date, it is recorded as late.

    An objection to direct marketing (GDPR Art. 21(3)) also records when it was completed (``suppressed_at``, for
    "time to suppression") and leaves a ``MarketingSuppression`` entry that a later erasure does not remove; the
    completion message explains it.
    """
    if outcome not in Outcome.values:
        raise RequestError(_("Choose the outcome."))
    statement: dict = {}
    if outcome == Outcome.PARTLY_FULFILLED:
        try:
            statement = grounds.partial_statement_check(
                right=request.right, details=request.details, parts=parts
            ).as_stored()
        except grounds.GroundError as error:
            raise RequestError(str(error)) from None
    elif parts:
        raise RequestError(_("Only a partly fulfilled request lists parts not done."))
    on = on or timezone.localdate()
    suppression = marketing.is_direct_marketing_objection(request)
    # A reopened objection keeps the first time it was acted on: that is when the marketing stopped.
    suppressed = {"suppressed_at": request.suppressed_at or timezone.now()} if suppression else {}
    with transaction.atomic():
        locked = request_lock(request.pk)
        try:
            result = transition(
                request,
                Status.COMPLETED,
                actor=actor,
                actor_kind=STAFF,
                reason=summary,
                changes={
                    "outcome": outcome,
                    "decision_statement": statement,
                    **_answered(due_on=locked.due_on, on=on),
                    **suppressed,
                },
            )
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            if suppression:
                marketing.suppression_record(request, at=request.suppressed_at, actor=actor, actor_kind=STAFF)
            _late_record(request, actor=actor)
            message_send(
                request,
                MessageKind.COMPLETION,
                {
                    **_complaint_context(request),
                    "outcome": Outcome(outcome).label,
                    "summary": summary.strip(),
                    "parts": grounds.parts_for_notice(statement),
                    "suppression": suppression,
                    # What apps above add (the recipients told of the change, Art. 19), via a registry.
                    **completion_extras(request),
                },
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
                changes={
                    "outcome": "",
                    "refusal_ground": "",
                    "refusal_exemption": "",
                    "refusal_reference": "",
                    "neither_confirm_nor_deny": False,
                    "decision_note": "",
                    "decision_statement": {},
                    "answered_on": None,
                    "answered_late": False,
                },
            )
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            message_send(request, MessageKind.REOPENED)
    return request


# --- Fees (GDPR Art. 12(5), 15(3); UK GDPR Art. 12A) ----------------------------------------------------------


def _fee_currency(jurisdiction: str) -> str:
    return "GBP" if deadlines.is_uk(jurisdiction) else "EUR"


def request_fee_request(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    amount: Decimal | str,
    basis: str,
    reasons: str,
    on: date | None = None,
    currency: str | None = None,
) -> DataSubjectRequest:
    """Tell the person, before anything is charged, that the request waits for a fee, how much and why.

    A reasonable fee based on administrative costs (staff time, copying, postage: ICO right of access guidance) may
    be charged only for a manifestly unfounded or excessive request (Art. 12(5)(a)) or a further copy of access
    data (Art. 15(3)). The first copy is always free, whatever the purpose of the request (CJEU C-307/22;
    *Dawson-Damer* in the UK): a further copy needs an earlier access request of this person answered with data.
    The person is told first so they can withdraw (EDPB Guidelines 01/2022 para 192). UK: the clock stops from
    ``on`` and starts again on payment (UK GDPR Art. 12A, "relevant time" (c)); EU: no text stops it, so it keeps
    running. Never for an objection to direct marketing (Art. 21(3)).
    """
    if basis not in FeeBasis.values:
        raise RequestError(_("Choose the basis for the fee (GDPR Art. 12(5) or 15(3))."))
    if not reasons.strip():
        raise RequestError(_("A fee needs reasons, which we send to the person."))
    try:
        amount = Decimal(str(amount))
    except InvalidOperation:
        raise RequestError(_("Give the fee as an amount of money.")) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise RequestError(_("Give the fee as an amount of money greater than nothing."))
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = request_lock(request.pk)
        _absolute_objection_check(locked, _("a fee"))
        if basis == FeeBasis.FURTHER_COPY:
            _further_copy_check(locked)
        uk = deadlines.is_uk(locked.jurisdiction)
        try:
            result = transition(
                request,
                Status.AWAITING_FEE,
                actor=actor,
                actor_kind=STAFF,
                reason=reasons,
                changes={
                    "fee_amount": amount,
                    "fee_currency": (currency or _fee_currency(locked.jurisdiction)).upper(),
                    "fee_basis": basis,
                    "fee_requested_on": on,
                    "fee_paid_on": None,
                },
            )
        except IllegalTransition:
            raise _moved_on_meanwhile(request) from None
        if result.changed:
            event_record(
                request_id=request.pk,
                kind=EventKind.FEE_REQUESTED,
                actor=actor,
                actor_kind=STAFF,
                reason=f"{request.fee_amount} {request.fee_currency}: {FeeBasis(basis).label}\n{reasons.strip()}",
            )
            if uk:
                clock_pause(request, reason=PauseReason.FEE, on=on, actor_kind=STAFF)
            message_send(
                request,
                MessageKind.FEE_REQUESTED,
                {
                    "amount": request.fee_amount,
                    "currency": request.fee_currency,
                    "fee_basis": FeeBasis(basis).label,
                    "reasons": reasons.strip(),
                    "uk": uk,
                },
            )
    return request


def _further_copy_check(request: DataSubjectRequest) -> None:
    """Art. 15(3): only a further copy may carry a fee; the first is free (C-307/22). A copy was supplied when an
    earlier access request of the same person (``requests_from_same_person``) was completed with data."""
    if request.right != Right.ACCESS:
        raise RequestError(_("Only a copy of the data under the right of access can be a further copy."))
    copy_given = (
        requests_from_same_person(request)
        .filter(right=Right.ACCESS, status=Status.COMPLETED, outcome__in=[Outcome.FULFILLED, Outcome.PARTLY_FULFILLED])
        .exists()
    )
    if not copy_given:
        raise RequestError(
            _(
                "The first copy of a person's data is always free (GDPR Art. 15(3); CJEU C-307/22): we have not "
                "given this person a copy before."
            )
        )


def request_fee_paid(
    *, request: DataSubjectRequest, actor: AbstractBaseUser | None, paid_on: date, reference: str
) -> DataSubjectRequest:
    """Record the payment in the audit trail, and go back to work.

    UK: the day of payment starts a new month (UK GDPR Art. 12A, "relevant time" (c); ICO: the month runs from the
    day the fee is received, that day counted as the day of receipt). EU: the clock never stopped.
    """
    if not reference.strip():
        raise RequestError(_("Give the payment's reference, for the record."))
    with transaction.atomic():
        locked = request_lock(request.pk)
        if locked.status != Status.AWAITING_FEE:
            raise RequestError(_("This request is not waiting for a fee."))
        if paid_on < locked.fee_requested_on:
            raise RequestError(_("A payment cannot come before the fee was asked for."))
        clock = resume_planned(locked, on=paid_on)
        result = transition(
            request,
            Status.IN_PROGRESS,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=_("Fee paid"),
            changes={"fee_paid_on": paid_on, **(clock.changes if clock else {})},
        )
        event_record(
            request_id=request.pk,
            kind=EventKind.FEE_PAID,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=f"{locked.fee_amount} {locked.fee_currency} paid on {paid_on.isoformat()}; "
            f"reference {reference.strip()}",
        )
        if clock is not None:
            clock_change_record(request, clock, move_event=result.event, actor=actor, actor_kind=actor_kind_of(actor))
    return request


def request_fee_waive(
    *, request: DataSubjectRequest, actor: AbstractBaseUser, reasons: str, on: date | None = None
) -> DataSubjectRequest:
    """Drop the fee asked for and go back to work.

    Nothing was paid, so in the UK nothing restarts the clock (Art. 12A "relevant time" (c) needs a payment): the
    days spent waiting count as if the clock never stopped, the reading that never makes the due date later.
    """
    if not reasons.strip():
        raise RequestError(_("Say why the fee is waived."))
    with transaction.atomic():
        locked = request_lock(request.pk)
        if locked.status != Status.AWAITING_FEE:
            raise RequestError(_("This request is not waiting for a fee."))
        result = transition(
            request,
            Status.IN_PROGRESS,
            actor=actor,
            actor_kind=STAFF,
            reason=reasons,
            changes={
                "clock_paused_on": None,
                "clock_pause_reason": "",
                "fee_amount": None,
                "fee_currency": "",
                "fee_basis": "",
                "fee_requested_on": None,
            },
        )
        if result.changed:
            event_record(
                request_id=request.pk,
                kind=EventKind.FEE_WAIVED,
                actor=actor,
                actor_kind=STAFF,
                reason=f"{locked.fee_amount} {locked.fee_currency}\n{reasons.strip()}",
            )
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

    A request is validly received even before its address is confirmed, so it is closed only after
    ``DSAR_UNCONFIRMED_CLOSE_DAYS`` (30 by default, like the identity timeout), and the closing notice says how to
    complain to the supervisory authority and seek a judicial remedy (GDPR Art. 12(4), 77, 79; LAW.md D11).

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
