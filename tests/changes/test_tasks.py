"""A change carried out by hand: the system owner's task page under /staff/tasks/changes/ (GDPR Art. 5(1)(c): only
the owner sees the identifiers; Art. 5(2), 17(3): what was done and kept recorded per table)."""

import pytest
from django.urls import reverse

from changes import services
from changes.manual_tasks import tasks_visible_to
from changes.models import ChangeItem, ChangeJob, ChangeJobStatus, RunStatus
from datasystems.connectors.changes import ChangeKind
from requests_app.models import EventKind, RequestEvent

from .conftest import EMAIL, system

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(paper, erasure_request, handler, django_capture_on_commit_callbacks):
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=run, actor=handler)
    return ChangeJob.objects.get(run=run, system=paper)


def _path(job) -> str:
    return reverse("changes_tasks:task_detail", args=[job.public_id])


def test_the_owner_sees_their_task_with_the_identifiers_and_the_opening_is_recorded(client, task, owner):
    client.force_login(owner)
    listing = client.get(reverse("changes_tasks:task_list"))
    assert listing.status_code == 200 and "Paper files" in listing.content.decode()
    page = client.get(_path(task))
    assert page.status_code == 200
    assert EMAIL in page.content.decode()
    events = RequestEvent.objects.filter(request_id=task.request_id, kind=EventKind.CHANGE_RECORDED)
    assert any("identifiers shown" in event.reason for event in events)


def test_other_people_cannot_open_the_task(client, task, other_owner, handler):
    assert client.get(_path(task)).status_code == 302  # anonymous: to the sign-in page
    client.force_login(other_owner)
    assert client.get(_path(task)).status_code == 404
    assert "Paper files" not in client.get(reverse("changes_tasks:task_list")).content.decode()
    client.force_login(handler)
    assert client.get(_path(task)).status_code == 403
    assert client.get(reverse("changes_tasks:task_list")).status_code == 403


def _post(client, job, *items, note="Shredded the folder"):
    data = {
        "action": "done",
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": "0",
        "done-note": note,
    }
    for index, item in enumerate(items):
        for key, value in item.items():
            data[f"items-{index}-{key}"] = value
    return client.post(_path(job), data)


def test_the_owner_records_what_was_done_and_the_run_finishes(client, task, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client,
            task,
            {"table": "folders", "action": "delete", "rows": "2"},
            {
                "table": "tax records",
                "action": "keep",
                "rows": "1",
                "ground": "erasure_legal_obligation",
                "reason": "Kept six years for HMRC.",
            },
        )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == ChangeJobStatus.DONE and task.done_by == owner and task.note == "Shredded the folder"
    assert list(ChangeItem.objects.filter(job=task).values_list("table", "action", "rows")) == [
        ("folders", "delete", 2),
        ("tax records", "keep", 1),
    ]
    assert task.run.status == RunStatus.DONE
    assert client.get(_path(task)).status_code == 200  # finished: read only


def test_kept_data_without_a_ground_is_refused_and_what_was_typed_stays(client, task, owner):
    client.force_login(owner)
    response = _post(client, task, {"table": "tax records", "action": "keep", "rows": "1", "reason": "tax"})
    assert response.status_code == 400
    assert "Article 17(3)" in response.content.decode() and "tax records" in response.content.decode()
    task.refresh_from_db()
    assert task.status == ChangeJobStatus.WAITING


def test_could_not_be_done_needs_a_reason_and_fails_the_job_for_staff(client, task, owner):
    client.force_login(owner)
    assert client.post(_path(task), {"action": "not_done", "not_done-reason": ""}).status_code == 400
    client.post(_path(task), {"action": "not_done", "not_done-reason": "The archive burnt down."})
    task.refresh_from_db()
    assert task.status == ChangeJobStatus.FAILED and task.last_error == "The archive burnt down."


def test_a_task_finished_meanwhile_gives_a_message(client, task, owner):
    client.force_login(owner)
    ChangeJob.objects.filter(pk=task.pk).update(status=ChangeJobStatus.DONE)
    response = _post(client, task, {"table": "folders", "action": "delete", "rows": "1"})
    assert response.status_code in (200, 302)
    assert ChangeItem.objects.filter(job=task).count() == 0


def test_a_system_with_a_changing_connector_is_no_task(crm, erasure_request, handler, owner):
    system("Shop", "fake", {"tables": [{"name": "orders"}]}, owner=owner)
    services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    assert not tasks_visible_to(owner).exists()
