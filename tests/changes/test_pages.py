"""The changes on the case page (per system status, rows, results, approve behind step-up, retry), and an HTTP
system's signed answer to a change it accepted with 202 (GDPR Art. 5(1)(f), 32)."""

import base64
import json

import pytest
from django.urls import reverse

from changes import services
from changes.models import ChangeItem, ChangeJob, ChangeJobStatus, ChangeRun, RunStatus
from datasystems import webhooks
from datasystems.connectors.changes import ChangeKind
from tests.factories import give_second_factor

from .conftest import system

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"the portal and the ticket desk share this").decode()


def _case(request) -> str:
    return reverse("casework:request_detail", args=[request.reference])


def test_the_case_page_offers_to_plan_the_erasure_then_to_approve_it_behind_a_fresh_factor(
    client, crm, paper, erasure_request, handler, django_capture_on_commit_callbacks
):
    client.force_login(handler)
    page = client.get(_case(erasure_request)).content.decode()
    assert "Plan the erasure in every system" in page
    client.post(reverse("changes:erasure_plan", args=[erasure_request.reference]))
    run = ChangeRun.objects.get(request=erasure_request)
    page = client.get(_case(erasure_request)).content.decode()
    assert "Awaiting approval" in page and "Approve the change" in page and "Paper files" in page
    approve = reverse("changes:run_approve", args=[erasure_request.reference, run.pk])
    assert client.post(approve).status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.AWAITING_APPROVAL  # sent to give a factor first
    give_second_factor(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(approve)
    run.refresh_from_db()
    assert run.approved_by == handler
    page = client.get(_case(erasure_request)).content.decode()
    assert "customers: delete, 12" in page and "erasure_legal_claims" in page
    # A second click is a message, not an error.
    assert client.post(approve).status_code == 302


def test_a_failed_system_is_retried_from_the_case_page(
    client, crm, erasure_request, handler, django_capture_on_commit_callbacks
):
    crm.connector_config = {"tables": [{"name": "x", "erasure": "bad"}]}
    crm.save()
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=run, actor=handler)
    job = run.jobs.get()
    client.force_login(handler)
    assert "Retry the change in CRM" in client.get(_case(erasure_request)).content.decode()
    crm.connector_config = {"tables": [{"name": "customers"}]}
    crm.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("changes:job_retry", args=[erasure_request.reference, run.pk, job.pk]))
    job.refresh_from_db()
    assert job.status == ChangeJobStatus.DONE


def test_someone_who_may_not_see_the_request_finds_nothing(client, crm, erasure_request, handler, owner):
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    client.force_login(owner)
    response = client.post(reverse("changes:run_approve", args=[erasure_request.reference, run.pk]))
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.AWAITING_APPROVAL


@pytest.fixture
def waiting(settings, monkeypatch, erasure_request, handler, django_capture_on_commit_callbacks):
    """A ticket desk that accepted the erasure with 202: its job waits for the signed callback."""
    monkeypatch.setenv("DESK_WEBHOOK_SECRET", SECRET)
    settings.DSAR_CONNECTORS = {**settings.DSAR_CONNECTORS, "http": "tests.changes.fakes.PendingHttpConnector"}
    system("Ticket desk", "http", {"url": "http://127.0.0.1:9/dsar", "secret_env": "DESK_WEBHOOK_SECRET"})
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=run, actor=handler)
    job = ChangeJob.objects.get(run=run)
    assert job.status == ChangeJobStatus.WAITING and job.callback_token == "desk-token-1"
    return job


def _post(client, job, payload, secret=SECRET):
    body = json.dumps(payload).encode()
    headers = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in webhooks.sign(body, secret).items()}
    path = reverse("changes_callbacks:change_callback", args=[job.public_id])
    return client.post(path, body, content_type="application/json", **headers)


ANSWER = {
    "callback_token": "desk-token-1",
    "request_status": "completed",
    "tables": [{"table": "tickets", "action": "delete", "rows": 4}],
}


def test_a_bad_signature_changes_nothing(client, waiting):
    other = "whsec_" + base64.b64encode(b"someone else's secret").decode()
    assert _post(client, waiting, ANSWER, secret=other).status_code == 401
    waiting.refresh_from_db()
    assert waiting.status == ChangeJobStatus.WAITING


def test_the_signed_answer_finishes_the_job_once(client, waiting, django_capture_on_commit_callbacks):
    assert _post(client, waiting, {**ANSWER, "callback_token": "guess"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, waiting, ANSWER)
    assert response.status_code == 200 and response.json() == {"status": "received"}
    waiting.refresh_from_db()
    assert waiting.status == ChangeJobStatus.DONE and waiting.run.status == RunStatus.DONE
    again = _post(client, waiting, ANSWER)
    assert again.status_code == 200 and again.json() == {"status": "already_received"}
    assert list(ChangeItem.objects.filter(job=waiting).values_list("table", "rows")) == [("tickets", 4)]


def test_a_table_the_register_keeps_gets_its_ground_from_the_register_when_the_system_answers_by_callback(
    client, waiting, django_capture_on_commit_callbacks
):
    """GDPR Art. 17(3), 12(4): the system's signed answer names the table and its rows only; the ground and reason
    recorded with the kept table (and given to the person in the answer) are the register's, as for a worker's."""
    system = waiting.system
    system.connector_config = {
        **system.connector_config,
        "tables": [
            {
                "name": "tickets",
                "erasure": {"action": "keep", "ground": "erasure_legal_claims", "reason": "A claim is open."},
            }
        ],
    }
    system.save()
    answer = {**ANSWER, "tables": [{"table": "tickets", "action": "keep", "rows": 4}]}
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, waiting, answer).status_code == 200
    item = ChangeItem.objects.get(job=waiting)
    assert (item.table, item.action, item.ground, item.reason) == (
        "tickets",
        "keep",
        "erasure_legal_claims",
        "A claim is open.",
    )
