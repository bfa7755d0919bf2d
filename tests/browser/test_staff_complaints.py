"""A complaint handled in the staff area, in Chromium with axe (issue 11; UK DPA 2018 s.164A): logged from a letter
with its true receipt day, acknowledged, progress told, outcome sent; the complainant reads each e-mail."""

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from complaints.models import Complaint, ComplaintStatus
from tests.factories import in_progress_request

from .support import assert_accessible
from .test_staff_queue import signed_in_dpo  # noqa: F401 - the same signed-in DPO


def test_a_dpo_logs_a_letter_of_complaint_and_handles_it_to_its_outcome(signed_in_dpo: Page):  # noqa: F811
    request = in_progress_request(email="ada@example.com")
    page = signed_in_dpo
    page.get_by_role("link", name="Complaints").click()
    expect(page.get_by_role("heading", name="Complaints", level=1)).to_be_visible()
    assert_accessible(page, "the complaints register")

    page.get_by_role("link", name="Log a complaint received another way").click()
    received = timezone.localtime() - timedelta(days=29)
    page.get_by_label("How it arrived").select_option("letter")
    page.get_by_label("Received on (date and time)").fill(received.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Complainant's name").fill("Ada Lovelace")
    page.get_by_label("Complainant's e-mail address").fill("ada@example.com")
    page.get_by_label("The complaint").fill("Nobody answered my request.")
    page.get_by_label("Request it is about (optional)").fill("DSAR-NOPE")
    page.get_by_role("button", name="Log the complaint").click()
    expect(page.get_by_text("No request you may see has this reference.")).to_be_visible()
    expect(page.get_by_label("The complaint")).to_have_value("Nobody answered my request.")
    assert_accessible(page, "the logging form with its errors")
    page.get_by_label("Request it is about (optional)").fill(request.reference)
    page.get_by_role("button", name="Log the complaint").click()

    complaint = Complaint.objects.get()
    expect(page.get_by_role("heading", name=re.compile(complaint.reference))).to_be_visible()
    expect(page.get_by_text("1 day left")).to_be_visible()  # received 29 days ago: 30 days to acknowledge
    assert_accessible(page, "the complaint page")

    page.get_by_text("Acknowledge the complaint").click()
    page.get_by_label("A note for the complainant (optional)").fill("We are looking into it.")
    page.get_by_role("button", name="Acknowledge and tell the complainant").click()
    expect(page.get_by_text("The complaint is acknowledged")).to_be_visible()
    page.get_by_text("Tell the complainant how it is going").click()
    page.get_by_label("Progress, sent to the complainant").fill("We found your request.")
    page.get_by_role("button", name="Record and send the update").click()
    expect(page.get_by_text("The update is recorded")).to_be_visible()
    page.get_by_text("Record the outcome").click()
    page.get_by_role("button", name="Record and send the outcome").click()
    expect(page.get_by_text("Check what you typed")).to_be_visible()
    page.get_by_label(re.compile("The outcome, sent to the complainant")).fill("We answered it and apologise.")
    page.get_by_role("button", name="Record and send the outcome").click()
    expect(page.get_by_text("The outcome is recorded")).to_be_visible()
    assert_accessible(page, "the complaint with its timeline")

    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED
    bodies = [m.body for m in mail.outbox if m.to == ["ada@example.com"] and complaint.reference in m.subject]
    assert any("We found your request." in body for body in bodies)
    assert any("We answered it and apologise." in body for body in bodies)

    page.get_by_role("link", name=request.reference).click()
    expect(page.get_by_role("heading", name="Complaints about this request")).to_be_visible()
    expect(page.get_by_role("link", name=complaint.reference)).to_be_visible()


def test_a_letter_of_complaint_from_someone_without_email_is_answered_by_post(signed_in_dpo: Page):  # noqa: F811
    """No e-mail address: the postal address is asked for, and each notice waits under 'Letters to post' until the
    day it was posted is recorded."""
    page = signed_in_dpo
    page.get_by_role("link", name="Complaints").click()
    page.get_by_role("link", name="Log a complaint received another way").click()
    received = timezone.localtime() - timedelta(days=2)
    page.get_by_label("How it arrived").select_option("letter")
    page.get_by_label("Received on (date and time)").fill(received.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Complainant's name").fill("Charles Babbage")
    page.get_by_label("The complaint").fill("You never wrote back.")
    page.get_by_role("button", name="Log the complaint").click()
    expect(page.get_by_text("Give a postal address, or an e-mail address, to answer at.")).to_be_visible()
    expect(page.get_by_label("The complaint")).to_have_value("You never wrote back.")
    assert_accessible(page, "the logging form asking for an address")
    page.get_by_label("Complainant's postal address").fill("1 Analytical Street\nLondon")
    page.get_by_role("button", name="Log the complaint").click()

    complaint = Complaint.objects.get()
    expect(page.get_by_role("heading", name="Letters to post")).to_be_visible()
    expect(page.get_by_text("written")).to_have_count(1)
    assert_accessible(page, "the complaint page with a letter to post")
    page.get_by_role("button", name="Record as posted").click()
    expect(page.get_by_text(f"Recorded as posted on {timezone.localdate().isoformat()}")).to_be_visible()
    expect(page.get_by_text("No letter is waiting to be posted.")).to_be_visible()
    letter = complaint.messages.get()
    assert letter.by_post and letter.posted_on == timezone.localdate()
    assert not [m for m in mail.outbox if complaint.reference in m.subject]
