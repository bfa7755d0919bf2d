"""Reads on complaints for the staff area, scoped to what each member of staff may see (UK DPA 2018 s.164A).

The rule: a complaint is seen by whoever may see every request (the DPO, and the auditor read-only); a case handler
sees only the complaints about a request they may see (``requests_visible_to``: assigned to them, or to no one). A
complaint about no request, or about a colleague's request, is not theirs: the complaint may be about that
colleague's work, and what the complainant wrote is personal data (GDPR Art. 5(1)(f), least privilege). Reminders
about unacknowledged complaints go to the DPOs (``casework.reminders``), who see them all.
"""

from dataclasses import dataclass
from datetime import date
from itertools import chain
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from complaints.deadlines import acknowledgement_overdue
from complaints.models import Complaint, ComplaintMessage, ComplaintMessageKind, ComplaintStatus
from complaints.selectors import OPEN_STATUSES, complaint_event_label
from requests_app.models import DataSubjectRequest
from requests_app.references import normalise_reference

from .selectors import ALL_REQUESTS, DueSummary, due_summary, may_use_staff_area, requests_visible_to

VIEW_COMPLAINTS = "complaints.view_complaint"
ACT_ON_COMPLAINTS = "complaints.change_complaint"
LOG_COMPLAINTS = "complaints.add_complaint"
COMPLAINANT_DATA = "complaints.view_complainant_data"

# The register's filters: what each shows.
REGISTER_FILTERS = ("open", "acknowledged", "overdue", "resolved", "all")
CLOSED_STATUSES = frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.WITHDRAWN})


def complaints_visible_to(user: AbstractBaseUser) -> QuerySet[Complaint]:
    """The complaints ``user`` may open: all of them, those about a request they may see, or none."""
    complaints = Complaint.objects.all()
    if not may_use_staff_area(user) or not user.has_perm(VIEW_COMPLAINTS):
        return complaints.none()
    if user.has_perm(ALL_REQUESTS):
        return complaints
    return complaints.filter(request__in=requests_visible_to(user))


def complaints_register(*, user: AbstractBaseUser, show: str, today: date) -> QuerySet[Complaint]:
    """The register ``user`` may see, narrowed by ``show`` (one of ``REGISTER_FILTERS``; unknown means "open").

    Open complaints first, the earliest acknowledgement due date first (s.164A(3): 30 days); "acknowledged" is an
    open complaint whose acknowledgement went; "overdue" one still unacknowledged after its last day; "resolved" one
    whose outcome was sent (s.164A(4)(b)) or that was withdrawn.
    """
    complaints = complaints_visible_to(user).select_related("request")
    if show == "all":
        pass
    elif show == "acknowledged":
        complaints = complaints.filter(status__in=[ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING])
    elif show == "overdue":
        complaints = complaints.filter(status=ComplaintStatus.RECEIVED, acknowledge_by__lt=today)
    elif show == "resolved":
        complaints = complaints.filter(status__in=CLOSED_STATUSES)
    else:
        complaints = complaints.filter(status__in=OPEN_STATUSES)
    return complaints.annotate(
        closed=Case(When(status__in=CLOSED_STATUSES, then=Value(1)), default=Value(0), output_field=IntegerField())
    ).order_by("closed", "acknowledge_by", "received_at", "pk")


@dataclass(frozen=True)
class AcknowledgementDeadline:
    """The s.164A(3) deadline as the register and the complaint page show it."""

    due: DueSummary | None  # days left in words while unacknowledged; None once acknowledged
    overdue: bool


def acknowledgement_deadline(complaint: Complaint, *, today: date) -> AcknowledgementDeadline:
    """Days left to acknowledge (UK DPA 2018 s.164A(3)), in words and a colour band, while it is still owed."""
    if complaint.status != ComplaintStatus.RECEIVED:
        return AcknowledgementDeadline(due=None, overdue=False)
    return AcknowledgementDeadline(
        due=due_summary(due_on=complaint.acknowledge_by, today=today, paused=False),
        overdue=acknowledgement_overdue(acknowledge_by=complaint.acknowledge_by, today=today),
    )


@dataclass(frozen=True)
class ComplaintTimelineEntry:
    at: Any
    kind: str  # "event" or "message"
    item: Any


def complaint_timeline(complaint: Complaint) -> list[ComplaintTimelineEntry]:
    """The complaint's history and the e-mails sent to the complainant, in order (two queries, however long)."""
    events = list(complaint.events.select_related("actor").order_by("created_at", "pk"))
    for event in events:
        # The complaint's kinds are the request trail's (a linked complaint writes each step to both).
        event.kind_label = complaint_event_label(event.kind)
    messages = complaint.messages.order_by("created_at", "pk")
    entries = chain(
        (ComplaintTimelineEntry(event.created_at, "event", event) for event in events),
        (ComplaintTimelineEntry(message.created_at, "message", message) for message in messages),
    )
    return sorted(entries, key=lambda entry: entry.at)


def complaint_letters_to_post(complaint: Complaint) -> QuerySet[ComplaintMessage]:
    """The letters to a complainant who gets notices by post that are not yet recorded as posted, oldest first (UK
    DPA 2018 s.164A(3)-(5): each notice must reach them; the posting day is the proof that it went)."""
    return complaint.messages.filter(by_post=True, posted_on=None).order_by("created_at", "pk")


def acknowledgement_letter(complaint: Complaint) -> ComplaintMessage | None:
    """The letter that acknowledged a complaint answered by post (the acknowledgement, or the outcome when it was
    sent first), for the page to show the day it was posted beside the day it was acknowledged (s.164A(3))."""
    if not complaint.notices_by_post or complaint.acknowledged_at is None:
        return None
    kinds = [ComplaintMessageKind.ACKNOWLEDGEMENT, ComplaintMessageKind.OUTCOME]
    letters = complaint.messages.filter(by_post=True, kind__in=kinds)
    return letters.order_by("created_at", "pk").first()


def complaints_about(*, request: DataSubjectRequest, user: AbstractBaseUser) -> QuerySet[Complaint]:
    """The complaints about ``request`` that ``user`` may see, oldest first (the case page's panel)."""
    return complaints_visible_to(user).filter(request=request).order_by("received_at", "pk")


def request_for_complaint(*, user: AbstractBaseUser, reference: str) -> DataSubjectRequest | None:
    """The request a complaint logged by ``user`` is about: only one they may see (else None)."""
    return requests_visible_to(user).filter(reference=normalise_reference(reference)).first()


def register_counts(*, user: AbstractBaseUser, today: date) -> dict[str, int]:
    """How many complaints each filter of the register shows, in one query."""
    visible = complaints_visible_to(user)
    return visible.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        acknowledged=Count("pk", filter=Q(status__in=[ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING])),
        overdue=Count("pk", filter=Q(status=ComplaintStatus.RECEIVED, acknowledge_by__lt=today)),
        resolved=Count("pk", filter=Q(status__in=CLOSED_STATUSES)),
        all=Count("pk"),
    )
