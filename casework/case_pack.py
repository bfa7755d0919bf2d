"""The case pack: the file a DPO hands a regulator about one request (issue 11, accountability).

GDPR Art. 5(2) asks the controller to *demonstrate* compliance; on a complaint the supervisory authority asks for
exactly this (Art. 58(1)(a), Art. 31: the controller co-operates and provides the information it needs). One pack
gathers, from the request's own records, the request as received, each identity step with the reason for it
(Art. 12(6)), every event of the statutory clock with its legal basis and the calendar and time zone its dates were
computed with (Art. 12(3); UK GDPR Art. 12A), the extension's basis and the day its notice went (Art. 12(3)), the
decisions with their grounds (Art. 12(4)), every notice with its delivery record (letters with the day they were
posted), the complaints about the request (UK DPA 2018 s.164A) and the reopenings.

Reads only. Who may read a pack is ``may_read_case_pack``; what is shown follows the reader's permissions: free text
(reasons, message bodies, the requester's details) only to staff who may see personal data, and never the identity
evidence itself to anyone (GDPR Art. 5(1)(c): the pack lists the checks, not the documents).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.models import Complaint
from complaints.selectors import complaint_event_label, complaint_history, complaints_for_request
from identity.models import EvidenceCheck, IdentityVerification
from requests_app import deadlines
from requests_app.clock import calendar_for
from requests_app.grounds import parts_for_notice
from requests_app.models import (
    DataSubjectRequest,
    DocumentPurpose,
    DueDateChange,
    EventKind,
    Exemption,
    ExtensionBasis,
    Message,
    MessageKind,
    Outcome,
    PauseReason,
    RefusalGround,
    RequestEvent,
    Status,
)
from requests_app.scope import agent_authority_of, scope_of

from .selectors import ALL_REQUESTS, PERSONAL_DATA, scope_rows

COMPLAINANT_DATA = "complaints.view_complainant_data"

# The legal basis of each kind of clock event (GDPR Art. 12(3); UK GDPR Art. 12A; EDPB Guidelines 01/2022 §5.3).
_RECEIPT_BASIS = gettext_lazy("GDPR Art. 12(3): one month from receipt (UK GDPR Art. 12A: the relevant time)")
_BASIS_BY_KIND = {
    EventKind.SUBMITTED: _RECEIPT_BASIS,
    EventKind.RECEIVED_ANOTHER_WAY: _RECEIPT_BASIS,
    EventKind.EMAIL_CONFIRMED: _RECEIPT_BASIS,
    EventKind.EXTENDED: gettext_lazy(
        "GDPR Art. 12(3): extended by up to two further months, the person told within the first month"
    ),
    EventKind.CLOCK_RESTARTED: gettext_lazy(
        "UK GDPR Art. 12A: the relevant time is the day the information asked for (Art. 12(6)) or the fee arrived"
    ),
    EventKind.FEE_REQUESTED: gettext_lazy("GDPR Art. 12(5), 15(3); UK GDPR Art. 12A: a fee asked for"),
    EventKind.FEE_PAID: gettext_lazy("GDPR Art. 12(5), 15(3); UK GDPR Art. 12A(c): the fee paid"),
    EventKind.FEE_WAIVED: gettext_lazy("GDPR Art. 12(5): the fee waived"),
    EventKind.ANSWERED_LATE: gettext_lazy("GDPR Art. 12(3)-(4): answered after the due date"),
}
_BASIS_BY_PAUSE = {
    PauseReason.CLARIFICATION: gettext_lazy(
        "UK GDPR Art. 12A (access requests only); EDPB Guidelines 01/2022 §5.3 and Recital 63: clarification"
    ),
    PauseReason.IDENTITY: gettext_lazy("GDPR Art. 12(6): reasonable doubts about identity; information asked for"),
    PauseReason.FEE: gettext_lazy("UK GDPR Art. 12A(c): the clock waits for the fee"),
}
_GENERAL_BASIS = gettext_lazy("GDPR Art. 12(3): due date recomputed")

_CLOCK_KINDS = frozenset(
    {
        EventKind.SUBMITTED,
        EventKind.RECEIVED_ANOTHER_WAY,
        EventKind.CLOCK_PAUSED,
        EventKind.CLOCK_RESUMED,
        EventKind.CLOCK_RESTARTED,
        EventKind.EXTENDED,
        EventKind.FEE_REQUESTED,
        EventKind.FEE_PAID,
        EventKind.FEE_WAIVED,
        EventKind.ANSWERED_LATE,
    }
)
_IDENTITY_KINDS = frozenset(
    {
        EventKind.EMAIL_CONFIRMED,
        EventKind.IDENTITY_EVIDENCE_REQUESTED,
        EventKind.IDENTITY_STATUS_CHANGED,
        EventKind.IDENTITY_JUDGEMENT,
        EventKind.SUBJECT_CONFIRMED_AGENT,
        EventKind.SUBJECT_DENIED_AGENT,
        EventKind.RESPONSE_ROUTED,
    }
)
_DECIDED_STATUSES = frozenset({Status.COMPLETED, Status.REFUSED, Status.WITHDRAWN, Status.CLOSED_UNCONFIRMED})
_DECISION_KINDS = frozenset({EventKind.DECISION_NOTE, EventKind.MARKETING_SUPPRESSED})


def may_read_case_pack(user: AbstractBaseUser, request: DataSubjectRequest) -> bool:
    """The DPO and auditors (who see every request), and the case handler the request is assigned to.

    ``request`` must already come from ``selectors.requests_visible_to(user)``: this narrows that scope, it does not
    replace it. An unassigned request's pack waits for someone to take the case (issue 11).
    """
    if user.has_perm(ALL_REQUESTS):
        return True
    assignment = getattr(request, "assignment", None)
    return assignment is not None and assignment.assignee_id == user.pk


@dataclass(frozen=True)
class ClockRow:
    at: datetime
    what: str
    basis: str
    reason: str
    previous_due_on: date | None = None
    due_on: date | None = None
    target_on: date | None = None
    calendar: dict = field(default_factory=dict)
    actor: str = ""


@dataclass(frozen=True)
class EventRow:
    at: datetime
    what: str
    reason: str
    actor: str


@dataclass(frozen=True)
class NoticeRow:
    message: Message
    delivery: str
    delivered: bool


@dataclass(frozen=True)
class ComplaintEntry:
    complaint: Complaint
    history: list[EventRow]
    notices: list[tuple[Any, str]]


@dataclass(frozen=True)
class CasePack:
    """Everything the pack shows, already cut to what the reader may see."""

    request: DataSubjectRequest
    generated_at: datetime
    generated_by: str
    show_personal_data: bool
    show_complainant_data: bool
    jurisdictions: list[str]
    time_zone: str
    scope_rows: list[tuple[str, Any]]
    agent_authority: Any
    received_documents: list[Any]
    verification: IdentityVerification | None
    evidence_checks: list[EvidenceCheck]
    identity_events: list[EventRow]
    clock: list[ClockRow]
    latest_extension_notice_on: date | None
    extension_basis: list[str]
    extension_notices: list[NoticeRow]
    decision: dict[str, Any]
    decision_events: list[EventRow]
    notices: list[NoticeRow]
    complaints: list[ComplaintEntry]
    reopenings: list[EventRow]


def _actor(event: Any) -> str:
    actor = getattr(event, "actor", None)
    return actor.get_username() if actor is not None else str(event.actor_kind)


def _pause_reason(text: str) -> str:
    """The structured reason of a pause: its event's reason begins with the PauseReason label (requests_app.clock)."""
    for reason in PauseReason:
        if text.startswith(str(reason.label)):
            return reason.value
    return ""


