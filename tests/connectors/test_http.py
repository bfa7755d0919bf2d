"""The HTTP connector against a real HTTP server on 127.0.0.1 that checks each request's Standard Webhooks signature
with the ``standardwebhooks`` package (the receiving side, as a system would) and answers as each test asks."""

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from datasystems import webhooks
from datasystems.connectors.base import (
    ConnectorError,
    ConnectorTemporaryError,
    Identifiers,
    SearchContext,
    SearchPending,
    connector_for,
)
from datasystems.connectors.http import HttpConnector, tables_from_answer

SECRET = "whsec_" + base64.b64encode(b"the portal and the CRM share this").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"a secret the CRM does not know").decode()
EMAIL = "ada.lovelace@example.com"
GOOD_ANSWER = {
    "tables": [
        {
            "name": "customers",
            "columns": ["id", "email", "vip"],
            "rows": [[7, EMAIL, True]],
            "provided_or_observed": True,
            "description": "The customer record.",
        },
        {
            "name": "scores",
            "columns": ["score", "computed_on"],
            "rows": [[0.75, "2026-01-02"], [None, "2026-02-01"]],
            "provided_or_observed": False,
        },
    ]
}


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: GOOD_ANSWER)
    sign_with: str = ""  # sign the answer with this secret
    delay: float = 0.0


@dataclass
class FakeSystem:
    url: str
    reply: Reply = field(default_factory=Reply)
    received: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    refused: int = 0


@pytest.fixture
def system() -> Iterator[FakeSystem]:
    state: FakeSystem

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                payload = Webhook(SECRET).verify(body, dict(self.headers.items()))
            except WebhookVerificationError:
                state.refused += 1
                self._send(401, b'{"error": "bad signature"}', {})
                return
            state.received.append(payload)
            state.headers.append(dict(self.headers.items()))
            reply = state.reply
            if reply.delay:
                time.sleep(reply.delay)
            raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            extra = webhooks.sign(raw, reply.sign_with) if reply.sign_with else {}
            self._send(reply.status, raw, extra)

        def _send(self, status: int, raw: bytes, extra: dict) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = FakeSystem(url=f"http://127.0.0.1:{server.server_address[1]}/dsar/search")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WRONG_WEBHOOK_SECRET", OTHER_SECRET)


def connector(system: FakeSystem, **config: Any) -> HttpConnector:
    return HttpConnector({"url": system.url, "secret_env": "CRM_WEBHOOK_SECRET", **config})


def person() -> Identifiers:
    return Identifiers.of(email="  Ada.Lovelace@Example.com ", customer_id="C-1001", phone="07700 900001")


def test_settings_name_the_http_connector(system: FakeSystem) -> None:
    """'http' is a connector kind of settings.DSAR_CONNECTORS."""
    built = connector_for("http", {"url": system.url, "secret_env": "CRM_WEBHOOK_SECRET"})
    assert isinstance(built, HttpConnector)
    built.check()


def test_a_signed_request_is_accepted_and_the_answer_becomes_tables(system: FakeSystem) -> None:
    """The system verifies the Standard Webhooks signature and the answer's tables reach the SearchOutcome."""
    outcome = connector(system).search(person())
    assert system.refused == 0 and len(system.received) == 1
    headers = {key.lower() for key in system.headers[0]}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= headers
    assert outcome.searched and outcome.identifiers_used == ["email"]
    customers, scores = outcome.tables
    assert (customers.name, customers.columns, list(customers.rows)) == (
        "customers",
        ["id", "email", "vip"],
        [(7, EMAIL, True)],
    )
    assert customers.provided_or_observed and customers.description == "The customer record."
    assert customers.row_count == 1
    assert list(scores.rows) == [(0.75, "2026-01-02"), (None, "2026-02-01")]
    assert scores.provided_or_observed is False


def test_the_body_uses_opendsr_field_names(system: FakeSystem) -> None:
    """request_id (opaque), subject_request_type, submitted_time, subject_identities as OpenDSR names them."""
    submitted = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    context = SearchContext(
        request_type="portability", search_id="job-5f2c", reference="DSAR-2026-0042", submitted_at=submitted
    )
    connector(system, identities=["email", "customer_id", "phone"]).search(person(), context=context)
    body = system.received[0]
    assert body == {
        "request_id": "job-5f2c",
        "subject_request_type": "portability",
        "submitted_time": "2026-03-04T05:06:07+00:00",
        "subject_identities": [
            {"identity_type": "email", "identity_value": EMAIL, "identity_format": "raw"},
            {"identity_type": "controller_customer_id", "identity_value": "C-1001", "identity_format": "raw"},
            {"identity_type": "phone_number", "identity_value": "07700900001", "identity_format": "raw"},
        ],
    }


