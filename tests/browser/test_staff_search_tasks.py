"""A system owner's manual search task in Chromium (issue 12, connector kind 4): the demo's system owner signs in with
a password and an authenticator code, finds the task of their system, sees what to search for, sends a CSV that is
refused with what to fix, then the right one; axe on every page."""

import re
from datetime import date

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from casework import roles
from datasystems.models import DataSystem
from demo.register import SYSTEM_OWNER_USERNAME, demo_register_load
from democrm.generate import democrm_generate
from dsar_portal.staff_auth import totp_authenticator_add
from fulfilment.models import JobStatus, SearchJob, SearchPart, SearchRecord
from requests_app.models import Right
from tests.factories import StaffUserFactory, in_progress_request

from .support import assert_accessible

pytestmark = pytest.mark.browser

PASSWORD = "a long system owner passphrase 7"
CALLS = "Call recordings and live-chat transcripts"


@pytest.fixture
def chris(transactional_db):
    """The demo register, with the demo's system owner (chris.owner) owning the call recordings, searched by hand;
    the other manual systems out of use. Alan's access request is in progress and waits for that search."""
    roles.roles_ensure()
    dpo = StaffUserFactory(username="dpo")
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    demo_register_load(dpo=dpo)
    democrm_generate(people=3, rows_per_person=5, as_of=date(2026, 11, 1), demo_people=True, demo_rows_per_person=5)
    owner = get_user_model().objects.get(username=SYSTEM_OWNER_USERNAME)
    owner.set_password(PASSWORD)
    owner.save()
    secret = pyotp.random_base32()
    totp_authenticator_add(user=owner, secret=secret)
    DataSystem.objects.filter(connector="manual").exclude(name=CALLS).update(active=False)
    DataSystem.objects.filter(name=CALLS).update(owner=owner)
    request = in_progress_request(
        right=Right.ACCESS,
        name="Alan Turing",
        email="alan.t@example.net",
        identifiers={"customer_number": "C-1001", "account_email": "alan@demo.example"},
    )
    return owner, secret, request


def _task_form(page: Page):
    return page.locator("form").filter(has=page.locator('input[name="action"][value="upload"]'))


def test_the_system_owner_signs_in_and_uploads_what_the_system_holds(page: Page, chris):
    owner, secret, request = chris
    page.goto("/staff/tasks/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()

    expect(page.get_by_role("heading", name="Search tasks", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Search tasks")).to_be_visible()
    expect(page.get_by_text(request.reference)).to_be_visible()
    assert_accessible(page, "the system owner's task list")

    page.get_by_role("link", name=CALLS).click()
    expect(page.get_by_role("heading", name=f"Search {CALLS}")).to_be_visible()
    expect(page.get_by_text("alan@demo.example")).to_be_visible()
    expect(page.get_by_text("The telephony team searches by phone number")).to_be_visible()
    assert_accessible(page, "the task page")

    # A file whose second line has one value too many: refused with the line to fix, the note kept.
    form = _task_form(page)
    form.get_by_label("What the system holds: CSV files, one per table").set_input_files(
        [{"name": "calls.csv", "mimeType": "text/csv", "buffer": b"call_id,summary\n1,Refund,extra\n"}]
    )
    form.get_by_label("E-mail address").check()
    form.get_by_label("Note for the search record (optional)").fill("Searched VoiceLine by e-mail")
    form.get_by_role("button", name="Upload and finish the search").click()
    expect(page.get_by_role("alert")).to_contain_text("line 2: 3 values where the first line names 2 columns")
    expect(page.locator("#id_upload-files-errors")).to_contain_text("calls.csv, line 2")
    expect(_task_form(page).get_by_label("Note for the search record (optional)")).to_have_value(
        "Searched VoiceLine by e-mail"
    )
    assert_accessible(page, "the task page with what to fix")

    form = _task_form(page)
    form.get_by_label("What the system holds: CSV files, one per table").set_input_files(
        [{"name": "calls.csv", "mimeType": "text/csv", "buffer": b"call_id,summary\n1,Refund\n2,Delivery\n"}]
    )
    form.get_by_role("button", name="Upload and finish the search").click()
    expect(page.get_by_text(f"The search of {CALLS} is recorded. Thank you.")).to_be_visible()
    expect(page.get_by_text("No search tasks are waiting.")).to_be_visible()
    assert_accessible(page, "the task list after the upload")

    job = SearchJob.objects.get(request=request, system__name=CALLS)
    assert job.status == JobStatus.DONE and job.rows_found == 2
    assert SearchPart.objects.get(job=job).table == "calls"
    record = SearchRecord.objects.filter(job=job).latest("at")
    assert record.by == owner and record.reason == "Searched VoiceLine by e-mail"
