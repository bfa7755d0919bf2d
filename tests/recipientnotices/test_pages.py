"""The notices on the case page and the recipients on the person's status page (GDPR Art. 19): staff who may act
on the case record answers, judgements, posted letters and retries, each in the request's trail; a case handler of
another case can neither see nor act; forms come back with what was typed."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from casework import roles
from recipientnotices import services
from recipientnotices.models import NoticeStatus
from requests_app import correspondence
from requests_app.models import EventKind, RequestEvent
from tests.factories import StaffUserFactory, assignment_make

from .conftest import erasure_request

pytestmark = pytest.mark.django_db


def _url(notice, action: str) -> str:
    return reverse(f"recipientnotices:{action}", args=[notice.request.reference, notice.public_id])


@pytest.fixture
def planned(shop, mailing, mailer, tax_office):
    """An erasure whose notices were planned: Mailwise by e-mail (sent), the tax office by letter (planned)."""
    request = erasure_request()
    notices = services.notices_plan(request_id=request.pk, system_ids=[shop.pk, mailing.pk], change_kind="erase")
    for notice in notices:
        if notice.method == "email":
            services.notice_send(notice_id=notice.pk)
        notice.refresh_from_db()
    return {notice.recipient.name: notice for notice in notices}


def test_the_case_page_lists_each_notice_with_its_status_and_letter(client, handler, planned):
    client.force_login(handler)
    request = planned["Mailwise Inc."].request
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "Recipients told of the change (Article 19)" in page
    assert "Mailwise Inc." in page and "HM Revenue &amp; Customs" in page
    assert "The letter to print and post" in page and "BX9 1AA" in page
    assert "Record the answer" in page


def test_staff_record_an_answer_and_a_posted_letter(client, handler, planned):
    client.force_login(handler)
    mailwise, tax = planned["Mailwise Inc."], planned["HM Revenue & Customs"]
    response = client.post(_url(mailwise, "acknowledge"), {f"a{mailwise.pk}-answer": "Erased, thank you."})
    assert response.status_code == 302
    mailwise.refresh_from_db()
    assert mailwise.status == NoticeStatus.ACKNOWLEDGED and mailwise.answer == "Erased, thank you."
    assert client.post(_url(tax, "posted")).status_code == 302
    tax.refresh_from_db()
    assert tax.status == NoticeStatus.SENT and tax.sent_by == handler
    moves = RequestEvent.objects.filter(request=mailwise.request, kind=EventKind.RECIPIENT_NOTICE_CHANGED)
    assert {event.to_status for event in moves if event.actor == handler} == {"acknowledged", "sent"}


def test_a_judgement_without_a_reason_comes_back_with_what_was_typed(client, handler, planned):
    client.force_login(handler)
    tax = planned["HM Revenue & Customs"]
    response = client.post(_url(tax, "judge"), {f"j{tax.pk}-reason": "Too hard"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the reason in a sentence" in page and "Too hard</textarea>" in page
    tax.refresh_from_db()
    assert tax.status == NoticeStatus.PLANNED
    reason = "The office tells us it needs no such notices."
    assert client.post(_url(tax, "judge"), {f"j{tax.pk}-reason": reason}).status_code == 302
    tax.refresh_from_db()
    assert tax.status == NoticeStatus.NOT_SENT_DISPROPORTIONATE and tax.judgement_reason == reason


def test_judging_a_sent_notice_gives_a_message_not_an_error(client, handler, planned):
    client.force_login(handler)
    mailwise = planned["Mailwise Inc."]
    response = client.post(
        _url(mailwise, "judge"), {f"j{mailwise.pk}-reason": "Changed our mind about it."}, follow=True
    )
    assert response.status_code == 200
    assert "only be made before sending" in response.content.decode()
    mailwise.refresh_from_db()
    assert mailwise.status == NoticeStatus.SENT


def test_a_case_handler_of_another_case_can_neither_see_nor_act(client, handler, planned, staff_roles):
    other = StaffUserFactory(username="other-handler")
    other.groups.add(Group.objects.get(name=roles.CASE_HANDLER))
    tax = planned["HM Revenue & Customs"]
    assignment_make(tax.request, handler)
    client.force_login(other)
    assert client.get(reverse("casework:request_detail", args=[tax.request.reference])).status_code == 404
    assert client.post(_url(tax, "posted")).status_code == 404
    assert client.post(_url(tax, "judge"), {f"j{tax.pk}-reason": "Not mine to judge here."}).status_code == 404
    tax.refresh_from_db()
    assert tax.status == NoticeStatus.PLANNED


def test_staff_who_may_not_act_cannot_act(client, planned, staff_roles):
    auditor = StaffUserFactory(username="auditor")
    auditor.groups.add(Group.objects.get(name=roles.AUDITOR))
    tax = planned["HM Revenue & Customs"]
    client.force_login(auditor)
    assert client.post(_url(tax, "posted")).status_code == 403
    page = client.get(reverse("casework:request_detail", args=[tax.request.reference])).content.decode()
    assert "Recipients told of the change" in page and "Record the letter as posted" not in page


def test_a_notice_of_another_case_is_not_found_under_this_one(client, handler, planned, shop):
    client.force_login(handler)
    tax = planned["HM Revenue & Customs"]
    elsewhere = erasure_request(email="grace@example.com")
    url = reverse("recipientnotices:posted", args=[elsewhere.reference, tax.public_id])
    assert client.post(url).status_code == 404


def _status_page(client, request):
    """The person's status page, opened from a status link as from our e-mails."""
    token = correspondence.status_link_mint(request=request)
    response = client.get(reverse("requests_app:status_link", args=[token]))
    return client.get(response["Location"]).content.decode()


def test_the_person_sees_the_recipients_on_their_status_page_only_when_they_asked(client, shop, mailer):
    asked = erasure_request()
    not_asked = erasure_request(recipients_wanted=False, email="grace@example.com")
    for request in (asked, not_asked):
        (notice,) = services.notices_plan(request_id=request.pk, system_ids=[shop.pk], change_kind="erase")
        services.notice_send(notice_id=notice.pk)
    page = _status_page(client, asked)
    assert "Who we passed this on to" in page and "Mailwise Inc." in page and "order e-mails" in page
    page = _status_page(client, not_asked)
    assert "Who we passed this on to" not in page and "Mailwise Inc." not in page
