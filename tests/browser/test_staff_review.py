"""Review before release in Chromium (issue 12): a case handler opens the compiled answer from the case page, redacts a
column of other people's data with a ground and a reason (sent back once with what to fix), and approves; the case
page then says the answer is available. Axe on every page."""

import re
from datetime import date

import pyotp
import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from casework import roles
from datasystems.models import DataSystem
from demo.register import demo_register_load
from democrm.generate import democrm_generate
from dsar_portal.staff_auth import totp_authenticator_add
from fulfilment.models import Release, ReleaseStatus
from tests.factories import StaffUserFactory
from tests.fulfilment.conftest import AUTOMATED, alan_request

from .support import assert_accessible, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


@pytest.fixture
def signed_in_handler(page: Page, transactional_db) -> Page:
    roles.roles_ensure()
    handler = StaffUserFactory(username="handler", second_factor=False)
    handler.set_password(PASSWORD)
    handler.save()
    handler.groups.add(Group.objects.get(name=roles.CASE_HANDLER))
    secret = pyotp.random_base32()
    totp_authenticator_add(user=handler, secret=secret)
    page.goto("/staff/")
    page.get_by_label("Username").fill("handler")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    expect(page.get_by_role("heading", name="Open requests")).to_be_visible()
    return page


@pytest.fixture
def compiled_request(transactional_db):
    """Alan's access request, compiled from the demo register's automated systems (eager workers)."""
    demo_register_load(dpo=StaffUserFactory(username="dpo"))
    democrm_generate(people=3, rows_per_person=5, as_of=date(2026, 11, 1), demo_people=True, demo_rows_per_person=8)
    DataSystem.objects.exclude(connector__in=AUTOMATED).update(active=False)
    return alan_request()


def test_a_handler_redacts_a_column_and_approves_the_release(signed_in_handler: Page, compiled_request):
    page = signed_in_handler
    request = compiled_request
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Review and release")).to_be_visible()
    assert_accessible(page, "the case page with the answer in review")

    page.get_by_role("link", name="Review the answer: withhold or redact before release").click()
    expect(page.get_by_role("heading", name=f"Review the answer to {request.reference}")).to_be_visible()
    assert_accessible(page, "the review page")
    page.get_by_role("link", name="customers", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Rows of customers"))).to_be_visible()
    expect(page.get_by_role("cell", name="alan@demo.example")).to_be_visible()
    assert_accessible(page, "a table's rows under review")

    # Without a ground and a reason, nothing is recorded and the page says what to fix.
    page.get_by_label("Redact a column").check()
    page.get_by_label("Column (for a column or one cell)").select_option("email")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Check the decision: it was not recorded.")).to_be_visible()
    expect(page.get_by_text("Say why, in your own words")).to_be_visible()
    assert_accessible(page, "the decision sent back with what to fix")

    page.get_by_label("Redact a column").check()
    page.get_by_label("Column (for a column or one cell)").select_option("email")
    page.get_by_label("Ground").select_option(
        label="GDPR Art. 15(4): the rights and freedoms of others (other people's data)"
    )
    page.get_by_label("Reason (kept in the case file, not sent)").fill("The address is shared with his brother.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded for table customers.")).to_be_visible()
    expect(page.get_by_role("cell", name="alan@demo.example")).to_have_count(0)
    expect(page.get_by_text("[withheld: Art 15(4)]").first).to_be_visible()
    assert_accessible(page, "the review page with a redacted column")
    screenshot(page, "staff-review-redacted")

    # The handler signed in with a factor a moment ago, so approving does not ask for it again.
    page.get_by_role("button", name="Approve and release").click()
    expect(page.get_by_text("Approved. The released archive is being prepared.")).to_be_visible()
    expect(page.get_by_text(re.compile("Released: available to download until"))).to_be_visible()
    assert_accessible(page, "the case page with the answer released")
    screenshot(page, "staff-review-released")
    release = Release.objects.get(request=request)
    assert release.status == ReleaseStatus.AVAILABLE
    assert release.redactions.get().column == "email"
