"""axe-core over the staff area's pages (issue 11), signed in as the DPO through the portal's staff sign-in."""

import re

import pyotp
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from casework import roles
from dsar_portal.staff_auth import totp_authenticator_add
from tests.factories import MessageFactory, StaffUserFactory, in_progress_request

from .support import assert_accessible

PASSWORD = "correct horse battery staple"


@pytest.fixture
def signed_in_dpo(page: Page, transactional_db) -> Page:
    roles.roles_ensure()
    dpo = StaffUserFactory(username="dpo", second_factor=False)
    dpo.set_password(PASSWORD)
    dpo.save()
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    secret = pyotp.random_base32()
    totp_authenticator_add(user=dpo, secret=secret)
    page.goto("/staff/")
    page.get_by_label("Username").fill("dpo")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    expect(page.get_by_role("heading", name="Open requests")).to_be_visible()
    return page


def test_the_queue_is_accessible_and_works_without_javascript(signed_in_dpo: Page):
    request = in_progress_request()
    MessageFactory(request=request, delivery_failed_at=timezone.now())
    page = signed_in_dpo
    page.reload()
    expect(page.get_by_text("An e-mail failed")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Reference or requester's e-mail").fill("ada@example.com")
    page.get_by_role("button", name="Show requests").click()
    expect(page.get_by_role("link", name=request.reference)).to_be_visible()
    assert_accessible(page, "the filtered queue")


def test_the_case_page_is_accessible(signed_in_dpo: Page):
    request = in_progress_request()
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    page.get_by_label("Assign to").select_option("dpo")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text(f"{request.reference} is now assigned to dpo.")).to_be_visible()
    assert_accessible(page)


def test_the_metrics_page_is_accessible_and_its_charts_have_their_tables(signed_in_dpo: Page):
    in_progress_request()
    page = signed_in_dpo
    page.get_by_role("link", name="Metrics").click()
    expect(page.get_by_role("heading", name="Metrics", level=1)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Bar chart: Open requests by status"))).to_be_visible()
    expect(page.get_by_role("table", name="Open requests by status")).to_be_visible()
    assert_accessible(page)
