"""The decisions on restriction, objection and rectification on the case page, in Chromium with axe on each state:
the DPO is told to give substantive reasons for not stopping processing (Art. 21(1)), sees a restriction request's
start form, and a rectification's corrections offering only the register's rectifiable columns (Art. 16)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from changes import services
from changes.models_decisions import Restriction, RestrictionStatus
from datasystems.models import DataSystem
from requests_app.models import Right
from requests_app.scope import ObjectionScope, ObjectionType, RectificationScope, RestrictionGround, RestrictionScope
from tests.factories import in_progress_objection, in_progress_request

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
    page.get_by_role("textbox", name="Reasons (required)").fill("Legal.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("the burden is on us", exact=False).first).to_be_visible()
    expect(page.get_by_role("textbox", name="Reasons (required)")).to_have_value("Legal.")
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


def test_a_restriction_in_force_is_announced_for_lifting_after_what_to_fix(signed_in_dpo: Page):  # noqa: F811
    scope = RestrictionScope(grounds=(RestrictionGround.LEGAL_CLAIMS,), data="Order history")
    request = in_progress_request(right=Right.RESTRICTION, details=scope.as_details())
    Restriction.objects.create(
        request=request,
        grounds=["legal_claims"],
        scope="Order history",
        status=RestrictionStatus.IN_FORCE,
        started_on=timezone.localdate(),
    )
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Tell the person before lifting (Art. 18(3))")).to_be_visible()
    page.get_by_text("Log a use of the restricted data (Art. 18(2))").click()
    assert_accessible(page, "a restriction in force")
    page.get_by_label("Lift on or after").fill(timezone.localdate().isoformat())
    page.get_by_label("Why it will be lifted (sent to the person)").fill("Your claim was settled.")
    page.get_by_role("button", name="Send the notice").click()
    expect(page.get_by_text("The day of lifting must come after today").first).to_be_visible()
    expect(page.get_by_label("Why it will be lifted (sent to the person)")).to_have_value("Your claim was settled.")
    assert_accessible(page, "the lift notice sent back with what to fix")
    page.get_by_label("Lift on or after").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Send the notice").click()
    expect(page.get_by_text("The person was sent the notice before lifting (Art. 18(3)).")).to_be_visible()
    expect(page.get_by_text("It is lifted automatically on", exact=False)).to_be_visible()


def test_a_marketing_objection_shows_the_channels_it_stops_and_its_target(signed_in_dpo: Page):  # noqa: F811
    """Art. 21(2)-(3): every channel is stopped, profiling for marketing and ad audiences included; the target is the
    end of the next working day."""
    request = in_progress_objection()
    services.marketing_suppress(request_id=request.pk)
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Objection", exact=True)).to_be_visible()
    expect(page.get_by_text("advertising audiences, profiling for marketing", exact=False)).to_be_visible()
    expect(page.get_by_text("Same or next working day: by the end of", exact=False)).to_be_visible()
    assert_accessible(page, "a marketing objection's case page")
