"""The record of processing (GDPR Art. 30; issue 13), driven in Chromium as the DPO, with axe-core on the page: the
portal's own entry states the retention schedule in force, a period lengthened on the retention page shows at once,
and the record downloads as CSV (Art. 30(4))."""

import pytest
from playwright.sync_api import Page, expect

from datasystems import services
from datasystems.models import LawfulBasis

from .support import assert_accessible
from .test_staff_accessibility import signed_in_dpo  # noqa: F401  (the DPO, signed in through the staff sign-in)

pytestmark = pytest.mark.browser

PORTAL = "DSAR Portal: handling data protection rights requests and complaints"


def test_the_dpo_reads_the_record_sees_a_period_change_at_once_and_downloads_it(signed_in_dpo: Page):  # noqa: F811
    from django.contrib.auth import get_user_model

    dpo = get_user_model().objects.get(username="dpo")
    system = services.system_save(
        system=None,
        values={
            "name": "Loyalty scheme",
            "data_subjects": "Members",
            "personal_data_categories": ["Name", "Points balance"],
            "retention": "2 years after the membership ends",
        },
        actor=dpo,
    )
    services.purpose_add(
        system=system, values={"description": "Running the scheme", "lawful_basis": LawfulBasis.CONTRACT}, actor=dpo
    )
    page = signed_in_dpo

    page.get_by_role("link", name="Record of processing").click()
    expect(page.get_by_role("heading", name="Record of processing", level=1)).to_be_visible()
    portal = page.get_by_role("region", name=PORTAL)
    expect(portal).to_contain_text("Closed case files: 730 days after closure")
    expect(portal).to_contain_text("Closed complaints not about a case: 730 days after the complaint is closed")
    expect(page.get_by_role("region", name="Loyalty scheme")).to_contain_text("2 years after the membership ends")
    assert_accessible(page, "the record of processing")

    portal.get_by_role("link", name="The retention schedule").click()
    case_files = page.get_by_role("region", name="Closed case files")
    case_files.get_by_label("Days").fill("1095")
    case_files.get_by_label("Why this period").fill("Claims are foreseeable.")
    case_files.get_by_role("button", name="Save the period").click()
    page.get_by_role("link", name="The whole record of processing").click()
    expect(page.get_by_role("region", name=PORTAL)).to_contain_text("Closed case files: 1095 days after closure")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the record (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("record-of-processing-")
    content = open(download.path(), encoding="utf-8-sig").read()
    assert PORTAL in content and "Loyalty scheme" in content and "Closed case files: 1095 days after closure" in content