def test_the_callback_url_is_sent_as_opendsr_status_callback_urls(system: FakeSystem) -> None:
    """A system that answers later (202) is told where to post its signed answer; without one, nothing is sent."""
    url = "https://portal.example.org/api/connectors/Zx9-random-public-id/callback/"
    connector(system).search(person(), context=SearchContext(search_id="s-1", callback_url=url))
    assert system.received[0]["status_callback_urls"] == [url]
    connector(system).search(person(), context=SearchContext(search_id="s-2"))
    assert "status_callback_urls" not in system.received[1]


def test_the_reference_is_sent_only_when_the_configuration_asks(system: FakeSystem) -> None:
    """By default the request_id is opaque (never the case reference); send_reference sends the reference."""
    context = SearchContext(search_id="", reference="DSAR-2026-0042")
    connector(system).search(person(), context=context)
    connector(system, send_reference=True).search(person(), context=context)
    opaque, referenced = (body["request_id"] for body in system.received)
    assert opaque != "DSAR-2026-0042" and len(opaque) == 32
    assert referenced == "DSAR-2026-0042"


def test_only_the_configured_identifiers_are_sent(system: FakeSystem) -> None:
    """The default sends the e-mail address only (data minimisation); none known means not searched."""
    connector(system).search(person())
    assert [i["identity_type"] for i in system.received[0]["subject_identities"]] == ["email"]
    outcome = connector(system, identities=["customer_id"]).search(Identifiers.of(email=EMAIL))
    assert not outcome.searched and "customer_id" in outcome.not_searched_reason
    assert len(system.received) == 1


def test_a_wrong_secret_is_refused_by_the_system(system: FakeSystem) -> None:
    """Signed with a secret the system does not share: it answers 401, a ConnectorError (not retried)."""
    http = HttpConnector({"url": system.url, "secret_env": "WRONG_WEBHOOK_SECRET"})
    with pytest.raises(ConnectorError) as caught:
        http.search(person())
    assert not isinstance(caught.value, ConnectorTemporaryError)
    assert "401" in str(caught.value)
    assert system.refused == 1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        [],
        {"tables": "customers"},
        {"tables": [{"name": "c", "columns": ["a", "b"], "rows": [[1]], "provided_or_observed": True}]},
        {"tables": [{"name": "c", "columns": ["a"], "rows": [[{"nested": 1}]], "provided_or_observed": True}]},
        {"tables": [{"name": "c", "columns": ["a"], "rows": [[1]]}]},
        {"tables": [{"name": "c", "columns": ["a", "a"], "rows": [], "provided_or_observed": True}]},
        {"tables": [{"name": "", "columns": ["a"], "rows": [], "provided_or_observed": True}]},
        {"tables": [{"name": "c", "columns": ["a"], "rows": [], "provided_or_observed": "yes"}]},
        {"tables": [{"name": "c", "columns": ["a"], "rows": [], "provided_or_observed": True, "extra": 1}]},
        {"tables": [{"name": "c", "columns": [], "rows": [], "provided_or_observed": True}]},
        {"tables": [{"name": "c", "columns": ["a"], "rows": [[1]], "provided_or_observed": True}] * 2},
        b'{"tables": [{"name": "c", "columns": ["a"], "rows": [[NaN]], "provided_or_observed": true}]}',
    ],
)
def test_a_malformed_answer_is_a_connector_error(system: FakeSystem, body: Any) -> None:
    """Every shape the answer may not take is refused, with a message that quotes no value from it."""
    system.reply = Reply(body=body)
    with pytest.raises(ConnectorError) as caught:
        connector(system).search(person())
    assert not isinstance(caught.value, ConnectorTemporaryError)
    assert EMAIL not in str(caught.value) and "nested" not in str(caught.value)


def test_an_answer_over_the_size_limit_is_refused(system: FakeSystem) -> None:
    """max_answer_bytes bounds what the portal reads."""
    with pytest.raises(ConnectorError, match="larger than the limit"):
        connector(system, max_answer_bytes=100).search(person())


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_temporary(system: FakeSystem, status: int) -> None:
    """5xx: the job retries with backoff."""
    system.reply = Reply(status=status, body={"error": EMAIL})
    with pytest.raises(ConnectorTemporaryError) as caught:
        connector(system).search(person())
    assert str(status) in str(caught.value) and EMAIL not in str(caught.value)


@pytest.mark.parametrize("status", [400, 404, 422, 302])
def test_a_client_error_or_a_redirect_is_permanent(system: FakeSystem, status: int) -> None:
    system.reply = Reply(status=status, body={"error": "no"})
    with pytest.raises(ConnectorError) as caught:
        connector(system).search(person())
    assert not isinstance(caught.value, ConnectorTemporaryError)


