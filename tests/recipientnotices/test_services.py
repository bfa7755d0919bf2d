"""GDPR Art. 19: one notice per recipient the register names for the systems changed, sent once, by e-mail or a
signed HTTP request retried on transient failures, or by a letter staff post; answers and "impossible or
disproportionate effort" judgements recorded; the person told who the recipients are only when they asked."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from datasystems import webhooks
from recipientnotices import services, tasks
from recipientnotices.models import NoticeStatus, RecipientNotice
from requests_app import services as request_services
from requests_app.lifecycle import IllegalTransition
from requests_app.models import EventKind, MessageKind, Outcome, RequestEvent

from .conftest import SECRET, erasure_request

pytestmark = pytest.mark.django_db


def _plan(request, systems, kind="erase"):
    return services.notices_plan(request_id=request.pk, system_ids=[system.pk for system in systems], change_kind=kind)


def _notice_mails():
    return [message for message in mail.outbox if "Article 19" in message.subject]


def test_one_notice_per_recipient_across_the_systems_changed(shop, mailing, mailer, tax_office):
    request = erasure_request()
    notices = _plan(request, [shop, mailing])
    by_name = {notice.recipient.name: notice for notice in notices}
    assert set(by_name) == {"Mailwise Inc.", "HM Revenue & Customs"}
    assert {system.name for system in by_name["Mailwise Inc."].systems.all()} == {"Shop", "Mailing list"}
    assert "order e-mails" in by_name["Mailwise Inc."].what_changed
    assert "newsletter address" in by_name["Mailwise Inc."].what_changed
    assert by_name["HM Revenue & Customs"].method == "post"
    # The identifiers the request holds, to say which person; encrypted at rest.
    assert by_name["Mailwise Inc."].identifiers == {"email": "ada@example.com", "customer_id": "C-1001"}


def test_planning_twice_makes_one_notice(shop, mailer, django_capture_on_commit_callbacks):
    request = erasure_request()
    with django_capture_on_commit_callbacks(execute=True):
        first = _plan(request, [shop])
    with django_capture_on_commit_callbacks(execute=True):
        second = _plan(request, [shop])
    assert [notice.pk for notice in first] == [notice.pk for notice in second]
    assert RecipientNotice.objects.filter(request=request).count() == 1
    assert len(_notice_mails()) == 1


def test_another_kind_of_change_is_another_notice(shop, mailer):
    request = erasure_request()
    _plan(request, [shop], "restrict")
    _plan(request, [shop], "lift_restriction")
    assert RecipientNotice.objects.filter(request=request).count() == 2


def test_marketing_suppression_is_not_an_article_19_change(shop, mailer):
    with pytest.raises(ValueError):
        _plan(erasure_request(), [shop], "suppress_marketing")


def test_the_email_is_sent_once_even_if_the_task_runs_twice(shop, mailer, django_capture_on_commit_callbacks):
    request = erasure_request()
    with django_capture_on_commit_callbacks(execute=True):
        (notice,) = _plan(request, [shop])
    assert tasks.send_recipient_notice(notice.pk) == NoticeStatus.SENT
    (message,) = _notice_mails()
    assert message.to == ["dpo@mailwise.example"]
    assert "C-1001" in message.body and str(notice.public_id) in message.body
    # The request's reference never goes to the recipient: the notice's own opaque id does.
    assert request.reference not in message.body and request.reference not in message.subject
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and notice.sent_at is not None
    assert RequestEvent.objects.filter(
        request=request, kind=EventKind.RECIPIENT_NOTICE_CHANGED, to_status=NoticeStatus.SENT
    ).exists()


def test_a_mail_server_failure_is_retried_then_fails_for_staff(shop, mailer, settings, monkeypatch):
    settings.DSAR_RECIPIENT_NOTICE_MAX_ATTEMPTS = 2
    request = erasure_request()
    (notice,) = _plan(request, [shop])

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(services.NoticeTemporaryError):
        services.notice_send(notice_id=notice.pk)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (NoticeStatus.PLANNED, 1)
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.FAILED
    notice.refresh_from_db()
    assert "ConnectionRefusedError" in notice.last_error


class _Receiver(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(({key.lower(): value for key, value in self.headers.items()}, body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(partner):
    _Receiver.answers, _Receiver.received = [], []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    partner.notify_url = f"http://127.0.0.1:{server.server_port}/notices"
    partner.save()
    yield _Receiver
    server.shutdown()
    server.server_close()


def test_the_http_notice_is_signed_and_retried_after_a_server_error(shop, receiver):
    receiver.answers = [503, 202]
    request = erasure_request()
    (notice,) = _plan(request, [shop])
    with pytest.raises(services.NoticeTemporaryError):
        services.notice_send(notice_id=notice.pk)
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.SENT
    assert len(receiver.received) == 2
    headers, body = receiver.received[-1]
    # Standard Webhooks: the signature checks with the secret named in the register; the same id on each attempt.
    assert webhooks.verify_signature(headers, body, SECRET) == f"msg_{notice.public_id.hex}"
    assert receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]
    payload = json.loads(body)
    assert payload["type"] == "dsar.recipient_notice"
    assert payload["id"] == str(notice.public_id)
    assert payload["identifiers"] == {"email": "ada@example.com", "customer_id": "C-1001"}
    assert payload["change_kind"] == "erase" and payload["systems"] == ["Shop"]
    assert request.reference not in body.decode()
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.http_status, notice.answer) == ("sent", 2, 202, "HTTP 202")


def test_an_http_refusal_fails_at_once(shop, receiver):
    receiver.answers = [404]
    (notice,) = _plan(erasure_request(), [shop])
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.FAILED
    notice.refresh_from_db()
    assert notice.http_status == 404 and "404" in notice.last_error


def test_an_http_notice_is_never_sent_to_a_url_the_portal_refuses(shop, partner, monkeypatch):
    # Saved before the rule, or edited outside the form: plain http to another host would carry the identifiers.
    partner.notify_url = "http://partner.example/notices"
    partner.save()
    opened = []
    monkeypatch.setattr("urllib.request.OpenerDirector.open", lambda *args, **kwargs: opened.append(1))
    (notice,) = _plan(erasure_request(), [shop])
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.FAILED
    assert opened == []


def test_the_disproportionate_effort_judgement_needs_a_reason_and_stops_sending(shop, mailer, handler):
    (notice,) = _plan(erasure_request(), [shop])
    with pytest.raises(services.NoticeError):
        services.notice_judge_disproportionate(notice=notice, reason="  ", actor=handler)
    services.notice_judge_disproportionate(notice=notice, reason="Mailwise closed down in 2025.", actor=handler)
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.NOT_SENT_DISPROPORTIONATE
    assert _notice_mails() == []
    notice.refresh_from_db()
    assert notice.judgement_reason == "Mailwise closed down in 2025." and notice.judged_by == handler


def test_the_judgement_is_refused_once_the_notice_was_sent(shop, mailer, handler):
    (notice,) = _plan(erasure_request(), [shop])
    services.notice_send(notice_id=notice.pk)
    with pytest.raises(IllegalTransition):
        services.notice_judge_disproportionate(notice=notice, reason="Too late to judge this.", actor=handler)


def test_an_acknowledgement_is_recorded(shop, mailer, handler):
    (notice,) = _plan(erasure_request(), [shop])
    with pytest.raises(IllegalTransition):
        services.notice_acknowledge(notice=notice, answer="Done", actor=handler)
    services.notice_send(notice_id=notice.pk)
    services.notice_acknowledge(notice=notice, answer="Erased on our side, 1 Dec.", actor=handler)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ACKNOWLEDGED
    assert notice.answer == "Erased on our side, 1 Dec." and notice.answered_recorded_by == handler


def test_a_letter_is_recorded_as_posted_and_never_e_mailed(mailing, tax_office, handler):
    (notice,) = _plan(erasure_request(), [mailing])
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.PLANNED
    assert "BX9 1AA" in services.notice_letter(notice)
    assert services.notice_mark_posted(notice=notice, actor=handler) is True
    assert services.notice_mark_posted(notice=notice, actor=handler) is False
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and notice.sent_by == handler
    assert _notice_mails() == []


def test_a_failed_notice_is_sent_again_by_staff(shop, mailer, handler, monkeypatch, settings):
    settings.DSAR_RECIPIENT_NOTICE_MAX_ATTEMPTS = 1
    (notice,) = _plan(erasure_request(), [shop])
    monkeypatch.setattr("django.core.mail.EmailMessage.send", lambda self: (_ for _ in ()).throw(TimeoutError()))
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.FAILED
    monkeypatch.undo()
    assert services.notice_retry(notice=notice, actor=handler) is True
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.SENT
    assert len(_notice_mails()) == 1


def test_the_person_sees_the_recipients_only_when_they_asked(shop, mailer):
    asked = erasure_request()
    not_asked = erasure_request(recipients_wanted=False, email="grace@example.com")
    for request in (asked, not_asked):
        (notice,) = _plan(request, [shop])
        services.notice_send(notice_id=notice.pk)
    (entry,) = services.recipients_for_answer(asked.pk)
    assert entry["name"] == "Mailwise Inc." and entry["receives"] == ["order e-mails"]
    assert entry["told_on"] is not None
    assert services.recipients_for_answer(not_asked.pk) == []


def test_the_completion_message_names_the_recipients_only_when_the_person_asked(shop, mailer, handler):
    asked = erasure_request()
    not_asked = erasure_request(recipients_wanted=False, email="grace@example.com")
    for request in (asked, not_asked):
        (notice,) = _plan(request, [shop])
        services.notice_send(notice_id=notice.pk)
        request_services.request_complete(request=request, actor=handler, outcome=Outcome.FULFILLED)
    asked_body = asked.messages.get(kind=MessageKind.COMPLETION).body
    assert "Mailwise Inc. (order e-mails): told on" in asked_body
    assert "Mailwise" not in not_asked.messages.get(kind=MessageKind.COMPLETION).body


def test_a_notice_another_worker_is_sending_is_not_sent_again_until_that_worker_is_lost(shop, mailer, handler):
    (notice,) = _plan(erasure_request(), [shop])
    RecipientNotice.objects.filter(pk=notice.pk).update(sending_since=timezone.now())
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.PLANNED
    assert _notice_mails() == []
    notice.refresh_from_db()
    with pytest.raises(services.NoticeError):
        services.notice_judge_disproportionate(notice=notice, reason="Decided while it is on its way.", actor=handler)
    RecipientNotice.objects.filter(pk=notice.pk).update(sending_since=timezone.now() - timedelta(hours=1))
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.SENT
    assert len(_notice_mails()) == 1
    notice.refresh_from_db()
    assert notice.sending_since is None
