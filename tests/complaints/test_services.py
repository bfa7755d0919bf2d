"""A complaint's life (UK DPA 2018 s.164A): received, acknowledged within 30 days, progress told, outcome sent."""

from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from complaints import selectors, services
from complaints.deadlines import acknowledgement_due
from complaints.models import Channel, Complaint, ComplaintMessage, ComplaintStatus
from requests_app.lifecycle import IllegalTransition
from requests_app.models import EventKind, RequestEvent
from tests.factories import StaffUserFactory, at, submitted_request

pytestmark = pytest.mark.django_db


def _submit(**overrides) -> Complaint:
    values = {"name": "Ada Lovelace", "email": "ada@example.com", "text": "You sent my data to someone else."}
    values.update(overrides)
    return services.complaint_submit(submission=services.ComplaintSubmission(**values))


@pytest.mark.parametrize(
    ("received_on", "acknowledge_by"),
    [
        (date(2026, 6, 5), date(2026, 7, 5)),  # the ICO's example: day one is the day after receipt
        (date(2026, 6, 19), date(2026, 7, 19)),  # s.164A in force
        (date(2026, 12, 31), date(2027, 1, 30)),
        (date(2028, 2, 1), date(2028, 3, 2)),  # a leap year counts its 29 February
    ],
)
def test_acknowledgement_is_due_thirty_days_after_receipt(received_on, acknowledge_by):
    """s.164A(3): no move to a working day, so the date is never later than the guidance allows."""
    assert acknowledgement_due(received_on) == acknowledge_by


def test_a_complaint_from_the_form_is_received_encrypted_and_the_complainant_gets_its_reference(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _submit()

    complaint.refresh_from_db()
    assert complaint.reference.startswith("CMPL-")
    assert complaint.channel == Channel.WEB_FORM
    assert complaint.status == ComplaintStatus.RECEIVED
    assert complaint.acknowledge_by == acknowledgement_due(complaint.received_on)
    assert complaint.request is None
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert complaint.reference in email.body
    assert complaint.acknowledge_by.strftime("%-d %B %Y") in email.body
    # Personal data and the complaint's text are not stored in the clear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT complainant_email, complainant_name, text FROM complaints_complaint")
        stored = cursor.fetchall()
    assert "ada@example.com" not in str(stored) and "someone else" not in str(stored)
    assert [event.kind for event in selectors.complaint_history(complaint=complaint)] == [
        EventKind.COMPLAINT_RECEIVED,
        EventKind.MESSAGE_SENT,
    ]


def test_a_letter_logged_by_staff_counts_its_thirty_days_from_the_day_it_arrived():
    handler = StaffUserFactory()
    arrived = at(date(2026, 7, 1), hour=9)

    complaint = services.complaint_log(
        actor=handler,
        name="Grace Hopper",
        email="grace@example.com",
        text="I asked for my data and heard nothing.",
        channel=Channel.LETTER,
        received_at=arrived,
    )

    assert complaint.received_on == date(2026, 7, 1)
    assert complaint.acknowledge_by == date(2026, 7, 31)
    assert complaint.channel == Channel.LETTER
    assert complaint.logged_by == handler


def test_staff_cannot_log_a_complaint_received_in_the_future():
    with pytest.raises(ValueError, match="future"):
        services.complaint_log(
            actor=StaffUserFactory(),
            name="Grace Hopper",
            email="grace@example.com",
            text="Text.",
            channel=Channel.PHONE,
            received_at=timezone.now() + timezone.timedelta(days=1),
        )


def test_a_complaint_runs_from_acknowledgement_through_progress_to_its_outcome(django_capture_on_commit_callbacks):
    handler = StaffUserFactory()
    complaint = _submit()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_acknowledge(complaint=complaint, actor=handler, note="Sam Jones will look into it.")
        services.complaint_progress(complaint=complaint, actor=handler, note="We have asked our mail team.")
        services.complaint_progress(complaint=complaint, actor=handler, note="The letter was misaddressed.")
        services.complaint_resolve(complaint=complaint, actor=handler, outcome="We have corrected your address.")

    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED
    assert complaint.acknowledged_at is not None and complaint.resolved_at is not None
    assert complaint.outcome == "We have corrected your address."
    subjects = [email.subject.split(" (")[0] for email in mail.outbox]
    assert subjects == [
        "We are looking into your complaint",
        "An update on your complaint",
        "An update on your complaint",
        "The outcome of your complaint",
    ]
    assert "Sam Jones will look into it." in mail.outbox[0].body
    assert "The letter was misaddressed." in mail.outbox[2].body
    assert "We have corrected your address." in mail.outbox[3].body
    assert "supervisory authority" in mail.outbox[3].body
    kinds = [e.kind for e in selectors.complaint_history(complaint=complaint) if e.kind != EventKind.MESSAGE_SENT]
    assert kinds == [
        EventKind.COMPLAINT_RECEIVED,
        EventKind.COMPLAINT_ACKNOWLEDGED,
        EventKind.COMPLAINT_INVESTIGATING,
        EventKind.COMPLAINT_PROGRESS,
        EventKind.COMPLAINT_RESOLVED,
    ]


def test_acknowledging_twice_sends_one_acknowledgement(django_capture_on_commit_callbacks):
    handler = StaffUserFactory()
    complaint = _submit()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_acknowledge(complaint=complaint, actor=handler)
        services.complaint_acknowledge(complaint=complaint, actor=handler)

    assert len(mail.outbox) == 1


def test_an_outcome_sent_straight_away_also_acknowledges_the_complaint():
    complaint = _submit()

    services.complaint_resolve(complaint=complaint, actor=StaffUserFactory(), outcome="We apologise; fixed.")

    assert complaint.status == ComplaintStatus.RESOLVED
    assert complaint.acknowledged_at == complaint.resolved_at


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], "progress"),  # progress before the complaint is acknowledged
        (["resolve"], "progress"),  # nothing more after the outcome
        (["resolve"], "acknowledge"),
        (["withdraw"], "resolve"),
    ],
)
def test_steps_out_of_order_are_refused(steps, refused):
    handler = StaffUserFactory()
    complaint = _submit()
    do = {
        "acknowledge": lambda: services.complaint_acknowledge(complaint=complaint, actor=handler),
        "progress": lambda: services.complaint_progress(complaint=complaint, actor=handler, note="News."),
        "resolve": lambda: services.complaint_resolve(complaint=complaint, actor=handler, outcome="Done."),
        "withdraw": lambda: services.complaint_withdraw(complaint=complaint, actor=handler, reason="Phoned us."),
    }
    for step in steps:
        do[step]()

    with pytest.raises(IllegalTransition):
        do[refused]()


