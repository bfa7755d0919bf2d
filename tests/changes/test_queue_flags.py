"""The staff queue flags what needs a human in the change engine (issue 13, with the access issue's reliability): a
change in a data system that failed and waits for a retry, and a system owner's change task past its due date; each
has its filter. A task's due date (GDPR Art. 12(3), 21(3)) and the owner's daily reminder, once a day however often
the job runs (changes registers all of it; casework knows no change jobs)."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from changes import manual_tasks, services, tasks
from changes.models import ChangeJob, ChangeJobStatus, ChangeTaskReminder, RunStatus
from datasystems.connectors.changes import ChangeKind
from datasystems.models import DataSystem
from fulfilment.manual_tasks import task_due_date as search_task_due_date
from requests_app.models import EventKind, RequestEvent
from tests.factories import in_progress_request

pytestmark = pytest.mark.django_db

QUEUE = reverse("casework:queue")
FAILED = "A change in a data system failed"
OVERDUE = "A change task is overdue"


def _approved_erasure(request, handler, capture):
    run = services.change_run_start(request=request, kind=ChangeKind.ERASE, actor=handler)
    with capture(execute=True):
        services.change_run_approve(run=run, actor=handler)
    run.refresh_from_db()
    return run


def _rows(client, **filters) -> list[str]:
    return [row.reference for row in client.get(QUEUE, filters).context["rows"]]


def _flagged(client, name: str) -> list[str]:
    return [row.reference for row in client.get(QUEUE).context["rows"] if getattr(row, name)]


# --- A failed change -----------------------------------------------------------------------------------------------


def test_a_failed_change_is_flagged_and_found_by_the_filter_until_its_retry_succeeds(
    client, crm, erasure_request, handler, dpo, django_capture_on_commit_callbacks
):
    untouched = in_progress_request(email="someone.else@example.com")
    DataSystem.objects.filter(pk=crm.pk).update(connector_config={"tables": [{"name": "x", "erasure": "bad"}]})
    run = _approved_erasure(erasure_request, handler, django_capture_on_commit_callbacks)
    job = run.jobs.get()
    assert job.status == ChangeJobStatus.FAILED
    client.force_login(dpo)

    page = client.get(QUEUE).content.decode()
    assert page.count(FAILED) == 1 and "With a failed change in a data system" in page
    assert _flagged(client, "change_job_failed") == [erasure_request.reference]
    assert untouched.reference in _rows(client)
    assert _rows(client, change_job_failed="on") == [erasure_request.reference]

    DataSystem.objects.filter(pk=crm.pk).update(connector_config={"tables": [{"name": "customers"}]})
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_retry(job=job, actor=handler) is True
    job.refresh_from_db()
    assert job.status == ChangeJobStatus.DONE
    assert _rows(client, change_job_failed="on") == []
    assert FAILED not in client.get(QUEUE).content.decode()


# --- A change task's due date and its overdue flag -----------------------------------------------------------------


@pytest.fixture
def task(paper, erasure_request, handler, django_capture_on_commit_callbacks):
    run = _approved_erasure(erasure_request, handler, django_capture_on_commit_callbacks)
    return ChangeJob.objects.get(run=run, system=paper)


def test_a_task_given_to_its_owner_is_due_when_a_search_task_of_the_request_would_be(task, erasure_request):
    assert task.status == ChangeJobStatus.WAITING
    assert task.due_on == search_task_due_date(erasure_request.due_on, erasure_request.jurisdiction, working_days=5)


@pytest.mark.parametrize(
    ("kind", "legal_due", "given_on", "due"),
    [
        # Art. 12(3): five working days before the request's legal due date, as a search task.
        ("erase", date(2026, 12, 18), date(2026, 12, 1), date(2026, 12, 11)),
        # Given after that day, five working days later, but never after the legal due date still ahead.
        ("rectify", date(2026, 12, 18), date(2026, 12, 14), date(2026, 12, 18)),
        ("erase", date(2026, 12, 31), date(2026, 12, 23), date(2026, 12, 31)),
        # A restriction lifted after the request was answered: five working days (Christmas, Boxing Day on Monday
        # 28 December and New Year's Day are not working days in England).
        ("lift_restriction", date(2026, 11, 20), date(2026, 12, 14), date(2026, 12, 21)),
        ("lift_restriction", date(2026, 11, 20), date(2026, 12, 23), date(2027, 1, 4)),
        # Art. 21(3): the end of direct marketing, the next working day.
        ("suppress_marketing", date(2027, 1, 15), date(2026, 12, 18), date(2026, 12, 21)),
    ],
)
def test_the_due_date_of_a_change_task(kind, legal_due, given_on, due):
    assert (
        services.task_due_date(kind=kind, legal_due=legal_due, given_on=given_on, jurisdiction="GB-ENG", working_days=5)
        == due
    )


def test_an_overdue_task_is_flagged_and_found_by_the_filter_until_its_owner_finishes_it(
    client, task, owner, dpo, erasure_request, django_capture_on_commit_callbacks
):
    on_time = in_progress_request(email="on.time@example.net")
    client.force_login(dpo)
    assert _rows(client, change_task_overdue="on") == []  # due later: nothing to chase yet
    yesterday = timezone.localdate() - timedelta(days=1)
    ChangeJob.objects.filter(pk=task.pk).update(due_on=yesterday)

    page = client.get(QUEUE).content.decode()
    assert page.count(OVERDUE) == 1 and "With an overdue change task" in page
    assert _flagged(client, "change_task_overdue") == [erasure_request.reference]
    assert on_time.reference in _rows(client)
    assert _rows(client, change_task_overdue="on") == [erasure_request.reference]
    case = client.get(reverse("casework:request_detail", args=[erasure_request.reference])).content.decode()
    assert f"task is due on {yesterday.day} {yesterday:%B %Y}." in case
    assert '<span class="badge text-bg-warning">Overdue</span>' in case

    with django_capture_on_commit_callbacks(execute=True):
        manual_tasks.task_done(job=task, actor=owner, items=[services.Item(table="folders", action="delete", rows=1)])
    assert _rows(client, change_task_overdue="on") == []


def test_a_task_retried_after_its_owner_could_not_do_it_is_due_again_from_the_retry(
    task, owner, handler, django_capture_on_commit_callbacks
):
    ChangeJob.objects.filter(pk=task.pk).update(due_on=date(2020, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        manual_tasks.task_not_done(job=task, actor=owner, reason="The folder is in storage")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_retry(job=task, actor=handler) is True
    task.refresh_from_db()
    assert task.status == ChangeJobStatus.WAITING and task.due_on >= timezone.localdate()


# --- The owner's reminder ------------------------------------------------------------------------------------------


def test_the_owner_is_reminded_once_a_day_of_a_task_due_soon_without_the_persons_data(
    task, owner, erasure_request, django_capture_on_commit_callbacks
):
    owner.email = "owner@example.org"
    owner.save()
    too_early = task.due_on - timedelta(days=4)
    with django_capture_on_commit_callbacks(execute=True):
        assert manual_tasks.task_reminders_send(today=too_early) == 0
    day = task.due_on + timedelta(days=1)  # overdue
    mail.outbox.clear()
    for _run in range(2):  # beat runs it hourly: one reminder a day
        with django_capture_on_commit_callbacks(execute=True):
            manual_tasks.task_reminders_send(today=day)
    assert ChangeTaskReminder.objects.filter(recipient=owner, day=day).count() == 1
    (message,) = mail.outbox
    assert message.to == ["owner@example.org"]
    assert "Paper files" in message.body and erasure_request.reference in message.body
    assert "1 day overdue" in message.body and task.public_id in message.body
    assert "ada@example.com" not in message.body + message.subject
    events = RequestEvent.objects.filter(request=erasure_request, kind=EventKind.STAFF_REMINDER_SENT)
    reason = f"Change task of Paper files due soon or overdue (staff user {owner.pk})"
    assert [event.reason for event in events] == [reason]
    reminder = ChangeTaskReminder.objects.get()
    assert tasks.send_change_task_reminder(reminder.pk) is False  # delivered already: not again
    assert len(mail.outbox) == 1


def test_the_beat_task_takes_no_arguments_and_a_finished_task_is_not_reminded(
    task, owner, django_capture_on_commit_callbacks
):
    ChangeJob.objects.filter(pk=task.pk).update(due_on=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.remind_system_owners_of_change_tasks() == 1
    reminder_ids = list(ChangeTaskReminder.objects.values_list("pk", flat=True))
    assert len(reminder_ids) == 1 and len(callbacks) == 1
    ChangeJob.objects.filter(pk=task.pk).update(status=ChangeJobStatus.DONE)
    assert manual_tasks.task_reminder_deliver(reminder_id=reminder_ids[0]) is False
    assert mail.outbox == []
    assert task.run.status == RunStatus.RUNNING


def test_a_task_given_before_tasks_had_due_dates_is_dated_by_the_sweep(task, erasure_request):
    ChangeJob.objects.filter(pk=task.pk).update(due_on=None)
    services.jobs_sweep()
    task.refresh_from_db()
    assert task.due_on == search_task_due_date(erasure_request.due_on, erasure_request.jurisdiction, working_days=5)
