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
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from complaints.models import ComplaintStatus
from complaints.selectors import complaint_register
from identity.models import SubjectConfirmation
from requests_app import deadlines
from requests_app.audit import SYSTEM, event_record
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


def _running_requests() -> Iterable[DataSubjectRequest]:
    return (
        DataSubjectRequest.objects.filter(status__in=CLOCK_RUNNING, clock_paused_on__isnull=True)
        .select_related("assignment__assignee")
        .order_by("due_on", "pk")
    )


def dpo_users() -> list:
    """The active members of the DPO group, who receive escalations and what no one is assigned to."""
    return list(get_user_model().objects.filter(groups__name=DPO, is_active=True).order_by("pk"))


def _owners(request: DataSubjectRequest) -> list:
    """Who answers for a request's deadlines: its assignee, or the DPOs while no one is assigned."""
    assignment = getattr(request, "assignment", None)
    if assignment is not None and assignment.assignee.is_active:
        return [assignment.assignee]
    return dpo_users()


def _offset_reached(*, deadline: date, today: date, offsets: Iterable[int]) -> int | None:
    """The smallest configured offset already reached before ``deadline``, or None (not yet, or already past)."""
    days_left = (deadline - today).days
    reached = [offset for offset in offsets if 0 <= days_left <= offset]
    return min(reached) if reached else None


def _reminder_create(
    *,
    kind: str,
    recipient,
    due_on: date,
    offset_days: int = 0,
    request: DataSubjectRequest | None = None,
    complaint=None,
) -> StaffReminder | None:
    """Record one reminder, its timeline event, and queue its e-mail after commit; None if it was already made."""
    try:
        with transaction.atomic():
            reminder = StaffReminder.objects.create(
                kind=kind,
                recipient=recipient,
                due_on=due_on,
                offset_days=offset_days,
                request=request,
                complaint=complaint,
            )
            if request is not None:
                event_record(
                    request_id=request.pk,
                    kind=EventKind.STAFF_REMINDER_SENT,
                    actor_kind=SYSTEM,
                    reason=f"{ReminderKind(kind).label}: {due_on.isoformat()} (staff user {recipient.pk})",
                )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: reminder_queue(reminder.pk))
    return reminder


def reminder_queue(reminder_id: int) -> bool:
    """Queue a reminder's e-mail; False if the broker would not take it (``unsent_reminders_queue`` retries)."""
    try:
        tasks.send_staff_reminder.delay(reminder_id)
    except Exception as error:  # noqa: BLE001 - the unsent-reminders sweep queues it again
        logger.error("staff reminder %s not queued (%s)", reminder_id, type(error).__name__)
        return False
    return True


def due_date_reminders_send(*, today: date) -> int:
    """Remind the assignee as the legal due date (GDPR Art. 12(3)) and the internal target come near.

    At each of ``DSAR_STAFF_REMINDER_OFFSETS_DAYS`` before either date; an unassigned request reminds the DPOs.
    """
    offsets = settings.DSAR_STAFF_REMINDER_OFFSETS_DAYS
    made = 0
    for request in _running_requests().filter(due_on__gte=today):
        dates = [(ReminderKind.DUE_DATE, request.due_on)]
        if request.target_on < request.due_on:
            dates.append((ReminderKind.TARGET_DATE, request.target_on))
        for kind, deadline in dates:
            offset = _offset_reached(deadline=deadline, today=today, offsets=offsets)
            if offset is None:
                continue
            for recipient in _owners(request):
                made += (
                    _reminder_create(
                        kind=kind, recipient=recipient, due_on=deadline, offset_days=offset, request=request
                    )
                    is not None
                )
    return made


def overdue_escalations_send(*, today: date) -> int:
    """Tell every DPO of each request past its legal due date (GDPR Art. 12(3); Art. 38-39, the DPO monitors
    compliance): once per due date, so a new due date that also passes escalates again."""
    dpos = dpo_users()
    made = 0
    for request in _running_requests().filter(due_on__lt=today):
        for dpo in dpos:
            made += (
                _reminder_create(kind=ReminderKind.OVERDUE, recipient=dpo, due_on=request.due_on, request=request)
                is not None
            )
    return made


def extension_alarms_send(*, today: date) -> int:
    """Alarm the week before the last day an extension can still be notified (GDPR Art. 12(3): within one month of
    receipt, with the reasons), for requests not yet extended."""
    made = 0
    window_end = today + timedelta(days=EXTENSION_ALARM_DAYS + 7)
    candidates = _running_requests().filter(extension_months=0, due_on__gte=today, due_on__lte=window_end)
    for request in candidates:
        last_day = deadlines.latest_extension_notice_date(
            clock_start=request.clock_started_on,
            jurisdiction=request.jurisdiction,
            paused_days=request.paused_days,
            overrides=calendar_for(request.jurisdiction, request.second_jurisdiction).overrides,
            also_jurisdiction=request.second_jurisdiction,
        )
        if not 0 <= (last_day - today).days <= EXTENSION_ALARM_DAYS:
            continue
        for recipient in _owners(request):
            made += (
                _reminder_create(
                    kind=ReminderKind.EXTENSION_NOTICE,
                    recipient=recipient,
                    due_on=last_day,
                    offset_days=EXTENSION_ALARM_DAYS,
                    request=request,
                )
                is not None
            )
    return made


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
    ).select_related("request__assignment__assignee")
    made = 0
    for confirmation in pending:
        due_on = timezone.localdate(confirmation.sent_at) + timedelta(days=wait)
        for recipient in _owners(confirmation.request):
            made += (
                _reminder_create(
                    kind=ReminderKind.AGENT_CONFIRMATION,
                    recipient=recipient,
                    due_on=due_on,
                    request=confirmation.request,
                )
                is not None
            )
    return made


def complaint_reminders_send(*, today: date) -> int:
    """Remind the DPOs of complaints not yet acknowledged: ``DSAR_STAFF_COMPLAINT_REMINDER_DAYS`` before the 30
    days of UK DPA 2018 s.164A(3) end, and once more when they have."""
    before = settings.DSAR_STAFF_COMPLAINT_REMINDER_DAYS
    dpos = dpo_users()
    made = 0
    for entry in complaint_register(today=today):
        complaint = entry.complaint
        if complaint.status != ComplaintStatus.RECEIVED:
            continue
        days_left = (complaint.acknowledge_by - today).days
        if days_left > before:
            continue
        offset = 0 if entry.acknowledgement_overdue else before
        for dpo in dpos:
            made += (
                _reminder_create(
                    kind=ReminderKind.COMPLAINT_UNACKNOWLEDGED,
                    recipient=dpo,
                    due_on=complaint.acknowledge_by,
                    offset_days=offset,
                    request=complaint.request,
                    complaint=complaint,
                )
                is not None
            )
    return made


def digest_requests(*, recipient, day: date) -> list[DataSubjectRequest]:
    """An assignee's open requests due within ``DSAR_STAFF_DIGEST_DAYS`` of ``day`` or overdue, soonest first."""
    return list(
        DataSubjectRequest.objects.filter(
            assignment__assignee=recipient,
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
            pk__in=DataSubjectRequest.objects.filter(status__in=CLOCK_RUNNING, due_on__lte=horizon).values(
                "assignment__assignee"
            ),
        )
        .order_by("pk")
    )
    return sum(
        _reminder_create(kind=ReminderKind.DIGEST, recipient=recipient, due_on=today) is not None
        for recipient in recipients
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
    return sum(reminder_queue(pk) for pk in ids)