def test_an_outcome_and_a_progress_note_need_words():
    handler = StaffUserFactory()
    complaint = _submit()
    services.complaint_acknowledge(complaint=complaint, actor=handler)
    with pytest.raises(ValueError):
        services.complaint_progress(complaint=complaint, actor=handler, note="  ")
    with pytest.raises(ValueError):
        services.complaint_resolve(complaint=complaint, actor=handler, outcome="")


def test_a_complaint_about_a_request_is_linked_only_when_the_reference_is_the_complainants_own():
    request = submitted_request(email="ada@example.com")

    theirs = _submit(request_reference=request.reference.lower().replace("-", " "))
    someone_elses = _submit(email="mallory@example.com", request_reference=request.reference)

    assert theirs.request == request
    assert someone_elses.request is None
    assert list(selectors.complaints_for_request(request=request)) == [theirs]


def test_each_step_of_a_linked_complaint_appears_in_the_requests_audit_trail():
    request = submitted_request(email="ada@example.com")
    handler = StaffUserFactory()
    complaint = _submit(request_reference=request.reference)

    services.complaint_acknowledge(complaint=complaint, actor=handler)
    services.complaint_resolve(complaint=complaint, actor=handler, outcome="We sent the missing pages.")

    trail = RequestEvent.objects.filter(request=request, kind__startswith="complaint_")
    assert [event.kind for event in trail] == [
        EventKind.COMPLAINT_RECEIVED,
        EventKind.COMPLAINT_ACKNOWLEDGED,
        EventKind.COMPLAINT_RESOLVED,
    ]
    assert trail.last().reason == f"{complaint.reference}: We sent the missing pages."


def test_the_register_lists_open_complaints_by_acknowledgement_date_and_flags_the_overdue():
    handler = StaffUserFactory()
    log = {"actor": handler, "name": "N", "email": "n@example.com", "text": "T.", "channel": Channel.EMAIL}
    late = services.complaint_log(**log, received_at=at(date(2026, 6, 20)))
    acknowledged = services.complaint_log(**log, received_at=at(date(2026, 6, 25)))
    services.complaint_acknowledge(complaint=acknowledged, actor=handler)
    recent = services.complaint_log(**log, received_at=at(date(2026, 7, 10)))
    closed = services.complaint_log(**log, received_at=at(date(2026, 6, 1)))
    services.complaint_resolve(complaint=closed, actor=handler, outcome="Done.")

    register = selectors.complaint_register(today=date(2026, 7, 21))

    assert [entry.complaint for entry in register] == [late, acknowledged, recent]
    assert [entry.acknowledgement_overdue for entry in register] == [True, False, False]
    assert [entry.awaiting_acknowledgement for entry in register] == [True, False, True]


def test_an_email_is_sent_once_however_often_its_task_runs(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _submit()
    message = ComplaintMessage.objects.get(complaint=complaint)

    assert services.complaint_message_deliver(message_id=message.pk) is False  # the first run already sent it
    assert len(mail.outbox) == 1


def test_an_email_that_cannot_be_delivered_is_recorded_on_the_complaint():
    complaint = _submit()
    message = ComplaintMessage.objects.get(complaint=complaint)
    ComplaintMessage.objects.filter(pk=message.pk).update(sent_at=None)

    services.complaint_message_failed(message_id=message.pk, error="SMTPRecipientsRefused")

    message.refresh_from_db()
    assert message.delivery_failed_at is not None
    assert complaint.events.filter(kind=EventKind.MESSAGE_FAILED).exists()
