"""axe-core over the case pack and the DPO's people page (issue 11), signed in as the DPO through the staff sign-in."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from casework import roles
from casework.models import StaffRoleChange
from tests.factories import StaffUserFactory, in_progress_request

from .support import assert_accessible
from .test_staff_accessibility import signed_in_dpo  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser


def test_the_case_pack_is_accessible_and_offers_its_pdf(signed_in_dpo: Page):  # noqa: F811
    request = in_progress_request()
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    page.get_by_role("link", name="Case pack").click()
    expect(page.get_by_role("heading", name=f"Case pack: request {request.reference}", level=1)).to_be_visible()
    expect(
        page.get_by_role("table", name="Every clock event, with its legal basis and the dates it gave")
    ).to_be_visible()
    assert_accessible(page, "the case pack")
    pdf_url = page.get_by_role("link", name="Download as PDF").get_attribute("href")
    # Fetched with the page's session rather than clicked: rendering may outlast a click's wait on a busy machine.
    response = page.request.get(pdf_url, timeout=60_000)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.body().startswith(b"%PDF-")


def test_the_people_page_is_accessible_and_changes_a_role(signed_in_dpo: Page):  # noqa: F811
    handler = StaffUserFactory(username="handler-a")
    handler.groups.add(Group.objects.get(name=roles.CASE_HANDLER))
    page = signed_in_dpo
    page.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People and their roles")).to_be_visible()
    assert_accessible(page, "the people page")
    page.get_by_text("Change roles of handler-a").click()
    row = page.get_by_role("row", name="handler-a")
    row.get_by_label("Auditor").check()
    row.get_by_label("Case handler").uncheck()
    row.get_by_role("button", name="Save roles").click()
    expect(page.get_by_text("Roles of handler-a changed.")).to_be_visible()
    assert set(handler.groups.values_list("name", flat=True)) == {roles.AUDITOR}
    assert StaffRoleChange.objects.get().to_roles == [roles.AUDITOR]
    assert_accessible(page, "the people page with its log")
