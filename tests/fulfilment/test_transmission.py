"""Direct transmission of a portability answer to another controller (GDPR Art. 20(2)), against a real HTTP server on
127.0.0.1 playing the receiving controller: it checks every request's Standard Webhooks signature with the secret the
DPO handed over, answers the verification challenge, and keeps the archive it receives."""

import base64
import hashlib
import hmac
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from datasystems import webhooks
from fulfilment import review, services, tasks, transmission
from fulfilment.models import (
    Compilation,
    CompilationStatus,
    ReceivingEndpoint,
    Release,
    ReleaseStatus,
    Transmission,
    TransmissionStatus,
)
from requests_app.models import EventKind, Right
from requests_app.scope import PortabilityScope

from .conftest import alan_request

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Receiver:
    """The receiving controller's endpoint: what it answers, and what it received (verified bodies only)."""

    url: str
    secret: str = ""
    echo: str = "right"  # "right", "wrong": the verification challenge's answer
    statuses: list[int] = field(default_factory=list)  # answers to archives, in turn; then 200
    archives: list[bytes] = field(default_factory=list)
    archive_headers: list[dict] = field(default_factory=list)
    challenges: int = 0
    refused: int = 0


def _valid(secret: str, headers: dict, body: bytes) -> bool:
    """The receiver's check, per the Standard Webhooks spec: HMAC-SHA256 of ``id.timestamp.body`` with the secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, part.split(",", 1)[1]) for part in headers["webhook-signature"].split(" "))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: Receiver

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {key.lower(): value for key, value in self.headers.items()}
            if not state.secret or not _valid(state.secret, headers, body):
                state.refused += 1
                self._send(401, b"{}")
                return
            if headers.get("content-type") == "application/json":
                # The verification challenge, checked by the library as a receiver would.
                payload = Webhook(state.secret).verify(body, headers)
                state.challenges += 1
                echoed = payload["challenge"] if state.echo == "right" else "something else"
                self._send(200, json.dumps({"challenge": echoed}).encode())
                return
            status = state.statuses.pop(0) if state.statuses else 200
            if status == 200:
                state.archives.append(body)
                state.archive_headers.append(headers)
            self._send(status, b"{}")

        def _send(self, status: int, raw: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/portability/inbox")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def endpoint(receiver, dpo) -> ReceivingEndpoint:
    """NewBank's endpoint, added by the DPO, its secret handed to NewBank, verified by the signed challenge."""
    added = transmission.endpoint_create(
        controller_name="NewBank Ltd", contact="dpo@newbank.example", url=receiver.url, actor=dpo
    )
    receiver.secret = added.secret
    return transmission.endpoint_verify(endpoint=added, actor=dpo)


def _portability_request(*, approved_by=None, **overrides):
    """Alan's portability request asking for direct transmission, compiled; with ``approved_by``, its answer also
    reviewed, approved and built (nothing leaves the portal before that: fulfilment.review)."""
    scope = PortabilityScope(transmit_to_controller=True, recipient_name="NewBank Ltd", recipient_contact="newbank")
    request = alan_request(Right.PORTABILITY, details=scope.as_details(), **overrides)
    if approved_by is not None:
        _approve(request, approved_by)
    return request


def _approve(request, handler) -> Release:
    release = Release.objects.get(request=request, copy_number=1)
    review.release_approve(release=release, actor=handler)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.AVAILABLE
    return release


def test_the_dpo_verifies_an_endpoint_by_a_signed_challenge_it_echoes(receiver, dpo):
    added = transmission.endpoint_create(controller_name="NewBank Ltd", contact="", url=receiver.url, actor=dpo)
    assert added.secret.startswith("whsec_") and not added.is_verified
    receiver.secret = added.secret
    receiver.echo = "wrong"
    with pytest.raises(transmission.TransmissionError, match="did not echo"):
        transmission.endpoint_verify(endpoint=added, actor=dpo)
    added.refresh_from_db()
    assert added.verified_at is None and "did not echo" in added.verification_note
    receiver.echo = "right"
    verified = transmission.endpoint_verify(endpoint=added, actor=dpo)
    assert verified.is_verified and verified.verified_by == dpo and "signed challenge" in verified.verification_note
    # A new URL may be someone else's server: verified again before anything goes there.
    changed = transmission.endpoint_update(
        endpoint=verified, controller_name="NewBank Ltd", contact="", url=receiver.url + "/v2", active=True
    )
    assert not changed.is_verified


def test_an_endpoint_that_does_not_hold_the_secret_is_not_verified(receiver, dpo):
    added = transmission.endpoint_create(controller_name="Impostor", contact="", url=receiver.url, actor=dpo)
    receiver.secret = transmission.secret_generate()  # the receiver was given another secret
    with pytest.raises(transmission.TransmissionError, match="401"):
        transmission.endpoint_verify(endpoint=added, actor=dpo)
    assert receiver.refused == 1


