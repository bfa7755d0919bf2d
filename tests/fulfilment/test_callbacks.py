"""The HTTP connector's later answer (issue 12, connector kind 3): a system that accepted the search (202) posts the
person's data, signed, to the job's callback URL; the portal verifies it, finishes the job with its parts and search
record, and assembles the answer. A bad signature, a replay or a wrong token changes nothing; a second answer to a
finished job adds nothing."""

import base64
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from datasystems import webhooks
from datasystems.connectors.http import HttpConnector
from datasystems.models import DataSystem
from fulfilment import services
from fulfilment.models import Compilation, CompilationStatus, JobStatus, SearchJob, SearchPart, SearchRecord
from requests_app.models import EventKind

from .conftest import alan_request

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_" + base64.b64encode(b"the portal and the ticket desk share this").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"someone else's secret").decode()
DESK = "Support ticket desk"


@pytest.fixture
def desk(automated_register, monkeypatch):
    """The demo's automated systems and one system with an API, which answers later (202)."""
    monkeypatch.setenv("DESK_WEBHOOK_SECRET", SECRET)
    automated = automated_register.first()
    return DataSystem.objects.create(
        name=DESK,
        data_subjects="Customers",
        retention="Two years",
        connector="http",
        connector_config={
            "url": "http://127.0.0.1:9/dsar",
            "secret_env": "DESK_WEBHOOK_SECRET",
            "identities": ["email", "customer_id"],
        },
        owner=automated.owner,
    )


@pytest.fixture
def sent(desk):
    """Alan's request planned; the desk answers 202 with a callback token. Returns the job and the body it was sent."""
    bodies = []

    def post(self, body):
        bodies.append(json.loads(body))
        return 202, {}, json.dumps({"callback_token": "desk-token-1"}).encode()

    with mock.patch.object(HttpConnector, "_post", post):
        request = alan_request()
    job = SearchJob.objects.get(request=request, system=desk)
    return job, bodies[0]


def _answer(job, **payload) -> dict:
    return {"callback_token": "desk-token-1", "request_id": job.public_id, "request_status": "completed", **payload}


TICKETS = {
    "name": "tickets",
    "columns": ["id", "subject"],
    "rows": [[1, "Refund"], [2, "Password reset"]],
    "provided_or_observed": True,
}


def _post(client, job, payload: dict, *, secret: str = SECRET, headers: dict | None = None):
    body = json.dumps(payload).encode()
    headers = headers if headers is not None else webhooks.sign(body, secret)
    path = reverse("fulfilment_callbacks:connector_callback", kwargs={"public_id": job.public_id})
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return client.post(path, body, content_type="application/json", **extra), headers


def test_a_202_leaves_the_job_waiting_with_its_token_and_the_callback_url_was_sent(sent):
    job, body = sent
    assert job.status == JobStatus.WAITING and job.callback_token == "desk-token-1"
    url = body["status_callback_urls"][0]
    assert url.endswith(f"/api/connectors/{job.public_id}/callback/")
    # The random public id, never the job's sequential key, names the search.
    assert body["request_id"] == job.public_id and len(job.public_id) >= 24
    record = SearchRecord.objects.filter(job=job).latest("at")
    assert not record.searched and "answer later" in record.reason
    assert Compilation.objects.get(pk=job.compilation_id).status == CompilationStatus.RUNNING


def test_a_signed_answer_finishes_the_job_and_the_answer_assembles(client, sent):
    job, _body = sent
    response, _headers = _post(client, job, _answer(job, tables=[TICKETS]))
    assert response.status_code == 200 and response.json()["status"] == "received"
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.rows_found == 2
    (part,) = SearchPart.objects.filter(job=job)
    assert (part.table, part.rows, part.columns) == ("tickets", 2, ["id", "subject"])
    record = SearchRecord.objects.filter(job=job).latest("at")
    assert record.searched and record.found == [{"table": "tickets", "rows": 2}]
    assert set(record.identifiers_used) == {"email", "customer_id"}
    assert Compilation.objects.get(pk=job.compilation_id).status == CompilationStatus.ASSEMBLED


