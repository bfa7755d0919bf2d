"""The decisions on restriction, objection and rectification on the case page, in Chromium with axe on each state:
the DPO is told to give substantive reasons for not stopping processing (Art. 21(1)), sees a restriction request's
start form, and a rectification's corrections offering only the register's rectifiable columns (Art. 16)."""

import pytest
from playwright.sync_api import Page, expect

from datasystems.models import DataSystem
from requests_app.models import Right
from requests_app.scope import ObjectionScope, ObjectionType, RectificationScope, RestrictionGround, RestrictionScope
from tests.factories import in_progress_request

from .support import assert_accessible
from .test_staff_accessibility import signed_in_dpo  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_the_dpo_is_told_the_burden_is_on_us_and_keeps_what_was_typed(signed_in_dpo: Page):  # noqa: F811
    scope = ObjectionScope(type=ObjectionType.LEGITIMATE_INTERESTS, processing="Fraud scoring", grounds="Harmful")
    request = in_progress_request(right=Right.OBJECTION, details=scope.as_details())
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Objection", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Restrict the processing while we assess (Art. 18(1)(d))")).to_be_visible()
    assert_accessible(page, "an objection's case page")
    page.get_by_label("Not upheld: the processing is needed for legal claims (Art. 21(1))").check()
    page.get_by_label("Reasons").fill("Legal.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("the burden is on us", exact=False).first).to_be_visible()
    expect(page.get_by_label("Reasons")).to_have_value("Legal.")
    assert_accessible(page, "the balancing decision sent back with what to fix")


def test_a_restriction_request_shows_its_start_form(signed_in_dpo: Page):  # noqa: F811
    scope = RestrictionScope(grounds=(RestrictionGround.LEGAL_CLAIMS,), data="Order history")
    request = in_progress_request(right=Right.RESTRICTION, details=scope.as_details())
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Restriction of processing")).to_be_visible()
    expect(page.get_by_label("(c) The person needs the data for legal claims")).to_be_checked()
    assert_accessible(page, "a restriction request's case page")


def test_a_rectification_offers_only_the_rectifiable_columns(signed_in_dpo: Page):  # noqa: F811
    DataSystem.objects.create(
        name="Shop",
        data_subjects="customers",
        retention="six years",
        connector="sql",
        connector_config={"tables": [{"name": "customers", "rectifiable": ["name"]}, {"name": "orders"}]},
    )
    request = in_progress_request(right=Right.RECTIFICATION, details=RectificationScope(wrong="Name").as_details())
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Rectification", exact=True)).to_be_visible()
    options = page.locator("#id_correction-0-target option").all_text_contents()
    assert options == ["—", "Shop: customers.name"]
    assert_accessible(page, "a rectification's case page")