def test_plain_http_is_refused_except_on_localhost():
    with pytest.raises(transmission.TransmissionError, match="https"):
        transmission.endpoint_url_check("http://newbank.example/inbox")
    with pytest.raises(transmission.TransmissionError, match="credentials"):
        transmission.endpoint_url_check("https://user:pw@newbank.example/inbox")
    assert transmission.endpoint_url_check(" https://newbank.example/inbox ") == "https://newbank.example/inbox"


def test_a_feasible_transmission_sends_the_signed_archive_once_and_records_it(
    automated_register, receiver, endpoint, handler
):
    request = _portability_request(approved_by=handler)
    compilation = Compilation.objects.get(request=request)
    assert compilation.status == CompilationStatus.ASSEMBLED
    release = Release.objects.get(request=request)

    transmission.transmission_decide(
        request=request, feasible=True, reason="NewBank runs a compatible endpoint.", endpoint=endpoint, actor=handler
    )

    # The receiver got the archive, signed with the shared secret, byte for byte the released answer.
    assert len(receiver.archives) == 1
    body = receiver.archives[0]
    assert hashlib.sha256(body).hexdigest() == release.archive_sha256
    assert receiver.archive_headers[0]["dsar-archive-sha256"] == release.archive_sha256
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    sent = Transmission.objects.get(request=request)
    assert sent.status == TransmissionStatus.SENT and sent.sent_at and sent.compilation == compilation
    assert sent.release == release
    (attempt,) = sent.attempt_rows.all()
    assert attempt.succeeded and attempt.http_status == 200 and attempt.archive_sha256 == release.archive_sha256
    trail = list(request.events.filter(kind=EventKind.TRANSMISSION_STATUS_CHANGED).order_by("pk"))
    assert [(event.from_status, event.to_status) for event in trail] == [
        ("", "pending"),
        ("pending", "sending"),
        ("sending", "sent"),
    ]
    assert trail[0].actor == handler and "compatible endpoint" in trail[0].reason
    # Running the task again, and assembling again, send nothing twice.
    assert tasks.transmit_portability_answer(sent.pk) == TransmissionStatus.SENT
    services.compilation_assemble(compilation_id=compilation.pk)
    assert len(receiver.archives) == 1


def test_a_decision_made_before_the_answer_is_released_sends_it_once_it_is_approved(
    automated_register, receiver, endpoint, handler
):
    """Nothing leaves the portal before the answer is reviewed and approved: a feasible decision made while the
    answer is in review waits, and the release sends it."""
    request = _portability_request()
    assert Release.objects.get(request=request).status == ReleaseStatus.IN_REVIEW
    transmission.transmission_decide(
        request=request, feasible=True, reason="Compatible.", endpoint=endpoint, actor=handler
    )
    assert receiver.archives == [] and Transmission.objects.get(request=request).status == TransmissionStatus.PENDING
    release = _approve(request, handler)
    assert len(receiver.archives) == 1
    assert hashlib.sha256(receiver.archives[0]).hexdigest() == release.archive_sha256


def test_a_released_answer_is_what_is_sent_through_the_release_hook(automated_register, receiver, endpoint, handler):
    request = _portability_request()
    compilation = Compilation.objects.get(request=request)
    Compilation.objects.filter(pk=compilation.pk).update(status=CompilationStatus.RUNNING)
    transmission.transmission_decide(
        request=request, feasible=True, reason="Compatible.", endpoint=endpoint, actor=handler
    )
    stored = transmission.RELEASES.save(io.BytesIO(b"the released, reviewed archive"), suffix=".zip")
    release = Release.objects.get(compilation=compilation, request=request, status=ReleaseStatus.IN_REVIEW)
    assert not transmission.portability_transmit_after_release(release.pk)  # not released yet
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.AVAILABLE, archive_name=stored.name)
    assert transmission.portability_transmit_after_release(release.pk)
    assert receiver.archives == [b"the released, reviewed archive"]
    assert Transmission.objects.get(request=request).release == release


def test_a_transient_failure_is_retried_with_each_attempt_recorded(automated_register, receiver, endpoint, handler):
    receiver.statuses = [503, 503]
    request = _portability_request(approved_by=handler)
    transmission.transmission_decide(
        request=request, feasible=True, reason="Compatible.", endpoint=endpoint, actor=handler
    )
    pending = Transmission.objects.get(request=request)
    assert pending.status == TransmissionStatus.PENDING and "503" in pending.last_error
    # The task's retries, with backoff on a real worker (eager here: run by hand).
    with pytest.raises(transmission.TransmissionTemporaryError):
        transmission.transmission_send(transmission_id=pending.pk)
    assert transmission.transmission_send(transmission_id=pending.pk) == TransmissionStatus.SENT
    sent = Transmission.objects.get(request=request)
    assert sent.status == TransmissionStatus.SENT and len(receiver.archives) == 1
    assert [(a.number, a.succeeded, a.http_status) for a in sent.attempt_rows.all()] == [
        (1, False, 503),
        (2, False, 503),
        (3, True, 200),
    ]


