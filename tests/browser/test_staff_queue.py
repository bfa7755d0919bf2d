"""The staff queue with htmx in Chromium (issue 11): filtering and paging swap only the results and push the address,
nothing of the page is kept in the browser's storage, the back button reloads from the server, and axe finds nothing
on the swapped page. The same links and form without JavaScript are tested in tests/casework/test_queue_more.py."""

import re
from datetime import timedelta

import pyotp
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from casework import roles
from changes.models import ChangeJob, ChangeJobStatus, ChangeRun, RunStatus
from datasystems.models import DataSystem, Recipient, RecipientKind
from dsar_portal.staff_auth import totp_authenticator_add
from recipientnotices.models import NoticeStatus, RecipientNotice
from requests_app.models import DataSubjectRequest, Right
from tests.factories import StaffUserFactory, in_progress_request

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


def _rows(page: Page) -> list[str]:
    return page.locator("#queue-results tbody tr td:nth-child(2) a").all_inner_texts()


def test_htmx_filters_and_pages_the_queue_in_place_and_keeps_nothing_in_the_browser(signed_in_dpo: Page, monkeypatch):
    monkeypatch.setattr("casework.views.PAGE_SIZE", 2)
    made = [in_progress_request(email=f"q{n}@example.com") for n in range(3)]
    in_progress_request(email="objection@example.com", right=Right.OBJECTION)
    # Distinct due dates, in the order made.
    for n, request in enumerate(made):
        DataSubjectRequest.objects.filter(pk=request.pk).update(due_on=timezone.localdate() + timedelta(days=10 + n))
    references = [r.reference for r in made]
    page = signed_in_dpo
    page.reload()
    # A mark on the window: it survives a swap, and is gone after a real page load.
    page.evaluate("window.notReloaded = true")
    asked: list[dict] = []
    page.on("request", lambda request: asked.append(request.headers) if "/staff/?" in request.url else None)

    page.get_by_label("Right").select_option("access")
    page.get_by_role("button", name="Show requests").click()
    expect(page).to_have_url(re.compile(r"/staff/\?.*right=access"))
    expect(page.locator("#queue-results tbody tr")).to_have_count(2)
    assert _rows(page) == references[:2]
    assert page.evaluate("window.notReloaded === true"), "the filter reloaded the page instead of swapping the results"
    assert asked and asked[-1].get("hx-request") == "true"
    expect(page.get_by_role("status").filter(has_text="2 requests shown")).to_be_attached()
    assert_accessible(page, "the queue filtered by htmx")

    page.get_by_role("link", name="Next page").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator("#queue-results tbody tr")).to_have_count(1)
    assert _rows(page) == references[2:]
    # The keyboard carries on from the new results, not from the link that was swapped away.
    expect(page.locator("#queue-results")).to_be_focused()
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    page.get_by_role("link", name="Previous page").click()
    expect(page).to_have_url(re.compile(r"before="))
    expect(page.locator("#queue-results tbody tr")).to_have_count(2)
    assert _rows(page) == references[:2]
    assert page.evaluate("window.notReloaded === true"), "paging reloaded the page"
    # The filter form is still there, once: only the results were swapped.
    expect(page.get_by_role("heading", name="Find requests")).to_have_count(1)
    assert_accessible(page, "a page reached by htmx")

    # historyCacheSize 0: no copy of the page (personal data) in the browser's storage.
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None
    assert page.evaluate("localStorage.length") == 0

    # Back: the browser reloads the address from the server (refreshOnHistoryMiss), a full page.
    page.go_back()
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator("#queue-results tbody tr")).to_have_count(1)
    page.wait_for_function("window.notReloaded === undefined")
    assert _rows(page) == references[2:]


def test_without_javascript_the_same_filters_and_pages_load_whole_pages(
    signed_in_dpo: Page, browser, live_server, monkeypatch
):
    """The same session in a browser with JavaScript off: the form and the links are plain GETs, each a whole page."""
    monkeypatch.setattr("casework.views.PAGE_SIZE", 1)
    made = [in_progress_request(email=f"n{n}@example.com") for n in range(2)]
    for n, request in enumerate(made):
        DataSubjectRequest.objects.filter(pk=request.pk).update(due_on=timezone.localdate() + timedelta(days=10 + n))
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        context.add_cookies(signed_in_dpo.context.cookies())
        page = context.new_page()
        page.goto("/staff/")
        page.get_by_label("Right").select_option("access")
        page.get_by_role("button", name="Show requests").click()
        expect(page).to_have_url(re.compile(r"right=access"))
        assert _rows(page) == [made[0].reference]
        page.get_by_role("link", name="Next page").click()
        assert _rows(page) == [made[1].reference]
        page.get_by_role("link", name="Previous page").click()
        expect(page).to_have_url(re.compile(r"before="))
        assert _rows(page) == [made[0].reference]
        expect(page.get_by_role("heading", name="Open requests")).to_be_visible()
    finally:
        context.close()


def test_the_change_engine_and_recipient_notice_flags_show_on_their_rows_and_filter_the_queue(signed_in_dpo: Page):
    """Issue 13 with the access issue's reliability: a failed change, an overdue change task and a failed recipient
    notice each raise their flag on the row, and each filter lists those cases only; axe finds nothing."""
    quiet, failed, overdue, notice = (in_progress_request(email=f"f{n}@example.com") for n in range(4))
    system = DataSystem.objects.create(name="CRM", data_subjects="customers", retention="six years")
    for request, status, due_on in (
        (failed, ChangeJobStatus.FAILED, None),
        (overdue, ChangeJobStatus.WAITING, timezone.localdate() - timedelta(days=2)),
    ):
        run = ChangeRun.objects.create(request=request, kind="erase", status=RunStatus.RUNNING)
        ChangeJob.objects.create(
            run=run, request=request, system=system, connector="manual", status=status, due_on=due_on
        )
    recipient = Recipient.objects.create(name="Partner Ltd", kind=RecipientKind.CONTROLLER, role="Delivers orders")
    RecipientNotice.objects.create(
        request=notice,
        recipient=recipient,
        change_kind="erase",
        what_changed="erased",
        method="email",
        status=NoticeStatus.FAILED,
    )
    page = signed_in_dpo
    page.reload()
    for reference, words in (
        (failed.reference, "A change in a data system failed"),
        (overdue.reference, "A change task is overdue"),
        (notice.reference, "A recipient notice failed"),
    ):
        row = page.locator("#queue-results tbody tr").filter(has=page.get_by_role("link", name=reference))
        expect(row.get_by_text(words)).to_be_visible()
    quiet_row = page.locator("#queue-results tbody tr").filter(has=page.get_by_role("link", name=quiet.reference))
    expect(quiet_row).to_be_visible()
    expect(quiet_row.locator(".badge.text-bg-danger")).to_have_count(0)
    assert_accessible(page, "the queue with the change and notice flags")

    for label, reference in (
        ("With a failed change in a data system", failed.reference),
        ("With an overdue change task", overdue.reference),
        ("With a failed recipient notice", notice.reference),
    ):
        page.goto("/staff/")
        page.get_by_label(label).check()
        page.get_by_role("button", name="Show requests").click()
        expect(page.locator("#queue-results tbody tr")).to_have_count(1)
        assert _rows(page) == [reference]
    assert_accessible(page, "the queue filtered by a flag")
