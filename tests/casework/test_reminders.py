"""The portal chases its own deadlines: staff reminders, escalation, digest and alarms, each sent exactly once."""

import smtplib
from datetime import date, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from kombu.exceptions import OperationalError

from casework import reminders, roles, tasks
from casework.models import ReminderKind, StaffReminder
from complaints.models import Channel, Complaint, ComplaintStatus
from requests_app import deadlines
from requests_app.clock import calendar_for
from requests_app.models import DataSubjectRequest, EventKind, RequestEvent
from tests.factories import StaffUserFactory, SubjectConfirmationFactory, assignment_make, in_progress_request

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


@pytest.fixture
def people(db):
    roles.roles_ensure()
    dpo = StaffUserFactory(username="dpo", email="dpo@staff.example")
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    handler = StaffUserFactory(username="handler", email="handler@staff.example")
    handler.groups.add(Group.objects.get(name=roles.CASE_HANDLER))
    return dpo, handler


def _request_due(*, due_in: int, target_in: int | None = None, assignee=None) -> DataSubjectRequest:
    """An open request whose due date (and target) lie the given number of days after TODAY."""
    request = in_progress_request(email="river.person@example.com")
    target = due_in if target_in is None else target_in
    # Started long ago, so its unextended due date (the last day to extend) is far from TODAY's alarm week.
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        due_on=TODAY + timedelta(days=due_in),
        target_on=TODAY + timedelta(days=target),
        extension_months=1,
    )
    if assignee is not None:
        assignment_make(request, assignee)
    request.refresh_from_db()
    return request


def _run_every_job(today: date) -> None:
    for job in (
        reminders.due_date_reminders_send,
        reminders.overdue_escalations_send,
        reminders.extension_alarms_send,
        reminders.agent_confirmation_reminders_send,
        reminders.complaint_reminders_send,
        reminders.digests_send,
    ):
        job(today=today)


def _sent(mailoutbox) -> list[tuple[str, str]]:
    return sorted((m.to[0], m.subject) for m in mailoutbox)