def test_a_slow_system_is_temporary(system: FakeSystem) -> None:
    """No answer within 'timeout' seconds: a ConnectorTemporaryError."""
    system.reply = Reply(delay=2.5)
    started = time.monotonic()
    with pytest.raises(ConnectorTemporaryError, match="in time"):
        connector(system, timeout=1).search(person())
    assert time.monotonic() - started < 2.4


def test_a_refused_connection_is_temporary(system: FakeSystem) -> None:
    http = HttpConnector({"url": "http://127.0.0.1:9/dsar", "secret_env": "CRM_WEBHOOK_SECRET"})
    with pytest.raises(ConnectorTemporaryError):
        http.search(person())
    with pytest.raises(ConnectorTemporaryError):
        http.check()


def test_202_raises_search_pending_with_the_callback_token(system: FakeSystem) -> None:
    """The system will answer later: SearchPending carries its callback token and the request id sent."""
    system.reply = Reply(
        status=202, body={"callback_token": "cb-91f0", "expected_completion_time": "2026-03-05T00:00:00+00:00"}
    )
    with pytest.raises(SearchPending) as caught:
        connector(system).search(person(), context=SearchContext(search_id="job-77"))
    assert caught.value.token == "cb-91f0"
    assert caught.value.request_id == "job-77"
    assert caught.value.expected_by == datetime(2026, 3, 5, tzinfo=UTC)
    assert not isinstance(caught.value, ConnectorError)


@pytest.mark.parametrize("body", [{}, {"callback_token": ""}, {"callback_token": 5}, b"later"])
def test_202_without_a_token_is_a_connector_error(system: FakeSystem, body: Any) -> None:
    system.reply = Reply(status=202, body=body)
    with pytest.raises(ConnectorError, match="later"):
        connector(system).search(person())


def test_a_signed_answer_is_verified(system: FakeSystem) -> None:
    """verify_answers: an answer signed with the shared secret passes; unsigned or wrongly signed fails."""
    system.reply = Reply(sign_with=SECRET)
    assert len(connector(system, verify_answers=True).search(person()).tables) == 2
    system.reply = Reply(sign_with=OTHER_SECRET)
    with pytest.raises(ConnectorError, match="signature"):
        connector(system, verify_answers=True).search(person())
    system.reply = Reply()
    with pytest.raises(ConnectorError, match="signature"):
        connector(system, verify_answers=True).search(person())


def test_a_202_is_verified_too(system: FakeSystem) -> None:
    """verify_answers covers the 'answer later' reply: an unsigned 202 is refused, a signed one is pending."""
    system.reply = Reply(status=202, body={"callback_token": "cb-1"})
    with pytest.raises(ConnectorError, match="signature"):
        connector(system, verify_answers=True).search(person())
    system.reply = Reply(status=202, body={"callback_token": "cb-1"}, sign_with=SECRET)
    with pytest.raises(SearchPending):
        connector(system, verify_answers=True).search(person())


def test_an_answer_for_another_request_is_refused(system: FakeSystem) -> None:
    system.reply = Reply(body={"request_id": "someone-else", **GOOD_ANSWER})
    with pytest.raises(ConnectorError, match="another request"):
        connector(system).search(person(), context=SearchContext(search_id="job-1"))


def test_no_identifier_value_reaches_the_logs(system: FakeSystem, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing the connector (or the libraries under it) logs holds the person's identifiers or the secret."""
    caplog.set_level(logging.DEBUG)
    connector(system, identities=["email", "customer_id"]).search(person())
    system.reply = Reply(status=500, body={"echo": EMAIL})
    with pytest.raises(ConnectorTemporaryError):
        connector(system).search(person())
    system.reply = Reply(body=b"{broken " + EMAIL.encode())
    with pytest.raises(ConnectorError):
        connector(system).search(person())
    assert caplog.records, "the connector logs something, so the check below means something"
    text = "\n".join(record.getMessage() for record in caplog.records)
    for value in (EMAIL, "C-1001", SECRET):
        assert value not in text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://crm.example.com/dsar", "https"),
        ("ftp://crm.example.com/dsar", "https"),
        ("https://user:pw@crm.example.com/dsar", "credentials"),
        ("https://crm.example.com:port/dsar", "valid URL"),
        ("", "url"),
    ],
)
def test_an_unsafe_url_is_refused(url: str, message: str) -> None:
    """Plain HTTP only for localhost: the request carries identifiers, the answer personal data."""
    with pytest.raises(ConnectorError, match=message):
        HttpConnector({"url": url, "secret_env": "CRM_WEBHOOK_SECRET"}).check()


