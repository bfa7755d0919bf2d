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
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from identity.models import IdentityVerification, SubjectConfirmation, VerificationStatus
from requests_app.models import DataSubjectRequest, EventKind, Message, RequestEvent, Status
from requests_app.selectors import requests_from_same_person
from requests_app.workflow import OPEN_STATUSES

from .models import CaseNote, MessageTemplate, MessageTemplateTranslation, StaffRoleChange
from .queue_flags import queue_flags

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
    """The requests ``user`` may open: all of them, their own and the unassigned ones, or none.

    "Unassigned or mine" reads the request's own ``assignee`` (kept with its ``Assignment``), a condition on the row
    itself that PostgreSQL checks along the queue's order and stops after a page.
    """
    requests = DataSubjectRequest.objects.all()
    if not may_use_staff_area(user):
        return requests.none()
    if user.has_perm(ALL_REQUESTS):
        return requests
    return requests.filter(Q(assignee__isnull=True) | Q(assignee=user))


def unassigned() -> Q:
    """A filter for requests no one is assigned to: the open requests' (assignee, due date, id) index read from
    its NULL end, in the queue's order."""
    return Q(assignee__isnull=True)


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


ASSIGNABLE_STAFF_CACHE_KEY = "casework:assignable-staff"
ASSIGNABLE_STAFF_CACHE_SECONDS = 10 * 60


def assignable_staff_choices() -> list[tuple[int, str]]:
    """(id, username) of each of ``assignable_staff``, for the assignee selects of the queue and of every case page.

    Kept in the shared cache: the list changes only when a user, a group or a permission does, and each of those
    changes forgets it (``assignable_staff_forget``, connected in ``casework.apps``), so every process sees a new
    colleague at once. Without a cache (an outage) it is read from the database each time.
    """
    choices = cache.get(ASSIGNABLE_STAFF_CACHE_KEY)
    if choices is None:
        choices = [(pk, username) for pk, username in assignable_staff().values_list("pk", "username")]
        cache.set(ASSIGNABLE_STAFF_CACHE_KEY, choices, ASSIGNABLE_STAFF_CACHE_SECONDS)
    return choices


def assignable_staff_forget(**kwargs) -> None:
    """A receiver of the signals of users, groups and their permissions: the cached list is read again."""
    cache.delete(ASSIGNABLE_STAFF_CACHE_KEY)


# What the queue never shows: encrypted at rest, so each would be decrypted on every row of every page for nothing.
QUEUE_DEFERRED_FIELDS = (
    "requester_name",
    "requester_email",
    "identifiers",
    "details",
    "description",
    "subject_email",
    "postal_address",
    "decision_note",
    "decision_statement",
)


def queue_requests(user: AbstractBaseUser) -> QuerySet[DataSubjectRequest]:
    """Open requests ``user`` may see, soonest legal deadline first.

    The query reads the requests alone, in the order of the open requests' (due date, id) index, so a page stops
    after its rows whatever the filters; who each is assigned to comes by prefetch, and what needs a human by
    ``queue_flags_attach`` on the page's rows (flags as subqueries of this query were computed for every matching
    row before the sort, 150-300 ms a page at 100,000 requests: bench/dashboard_bench.py).
    """
    return (
        requests_visible_to(user)
        .filter(status__in=OPEN_STATUSES)
        .defer(*QUEUE_DEFERRED_FIELDS)
        .prefetch_related("assignee")
        .order_by("due_on", "pk")
    )


def queue_flags_attach(rows: list[DataSubjectRequest]) -> list[DataSubjectRequest]:
    """Set on each of a queue page's ``rows`` what needs a human now, in one query whatever the page shows:
    ``evidence_to_review``, ``delivery_failed``, ``agent_unanswered``, and the times of the requester's last
    answer to a clarification and of the last staff event (``requester_replied``), and every flag registered by an
    app above casework (``queue_flags``, such as "a fulfilment task failed")."""
    if not rows:
        return rows
    names = (*QUEUE_FLAGS, *(flag.name for flag in queue_flags()))
    last_answer = RequestEvent.objects.filter(request=OuterRef("pk"), kind=EventKind.CLARIFICATION_ANSWERED).order_by(
        "-created_at", "-pk"
    )
    last_staff_event = RequestEvent.objects.filter(request=OuterRef("pk"), actor_kind="staff").order_by(
        "-created_at", "-pk"
    )
    flags = {
        row["pk"]: row
        for row in DataSubjectRequest.objects.filter(pk__in=[row.pk for row in rows])
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
            # The flags of the apps above casework (a failed fulfilment task), in the same query.
            **{flag.name: flag.exists() for flag in queue_flags()},
        )
        .values("pk", *names)
        .order_by()
    }
    for row in rows:
        for name in names:
            setattr(row, name, flags.get(row.pk, {}).get(name))
    return rows