def _basis(event: RequestEvent, pause_reasons: dict[int, str]) -> str:
    if event.kind in (EventKind.CLOCK_PAUSED, EventKind.CLOCK_RESUMED):
        reason = pause_reasons.get(event.pk, "")
        return str(_BASIS_BY_PAUSE.get(reason, _GENERAL_BASIS))
    return str(_BASIS_BY_KIND.get(event.kind, _GENERAL_BASIS))


def _clock_rows(events: list[RequestEvent], changes: Iterable[DueDateChange], *, show_text: bool) -> list[ClockRow]:
    """Each clock event, and each event that moved the due date, with the dates and calendar it gave."""
    by_event: dict[int, DueDateChange] = {}
    for change in changes:
        by_event[change.event_id] = change
    pause_reasons: dict[int, str] = {}
    current_pause = ""
    for event in events:
        if event.kind == EventKind.CLOCK_PAUSED:
            current_pause = _pause_reason(event.reason)
            pause_reasons[event.pk] = current_pause
        elif event.kind == EventKind.CLOCK_RESUMED:
            pause_reasons[event.pk] = current_pause
            current_pause = ""
    rows = []
    for event in events:
        change = by_event.get(event.pk)
        if event.kind not in _CLOCK_KINDS and change is None:
            continue
        what = event.get_kind_display()
        if event.to_status:
            what = f"{what}: {event.get_to_status_display()}"
        pause = pause_reasons.get(event.pk)
        if pause:
            what = f"{what} ({PauseReason(pause).label})"
        rows.append(
            ClockRow(
                at=event.created_at,
                what=what,
                basis=_basis(event, pause_reasons),
                reason=event.reason if show_text else "",
                previous_due_on=change.previous_due_on if change else None,
                due_on=change.due_on if change else None,
                target_on=change.target_on if change else None,
                calendar=change.calendar if change else {},
                actor=_actor(event),
            )
        )
    return rows