def test_a_cancelled_answer_records_that_the_system_could_not_search(client, sent):
    job, _body = sent
    response, _headers = _post(client, job, _answer(job, request_status="cancelled", reason="Account archived"))
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == JobStatus.NOT_SEARCHED
    record = SearchRecord.objects.filter(job=job).latest("at")
    assert not record.searched and "Account archived" in record.reason


def test_an_answer_with_no_tables_is_a_search_that_found_nothing(client, sent):
    job, _body = sent
    response, _headers = _post(client, job, _answer(job, tables=[]))
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and not job.parts.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        "wrong secret",
        {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},  # stale and forged
    ],
)
def test_an_unsigned_or_forged_answer_is_refused_and_changes_nothing(client, sent, headers):
    job, _body = sent
    if headers == "wrong secret":
        response, _headers = _post(client, job, _answer(job, tables=[TICKETS]), secret=OTHER_SECRET)
    else:
        response, _headers = _post(client, job, _answer(job, tables=[TICKETS]), headers=headers)
    assert response.status_code == 401
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING and not job.parts.exists()


def test_a_replayed_answer_is_refused_and_a_finished_job_takes_no_second_answer(client, sent):
    job, _body = sent
    payload = _answer(job, tables=[TICKETS])
    first, headers = _post(client, job, payload)
    assert first.status_code == 200
    records = SearchRecord.objects.filter(job=job).count()
    # The same message again (its id seen): refused.
    replay, _headers = _post(client, job, payload, headers=headers)
    assert replay.status_code == 401
    # A new delivery of the answer (a fresh message id): acknowledged, nothing added.
    again, _headers = _post(client, job, payload)
    assert again.status_code == 200 and again.json()["status"] == "already_received"
    assert SearchPart.objects.filter(job=job).count() == 1
    assert SearchRecord.objects.filter(job=job).count() == records


def test_an_answer_with_the_wrong_token_or_bad_tables_is_rejected(client, sent):
    job, _body = sent
    wrong, _headers = _post(client, job, _answer(job, callback_token="guessed", tables=[TICKETS]))
    assert wrong.status_code == 400
    bad_table = {**TICKETS, "rows": [[1]]}
    malformed, _headers = _post(client, job, _answer(job, tables=[bad_table]))
    assert malformed.status_code == 400 and "row 1" in malformed.json()["detail"]
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING and not job.parts.exists()


def test_an_unknown_search_is_404_and_get_is_not_allowed(client, sent):
    job, _body = sent
    path = reverse("fulfilment_callbacks:connector_callback", kwargs={"public_id": "no-such-search"})
    body = json.dumps(_answer(job)).encode()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in webhooks.sign(body, SECRET).items()}
    assert client.post(path, body, content_type="application/json", **extra).status_code == 404
    real = reverse("fulfilment_callbacks:connector_callback", kwargs={"public_id": job.public_id})
    assert client.get(real).status_code == 405


def test_the_callback_is_rate_limited_per_client(client, sent, settings):
    job, _body = sent
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "connector_callback_per_client": (2, 3600)}
    codes = [_post(client, job, {}, headers={})[0].status_code for _ in range(3)]
    assert codes == [401, 401, 429]


# --- A callback that never comes ----------------------------------------------------------------------------------
# Past DSAR_CONNECTOR_CALLBACK_HOURS the sweep fails the search with a staff-facing error, so it shows on the case page
# with its retry button and in the queue's flag, and a retry sends the search again. A person's manual task is never
# failed this way (it has its own due date and reminders).


def _later(hours: float):
    return timezone.now() + timedelta(hours=hours)


def test_the_sweep_leaves_a_waiting_http_search_alone_before_its_deadline(sent, settings):
    settings.DSAR_CONNECTOR_CALLBACK_HOURS = 72
    job, _body = sent
    result = services.jobs_sweep(now=_later(71))
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING and result.callbacks_failed == 0


