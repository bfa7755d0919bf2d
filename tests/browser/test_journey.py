"""A person asks for their data: the whole way from the start page to a confirmed, then withdrawn, request."""

import re

from django.core import mail
from playwright.sync_api import BrowserContext, Page, expect

from requests_app.models import DataSubjectRequest

from .support import confirmation_code, emails_to, status_link_path

EMAIL = "ada@example.com"


def test_access_request_from_start_to_withdrawal(page: Page, new_context, mailoutbox):
    # The start page leads to the access form.
    page.goto("/")
    page.get_by_role("link", name="Ask for your data").click()
    expect(page).to_have_url(re.compile(r"/request/access/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Access to your data")

    # First try: 'only some of it', without saying which data.
    page.get_by_label("Your full name").fill("Ada Lovelace")
    page.get_by_label("Your e-mail address").fill(EMAIL)
    page.get_by_label("Only some of it").check()
    page.get_by_label("Customer or account number").fill("C-1001")
    page.get_by_label("Phone number").fill("020 7946 0000")
    page.get_by_role("button", name="Send request").click()

    # The error summary is at the top of the form, has focus, and its link takes focus to the field.
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    assert summary.evaluate("s => !!(s.compareDocumentPosition(document.querySelector('form')) & 4)"), "before the form"
    error_link = summary.get_by_role("link", name="Which data would you like?: Describe the data you would like.")
    error_link.click()
    subset = page.get_by_label("Which data would you like?")
    expect(subset).to_be_focused()
    expect(subset).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_access_subset_error")).to_have_text("Describe the data you would like.")

    # Nothing the person typed or chose is lost.
    expect(page.get_by_label("Your full name")).to_have_value("Ada Lovelace")
    expect(page.get_by_label("Your e-mail address")).to_have_value(EMAIL)
    expect(page.get_by_label("Customer or account number")).to_have_value("C-1001")
    expect(page.get_by_label("Phone number")).to_have_value("020 7946 0000")
    expect(page.get_by_label("Only some of it")).to_be_checked()
    assert not mail.outbox, "nothing is sent for a form with errors"

    # Fixed and sent: the status page shows the reference, waiting for the e-mail address.
    subset.fill("My orders since 2024")
    page.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(re.compile(r"/status/DSAR-[0-9A-Z-]+/$"))
    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"DSAR-(?:[0-9A-Z]{4}-){3}[0-9A-Z]{4}", reference)
    expect(page.locator("#status")).to_contain_text("Waiting for you to confirm your e-mail address")
    expect(page.locator("#due-date")).to_have_count(0)

    # The code from the e-mail confirms the address.
    (confirmation,) = emails_to(EMAIL)
    assert reference in confirmation.subject
    page.get_by_label("Confirmation code").fill(confirmation_code(confirmation))
    page.get_by_role("button", name="Confirm my e-mail address").click()
    expect(page.get_by_role("status")).to_contain_text("Your e-mail address is confirmed")
    expect(page.locator("#status")).to_contain_text("Checking your identity")
    # UK: identity evidence restarts the clock, so the page promises no date until it arrives.
    expect(page.locator("#due-date")).to_contain_text("One month from the day we have what we need")
    # An address our records do not hold: we first ask for details we hold, not a document (LAW.md I1).
    expect(page.locator("#identity-next-step")).to_contain_text("details we hold about you")
    expect(page.locator("#messages")).to_contain_text(f"We have received your request ({reference})")

    # The link in the e-mail opens the same request in another browser (no session there yet).
    other: BrowserContext = new_context()
    other_page = other.new_page()
    other_page.goto(f"/status/{reference}/")
    expect(other_page.locator("#reference")).to_have_count(0)
    other_page.goto(status_link_path(confirmation))
    expect(other_page).to_have_url(re.compile(rf"/status/{reference}/$"))
    expect(other_page.locator("#reference")).to_have_text(reference)
    expect(other_page.locator("#status")).to_contain_text("Checking your identity")

    # Withdrawing from the status page.
    page.get_by_role("link", name="Withdraw this request").click()
    page.get_by_label("Why are you withdrawing? (optional)").fill("I found what I needed.")
    page.get_by_role("button", name="Withdraw my request").click()
    expect(page).to_have_url(re.compile(rf"/status/{reference}/$"))
    expect(page.get_by_role("status")).to_contain_text("Your request has been withdrawn")
    expect(page.locator("#status")).to_contain_text("Withdrawn")
    expect(page.get_by_role("link", name="Withdraw this request")).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text(f"Your request has been withdrawn ({reference})")
    assert DataSubjectRequest.objects.get(reference=reference).status == "withdrawn"
