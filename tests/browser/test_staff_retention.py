"""The retention schedule page and the legal-hold panel (issue 13; LAW.md §6(h)), driven in Chromium as the DPO,
with axe-core on each page."""

import pytest
from playwright.sync_api import Page, expect

from tests.factories import in_progress_request

from .support import assert_accessible
from .test_staff_accessibility import signed_in_dpo  # noqa: F401  (the DPO, signed in through the staff sign-in)

pytestmark = pytest.mark.browser


def test_the_dpo_lengthens_the_case_file_period_on_an_accessible_page(signed_in_dpo: Page):  # noqa: F811
    page = signed_in_dpo
    page.get_by_role("link", name="Retention").click()
    expect(page.get_by_role("heading", name="Retention schedule", level=1)).to_be_visible()
    assert_accessible(page)

    case_files = page.get_by_role("region", name="Closed case files")
    case_files.get_by_label("Days").fill("100")
    case_files.get_by_label("Why this period").fill("Too long")
    case_files.get_by_role("button", name="Save the period").click()
    expect(page.get_by_role("alert")).to_contain_text("shorter than the portal's default of 730 days")
    assert_accessible(page, "the refused edit")

    case_files = page.get_by_role("region", name="Closed case files")
    case_files.get_by_label("Days").fill("1095")
    case_files.get_by_label("Why this period").fill("Claims are foreseeable.")
    case_files.get_by_role("button", name="Save the period").click()
    expect(page.get_by_text("1095 days after closure").first).to_be_visible()
    expect(page.get_by_role("cell", name="Claims are foreseeable.")).to_be_visible()


def test_a_hold_is_placed_and_released_from_the_case_page(signed_in_dpo: Page):  # noqa: F811
    request = in_progress_request()
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    panel = page.get_by_role("region", name="Legal hold")
    panel.get_by_label("Why the case is held").select_option("claim")
    panel.get_by_label("Note").fill("Claim N-42")
    panel.get_by_role("button", name="Place the hold").click()
    expect(page.get_by_text("The legal hold was placed")).to_be_visible()
    assert_accessible(page)

    panel = page.get_by_role("region", name="Legal hold")
    panel.get_by_label("Why the hold is released").fill("The claim was settled.")
    panel.get_by_role("button", name="Release the hold").click()
    expect(page.get_by_text("The legal hold was released")).to_be_visible()
    expect(page.get_by_role("region", name="Legal hold")).to_contain_text("The claim was settled.")
