"""Reads on complaints: the register staff work from, and the complaints about one request."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from requests_app.models import DataSubjectRequest, EventKind

from .deadlines import acknowledgement_overdue
from .models import Complaint, ComplaintStatus

OPEN_STATUSES = frozenset({ComplaintStatus.RECEIVED, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING})


@dataclass(frozen=True)
class RegisterEntry:
    complaint: Complaint
    # Not acknowledged and past the last day of s.164A(3).
    acknowledgement_overdue: bool

    @property
    def awaiting_acknowledgement(self) -> bool:
        return self.complaint.status == ComplaintStatus.RECEIVED


def complaint_register(*, today: date | None = None) -> list[RegisterEntry]:
    """Open complaints, the earliest acknowledgement due date first (UK DPA 2018 s.164A(3)), each flagged when it
    is still unacknowledged after that date. The acknowledged ones stay on the register until their outcome is sent
    (s.164A(4): "without undue delay")."""
    today = today or timezone.localdate()
    complaints = (
        Complaint.objects.filter(status__in=OPEN_STATUSES)
        .select_related("request")
        .order_by("acknowledge_by", "received_at", "pk")
    )
    return [
        RegisterEntry(
            complaint=complaint,
            acknowledgement_overdue=complaint.status == ComplaintStatus.RECEIVED
            and acknowledgement_overdue(acknowledge_by=complaint.acknowledge_by, today=today),
        )
        for complaint in complaints
    ]


def complaints_for_request(*, request: DataSubjectRequest) -> QuerySet[Complaint]:
    """The complaints linked to one request, oldest first (for its case page and case pack)."""
    return Complaint.objects.filter(request=request).order_by("received_at", "pk")


# Where the request trail's word for a kind names the requester, the complaint's history names the complainant.
_COMPLAINT_EVENT_LABELS = {EventKind.LETTER_POSTED: _("Letter posted to the complainant")}


def complaint_event_label(kind: str) -> str:
    """The words for one kind of the complaint's history (its kinds are the request trail's)."""
    if kind in _COMPLAINT_EVENT_LABELS:
        return str(_COMPLAINT_EVENT_LABELS[kind])
    return str(EventKind(kind).label) if kind in EventKind.values else kind


def complaint_history(*, complaint: Complaint) -> QuerySet:
    """The complaint's own history, in order, with who acted."""
    return complaint.events.select_related("actor").order_by("created_at", "pk")