def _event_rows(events: Iterable[RequestEvent], *, show_text: bool) -> list[EventRow]:
    rows = []
    for event in events:
        what = event.get_kind_display()
        if event.to_status:
            what = f"{what}: {event.get_to_status_display()}"
        rows.append(EventRow(event.created_at, what, event.reason if show_text else "", _actor(event)))
    return rows


def delivery_record(message: Any) -> tuple[str, bool]:
    """What became of one notice, in words, and whether it reached the person's post or inbox."""
    if getattr(message, "by_post", False):
        if message.posted_on:
            return _("Posted on %(day)s") % {"day": message.posted_on.isoformat()}, True
        return _("To post: not yet recorded as posted"), False
    if message.delivery_failed_at:
        return _("E-mail failed after every retry (%(at)s)") % {"at": message.delivery_failed_at.isoformat()}, False
    if message.sent_at:
        return _("E-mailed %(at)s") % {"at": message.sent_at.isoformat(timespec="minutes")}, True
    if getattr(message, "queued_at", None):
        return _("Queued for sending %(at)s, not yet sent") % {"at": message.queued_at.isoformat()}, False
    return _("Not yet sent"), False


def _notice_rows(messages: Iterable[Message]) -> list[NoticeRow]:
    rows = []
    for message in messages:
        words, delivered = delivery_record(message)
        rows.append(NoticeRow(message, words, delivered))
    return rows


def _decision(request: DataSubjectRequest, *, show_text: bool) -> dict[str, Any]:
    """The standing decision: outcome or refusal ground, exemption, when it was sent and whether late (Art. 12(4))."""
    statement = request.decision_statement or {}
    return {
        "status": request.get_status_display(),
        "outcome": str(Outcome(request.outcome).label) if request.outcome else "",
        "refusal_ground": str(RefusalGround(request.refusal_ground).label) if request.refusal_ground else "",
        "refusal_exemption": str(Exemption(request.refusal_exemption).label) if request.refusal_exemption else "",
        "refusal_reference": request.refusal_reference,
        "neither_confirm_nor_deny": request.neither_confirm_nor_deny,
        "answered_on": request.answered_on,
        "answered_late": request.answered_late,
        "parts": parts_for_notice(statement) if show_text and "parts" in statement else [],
        "decision_note": request.decision_note if show_text else "",
        "closed_at": request.closed_at,
    }


def _latest_extension_notice_on(request: DataSubjectRequest) -> date | None:
    """The last day an extension could be notified (GDPR Art. 12(3): within the first month), as the clock stands."""
    try:
        return deadlines.latest_extension_notice_date(
            clock_start=request.clock_started_on,
            jurisdiction=request.jurisdiction,
            paused_days=request.paused_days,
            overrides=calendar_for(request.jurisdiction, request.second_jurisdiction).overrides,
            also_jurisdiction=request.second_jurisdiction,
        )
    except ValueError:
        return None


