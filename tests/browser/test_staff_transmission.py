"""Direct transmission (GDPR Art. 20(2)) in Chromium, with axe on each state: the DPO adds a receiving controller's
endpoint and sees its secret once, and records on a portability request's case page that sending it directly is not
technically feasible, after being told what to fix."""

import pytest
from playwright.sync_api import Page, expect

from requests_app.models import Right
from requests_app.scope import PortabilityScope
from tests.factories import in_progress_request

from .support import assert_accessible
from .test_staff_accessibility import signed_in_dpo  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_the_dpo_adds_an_endpoint_and_sees_its_secret_once(signed_in_dpo: Page):  # noqa: F811
    page = signed_in_dpo
    page.get_by_role("link", name="Transmission endpoints").click()
    expect(page.get_by_role("heading", name="Transmission endpoints", level=1)).to_be_visible()
    assert_accessible(page, "the register of endpoints")
    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_role("textbox", name="Receiving controller (required)").fill("NewBank Ltd")
    page.get_by_label("Endpoint URL").fill("http://newbank.example/inbox")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_role("textbox", name="Receiving controller (required)")).to_have_value("NewBank Ltd")
    assert_accessible(page, "the endpoint form with what to fix")
    page.get_by_label("Endpoint URL").fill("https://newbank.example/inbox")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Signing secret for NewBank Ltd")).to_be_visible()
    secret = page.get_by_label("Secret").input_value()
    assert secret.startswith("whsec_")
    assert_accessible(page, "the endpoint's secret, shown once")
    page.get_by_role("link", name="Go to the endpoint").click()
    expect(page.get_by_text("Not verified: nothing is sent to it.")).to_be_visible()
    assert secret not in page.content()
    assert_accessible(page, "an endpoint")


def test_the_feasibility_decision_is_recorded_from_the_case_page(signed_in_dpo: Page):  # noqa: F811
    scope = PortabilityScope(transmit_to_controller=True, recipient_name="NewBank Ltd", recipient_contact="NewBank")
    request = in_progress_request(right=Right.PORTABILITY, details=scope.as_details())
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Direct transmission to another controller")).to_be_visible()
    page.get_by_label("No: the person downloads it instead").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Reason for the decision: This field is required.")).to_be_visible()
    expect(page.get_by_label("No: the person downloads it instead")).to_be_checked()
    assert_accessible(page, "the feasibility decision sent back with what to fix")
    page.get_by_label("Reason for the decision").fill("NewBank has no endpoint we can reach.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("The decision on direct transmission was recorded.")).to_be_visible()
    expect(page.get_by_text("NewBank has no endpoint we can reach.").first).to_be_visible()
    assert_accessible(page, "the case page with the decision recorded")