def test_a_refused_transmission_fails_for_staff_who_send_it_again(
    client, automated_register, receiver, endpoint, handler
):
    receiver.statuses = [400]
    request = _portability_request(approved_by=handler)
    transmission.transmission_decide(
        request=request, feasible=True, reason="Compatible.", endpoint=endpoint, actor=handler
    )
    failed = Transmission.objects.get(request=request)
    assert failed.status == TransmissionStatus.FAILED and "400" in failed.last_error and receiver.archives == []
    client.force_login(handler)
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "Direct transmission to another controller" in page and "Send to the receiving controller again" in page
    response = client.post(reverse("fulfilment:transmission_retry", args=[request.reference]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == TransmissionStatus.SENT and len(receiver.archives) == 1


def test_not_feasible_is_recorded_with_its_reason_and_nothing_is_sent(
    client, automated_register, receiver, endpoint, handler
):
    request = _portability_request(approved_by=handler)
    client.force_login(handler)
    url = reverse("fulfilment:transmission_decide", args=[request.reference])
    # No reason: the case page again, saying what to fix, keeping the choice.
    response = client.post(url, {"feasible": "no", "reason": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Reason for the decision: This field is required." in page and 'id="id_feasible_1" required checked' in page
    # Feasible needs a verified endpoint.
    response = client.post(url, {"feasible": "yes", "reason": "Looks fine."})
    assert response.status_code == 400 and "Choose the verified endpoint" in response.content.decode()
    response = client.post(url, {"feasible": "no", "reason": "NewBank has no endpoint we can reach."})
    assert response.status_code == 302
    decided = Transmission.objects.get(request=request)
    assert decided.status == TransmissionStatus.NOT_FEASIBLE and not decided.feasible and decided.endpoint is None
    assert receiver.archives == []
    event = request.events.get(kind=EventKind.TRANSMISSION_STATUS_CHANGED)
    assert "not technically feasible" in event.reason and "no endpoint we can reach" in event.reason
    # The handler changes their mind before anything was sent: it goes.
    response = client.post(url, {"feasible": "yes", "endpoint": endpoint.pk, "reason": "They set one up."})
    assert response.status_code == 302
    assert Transmission.objects.get(request=request).status == TransmissionStatus.SENT and len(receiver.archives) == 1


def test_only_a_verified_endpoint_and_a_request_asking_for_it(automated_register, receiver, endpoint, handler, dpo):
    unverified = transmission.endpoint_create(controller_name="Other", contact="", url=receiver.url, actor=dpo)
    request = _portability_request()
    with pytest.raises(transmission.TransmissionError, match="verified endpoint"):
        transmission.transmission_decide(request=request, feasible=True, reason="x", endpoint=unverified, actor=handler)
    plain = alan_request(Right.PORTABILITY, email="plain@example.net")
    with pytest.raises(transmission.TransmissionError, match="did not ask"):
        transmission.transmission_decide(request=plain, feasible=False, reason="x", endpoint=None, actor=handler)
    assert not Transmission.objects.exists()


def test_the_streamed_signature_is_the_standard_webhooks_signature():
    secret = transmission.secret_generate()
    body = b'{"hello": "world"}'
    headers = webhooks.sign(body, secret, msg_id="msg_1")
    timestamp = int(headers["webhook-timestamp"])
    signature, sha256, size = transmission.stream_signature(secret, "msg_1", timestamp, iter([body[:5], body[5:]]))
    assert signature == headers["webhook-signature"]
    assert sha256 == hashlib.sha256(body).hexdigest() and size == len(body)


def test_the_sweep_sends_what_a_lost_message_left_pending(automated_register, receiver, endpoint, handler, monkeypatch):
    request = _portability_request(approved_by=handler)
    monkeypatch.setattr(transmission, "_enqueue", lambda transmission_id: None)  # the broker loses the message
    transmission.transmission_decide(
        request=request, feasible=True, reason="Compatible.", endpoint=endpoint, actor=handler
    )
    assert receiver.archives == []
    monkeypatch.undo()
    from datetime import timedelta

    from django.utils import timezone

    assert transmission.transmissions_sweep(now=timezone.now() + timedelta(minutes=11)) == 1
    assert len(receiver.archives) == 1
