"""The portal chases its own deadlines: reminders to staff, escalation to the DPO, a daily digest (issue 11).

Every job takes ``today`` (the organisation's date) and is idempotent: each reminder is one ``StaffReminder`` row
under a unique constraint, created before anything is sent, so a job run twice (beat and the cron command, or a
worker retried) sends nothing twice. A job that missed days catches up with the latest reminder still due, not
every one it missed.

The e-mails carry only references, dates and a link to the case page: never a name, an address or what was asked
(GDPR Art. 5(1)(f) and 32: staff mailboxes are forwarded, synced to phones and searched; the case page is behind
sign-in, a second factor and the role checks). Each reminder also goes in the request's timeline
(``EventKind.STAFF_REMINDER_SENT``), so the case shows who was told of what, and when (Art. 5(2), accountability).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from complaints.models import ComplaintStatus
from complaints.selectors import complaint_register
from dsar_portal.celery import EMAIL_DELIVERY_RETRY
from identity.models import SubjectConfirmation
from requests_app import deadlines
from requests_app.audit import SYSTEM, events_record
from requests_app.clock import calendar_for
from requests_app.models import DataSubjectRequest, EventKind, Status
from requests_app.workflow import OPEN_STATUSES

from . import tasks
from .models import ReminderKind, StaffReminder
from .roles import DPO

logger = logging.getLogger(__name__)

# Requests whose statutory clock has started and is running: before the e-mail is confirmed there is no clock,
# and while it is paused (clarification, fee) the due date is not yet known.
CLOCK_RUNNING = OPEN_STATUSES - {Status.AWAITING_EMAIL_CONFIRMATION}
# The extension alarm fires this many days before the last day an extension can be notified (GDPR Art. 12(3)).
EXTENSION_ALARM_DAYS = 7


def _running_requests() -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.filter(status__in=CLOCK_RUNNING, clock_paused_on__isnull=True).order_by(
        "due_on", "pk"
    )


def dpo_users() -> list:
    """The active members of the DPO group, who receive escalations and what no one is assigned to."""
    return list(get_user_model().objects.filter(groups__name=DPO, is_active=True).order_by("pk"))


# What a scan reads of each request to know who answers for it: the assignee and whether they are still active.
OWNER_FIELDS = ("assignee_id", "assignee__is_active")


def _owner_ids(assignee_id: int | None, assignee_active: bool | None, dpo_ids: list[int]) -> list[int]:
    """Who answers for a request's deadlines: its assignee, or the DPOs while no active one is assigned."""
    if assignee_id is not None and assignee_active:
        return [assignee_id]
    return dpo_ids


def _offset_reached(*, deadline: date, today: date, offsets: Iterable[int]) -> int | None:
    """The smallest configured offset already reached before ``deadline``, or None (not yet, or already past)."""
    days_left = (deadline - today).days
    reached = [offset for offset in offsets if 0 <= days_left <= offset]
    return min(reached) if reached else None


@dataclass(frozen=True)
class Due:
    """One reminder a job found due: what it is about, for whom, and which offset before the deadline it is."""

    kind: str
    recipient_id: int
    due_on: date
    offset_days: int = 0
    request_id: int | None = None
    complaint_id: int | None = None


# Rows inserted per statement: well under SQLite's and PostgreSQL's limits on parameters (8 per row).
_BATCH = 500


def _reminders_insert(batch: list[Due]) -> list[tuple[int, Due]]:
    """Insert ``batch``, skipping each reminder a unique constraint says was made already; the ones inserted now.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (PostgreSQL and SQLite alike): one statement for the batch, and
    it tells which rows are new, so a reminder made by a concurrent run is neither recorded nor sent twice.
    """
    quote = connection.ops.quote_name
    table = quote(StaffReminder._meta.db_table)
    fields = [StaffReminder._meta.get_field(name) for name in ("kind", "request", "complaint", "due_on")]
    fields += [StaffReminder._meta.get_field(name) for name in ("offset_days", "recipient", "created_at", "sent_at")]
    columns = ", ".join(quote(field.column) for field in fields)
    now = timezone.now()
    params: list = []
    for due in batch:
        values = (due.kind, due.request_id, due.complaint_id, due.due_on, due.offset_days, due.recipient_id, now, None)
        params += [field.get_db_prep_value(value, connection) for field, value in zip(fields, values, strict=True)]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Only quoted names from the model's metadata and placeholders go in the text; every value is a parameter.
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING {quote('id')}, {columns}"
    )
    by_key = {(d.kind, d.request_id, d.complaint_id, d.due_on, d.offset_days, d.recipient_id): d for d in batch}
    made = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pk, kind, request_id, complaint_id, due_on, offset_days, recipient_id, *_ in cursor.fetchall():
            due_on = fields[3].to_python(due_on)
            made.append((pk, by_key[(kind, request_id, complaint_id, due_on, offset_days, recipient_id)]))
    return made