def test_past_its_deadline_the_sweep_fails_the_search_with_a_clear_error(sent, settings):
    settings.DSAR_CONNECTOR_CALLBACK_HOURS = 72
    job, _body = sent
    result = services.jobs_sweep(now=_later(73))
    job.refresh_from_db()
    assert result.callbacks_failed == 1
    assert job.status == JobStatus.FAILED
    assert job.last_error == f"No answer from {DESK} within 72 hours of sending the search."
    assert job.callback_token == ""
    record = SearchRecord.objects.filter(job=job).latest("at")
    assert not record.searched and "No answer from" in record.reason
    event = job.request.events.filter(kind=EventKind.SEARCH_STATUS_CHANGED, to_status=JobStatus.FAILED).get()
    assert event.from_status == JobStatus.WAITING and event.actor_kind == "system"
    # A second sweep changes nothing.
    assert services.jobs_sweep(now=_later(74)).callbacks_failed == 0


def test_the_deadline_is_a_setting(sent, settings):
    settings.DSAR_CONNECTOR_CALLBACK_HOURS = 2
    job, _body = sent
    services.jobs_sweep(now=_later(3))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "within 2 hours" in job.last_error


def test_a_late_answer_to_a_failed_search_is_refused(client, sent):
    job, _body = sent
    services.jobs_sweep(now=_later(100))
    response, _headers = _post(client, job, _answer(job, tables=[]))
    assert response.status_code != 200 or response.json()["status"] != "received"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_the_failed_search_shows_on_the_case_page_and_in_the_queue_and_a_retry_sends_it_again(client, sent, dpo):
    job, _body = sent
    services.jobs_sweep(now=_later(100))
    client.force_login(dpo)
    page = client.get(reverse("casework:request_detail", args=[job.request.reference])).content.decode()
    assert "Failed searches" in page and f"No answer from {DESK}" in page and f"Retry the search of {DESK}" in page
    queue = client.get(reverse("casework:queue"))
    assert [row.reference for row in queue.context["rows"] if row.fulfilment_task_failed] == [job.request.reference]

    def post(self, body):
        return 202, {}, json.dumps({"callback_token": "desk-token-2"}).encode()

    with mock.patch.object(HttpConnector, "_post", post):
        response = client.post(reverse("fulfilment:job_retry", args=[job.request.reference, job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    # Sent again: waiting for the new answer, with a fresh deadline from this run.
    assert job.status == JobStatus.WAITING and job.callback_token == "desk-token-2"
    assert job.started_at > timezone.now() - timedelta(minutes=5)
    assert services.jobs_sweep().callbacks_failed == 0


def test_a_manual_task_is_never_failed_by_the_callback_deadline(register, settings):
    settings.DSAR_CONNECTOR_CALLBACK_HOURS = 1
    request = alan_request()
    manual = SearchJob.objects.filter(request=request, connector="manual")
    assert manual.exists() and set(manual.values_list("status", flat=True)) == {JobStatus.WAITING}
    # A manual task has no started_at from a run; even with one long past, the deadline is not theirs.
    manual.update(started_at=timezone.now() - timedelta(days=30))
    services.jobs_sweep(now=_later(24 * 30))
    assert set(manual.values_list("status", flat=True)) == {JobStatus.WAITING}
    assert DataSystem.objects.filter(connector="manual").exists()


def test_the_case_panel_shows_when_a_waiting_http_answer_is_due(client, sent, dpo, settings):
    settings.DSAR_CONNECTOR_CALLBACK_HOURS = 72
    job, _body = sent
    client.force_login(dpo)
    page = client.get(reverse("casework:request_detail", args=[job.request.reference])).content.decode()
    due = timezone.localtime(job.started_at + timedelta(hours=72))
    assert f"answer due by {due.day} {due:%B %Y %H:%M}" in page
