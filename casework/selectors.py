"""Reads for the staff area, scoped to what each member of staff may see.

Every view reaches a request through ``requests_visible_to``: the role alone is not enough, the object is checked
too (issue 11: a case handler sees the cases assigned to them and the unassigned ones, never a colleague's).
"""

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from identity.models import IdentityVerification, SubjectConfirmation, VerificationStatus
from requests_app.models import DataSubjectRequest, EventKind, Message, RequestEvent, Status
from requests_app.workflow import OPEN_STATUSES

from .models import CaseNote, MessageTemplate, MessageTemplateTranslation, StaffRoleChange

STAFF_AREA = "casework.view_staff_area"
ALL_REQUESTS = "casework.view_all_requests"
ASSIGN = "casework.assign_request"
ACT = "casework.act_on_request"
PERSONAL_DATA = "requests_app.view_personal_data"
MANAGE_ROLES = "casework.manage_staff_roles"

# The queue's colour bands, each also said in words (WCAG 1.4.1: colour is never the only signal).
DUE_SOON_DAYS = 7


def may_use_staff_area(user: AbstractBaseUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff and user.has_perm(STAFF_AREA))


def requests_visible_to(user: AbstractBaseUser) -> QuerySet[DataSubjectRequest]:
    """The requests ``user`` may open: all of them, their own and the unassigned ones, or none."""
    requests = DataSubjectRequest.objects.all()
    if not may_use_staff_area(user):
        return requests.none()
    if user.has_perm(ALL_REQUESTS):
        return requests
    return requests.filter(Q(assignment__isnull=True) | Q(assignment__assignee=user))


def assignable_staff() -> QuerySet:
    """Active staff who may work the queue, by name."""
    permission = Permission.objects.filter(content_type__app_label="casework", codename="view_staff_area")
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission))
        .distinct()
        .order_by("username")
    )


def queue_requests(user: AbstractBaseUser) -> QuerySet[DataSubjectRequest]:
    """Open requests ``user`` may see, soonest legal deadline first, each with what needs a human now.

    The flags are subqueries of the one query, so a page costs the same number of queries whatever it shows.
    """
    last_answer = RequestEvent.objects.filter(request=OuterRef("pk"), kind=EventKind.CLARIFICATION_ANSWERED).order_by(
        "-created_at", "-pk"
    )
    last_staff_event = RequestEvent.objects.filter(request=OuterRef("pk"), actor_kind="staff").order_by(
        "-created_at", "-pk"
    )
    return (
        requests_visible_to(user)
        .filter(status__in=OPEN_STATUSES)
        .select_related("assignment__assignee", "identity_verification")
        .annotate(
            evidence_to_review=Exists(
                IdentityVerification.objects.filter(request=OuterRef("pk"), status=VerificationStatus.EVIDENCE_RECEIVED)
            ),
            delivery_failed=Exists(Message.objects.filter(request=OuterRef("pk"), delivery_failed_at__isnull=False)),
            agent_unanswered=Exists(
                SubjectConfirmation.objects.filter(request=OuterRef("pk"), answer=SubjectConfirmation.Answer.PENDING)
            ),
            last_answer_at=Subquery(last_answer.values("created_at")[:1]),
            last_staff_event_at=Subquery(last_staff_event.values("created_at")[:1]),
        )
        .order_by("due_on", "pk")
    )


def requester_replied(request: DataSubjectRequest) -> bool:
    """The requester answered a clarification and no member of staff has acted since (needs the queue's
    annotations)."""
    answered = getattr(request, "last_answer_at", None)
    if answered is None or request.status != Status.IN_PROGRESS:
        return False
    acted = getattr(request, "last_staff_event_at", None)
    return acted is None or acted < answered


@dataclass(frozen=True)
class DueSummary:
    words: str
    css_class: str


def due_summary(*, due_on: date, today: date, paused: bool) -> DueSummary:
    """The time left to the legal due date in words, and the colour band it is shown in (GDPR Art. 12(3))."""
    if paused:
        return DueSummary(_("Clock paused"), "due-paused")
    days = (due_on - today).days
    if days < 0:
        return DueSummary(
            ngettext("%(days)d day overdue", "%(days)d days overdue", -days) % {"days": -days}, "due-overdue"
        )
    if days == 0:
        return DueSummary(_("Due today"), "due-overdue")
    words = ngettext("%(days)d day left", "%(days)d days left", days) % {"days": days}
    return DueSummary(words, "due-soon" if days <= DUE_SOON_DAYS else "due-later")


def scope_rows(scope: Any) -> list[tuple[str, Any]]:
    """The typed scope's fields as (label, value) rows for the case page, in their declared order."""
    return [
        (field.name.replace("_", " ").capitalize(), getattr(scope, field.name)) for field in dataclasses.fields(scope)
    ]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "event" or "message"
    item: Any


def case_timeline(request: DataSubjectRequest) -> list[TimelineEntry]:
    """Every event, message, internal note and document of the request, in the order they happened (four
    queries, however long).

    A note's own "note added" event is left out (the note stands in its place); a document is its name, kind and
    time, never its content, which is opened only through the evidence view (with its permission and step-up).
    """
    events = request.events.select_related("actor").exclude(kind=EventKind.NOTE_ADDED).order_by("created_at", "pk")
    messages = request.messages.order_by("created_at", "pk")
    notes = CaseNote.objects.filter(request=request).select_related("author").order_by("created_at", "pk")
    documents = request.documents.order_by("uploaded_at", "pk")
    entries = chain(
        (TimelineEntry(event.created_at, "event", event) for event in events),
        (TimelineEntry(message.created_at, "message", message) for message in messages),
        (TimelineEntry(note.created_at, "note", note) for note in notes),
        (TimelineEntry(document.uploaded_at, "document", document) for document in documents),
    )
    return sorted(entries, key=lambda entry: entry.at)


def message_templates() -> QuerySet[MessageTemplate]:
    """The DPO's message templates, by name, with their translations."""
    return MessageTemplate.objects.prefetch_related("translations").order_by("name", "pk")


def template_text_for(template: MessageTemplate, language: str) -> MessageTemplateTranslation | None:
    """The template's text in ``language`` where a translation exists, else in the portal's default language, else
    any it has (the person's own language first: GDPR Art. 12(1), intelligible communication)."""
    translations = {translation.language: translation for translation in template.translations.all()}
    for wanted in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        if wanted and wanted in translations:
            return translations[wanted]
    return next(iter(translations.values()), None)


CLOCK_EVENT_KINDS = (
    EventKind.CLOCK_PAUSED,
    EventKind.CLOCK_RESUMED,
    EventKind.CLOCK_RESTARTED,
    EventKind.EXTENDED,
    EventKind.FEE_REQUESTED,
    EventKind.FEE_PAID,
    EventKind.FEE_WAIVED,
)


def staff_people() -> QuerySet:
    """Every staff account, active ones first, by name, with their groups (for the DPO's people page)."""
    return get_user_model().objects.filter(is_staff=True).prefetch_related("groups").order_by("-is_active", "username")


def staff_role_changes(*, limit: int = 200) -> QuerySet:
    """The latest role changes, newest first, with who made them and whom they changed."""
    return StaffRoleChange.objects.select_related("user", "changed_by").order_by("-created_at", "-pk")[:limit]