def test_reminder_jobs_run_twice_send_exactly_the_expected_reminders_once(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    """Requests spread around their deadlines: reminders go at 14, 7, 3 and 1 days before the due date and the
    target, overdue requests go to the DPO, and a second run of every job sends nothing more."""
    dpo, handler = people
    table = {
        "due in 14": (
            _request_due(due_in=14, target_in=20, assignee=handler),
            [("handler", ReminderKind.DUE_DATE, 14)],
        ),
        "due in 13": (
            _request_due(due_in=13, target_in=20, assignee=handler),
            [("handler", ReminderKind.DUE_DATE, 14)],
        ),
        "due in 15": (_request_due(due_in=15, target_in=20, assignee=handler), []),
        "due in 7, target in 3": (
            _request_due(due_in=7, target_in=3, assignee=handler),
            [("handler", ReminderKind.DUE_DATE, 7), ("handler", ReminderKind.TARGET_DATE, 3)],
        ),
        "due today": (_request_due(due_in=0, assignee=handler), [("handler", ReminderKind.DUE_DATE, 1)]),
        "unassigned, due in 3": (_request_due(due_in=3), [("dpo", ReminderKind.DUE_DATE, 3)]),
        "overdue": (_request_due(due_in=-2, assignee=handler), [("dpo", ReminderKind.OVERDUE, 0)]),
        "far off": (_request_due(due_in=40, target_in=30, assignee=handler), []),
    }
    users = {"dpo": dpo, "handler": handler}

    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            reminders.due_date_reminders_send(today=TODAY)
            reminders.overdue_escalations_send(today=TODAY)

    for name, (request, expected) in table.items():
        made = sorted(
            (r.recipient.username, r.kind, r.offset_days)
            for r in StaffReminder.objects.filter(request=request).select_related("recipient")
        )
        assert made == sorted((users[who].username, kind, offset) for who, kind, offset in expected), name
        assert RequestEvent.objects.filter(request=request, kind=EventKind.STAFF_REMINDER_SENT).count() == len(
            expected
        ), name
    expected_total = sum(len(expected) for _request, expected in table.values())
    assert len(mailoutbox) == expected_total
    assert StaffReminder.objects.filter(sent_at__isnull=True).count() == 0
    # The next day, only the request that was 15 days off reaches an offset (14); the others' are sent already.
    with django_capture_on_commit_callbacks(execute=True):
        reminders.due_date_reminders_send(today=TODAY + timedelta(days=1))
    assert len(mailoutbox) == expected_total + 1
    assert StaffReminder.objects.latest("pk").request == table["due in 15"][0]


def test_overdue_requests_are_escalated_to_every_dpo_and_not_to_the_assignee(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    """A request past its legal due date is the DPO's to know about (Art. 38-39), once per due date."""
    dpo, handler = people
    second_dpo = StaffUserFactory(username="dpo2", email="dpo2@staff.example")
    second_dpo.groups.add(Group.objects.get(name=roles.DPO))
    request = _request_due(due_in=-1, assignee=handler)

    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            reminders.overdue_escalations_send(today=TODAY)

    assert sorted(m.to[0] for m in mailoutbox) == ["dpo2@staff.example", "dpo@staff.example"]
    assert all(request.reference in m.subject for m in mailoutbox)


def _request_last_day_to_extend_in(days: int, assignee) -> DataSubjectRequest:
    request = in_progress_request(email="river.person@example.com")
    assignment_make(request, assignee)
    cal = calendar_for(request.jurisdiction, request.second_jurisdiction)
    start = TODAY - timedelta(days=40)
    while True:
        last = deadlines.latest_extension_notice_date(
            clock_start=start, jurisdiction=request.jurisdiction, overrides=cal.overrides
        )
        if (last - TODAY).days >= days:
            break
        start += timedelta(days=1)
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        clock_started_on=start, paused_days=0, extension_months=0, due_on=last, target_on=last
    )
    return request


def test_the_extension_alarm_fires_only_in_the_week_before_the_last_day_to_extend(
    people, django_capture_on_commit_callbacks
):
    """GDPR Art. 12(3): an extension must be notified within the first month; the alarm comes in its last week."""
    _dpo, handler = people
    in_week = _request_last_day_to_extend_in(5, handler)
    too_early = _request_last_day_to_extend_in(12, handler)

    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            reminders.extension_alarms_send(today=TODAY)

    alarms = StaffReminder.objects.filter(kind=ReminderKind.EXTENSION_NOTICE)
    assert list(alarms.values_list("request_id", flat=True)) == [in_week.pk]
    assert not StaffReminder.objects.filter(request=too_early).exists()
    # Extended already: no alarm.
    DataSubjectRequest.objects.filter(pk=too_early.pk).update(extension_months=1)
    reminders.extension_alarms_send(today=TODAY + timedelta(days=8))
    assert not StaffReminder.objects.filter(request=too_early).exists()


def test_unanswered_agent_confirmations_and_unacknowledged_complaints_are_chased(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    """A subject silent about an agent past the wait, and a complaint unacknowledged near its 30 days: one reminder."""
    dpo, _handler = people
    confirmation = SubjectConfirmationFactory()
    SubjectConfirmationFactory._meta.model.objects.filter(pk=confirmation.pk).update(
        sent_at=timezone.make_aware(timezone.datetime(2026, 11, 1, 12))
    )
    fresh = SubjectConfirmationFactory()
    SubjectConfirmationFactory._meta.model.objects.filter(pk=fresh.pk).update(sent_at=timezone.now())
    complaint = Complaint.objects.create(
        reference="C-TEST-1",
        complainant_name="Alex Complainant",
        complainant_email="alex@example.com",
        email_hash="x",
        channel=Channel.choices[0][0],
        received_at=timezone.now(),
        received_on=TODAY - timedelta(days=25),
        text="unhappy",
        acknowledge_by=TODAY + timedelta(days=5),
        status=ComplaintStatus.RECEIVED,
    )

    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            reminders.agent_confirmation_reminders_send(today=TODAY)
            reminders.complaint_reminders_send(today=TODAY)

    kinds = sorted(StaffReminder.objects.values_list("kind", "request_id", "complaint_id"))
    assert kinds == sorted(
        [
            (ReminderKind.AGENT_CONFIRMATION, confirmation.request_id, None),
            (ReminderKind.COMPLAINT_UNACKNOWLEDGED, None, complaint.pk),
        ]
    )
    assert len(mailoutbox) == 2
    assert "C-TEST-1" in " ".join(m.subject for m in mailoutbox)
    assert dpo.email in {m.to[0] for m in mailoutbox}


def test_staff_emails_carry_references_and_dates_but_no_personal_data(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    """Staff mailboxes get forwarded and synced: names, addresses and what was asked stay behind sign-in."""
    _dpo, handler = people
    request = _request_due(due_in=3, assignee=handler)
    SubjectConfirmationFactory(request=request)

    with django_capture_on_commit_callbacks(execute=True):
        _run_every_job(TODAY)

    assert {m.subject.split(":")[0] for m in mailoutbox} >= {
        str(ReminderKind.DUE_DATE.label),
        str(ReminderKind.DIGEST.label),
    }
    personal = [
        request.requester_email,
        request.requester_name,
        "river.person",
        "pat@example.com",
        "Sam Solicitor",
    ]
    for message in mailoutbox:
        text = message.subject + message.body
        assert request.reference in text
        for value in personal:
            assert value and value not in text


def test_a_reminder_the_broker_refused_goes_out_later_and_only_once(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    """The broker down when a reminder was made: the hourly job queues it again, and a second delivery sends nothing."""
    _dpo, handler = people
    _request_due(due_in=7, assignee=handler)
    with mock.patch.object(tasks.send_staff_reminders, "delay", side_effect=OperationalError("broker down")):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            reminders.due_date_reminders_send(today=TODAY)
    assert len(callbacks) == 1
    reminder = StaffReminder.objects.get()
    assert reminder.sent_at is None and mailoutbox == []
    StaffReminder.objects.filter(pk=reminder.pk).update(created_at=timezone.now() - timedelta(minutes=11))

    assert reminders.unsent_reminders_queue() == 1
    assert tasks.send_staff_reminder(reminder.pk) is False  # already sent by the queued (eager) task

    reminder.refresh_from_db()
    assert reminder.sent_at is not None
    assert len(mailoutbox) == 1


def test_the_due_date_scan_runs_a_bounded_number_of_queries_whatever_the_number_of_requests(
    people, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """Set-based (issue 11, "Scale": 100,000 open requests in seconds): read the due rows, insert the reminders and
    their timeline events in bulk; the number of statements does not grow with the requests."""
    _dpo, handler = people
    for days in (1, 3, 7, 14, 40):
        _request_due(due_in=days, assignee=handler)
        _request_due(due_in=days)
    with django_assert_max_num_queries(8):
        made = reminders.due_date_reminders_send(today=TODAY)
    assert made == 8
    assert RequestEvent.objects.filter(kind=EventKind.STAFF_REMINDER_SENT).count() == 8


def test_a_reminder_a_concurrent_run_made_is_neither_recorded_nor_sent_again(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    """The unique constraint decides: a row already there (another worker's run) gets no second event or e-mail."""
    _dpo, handler = people
    request = _request_due(due_in=7, assignee=handler)
    StaffReminder.objects.create(
        kind=ReminderKind.DUE_DATE,
        recipient=handler,
        due_on=request.due_on,
        offset_days=7,
        request=request,
        sent_at=timezone.now(),
    )
    other = _request_due(due_in=3, assignee=handler)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.due_date_reminders_send(today=TODAY) == 1
    assert not RequestEvent.objects.filter(request=request, kind=EventKind.STAFF_REMINDER_SENT).exists()
    assert RequestEvent.objects.filter(request=other, kind=EventKind.STAFF_REMINDER_SENT).count() == 1
    assert [m.to[0] for m in mailoutbox] == [handler.email]
    assert other.reference in mailoutbox[0].subject


def test_a_reminder_the_mail_server_turns_away_goes_on_its_own_task_and_the_batch_goes_on(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    """Reminders go a hundred to a task; one the mail server refuses for now is queued alone with the e-mail retry
    policy, and the rest of its batch is sent."""
    _dpo, handler = people
    for days in (1, 3, 7):
        _request_due(due_in=days, assignee=handler)
    with mock.patch.object(tasks.send_staff_reminders, "delay"):
        made = reminders.due_date_reminders_send(today=TODAY)
    ids = list(StaffReminder.objects.order_by("pk").values_list("pk", flat=True))
    assert made == len(ids) == 3
    real_deliver = reminders.reminder_deliver

    def refuse_the_second(*, reminder_id):
        if reminder_id == ids[1]:
            raise smtplib.SMTPServerDisconnected("try later")
        return real_deliver(reminder_id=reminder_id)

    with (
        mock.patch.object(reminders, "reminder_deliver", side_effect=refuse_the_second),
        mock.patch.object(tasks.send_staff_reminder, "delay") as alone,
    ):
        assert tasks.send_staff_reminders(ids) == 2
    alone.assert_called_once_with(ids[1])
    assert len(mailoutbox) == 2
    assert tasks.send_staff_reminder(ids[1]) is True
    assert tasks.send_staff_reminders(ids) == 0 and len(mailoutbox) == 3
