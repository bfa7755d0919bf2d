"""axe-core over the register's staff pages and the public privacy notice (issue 12), and the DPO's way from a new
system to a published notice, without JavaScript needed anywhere on it."""

import re

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from casework import roles
from datasystems import services
from datasystems.connectors.demo_app import DEMOCRM_CONFIG
from dsar_portal.staff_auth import totp_authenticator_add
from tests.factories import StaffUserFactory

from .support import assert_accessible

PASSWORD = "correct horse battery staple"
User = get_user_model()


@pytest.fixture
def signed_in_dpo(page: Page, transactional_db) -> Page:
    roles.roles_ensure()
    dpo = StaffUserFactory(username="dpo", second_factor=False)
    dpo.set_password(PASSWORD)
    dpo.save()
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    secret = pyotp.random_base32()
    totp_authenticator_add(user=dpo, secret=secret)
    page.goto("/staff/systems/")
    page.get_by_label("Username").fill("dpo")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    expect(page.get_by_role("heading", name="Data systems", level=1)).to_be_visible()
    return page


def test_the_dpo_records_a_system_and_publishes_the_notice_people_read(signed_in_dpo: Page):
    page = signed_in_dpo
    assert_accessible(page, "the register")
    page.get_by_role("link", name="Add a system").click()
    page.get_by_label("Name").fill("Call recordings")
    page.get_by_label("Whose data it holds").fill("Callers")
    page.get_by_label("Categories of personal data, one a line").fill("Voice recording\nPhone number")
    page.get_by_role("button", name="Save").click()
    # Retention missing: the form comes back with what to fix and what was typed.
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_label("Name", exact=False).first).to_have_value("Call recordings")
    assert_accessible(page, "the system form with errors")
    page.get_by_label("How long it is kept").fill("90 days")
    page.get_by_label("Backups roll off after (days)").fill("35")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Call recordings", level=1)).to_be_visible()
    expect(page.get_by_text("until they roll off 35 days later")).to_be_visible()
    page.get_by_text("Add a purpose").click()
    page.get_by_label(re.compile(r"^Purpose")).fill("Checking the quality of our service")
    page.get_by_label(re.compile(r"^Lawful basis")).select_option("contract")
    page.get_by_role("button", name="Add the purpose").click()
    expect(page.get_by_text("Purpose added.")).to_be_visible()
    assert_accessible(page, "a system's page")
    page.get_by_role("link", name="Data systems").first.click()
    page.get_by_role("link", name="Preview and publish the privacy notice").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    assert_accessible(page, "the preview")
    page.get_by_label("What changed since the last version").fill("First version")
    page.get_by_role("button", name="Publish this version").click()
    expect(page.get_by_text("Version 1 of the privacy notice is published.")).to_be_visible()
    page.goto("/privacy-notice/")
    expect(page.get_by_text(re.compile("Version 1, published on"))).to_be_visible()
    expect(page.get_by_role("heading", name="Call recordings")).to_be_visible()
    assert_accessible(page, "the public privacy notice")
    # A system searched through its connector: what erasure, restriction and objection mean in each of its tables.
    crm = services.system_save(
        system=None,
        values={
            "name": "Customer database",
            "data_subjects": "Customers",
            "personal_data_categories": ["Name"],
            "retention": "6 years",
            "connector": "demo_app",
            "connector_config": DEMOCRM_CONFIG,
        },
        actor=User.objects.get(username="dpo"),
    )
    page.goto(f"/staff/systems/{crm.pk}/")
    rules = page.get_by_role("table", name=re.compile("What each of the system's tables does"))
    expect(rules.get_by_role("row", name=re.compile(r"^order_lines Kept as it is\."))).to_be_visible()
    assert_accessible(page, "a system's page with its change rules")