def test_plain_http_to_another_host_only_when_a_setting_allows(settings: Any) -> None:
    http = HttpConnector({"url": "http://crm.internal/dsar", "secret_env": "CRM_WEBHOOK_SECRET"})
    with pytest.raises(ConnectorError, match="https"):
        http.url()
    settings.DSAR_CONNECTOR_HTTP_ALLOW_INSECURE = True
    assert http.url() == "http://crm.internal/dsar"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"secret_env": "lower-case"}, "secret_env"),
        ({"secret_env": "NOT_SET_ANYWHERE_DSAR"}, "not set"),
        ({"timeout": 0}, "timeout"),
        ({"identities": []}, "identities"),
        ({"verify_answers": "yes"}, "verify_answers"),
    ],
)
def test_a_bad_configuration_is_refused_by_check(system: FakeSystem, config: dict, message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        connector(system, **config).check()


def test_a_secret_that_is_not_base64_is_refused(system: FakeSystem, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", "whsec_!")
    with pytest.raises(ConnectorError, match="base64") as caught:
        connector(system).check()
    assert "whsec_!" not in str(caught.value)


def test_tables_from_answer_reads_a_callback_payload() -> None:
    """The later callback's payload is read by the same strict reader."""
    tables = tables_from_answer({"callback_token": "cb", "request_id": "job-1", **GOOD_ANSWER})
    assert [table.name for table in tables] == ["customers", "scores"]


# --- verify_callback (tests/conftest.py empties the cache before each test) -------------------------------------


def signed(payload: dict, secret: str = SECRET, **kwargs: Any) -> tuple[dict, bytes]:
    body = json.dumps(payload).encode()
    return webhooks.sign(body, secret, **kwargs), body


CALLBACK = {"callback_token": "cb-91f0", "request_id": "job-77", **GOOD_ANSWER}


def test_verify_callback_accepts_a_valid_message() -> None:
    headers, body = signed(CALLBACK)
    assert webhooks.verify_callback(headers, body, SECRET) == CALLBACK


def test_verify_callback_accepts_headers_in_any_case() -> None:
    headers, body = signed(CALLBACK)
    assert webhooks.verify_callback({k.title(): v for k, v in headers.items()}, body, SECRET) == CALLBACK


@pytest.mark.parametrize(
    "tamper",
    [
        lambda headers, body: (headers, body.replace(b"cb-91f0", b"cb-91f1")),
        lambda headers, body: ({**headers, "webhook-id": "msg_other"}, body),
        lambda headers, body: ({**headers, "webhook-signature": "v1,AAAA"}, body),
        lambda headers, body: ({**headers, "webhook-signature": "garbage"}, body),
        lambda headers, body: ({k: v for k, v in headers.items() if k != "webhook-signature"}, body),
        lambda headers, body: signed(CALLBACK, OTHER_SECRET),
    ],
)
def test_verify_callback_refuses_a_tampered_message(tamper: Callable[[dict, bytes], tuple[dict, bytes]]) -> None:
    headers, body = tamper(*signed(CALLBACK))
    with pytest.raises(webhooks.SignatureError):
        webhooks.verify_callback(headers, body, SECRET)


@pytest.mark.parametrize("minutes", [-6, 6])
def test_verify_callback_refuses_a_timestamp_outside_the_tolerance(minutes: int) -> None:
    when = datetime.fromtimestamp(time.time() + minutes * 60, tz=UTC)
    headers, body = signed(CALLBACK, timestamp=when)
    with pytest.raises(webhooks.SignatureError, match="timestamp"):
        webhooks.verify_callback(headers, body, SECRET)


def test_verify_callback_refuses_a_replay() -> None:
    """The same message (same webhook-id) is accepted once; a second message with a new id is accepted too."""
    headers, body = signed(CALLBACK)
    webhooks.verify_callback(headers, body, SECRET)
    with pytest.raises(webhooks.SignatureError, match="replay"):
        webhooks.verify_callback(headers, body, SECRET)
    webhooks.verify_callback(*signed(CALLBACK), SECRET)


def test_a_refused_message_does_not_use_up_its_id() -> None:
    """Only a verified message's id is remembered: a forgery under a real id cannot block the real message."""
    headers, body = signed(CALLBACK, msg_id="msg_real")
    forged, _ = signed(CALLBACK, OTHER_SECRET, msg_id="msg_real")
    with pytest.raises(webhooks.SignatureError):
        webhooks.verify_callback(forged, body, SECRET)
    assert webhooks.verify_callback(headers, body, SECRET) == CALLBACK


def test_verify_callback_refuses_a_signed_body_that_is_not_an_object() -> None:
    body = b"[1, 2]"
    with pytest.raises(webhooks.SignatureError, match="object"):
        webhooks.verify_callback(webhooks.sign(body, SECRET), body, SECRET)
