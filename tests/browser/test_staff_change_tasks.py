"""A system owner carries an approved erasure out by hand in Chromium (issue 13): signs in with a password and an
authenticator code, finds the change task of their system, sees what to change and who, records a kept table without
its Article 17(3) ground (refused, with what was typed kept), then with it; the case handler then sees the result on
the case page. axe on every page."""

import re

import pyotp
import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from casework import roles
from changes import services
from changes.models import ChangeJob, ChangeJobStatus
from datasystems.connectors.changes import ChangeKind
from datasystems.models import DataSystem
from dsar_portal.staff_auth import totp_authenticator_add
from requests_app.models import Right
from requests_app.scope import ErasureScope
from tests.factories import StaffUserFactory, in_progress_request

from .support import assert_accessible

pytestmark = pytest.mark.browser

PASSWORD = "a long system owner passphrase 7"
SYSTEM = "Paper customer files"


def _staff(username: str, role: str):
    user = StaffUserFactory(username=username, second_factor=False)
    user.groups.add(Group.objects.get(name=role))
    user.set_password(PASSWORD)
    user.save()
    secret = pyotp.random_base32()
    totp_authenticator_add(user=user, secret=secret)
    return user, secret


@pytest.fixture
def erasure_task(transactional_db):
    roles.roles_ensure()
    owner, owner_secret = _staff("chris.owner", roles.SYSTEM_OWNER)
    handler, handler_secret = _staff("hana.handler", roles.CASE_HANDLER)
    DataSystem.objects.create(
        name=SYSTEM,
        data_subjects="customers",
        retention="six years",
        connector="manual",
        owner=owner,
        erasure_method="Shred the folder; tax records stay six years.",
    )
    request = in_progress_request(
        right=Right.ERASURE, details=ErasureScope().as_details(), email="ada@example.com", actor=handler
    )
    run = services.change_run_start(request=request, kind=ChangeKind.ERASE, actor=handler)
    services.change_run_approve(run=run, actor=handler)
    return (owner, owner_secret), (handler, handler_secret), request


def _sign_in(page: Page, path: str, user, secret: str) -> None:
    page.goto(path)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()


def test_the_owner_records_the_erasure_and_the_case_page_shows_it(page: Page, new_context, erasure_task):
    (owner, owner_secret), (handler, handler_secret), request = erasure_task
    _sign_in(page, "/staff/tasks/changes/", owner, owner_secret)
    expect(page.get_by_role("heading", name="Change tasks", level=1)).to_be_visible()
    assert_accessible(page, "the change task list")

    page.get_by_role("link", name=SYSTEM).click()
    expect(page.get_by_role("heading", name=f"Change {SYSTEM}")).to_be_visible()
    expect(page.get_by_text("ada@example.com")).to_be_visible()
    assert_accessible(page, "the change task page")

    page.get_by_label("Table or area of the system").first.fill("tax records")
    page.get_by_label("What was done", exact=True).first.select_option("keep")
    page.get_by_label("Records changed").first.fill("1")
    page.get_by_role("button", name="Record and finish the change").click()
    expect(page.get_by_text("Article 17(3) ground and the reason")).to_be_visible()
    expect(page.get_by_label("Table or area of the system").first).to_have_value("tax records")
    assert_accessible(page, "the change task page with an error")

    page.get_by_label("Article 17(3) ground, if kept").first.select_option("erasure_legal_obligation")
    page.get_by_label("Why it was kept").first.fill("Kept six years for HMRC.")
    page.get_by_role("button", name="Record and finish the change").click()
    expect(page.get_by_text("the change in this system is done")).to_be_visible()
    assert ChangeJob.objects.get(run__request=request).status == ChangeJobStatus.DONE

    staff_page = new_context().new_page()
    _sign_in(staff_page, f"/staff/requests/{request.reference}/", handler, handler_secret)
    expect(staff_page.get_by_role("heading", name="Changes in the data systems")).to_be_visible()
    expect(staff_page.get_by_text("Kept six years for HMRC.").first).to_be_visible()
    assert_accessible(staff_page, "the case page with the changes panel")