def case_pack(*, request: DataSubjectRequest, reader: AbstractBaseUser, generated_at: datetime) -> CasePack:
    """The pack of ``request`` for ``reader`` (who must pass ``may_read_case_pack``), in a bounded number of queries."""
    show_text = reader.has_perm(PERSONAL_DATA)
    events = list(request.events.select_related("actor").order_by("created_at", "pk"))
    changes = list(request.due_date_changes.order_by("created_at", "pk"))
    outgoing = list(request.messages.filter(direction=Message.Direction.TO_REQUESTER).order_by("created_at", "pk"))
    notices = _notice_rows(outgoing)
    complaints = []
    show_complainant = reader.has_perm(COMPLAINANT_DATA)
    for complaint in complaints_for_request(request=request):
        history = _event_rows_for_complaint(complaint_history(complaint=complaint), show_text=show_complainant)
        sent = [(message, delivery_record(message)[0]) for message in complaint.messages.order_by("created_at")]
        complaints.append(ComplaintEntry(complaint, history, sent))
    reopenings = [
        event
        for event in events
        if event.kind == EventKind.STATUS_CHANGED
        and event.from_status in _DECIDED_STATUSES
        and event.to_status not in _DECIDED_STATUSES
    ]
    decisions = [
        event
        for event in events
        if (event.kind == EventKind.STATUS_CHANGED and event.to_status in _DECIDED_STATUSES)
        or event.kind in _DECISION_KINDS
    ]
    return CasePack(
        request=request,
        generated_at=generated_at,
        generated_by=reader.get_username(),
        show_personal_data=show_text,
        show_complainant_data=show_complainant,
        jurisdictions=[code for code in (request.jurisdiction, request.second_jurisdiction) if code],
        time_zone=request.received_time_zone,
        scope_rows=scope_rows(scope_of(request)),
        agent_authority=agent_authority_of(request),
        # That a document arrived and when, never its name or content (evidence is for the identity page only).
        received_documents=[
            {**row, "purpose": str(DocumentPurpose(row["purpose"]).label)}
            for row in request.documents.exclude(purpose=DocumentPurpose.IDENTITY_EVIDENCE)
            .order_by("uploaded_at", "pk")
            .values("purpose", "content_type", "size", "uploaded_at", "deleted_at")
        ],
        verification=IdentityVerification.objects.filter(request=request).select_related("decided_by").first(),
        evidence_checks=list(EvidenceCheck.objects.filter(request=request).order_by("checked_at", "pk")),
        identity_events=_event_rows([e for e in events if e.kind in _IDENTITY_KINDS], show_text=show_text),
        clock=_clock_rows(events, changes, show_text=show_text),
        latest_extension_notice_on=_latest_extension_notice_on(request),
        extension_basis=[str(ExtensionBasis(item).label) for item in request.extension_basis or []],
        extension_notices=[row for row in notices if row.message.kind == MessageKind.EXTENSION],
        decision=_decision(request, show_text=show_text),
        decision_events=_event_rows(decisions, show_text=show_text),
        notices=notices,
        complaints=complaints,
        reopenings=_event_rows(reopenings, show_text=show_text),
    )


def _event_rows_for_complaint(events: Iterable[Any], *, show_text: bool) -> list[EventRow]:
    rows = []
    for event in events:
        what = complaint_event_label(event.kind)
        if event.to_status:
            what = f"{what}: {event.get_to_status_display()}"
        rows.append(EventRow(event.created_at, what, event.reason if show_text else "", _actor(event)))
    return rows


def case_pack_pdf(html: str, *, stylesheet_path: str) -> bytes:
    """The pack's HTML as a tagged PDF (PDF/UA-1: a structure tree, the document's language and title, real headings
    and tables), so a regulator can read it with assistive technology (WCAG 2.2; EN 301 549 §10)."""
    # Imported here, not with the module: the pages must not depend on Pango being installed, only the PDF does.
    from weasyprint import CSS, HTML

    document = HTML(string=html)
    return document.write_pdf(stylesheets=[CSS(filename=stylesheet_path)], pdf_variant="pdf/ua-1")
