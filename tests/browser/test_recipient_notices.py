"""GDPR Art. 19 in Chromium, with axe: the person who asked sees who their data was passed on to on their status
page, and staff record on the case page that a letter to a recipient was posted, after being told what to fix in
an "impossible or disproportionate effort" judgement."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from datasystems.models import DataSystem, NotifyBy, Recipient, RecipientKind, SystemRecipient
from recipientnotices import services
from requests_app import correspondence
from tests.recipientnotices.conftest import erasure_request

from .support import assert_accessible
from .test_staff_accessibility import signed_in_dpo  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def _erasure_with_notices():
    shop = DataSystem.objects.create(name="Shop", data_subjects="customers", retention="6 years")
    mailer = Recipient.objects.create(
        name="Mailwise Inc.", kind=RecipientKind.PROCESSOR, role="Sends e-mails", email="dpo@mailwise.example"
    )
    tax = Recipient.objects.create(
        name="HM Revenue & Customs",
        kind=RecipientKind.PUBLIC_AUTHORITY,
        role="Receives accounts",
        address="BX9 1AA",
        notify_by=NotifyBy.POST,
    )
    SystemRecipient.objects.create(system=shop, recipient=mailer, disclosed="order e-mails")
    SystemRecipient.objects.create(system=shop, recipient=tax, disclosed="accounting records")
    request = erasure_request()
    for notice in services.notices_plan(request_id=request.pk, system_ids=[shop.pk], change_kind="erase"):
        services.notice_send(notice_id=notice.pk)
    return request


def test_the_person_sees_who_their_data_was_passed_on_to(page: Page, live_server, transactional_db):
    request = _erasure_with_notices()
    token = correspondence.status_link_mint(request=request)
    page.goto(live_server.url + reverse("requests_app:status_link", args=[token]))
    expect(page.get_by_role("heading", name="Who we passed this on to")).to_be_visible()
    expect(page.get_by_role("cell", name="Mailwise Inc.")).to_be_visible()
    expect(page.get_by_role("cell", name="Not yet told")).to_be_visible()
    assert_accessible(page, "the status page with the recipients told")


def test_staff_judge_and_post_from_the_case_page(signed_in_dpo: Page):  # noqa: F811
    request = _erasure_with_notices()
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Recipients told of the change (Article 19)")).to_be_visible()
    assert_accessible(page, "the case page with notices to recipients")
    page.get_by_text("Impossible or disproportionate effort to tell this recipient").click()
    page.get_by_role("textbox", name="Why telling this recipient").fill("Too hard")
    page.get_by_role("button", name="Record the judgement: do not send").click()
    expect(page.get_by_text("Give the reason in a sentence").first).to_be_visible()
    expect(page.get_by_role("textbox", name="Why telling this recipient")).to_have_value("Too hard")
    assert_accessible(page, "the judgement sent back with what to fix")
    page.get_by_role("button", name="Record the letter as posted today").click()
    expect(page.get_by_text("The letter was recorded as posted today.")).to_be_visible()
    assert_accessible(page, "the case page with the letter posted")