def _reminders_create(wanted: Iterable[Due]) -> int:
    """Record the reminders in ``wanted`` that were not made before, a timeline event for each about a request, and
    queue their e-mails after commit; how many were new.

    Set-based: a few statements per 500 reminders whatever the number of requests, so the daily scan of every open
    request stays within seconds (issue 11, "Scale"). The unique constraints decide what is new, as before.
    """
    wanted = list(dict.fromkeys(wanted))
    made: list[tuple[int, Due]] = []
    with transaction.atomic():
        for start in range(0, len(wanted), _BATCH):
            made += _reminders_insert(wanted[start : start + _BATCH])
        events_record(
            [
                {
                    "request_id": due.request_id,
                    "kind": EventKind.STAFF_REMINDER_SENT,
                    "actor_kind": SYSTEM,
                    "reason": f"{ReminderKind(due.kind).label}: {due.due_on.isoformat()} "
                    f"(staff user {due.recipient_id})",
                }
                for _pk, due in made
                if due.request_id is not None
            ]
        )
    ids = [pk for pk, _due in made]
    if ids:
        transaction.on_commit(lambda: reminders_queue(ids))
    return len(made)


# Reminders per delivery task: a scan that makes thousands publishes a few dozen messages, not thousands (each
# publish is a broker round trip: 13,000 of them took 20 s of the daily scan at 100,000 open requests).
QUEUE_BATCH = 100


def reminders_queue(reminder_ids: list[int]) -> int:
    """Queue the reminders' e-mails, ``QUEUE_BATCH`` to a task; how many the broker took (``unsent_reminders_queue``
    queues the others again)."""
    queued = 0
    for start in range(0, len(reminder_ids), QUEUE_BATCH):
        batch = list(reminder_ids[start : start + QUEUE_BATCH])
        try:
            tasks.send_staff_reminders.delay(batch)
        except Exception as error:  # noqa: BLE001 - the unsent-reminders sweep queues them again
            logger.error("%s staff reminders not queued (%s)", len(batch), type(error).__name__)
            continue
        queued += len(batch)
    return queued


def reminder_queue(reminder_id: int) -> bool:
    """Queue one reminder's e-mail on its own task, which retries on the mail server's transient errors; False if
    the broker would not take it."""
    try:
        tasks.send_staff_reminder.delay(reminder_id)
    except Exception as error:  # noqa: BLE001 - the unsent-reminders sweep queues it again
        logger.error("staff reminder %s not queued (%s)", reminder_id, type(error).__name__)
        return False
    return True


def reminders_deliver(*, reminder_ids: list[int]) -> int:
    """Send a batch of reminders' e-mails, each once; one the mail server turns away for now goes on its own task,
    with the e-mail retry policy, so it holds up neither the others nor the batch. How many went now."""
    sent = 0
    for reminder_id in reminder_ids:
        try:
            sent += reminder_deliver(reminder_id=reminder_id)
        except EMAIL_DELIVERY_RETRY["autoretry_for"] as error:
            logger.warning("staff reminder %s not sent yet (%s)", reminder_id, type(error).__name__)
            reminder_queue(reminder_id)
    return sent


def due_date_reminders_send(*, today: date) -> int:
    """Remind the assignee as the legal due date (GDPR Art. 12(3)) and the internal target come near.

    At each of ``DSAR_STAFF_REMINDER_OFFSETS_DAYS`` before either date; an unassigned request reminds the DPOs.
    Only the requests with a date within the largest offset are read, and only the columns the rule needs (no
    decryption); the reminders are then made in bulk.
    """
    offsets = settings.DSAR_STAFF_REMINDER_OFFSETS_DAYS
    horizon = today + timedelta(days=max(offsets, default=0))
    rows = (
        _running_requests()
        .filter(due_on__gte=today)
        .filter(Q(due_on__lte=horizon) | Q(target_on__gte=today, target_on__lte=horizon))
        .values_list("pk", "due_on", "target_on", *OWNER_FIELDS)
    )
    dpo_ids = [user.pk for user in dpo_users()]
    wanted = []
    for pk, due_on, target_on, assignee_id, assignee_active in rows.iterator(chunk_size=5000):
        dates = [(ReminderKind.DUE_DATE, due_on)]
        if target_on < due_on:
            dates.append((ReminderKind.TARGET_DATE, target_on))
        for kind, deadline in dates:
            offset = _offset_reached(deadline=deadline, today=today, offsets=offsets)
            if offset is None:
                continue
            wanted += [
                Due(kind=kind, recipient_id=recipient, due_on=deadline, offset_days=offset, request_id=pk)
                for recipient in _owner_ids(assignee_id, assignee_active, dpo_ids)
            ]
    return _reminders_create(wanted)


