"""A person downloads their answer: the status page, a fresh code from the e-mail, the download (issue 12)."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from fulfilment import delivery
from fulfilment.models import Download, ReleaseRecipient
from requests_app import services as request_services
from requests_app.correspondence import status_link_mint
from requests_app.models import EventKind, Outcome, RequestEvent
from tests.factories import StaffUserFactory, in_progress_request
from tests.fulfilment.delivery_support import ARCHIVE_FILES, available_release, zip_contents

from .support import assert_accessible, confirmation_code, emails_to, screenshot
from .test_staff_accessibility import signed_in_dpo  # noqa: F401 - the fixture

EMAIL = "alan.t@example.net"


def test_a_person_enters_a_fresh_code_and_downloads_their_answer(page: Page, mailoutbox, transactional_db):
    request = in_progress_request(email=EMAIL, name="Alan Turing")
    request_services.request_complete(request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED)
    release = available_release(request, recipient=ReleaseRecipient.SUBJECT)
    token = status_link_mint(request=request)

    # The status page says the answer is ready, and until when; no download before a code.
    page.goto(f"/status/link/{token}/")
    expect(page).to_have_url(re.compile(rf"/status/{request.reference}/$"))
    expect(page.locator("#answer-ready")).to_contain_text("Your answer is ready. You can download it until")
    expect(page.locator("#answer-download")).to_have_count(0)
    assert_accessible(page, "status page with an answer ready")

    # A code is sent to the confirmed address.
    before = len(emails_to(EMAIL))
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("status")).to_contain_text("We have sent a code to your e-mail address")
    assert_accessible(page, "status page after the code was sent")
    email = emails_to(EMAIL)[before]
    assert request.reference in email.subject

    # A wrong code is refused with a message next to the field, and what to do.
    page.get_by_label("Download code").fill("000000" if confirmation_code(email) != "000000" else "111111")
    page.get_by_role("button", name="Enter the code").click()
    expect(page.locator("#id_code_error, .invalid-feedback").first).to_contain_text("That code is not right")
    assert_accessible(page, "status page with a wrong code")

    # The right code opens the download for this browser.
    page.get_by_label("Download code").fill(confirmation_code(email))
    page.get_by_role("button", name="Enter the code").click()
    expect(page.get_by_role("status")).to_contain_text("You can download your answer until")
    assert_accessible(page, "status page with the download open")
    screenshot(page, "delivery-download-open")
    with page.expect_download() as download_info:
        page.locator("#answer-download").click()
    download = download_info.value
    assert download.suggested_filename == f"answer-{request.reference}.zip"
    data = Path(download.path()).read_bytes()
    assert zip_contents(data) == ARCHIVE_FILES

    recorded = Download.objects.get()
    assert (recorded.release_id, recorded.by, recorded.bytes) == (release.pk, "subject", release.archive_bytes)
    assert RequestEvent.objects.filter(request=request, kind=EventKind.ANSWER_DOWNLOADED).count() == 1


def test_staff_see_the_downloads_and_decide_on_a_further_copy(signed_in_dpo: Page):  # noqa: F811
    request = in_progress_request(email="grace@example.org", name="Grace Hopper")
    request_services.request_complete(request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED)
    source = available_release(request)
    delivery.download_record(release=source, user_agent="test browser")
    further = delivery.further_copy_ask(request=request, source=source, asked_by=ReleaseRecipient.SUBJECT)

    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    panel = page.locator("section[aria-labelledby=delivery-heading]")
    expect(panel).to_contain_text("Copy 1: Available to download")
    expect(panel.locator(".download")).to_have_count(1)
    expect(panel).to_contain_text("Further copies asked for")
    assert_accessible(page, "case page with a further copy asked for")

    # A fee without an amount comes back with its error and the reasons typed.
    fee = panel.locator("form", has=page.get_by_role("button", name="Send the fee to the person"))
    fee.get_by_label("Reasons, sent to the person").fill("Staff time to copy the archive")
    fee.get_by_role("button", name="Send the fee to the person").click()
    expect(page.get_by_label("Reasons, sent to the person")).to_have_value("Staff time to copy the archive")
    assert_accessible(page, "case page with a fee form error")

    page.get_by_role("button", name="Issue the further copy free").click()
    expect(page.get_by_role("status")).to_contain_text("The further copy was issued free of charge")
    expect(panel).to_contain_text("Copy 2: Available to download")
    further.refresh_from_db()
    assert further.status == "issued"
