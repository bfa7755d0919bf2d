"""The queue flags a request whose notice to a recipient could not be sent (GDPR Art. 19: "what needs a human now"),
an e-mail that failed or an HTTP endpoint that refused it, and filters on it; the flag goes when the notice is sent
again (recipientnotices registers it; casework knows no notices)."""

import pytest
from django.urls import reverse

from recipientnotices import services
from recipientnotices.models import NoticeStatus

from .conftest import erasure_request
from .test_services import receiver  # noqa: F401 - the recipient's HTTP endpoint

pytestmark = pytest.mark.django_db

QUEUE = reverse("casework:queue")
FLAG = "A recipient notice failed"


def _plan(request, systems):
    system_ids = [system.pk for system in systems]
    return services.notices_plan(request_id=request.pk, system_ids=system_ids, change_kind="erase")


def _flagged(response) -> list[str]:
    return [row.reference for row in response.context["rows"] if row.recipient_notice_failed]


def test_a_refused_http_notice_is_flagged_found_by_the_filter_and_unflagged_once_sent_again(
    client,
    dpo,
    handler,
    shop,
    receiver,  # noqa: F811
):
    fine = erasure_request(email="fine@example.net")
    refused = erasure_request(email="refused@example.net")
    (sent,) = _plan(fine, [shop])
    (notice,) = _plan(refused, [shop])
    receiver.answers = [200, 404]
    assert services.notice_send(notice_id=sent.pk) == NoticeStatus.SENT
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.FAILED
    client.force_login(dpo)

    response = client.get(QUEUE)
    assert _flagged(response) == [refused.reference]
    assert response.content.decode().count(FLAG) == 1
    assert "With a failed recipient notice" in response.content.decode()
    listed = client.get(QUEUE, {"recipient_notice_failed": "on"}).context["rows"]
    assert [row.reference for row in listed] == [refused.reference]

    assert services.notice_retry(notice=notice, actor=handler) is True
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.SENT
    assert client.get(QUEUE, {"recipient_notice_failed": "on"}).context["rows"] == []
    assert FLAG not in client.get(QUEUE).content.decode()


def test_a_notice_whose_e_mail_failed_is_flagged(client, dpo, shop, mailer, monkeypatch, settings):
    settings.DSAR_RECIPIENT_NOTICE_MAX_ATTEMPTS = 1
    request = erasure_request()
    (notice,) = _plan(request, [shop])
    monkeypatch.setattr("django.core.mail.EmailMessage.send", lambda self: (_ for _ in ()).throw(TimeoutError()))
    assert services.notice_send(notice_id=notice.pk) == NoticeStatus.FAILED
    monkeypatch.undo()
    client.force_login(dpo)
    assert _flagged(client.get(QUEUE)) == [request.reference]