def overdue_escalations_send(*, today: date) -> int:
    """Tell every DPO of each request past its legal due date (GDPR Art. 12(3); Art. 38-39, the DPO monitors
    compliance): once per due date, so a new due date that also passes escalates again."""
    dpo_ids = [user.pk for user in dpo_users()]
    if not dpo_ids:
        return 0
    overdue = _running_requests().filter(due_on__lt=today).values_list("pk", "due_on")
    return _reminders_create(
        Due(kind=ReminderKind.OVERDUE, recipient_id=dpo, due_on=due_on, request_id=pk)
        for pk, due_on in overdue.iterator(chunk_size=5000)
        for dpo in dpo_ids
    )


def extension_alarms_send(*, today: date) -> int:
    """Alarm the week before the last day an extension can still be notified (GDPR Art. 12(3): within one month of
    receipt, with the reasons), for requests not yet extended."""
    window_end = today + timedelta(days=EXTENSION_ALARM_DAYS + 7)
    candidates = (
        _running_requests()
        .filter(extension_months=0, due_on__gte=today, due_on__lte=window_end)
        .values_list("pk", "clock_started_on", "jurisdiction", "second_jurisdiction", "paused_days", *OWNER_FIELDS)
    )
    dpo_ids = [user.pk for user in dpo_users()]
    wanted = []
    for pk, clock_started_on, jurisdiction, second, paused_days, assignee_id, assignee_active in candidates:
        last_day = deadlines.latest_extension_notice_date(
            clock_start=clock_started_on,
            jurisdiction=jurisdiction,
            paused_days=paused_days,
            overrides=calendar_for(jurisdiction, second).overrides,
            also_jurisdiction=second,
        )
        if not 0 <= (last_day - today).days <= EXTENSION_ALARM_DAYS:
            continue
        wanted += [
            Due(
                kind=ReminderKind.EXTENSION_NOTICE,
                recipient_id=recipient,
                due_on=last_day,
                offset_days=EXTENSION_ALARM_DAYS,
                request_id=pk,
            )
            for recipient in _owner_ids(assignee_id, assignee_active, dpo_ids)
        ]
    return _reminders_create(wanted)


def agent_confirmation_reminders_send(*, today: date) -> int:
    """Remind staff of a data subject who has not answered about an agent after ``DSAR_SUBJECT_ANSWER_WAIT_DAYS``:
    staff may then proceed on the agent's other evidence, or reach the person another way (LAW.md I3)."""
    wait = settings.DSAR_SUBJECT_ANSWER_WAIT_DAYS
    sent_before = timezone.make_aware(
        timezone.datetime.combine(today - timedelta(days=wait - 1), timezone.datetime.min.time())
    )
    pending = SubjectConfirmation.objects.filter(
        answer=SubjectConfirmation.Answer.PENDING,
        sent_at__lt=sent_before,
        request__status__in=OPEN_STATUSES,
    ).values_list("request_id", "sent_at", *(f"request__{name}" for name in OWNER_FIELDS))
    dpo_ids = [user.pk for user in dpo_users()]
    return _reminders_create(
        Due(
            kind=ReminderKind.AGENT_CONFIRMATION,
            recipient_id=recipient,
            due_on=timezone.localdate(sent_at) + timedelta(days=wait),
            request_id=request_id,
        )
        for request_id, sent_at, assignee_id, assignee_active in pending
        for recipient in _owner_ids(assignee_id, assignee_active, dpo_ids)
    )