QUEUE_FLAGS = ("evidence_to_review", "delivery_failed", "agent_unanswered", "last_answer_at", "last_staff_event_at")


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


# The case page shows this many of the latest timeline entries unless asked for all of them.
TIMELINE_SHOWN = 100


class Timeline(list):
    """Timeline entries, oldest first; ``total`` counts every entry of the request."""

    total: int = 0


def case_timeline(request: DataSubjectRequest, *, everything: bool = True) -> Timeline:
    """Every event, message, internal note and document of the request in the order they happened: all of them, or
    (``everything=False``) the latest ``TIMELINE_SHOWN``, with how many there are in all. A few queries however long:
    a case with hundreds of events opens fast, and the whole trail is one link away (GDPR Art. 5(2)).

    A note's own "note added" event is left out (the note stands in its place); a document is its name, kind and
    time, never its content, which is opened only through the evidence view (with its permission and step-up).
    """
    # Who acted, by name only: a whole user row per event was a fifth of a long case page's time.
    events = request.events.annotate(actor_username=F("actor__username")).exclude(kind=EventKind.NOTE_ADDED)
    messages = request.messages.all()
    notes = CaseNote.objects.filter(request=request).select_related("author")
    documents = request.documents.all()
    if not everything:
        # The latest of each kind: the merged latest TIMELINE_SHOWN are among them.
        events = events.order_by("-created_at", "-pk")[:TIMELINE_SHOWN]
        messages = messages.order_by("-created_at", "-pk")[:TIMELINE_SHOWN]
        notes = notes.order_by("-created_at", "-pk")[:TIMELINE_SHOWN]
        documents = documents.order_by("-uploaded_at", "-pk")[:TIMELINE_SHOWN]
    else:
        events = events.order_by("created_at", "pk")
        messages = messages.order_by("created_at", "pk")
        notes = notes.order_by("created_at", "pk")
        documents = documents.order_by("uploaded_at", "pk")
    entries = chain(
        (TimelineEntry(event.created_at, "event", event) for event in events),
        (TimelineEntry(message.created_at, "message", message) for message in messages),
        (TimelineEntry(note.created_at, "note", note) for note in notes),
        (TimelineEntry(document.uploaded_at, "document", document) for document in documents),
    )
    ordered = sorted(entries, key=lambda entry: entry.at)
    timeline = Timeline(ordered[-TIMELINE_SHOWN:] if not everything else ordered)
    timeline.total = len(ordered)
    if not everything and len(ordered) > TIMELINE_SHOWN:
        # The four counts in one query.
        counted = {
            "events": request.events.exclude(kind=EventKind.NOTE_ADDED),
            "messages": request.messages.all(),
            "notes": CaseNote.objects.filter(request=request),
            "documents": request.documents.all(),
        }
        totals = DataSubjectRequest.objects.filter(pk=request.pk).values_list(
            *(
                Subquery(rows.order_by().values("request_id").annotate(n=Count("pk")).values("n")[:1])
                for rows in counted.values()
            )
        )
        timeline.total = sum(count or 0 for count in totals.get())
    return timeline


# The case page lists this many of the person's other requests, the most recent first, and says how many there are.
OTHER_REQUESTS_SHOWN = 10


class OtherRequests(list):
    """The most recent of the person's other requests that the user may see; ``total`` counts all of them."""

    total: int = 0


def other_requests_of(request: DataSubjectRequest, user: AbstractBaseUser) -> OtherRequests:
    """The person's other requests (``requests_from_same_person``, LAW.md R3) that ``user`` may see: the
    ``OTHER_REQUESTS_SHOWN`` most recent, with the number of them all (GDPR Art. 12(3) and 12(5): what staff weigh
    for "the number of requests" and their "repetitive character").

    Two queries whatever the number: with every request listed and decrypted, a person with thousands of requests
    made the case page take a second (bench/dashboard_bench.py). Only the columns the list shows are read.
    """
    others = requests_from_same_person(request) & requests_visible_to(user)
    shown = OtherRequests(
        others.only("pk", "reference", "right", "status", "received_at", "received_on").order_by("-received_at", "-pk")[
            :OTHER_REQUESTS_SHOWN
        ]
    )
    shown.total = len(shown) if len(shown) < OTHER_REQUESTS_SHOWN else others.count()
    return shown


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
