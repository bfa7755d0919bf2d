"""axe-core (WCAG 2.0/2.1/2.2, levels A and AA) over every page a requester sees, in each state."""

import pytest
from playwright.sync_api import Page, expect

from requests_app.models import Right

from .support import assert_accessible, confirmation_code, emails_to, screenshot, submit_access_request

RIGHTS = [right.value for right in Right]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        *[f"/request/{right}/" for right in RIGHTS],
        "/privacy/",
        "/status/lost-link/",
        "/status/lost-link/sent/",
        "/complaints/new/",
        "/status/link/not-a-real-link/",
        "/status/DSAR-0000-0000-0000-0000/",  # not found (or not this browser's): the portal's 404 page
    ],
)
def test_page_is_accessible(page: Page, path: str):
    page.goto(path)
    if path == "/":
        screenshot(page, "start")
    assert_accessible(page)


# Radio buttons and checkboxes that belong together are a group named by its question
# (fieldset and legend), so a screen reader says the question with each option.
UNGROUPED_CHOICES = """() => {
    const names = new Set([...document.querySelectorAll('input[type=radio], input[type=checkbox]')]
        .map((input) => input.name));
    const problems = [];
    for (const name of names) {
        const inputs = [...document.getElementsByName(name)];
        if (inputs.length < 2 && inputs[0].type === 'checkbox') continue;  // a lone yes/no box has its own label
        const fieldset = inputs[0].closest('fieldset');
        const legend = fieldset && fieldset.querySelector(':scope > legend');
        if (!legend || !legend.textContent.trim() || inputs.some((input) => input.closest('fieldset') !== fieldset)) {
            problems.push(name);
        }
    }
    return problems;
}"""


@pytest.mark.parametrize("right", RIGHTS)
def test_form_with_errors_is_accessible(page: Page, right: str):
    page.goto(f"/request/{right}/")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#error-summary")).to_be_visible()
    if right == "access":
        screenshot(page, "access-form-errors")
    assert page.evaluate(UNGROUPED_CHOICES) == [], "choices without a fieldset and legend"
    assert_accessible(page)


def test_form_for_someone_else_with_errors_is_accessible(page: Page):
    """Choosing 'acting for someone else' opens the section that leads to an agent account."""
    page.goto("/request/access/")
    page.get_by_label("I am acting for someone else").check()
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("link", name="Open an agent account").first).to_be_visible()
    assert_accessible(page)


def test_lost_link_with_errors_is_accessible(page: Page):
    page.goto("/status/lost-link/")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)


def test_complaint_form_with_errors_and_its_acknowledgement_are_accessible(page: Page, mailoutbox):
    page.goto("/complaints/new/")
    page.get_by_role("button", name="Send complaint").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Your full name").fill("Ada Lovelace")
    page.get_by_label("Your e-mail address").fill("ada@example.com")
    page.get_by_label("Your complaint").fill("You sent my data to someone else.")
    page.get_by_role("button", name="Send complaint").click()
    expect(page.get_by_role("heading", name="We have received your complaint")).to_be_visible()
    assert_accessible(page)


def test_status_page_waiting_for_confirmation_is_accessible(page: Page, mailoutbox):
    submit_access_request(page)
    expect(page.locator("#status")).to_contain_text("Waiting for you to confirm your e-mail address")
    screenshot(page, "status-awaiting-confirmation")
    assert_accessible(page)


def test_status_page_with_wrong_code_is_accessible(page: Page, mailoutbox):
    submit_access_request(page, email="wrong.code@example.com")
    code = confirmation_code(emails_to("wrong.code@example.com")[-1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.get_by_label("Confirmation code").fill(wrong)
    page.get_by_role("button", name="Confirm my e-mail address").click()
    expect(page.locator("#error-summary")).to_contain_text("That code is not right")
    screenshot(page, "status-wrong-code")
    assert_accessible(page)


def test_status_pages_after_confirmation_and_withdrawal_are_accessible(page: Page, mailoutbox):
    submit_access_request(page, email="later@example.com")
    page.get_by_label("Confirmation code").fill(confirmation_code(emails_to("later@example.com")[-1]))
    page.get_by_role("button", name="Confirm my e-mail address").click()
    expect(page.locator("#status")).to_contain_text("Checking your identity")
    # Messages open, as a person reading them would have them.
    for summary in page.locator("#messages summary").all():
        summary.click()
    screenshot(page, "status-confirmed")
    assert_accessible(page, "status page, checking identity")

    page.get_by_role("link", name="Withdraw this request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw your request")
    assert_accessible(page, "withdraw page")

    page.get_by_role("button", name="Withdraw my request").click()
    expect(page.locator("#status")).to_contain_text("Withdrawn")
    assert_accessible(page, "status page, withdrawn")