def complaint_reminders_send(*, today: date) -> int:
    """Remind the DPOs of complaints not yet acknowledged: ``DSAR_STAFF_COMPLAINT_REMINDER_DAYS`` before the 30
    days of UK DPA 2018 s.164A(3) end, and once more when they have."""
    before = settings.DSAR_STAFF_COMPLAINT_REMINDER_DAYS
    dpo_ids = [user.pk for user in dpo_users()]
    wanted = []
    for entry in complaint_register(today=today):
        complaint = entry.complaint
        if complaint.status != ComplaintStatus.RECEIVED:
            continue
        days_left = (complaint.acknowledge_by - today).days
        if days_left > before:
            continue
        offset = 0 if entry.acknowledgement_overdue else before
        wanted += [
            Due(
                kind=ReminderKind.COMPLAINT_UNACKNOWLEDGED,
                recipient_id=dpo,
                due_on=complaint.acknowledge_by,
                offset_days=offset,
                request_id=complaint.request_id,
                complaint_id=complaint.pk,
            )
            for dpo in dpo_ids
        ]
    return _reminders_create(wanted)


def digest_requests(*, recipient, day: date) -> list[DataSubjectRequest]:
    """An assignee's open requests due within ``DSAR_STAFF_DIGEST_DAYS`` of ``day`` or overdue, soonest first."""
    return list(
        DataSubjectRequest.objects.filter(
            assignee=recipient,
            status__in=CLOCK_RUNNING,
            due_on__lte=day + timedelta(days=settings.DSAR_STAFF_DIGEST_DAYS),
        ).order_by("due_on", "pk")
    )


def digests_send(*, today: date) -> int:
    """One digest a day to each assignee who has something due soon or overdue."""
    horizon = today + timedelta(days=settings.DSAR_STAFF_DIGEST_DAYS)
    recipients = (
        get_user_model()
        .objects.filter(
            is_active=True,
            pk__in=DataSubjectRequest.objects.filter(status__in=CLOCK_RUNNING, due_on__lte=horizon).values("assignee"),
        )
        .order_by("pk")
    )
    return _reminders_create(
        Due(kind=ReminderKind.DIGEST, recipient_id=recipient, due_on=today)
        for recipient in recipients.values_list("pk", flat=True)
    )


def _case_link(reference: str) -> str:
    return settings.DSAR_PUBLIC_URL + reverse("casework:request_detail", args=[reference])


def reminder_email(reminder: StaffReminder) -> tuple[str, str]:
    """Subject and body of a reminder: references, dates and links only, never personal data."""
    label = str(ReminderKind(reminder.kind).label)
    if reminder.kind == ReminderKind.DIGEST:
        lines = [
            f"{request.reference}: due {request.due_on.isoformat()} "
            f"({(request.due_on - reminder.due_on).days} days), {_case_link(request.reference)}"
            for request in digest_requests(recipient=reminder.recipient, day=reminder.due_on)
        ]
        subject = f"{label}: {reminder.due_on.isoformat()}"
        body = (
            "\n".join([f"Requests due by {reminder.due_on.isoformat()} or overdue:", "", *lines])
            if lines
            else ("Nothing is due.")
        )
        return subject, body
    if reminder.complaint_id is not None:
        reference = reminder.complaint.reference
        link = settings.DSAR_PUBLIC_URL + reverse("casework:complaint_detail", args=[reference])
    else:
        reference = reminder.request.reference
        link = _case_link(reference)
    subject = f"{label}: {reference}, {reminder.due_on.isoformat()}"
    body = f"{label}.\n\nReference: {reference}\nDate: {reminder.due_on.isoformat()}\n\n{link}\n"
    return subject, body


def reminder_deliver(*, reminder_id: int) -> bool:
    """Send one reminder's e-mail unless it was sent already; True if it went now."""
    with transaction.atomic():
        reminder = (
            StaffReminder.objects.select_for_update(of=("self",))
            .select_related("recipient", "request", "complaint")
            .filter(pk=reminder_id, sent_at__isnull=True)
            .first()
        )
        if reminder is None:
            return False
        if not reminder.recipient.email:
            logger.warning("staff reminder %s: user %s has no e-mail address", reminder.pk, reminder.recipient_id)
            return False
        subject, body = reminder_email(reminder)
        EmailMessage(subject=subject, body=body, to=[reminder.recipient.email]).send()
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
    logger.info("staff reminder %s (%s) sent to user %s", reminder.pk, reminder.kind, reminder.recipient_id)
    return True


def unsent_reminders_queue(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Queue again the reminders whose e-mail never went (the broker was down when they were made)."""
    now = timezone.now()
    # A reminder older than two days is no use any more (and one for a user with no address would loop forever).
    ids = StaffReminder.objects.filter(
        sent_at__isnull=True, created_at__lt=now - older_than, created_at__gte=now - timedelta(days=2)
    ).values_list("pk", flat=True)
    return reminders_queue(list(ids))
