"""The DPO's day in Chromium (issue 11, "Done when"): sign in with a second factor, find requests, log a postal
request, clarify and extend, refuse, complete in part, ask for a fee and record it; and, for each, what the requester
received: the e-mail (pytest-django's outbox; the live server runs in this process) and the status page.

axe runs on every staff page the DPO sees. Data is made with the factories (tests/factories.py), not the public form.
Fields are found by their labels and buttons by their names, so changes to the case page's layout do not break
these tests; an action's form is the one holding its submit button, opened first if it is folded away.
"""

import re
from datetime import timedelta

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import Locator, Page, expect

from casework import roles
from complaints.models import Complaint, ComplaintStatus
from dsar_portal.staff_auth import totp_authenticator_add
from requests_app import services
from requests_app.correspondence import POSTAL_LINK_TEXT
from requests_app.models import DataSubjectRequest, Message, Outcome, RefusalGround, Right, Status
from requests_app.scope import ErasureGround, ErasureScope
from tests.factories import StaffUserFactory, in_progress_request, png_bytes

from .support import assert_accessible, emails_to, status_link_path

PASSWORD = "a long staff passphrase 42"
ICO = "Information Commissioner's Office"
ICO_URL = "https://ico.org.uk/make-a-complaint/"


# --- Helpers ------------------------------------------------------------------------------------------------


def _dpo_with_authenticator() -> str:
    """The DPO's account, with an authenticator app; returns its TOTP secret."""
    roles.roles_ensure()
    dpo = StaffUserFactory(username="dpo", second_factor=False, email="dpo@example.org")
    dpo.set_password(PASSWORD)
    dpo.save()
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    secret = pyotp.random_base32()
    totp_authenticator_add(user=dpo, secret=secret)
    return secret


def sign_in(page: Page, secret: str) -> None:
    """The staff sign-in: password, then a code from the authenticator app; lands on the queue."""
    page.goto("/staff/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert_accessible(page, "staff sign-in")
    page.get_by_label("Username").fill("dpo")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert_accessible(page, "second factor")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    expect(page.get_by_role("heading", name="Open requests", level=1)).to_be_visible()
    assert_accessible(page, "the queue")


@pytest.fixture
def dpo_page(page: Page, transactional_db) -> Page:
    """A page signed in as the DPO (password and TOTP), on the queue."""
    sign_in(page, _dpo_with_authenticator())
    return page


def open_case(page: Page, reference: str) -> None:
    page.goto(f"/staff/requests/{reference}/")
    expect(page.get_by_role("heading", name=re.compile(reference), level=1)).to_be_visible()
    assert_accessible(page, f"case page of {reference}")


def action_form(page: Page, title: str, submit: str) -> Locator:
    """The case page's form for one action (the form with its submit button), unfolded if it is folded away."""
    form = page.locator("form").filter(has=page.get_by_role("button", name=submit, exact=True))
    if not form.is_visible():
        page.get_by_text(title, exact=True).click()
    expect(form).to_be_visible()
    return form


def field(form: Locator, label: str) -> Locator:
    """A field of an action's form by its label (Django may end the label with a colon)."""
    return form.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def done(page: Page, message: str | re.Pattern, where: str) -> None:
    """The success message on the case page the action returns to, which passes axe."""
    expect(page.get_by_role("status")).to_contain_text(message)
    assert_accessible(page, where)


def notice_to(address: str, subject_part: str):
    """The one e-mail to ``address`` whose subject contains ``subject_part``."""
    found = [message for message in emails_to(address) if subject_part in message.subject]
    assert len(found) == 1, f"{len(found)} e-mails to {address} about {subject_part!r}: " + ", ".join(
        message.subject for message in emails_to(address)
    )
    return found[0]


def mailoutbox_subjects(address: str, subject_part: str) -> int:
    """How many e-mails to ``address`` have ``subject_part`` in their subject."""
    return sum(subject_part in message.subject for message in emails_to(address))


def assert_complaint_rights(body: str) -> None:
    """A UK refusal or completion says where to complain: to us first (DPA 2018 s.164A), to the ICO (Art. 77),
    and to a court (Art. 79) (Art. 12(4); LAW.md)."""
    assert "you can complain to us first" in body
    assert f"You can also use our complaint form: {settings.DSAR_COMPLAINTS_URL}" in body
    assert f"{ICO}\n{ICO_URL}" in body
    assert "seek a judicial remedy" in body


def requester_status_page(page: Page, notice) -> Page:
    """The requester opens the link in the notice (another tab; the status page knows nothing of staff sign-in)."""
    status = page.context.new_page()
    status.goto(status_link_path(notice))
    expect(status.locator("#reference")).to_be_visible()
    return status


def long_date(day) -> str:
    return date_format(day, "j F Y")


# --- Signing in and finding requests --------------------------------------------------------------------------


def test_the_dpo_signs_in_with_a_second_factor_and_finds_requests_by_filter_and_search(dpo_page: Page):
    access = in_progress_request(name="Ada Lovelace", email="ada@example.com")
    erasure = in_progress_request(
        right=Right.ERASURE,
        name="Grace Hopper",
        email="grace@example.com",
        details=ErasureScope(grounds=(ErasureGround.NO_LONGER_NECESSARY,)).as_details(),
    )
    page = dpo_page
    page.reload()
    expect(page.get_by_role("link", name=access.reference)).to_be_visible()
    expect(page.get_by_role("link", name=erasure.reference)).to_be_visible()

    # A filter: only erasure requests.
    page.get_by_label("Right", exact=True).select_option(label="Erase your data")
    page.get_by_role("button", name="Show requests").click()
    expect(page.get_by_role("link", name=erasure.reference)).to_be_visible()
    expect(page.get_by_role("link", name=access.reference)).to_have_count(0)
    assert_accessible(page, "the queue filtered by right")
    page.get_by_role("link", name="Clear filters").click()

    # Search by reference, typed as a person would read it out (lower case, no dashes).
    page.get_by_label("Reference or requester's e-mail").fill(access.reference.lower().replace("-", " "))
    page.get_by_role("button", name="Show requests").click()
    expect(page.get_by_role("link", name=access.reference)).to_be_visible()
    expect(page.get_by_role("link", name=erasure.reference)).to_have_count(0)
    assert_accessible(page, "the queue searched by reference")

    # Search by the requester's e-mail (its keyed hash: the table is never decrypted), in another case.
    page.get_by_label("Reference or requester's e-mail").fill("Grace@Example.com")
    page.get_by_role("button", name="Show requests").click()
    expect(page.get_by_role("link", name=erasure.reference)).to_be_visible()
    expect(page.get_by_role("link", name=access.reference)).to_have_count(0)
    assert_accessible(page, "the queue searched by e-mail")

    page.get_by_role("link", name=erasure.reference).click()
    expect(page.get_by_role("heading", name=re.compile(erasure.reference), level=1)).to_be_visible()
    expect(page.get_by_text("grace@example.com")).to_be_visible()
    assert_accessible(page, "the case page")


# --- A request that came by post --------------------------------------------------------------------------------


def test_a_letter_is_logged_with_its_true_receipt_day_and_the_requester_is_answered_by_post(dpo_page: Page, mailoutbox):
    page = dpo_page
    received = timezone.localtime() - timedelta(days=3)
    page.get_by_role("link", name="Log a request received another way").click()
    expect(page.get_by_role("heading", name="Log a request received another way", level=1)).to_be_visible()
    assert_accessible(page, "the log form")

    page.get_by_label("Right", exact=True).select_option(label="Access to your data")
    page.get_by_label("How it arrived").select_option(label="Letter")
    page.get_by_label("Received on (date and time)").fill(received.strftime("%Y-%m-%dT09:15"))
    page.get_by_label("Requester's name").fill("Grace Hopper")
    page.get_by_label("Postal address (needed without an e-mail address)").fill("7 Compiler Lane\nArlington")
    page.get_by_label("What they asked").fill("Please send me a copy of all the data you hold about me.")
    page.get_by_label("A scan of what arrived (optional)").set_input_files(
        {"name": "letter.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.get_by_role("button", name="Log the request").click()

    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Request DSAR-[0-9A-Z-]+ logged\."))
    assert_accessible(page, "the logged request's case page")
    request = DataSubjectRequest.objects.get()
    expect(page.get_by_role("heading", name=re.compile(request.reference), level=1)).to_be_visible()
    expect(page.get_by_text("Received by: Letter")).to_be_visible()

    # The clock started on the day the letter arrived, not the day it was logged (GDPR Art. 12(3)).
    assert request.received_on == received.date()
    assert request.clock_started_on == received.date()
    assert request.documents.count() == 1  # the scan, kept encrypted with the request
    clock = page.get_by_role("region", name="The clock")
    expect(clock).to_contain_text(f"Received {date_format(received.date(), 'j M Y')}")
    expect(clock).to_contain_text(f"Clock started {date_format(received.date(), 'j M Y')}")

    # No e-mail: the notices go by post, listed for staff to print and to record as posted.
    assert mailoutbox == []
    letters = page.get_by_role("region", name="Letters to post")
    expect(letters).to_contain_text("This requester gets our notices by post.")
    expect(letters).to_contain_text("7 Compiler Lane")
    letter = Message.objects.filter(request=request, by_post=True).order_by("pk").first()
    assert letter is not None and letter.posted_on is None
    assert request.reference in letter.body
    assert POSTAL_LINK_TEXT in letter.body  # on paper: how to follow the request without a link
    letters.get_by_text("Text to print").first.click()
    expect(letters).to_contain_text(letter.subject)
    letters.get_by_role("button", name="Record as posted").first.click()
    done(page, f"Recorded as posted on {timezone.localdate().isoformat()}.", "after recording a letter as posted")
    letter.refresh_from_db()
    assert letter.posted_on == timezone.localdate()


# --- Clarify, then extend, an access request ---------------------------------------------------------------------


def test_an_access_request_is_clarified_with_the_clock_stopped_then_extended(dpo_page: Page, mailoutbox):
    request = in_progress_request(name="Ada Lovelace", email="ada@example.com")
    page = dpo_page
    open_case(page, request.reference)

    # Stopping the clock needs the statutory condition (UK GDPR Art. 12A): without it, a message and nothing lost.
    form = action_form(page, "Ask the person to clarify", "Send the question")
    field(form, "Question").fill("Which of your three customer accounts do you mean?")
    form.get_by_label(re.compile("^Stop the clock")).check()
    form.get_by_role("button", name="Send the question").click()
    expect(page.get_by_role("status")).to_contain_text("Say why you need the person to identify the information")
    assert_accessible(page, "the clarification refused without its condition")
    form = action_form(page, "Ask the person to clarify", "Send the question")
    expect(field(form, "Question")).to_have_value("Which of your three customer accounts do you mean?")
    assert mailoutbox_subjects("ada@example.com", "We need more information") == 0
    form.get_by_label(re.compile("^Stop the clock")).check()
    field(form, "Why we need it (kept with the pause)").fill("We hold 20 years of records over 3 accounts.")
    form.get_by_role("button", name="Send the question").click()
    done(page, "The question was sent and the clock is stopped until the person answers.", "after clarifying")
    expect(page.get_by_role("region", name="The clock")).to_contain_text("Paused since")
    expect(page.locator("main")).to_contain_text(
        "Needed to identify the information or processing activities: We hold 20 years of records over 3 accounts."
    )
    request.refresh_from_db()
    assert request.status == Status.AWAITING_CLARIFICATION and request.is_clock_paused

    # What Ada received: the question, that the clock stops and why, and that "everything" is an answer.
    question = notice_to("ada@example.com", f"We need more information ({request.reference})")
    assert "Which of your three customer accounts do you mean?" in question.body
    assert "the time we have to respond is paused from today until the day we receive your reply" in question.body
    assert 'you can reply "everything"' in question.body
    status = requester_status_page(page, question)
    expect(status.locator("#status")).to_contain_text("Waiting for your reply")
    expect(status.locator("#pause-notice")).to_contain_text("The time limit is paused.")
    expect(status.locator("#clarification-clock")).to_contain_text("The time limit is paused until we hear from you.")

    # Ada answers on her status page: the clock runs again.
    status.get_by_label("Your reply").fill("Everything, please, from all three accounts.")
    status.get_by_role("button", name="Send reply").click()
    expect(status.locator("#status")).to_contain_text("In progress")
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS and not request.is_clock_paused
    due_before = request.due_on

    # The DPO extends by a month on a structured basis (GDPR Art. 12(3)), with reasons for Ada.
    open_case(page, request.reference)
    expect(page.get_by_text("Everything, please, from all three accounts.")).to_be_attached()  # in the timeline
    form = action_form(page, "Extend the deadline", "Extend and tell the person")
    field(form, "By").select_option(label="One month")
    form.get_by_role("checkbox", name="The request is complex").check()
    field(form, "Reasons, sent to the person").fill("Three accounts over 20 years are held in four systems.")
    form.get_by_role("button", name="Extend and tell the person").click()
    request.refresh_from_db()
    assert request.extension_months == 1 and request.due_on > due_before
    done(page, f"The deadline is extended to {request.due_on.isoformat()}", "after extending")
    expect(page.get_by_role("region", name="The clock")).to_contain_text("Extended by 1 month")

    # What Ada received: that the law allows it, the basis, the reasons, and the new last day.
    extension = notice_to("ada@example.com", f"We need more time ({request.reference})")
    assert "The law allows us to extend the time by up to two further months" in extension.body
    assert "Why we need more time:\nThe request is complex." in extension.body
    assert "Three accounts over 20 years are held in four systems." in extension.body
    assert f"at the latest by {long_date(request.due_on)}" in extension.body
    status.reload()
    expect(status.locator("#due-date")).to_contain_text(f"{long_date(request.due_on)} (extended by 1 month)")
    expect(status.locator("#messages")).to_contain_text(f"We need more time ({request.reference})")


# --- Refuse on a ground of the right ------------------------------------------------------------------------------


def test_an_erasure_request_is_refused_on_an_erasure_ground_and_the_requester_is_told_how_to_complain(
    dpo_page: Page, mailoutbox
):
    request = in_progress_request(
        right=Right.ERASURE,
        name="Grace Hopper",
        email="grace@example.com",
        details=ErasureScope(grounds=(ErasureGround.NO_LONGER_NECESSARY,)).as_details(),
    )
    page = dpo_page
    open_case(page, request.reference)
    form = action_form(page, "Refuse", "Refuse and tell the person")
    ground = field(form, "Ground")
    # The grounds offered are those the law gives for erasure (Art. 17(3)), not those of another right.
    offered = ground.locator("option").all_inner_texts()
    assert any("GDPR Art. 17(3)(b)" in text for text in offered)
    assert not any("Art. 21(1)" in text or "Art. 20(" in text or "Art. 16)" in text for text in offered)
    ground.select_option(label=next(text for text in offered if "GDPR Art. 17(3)(b)" in text))
    field(form, "Reasons, sent to the person").fill("HMRC rules require us to keep invoices for six years.")
    form.get_by_role("button", name="Refuse and tell the person").click()
    done(page, "The request is refused and the person is told why and how to complain.", "after refusing")
    request.refresh_from_db()
    assert request.status == Status.REFUSED

    # What Grace received: the ground, the reasons, and where to complain (GDPR Art. 12(4); DPA 2018 s.164A).
    refusal = notice_to("grace@example.com", f"We cannot act on your request ({request.reference})")
    assert "Reason: We must keep the data to comply with a legal obligation" in refusal.body
    assert "(GDPR Art. 17(3)(b))" in refusal.body
    assert "HMRC rules require us to keep invoices for six years." in refusal.body
    assert_complaint_rights(refusal.body)
    status = requester_status_page(page, refusal)
    expect(status.locator("#status")).to_contain_text("Refused")
    expect(status.locator("#status")).to_contain_text("GDPR Art. 17(3)(b)")
    expect(status.get_by_role("link", name=ICO_URL)).to_be_visible()
    expect(status.get_by_text("You also have the right to seek a judicial remedy.")).to_be_visible()


# --- Complete in part ---------------------------------------------------------------------------------------------


def test_an_access_request_is_completed_in_part_with_the_ground_for_the_part_not_done(dpo_page: Page, mailoutbox):
    request = in_progress_request(name="Alan Turing", email="alan@example.com")
    page = dpo_page
    open_case(page, request.reference)
    form = action_form(page, "Complete", "Complete and tell the person")
    field(form, "Outcome").select_option(label="Partly fulfilled")
    field(form, "Part 1: what we did").fill("Sent a copy of your account and order data")
    field(form, "Part 1: what we did not do").fill("Did not send the call recordings")
    field(form, "Part 1: why").fill("They are mostly about our other customers")
    field(form, "Part 1: ground").select_option(label="An exemption applies")
    field(form, "Part 1: exact reference of an exemption").fill("DPA 2018 Sch. 2 para 16")
    field(form, "Summary, sent to the person").fill("Your data is attached to the secure message.")
    form.get_by_role("button", name="Complete and tell the person").click()
    done(page, "The request is completed (Partly fulfilled) and the person is told.", "after completing")
    request.refresh_from_db()
    assert request.status == Status.COMPLETED

    # What Alan received: each part not done, why, and the law relied on; and where to complain.
    completion = notice_to("alan@example.com", f"Your request is complete ({request.reference})")
    body = completion.body
    assert "We have done some of what you asked." in body
    assert "What we did: Sent a copy of your account and order data" in body
    assert "What we did not do: Did not send the call recordings" in body
    assert "Why: They are mostly about our other customers" in body
    assert "The law we rely on: An exemption applies (DPA 2018 Sch. 2 para 16)" in body
    assert_complaint_rights(body)
    status = requester_status_page(page, completion)
    expect(status.locator("#status")).to_contain_text(re.compile(r"Completed\s*: Partly fulfilled"))
    expect(status.locator("#messages")).to_contain_text(f"Your request is complete ({request.reference})")


# --- A fee --------------------------------------------------------------------------------------------------------


def test_a_fee_for_a_further_copy_is_asked_for_and_its_payment_recorded(dpo_page: Page, mailoutbox):
    # Ada had her first copy, free, last month (GDPR Art. 15(3): only a further copy may carry a fee).
    first = in_progress_request(name="Ada Lovelace", email="ada@example.com")
    services.request_complete(
        request=first, actor=StaffUserFactory(), outcome=Outcome.FULFILLED, summary="Your data.", parts=[]
    )
    request = in_progress_request(name="Ada Lovelace", email="ada@example.com")
    another = in_progress_request(name="Alan Turing", email="alan@example.com")
    page = dpo_page
    open_case(page, request.reference)
    form = action_form(page, "Ask for a fee", "Ask for the fee")
    field(form, "Amount").fill("10.00")
    field(form, "Basis (GDPR Art. 12(5) or 15(3))").select_option(
        label="A further copy of data we have already given you"
    )
    field(form, "Reasons, sent to the person").fill("You asked for a second printed copy of your data.")
    form.get_by_role("button", name="Ask for the fee").click()
    done(page, re.compile(r"The person is asked for 10\.00 [A-Z]{3}\."), "after asking for a fee")
    request.refresh_from_db()
    assert request.status == Status.AWAITING_FEE

    # What Ada received: the amount, the basis, that the first copy is free, the UK clock rule, and her options.
    fee = notice_to("ada@example.com", f"A fee for your request ({request.reference})")
    assert f"we intend to charge a fee of 10.00 {request.fee_currency}" in fee.body
    assert "A further copy of data we have already given you" in fee.body
    assert "You asked for a second printed copy of your data." in fee.body
    assert "The first copy of your data is always free." in fee.body
    assert "starts again on the day we receive your payment" in fee.body
    assert f"You can also complain to {ICO} ({ICO_URL})" in fee.body
    status = requester_status_page(page, fee)
    expect(status.locator("#status")).to_contain_text("Waiting for a fee")

    # The queue's "awaiting a fee" filter finds it.
    page.goto("/staff/")
    page.get_by_label("Awaiting a fee").check()
    page.get_by_role("button", name="Show requests").click()
    expect(page.get_by_role("link", name=request.reference)).to_be_visible()
    expect(page.get_by_role("link", name=another.reference)).to_have_count(0)
    assert_accessible(page, "the queue of requests awaiting a fee")

    # The payment arrives: the DPO records it and work goes on, the UK clock starting again from that day.
    open_case(page, request.reference)
    form = action_form(page, "Record the fee's payment", "Record the payment")
    field(form, "Paid on").fill(timezone.localdate().isoformat())
    field(form, "Payment reference").fill("BACS 4471")
    form.get_by_role("button", name="Record the payment").click()
    done(page, "The payment is recorded and work goes on.", "after recording the payment")
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS and request.fee_paid_on == timezone.localdate()
    expect(page.get_by_role("region", name="The clock")).to_contain_text(
        f"paid {date_format(timezone.localdate(), 'j M Y')}"
    )
    status.reload()
    expect(status.locator("#status")).to_contain_text("In progress")
    expect(status.locator("#due-date")).to_contain_text(long_date(request.due_on))


# --- A complaint about a refusal (UK DPA 2018 s.164A) ---------------------------------------------------------------


def _complaint_pages_exist() -> bool:
    try:
        reverse("casework:complaints_register")
    except NoReverseMatch:
        return False
    return True


# The staff complaint pages (/staff/complaints/) are built on another branch (wt-complaints) in parallel with these
# tests. Until they are merged this test is left out (skipped, with this reason); once they are, it runs.
needs_staff_complaint_pages = pytest.mark.skipif(
    not _complaint_pages_exist(),
    reason="The staff complaint pages (/staff/complaints/) are not in this branch yet (issue 11, wt-complaints)",
)


@needs_staff_complaint_pages
def test_a_refused_requester_complains_through_the_form_the_refusal_points_to_and_the_dpo_handles_it(
    dpo_page: Page, mailoutbox
):
    request = in_progress_request(
        right=Right.ERASURE,
        name="Grace Hopper",
        email="grace@example.com",
        details=ErasureScope(grounds=(ErasureGround.NO_LONGER_NECESSARY,)).as_details(),
    )
    services.request_refuse(
        request=request,
        actor=StaffUserFactory(),
        ground=RefusalGround.ERASURE_LEGAL_OBLIGATION,
        reasons="HMRC rules require us to keep invoices for six years.",
    )
    page = dpo_page

    # Grace follows the complaint form's link in the refusal (UK DPA 2018 s.164A(2): a form online).
    refusal = notice_to("grace@example.com", f"We cannot act on your request ({request.reference})")
    found = re.search(re.escape(settings.DSAR_PUBLIC_URL) + r"(/complaints/new/)", refusal.body)
    assert found, refusal.body
    grace = page.context.new_page()
    grace.goto(found.group(1))
    grace.get_by_label("Your full name").fill("Grace Hopper")
    grace.get_by_label("Your e-mail address").fill("grace@example.com")
    grace.get_by_label("Your complaint").fill("I was told you must keep my data, but I closed my account in 2015.")
    grace.get_by_label("Request reference (optional)").fill(request.reference)
    grace.get_by_role("button", name="Send complaint").click()
    expect(grace.get_by_role("heading", name="We have received your complaint", level=1)).to_be_visible()
    complaint = Complaint.objects.get()
    assert complaint.request_id == request.pk
    receipt = notice_to("grace@example.com", f"We have received your complaint ({complaint.reference})")
    assert f"by {long_date(complaint.acknowledge_by)} at the latest" in receipt.body  # s.164A(3): 30 days

    # The DPO finds it in the register, and from it the request it is about.
    page.get_by_role("link", name="Complaints", exact=True).click()
    expect(page.get_by_role("heading", name="Complaints", level=1)).to_be_visible()
    assert_accessible(page, "the complaints register")
    page.get_by_role("link", name=complaint.reference).click()
    expect(page.get_by_role("heading", name=re.compile(complaint.reference), level=1)).to_be_visible()
    expect(page.get_by_role("link", name=request.reference)).to_be_visible()
    assert_accessible(page, "the complaint page")

    form = action_form(page, "Acknowledge the complaint", "Acknowledge and tell the complainant")
    field(form, "A note for the complainant (optional)").fill("We are checking when your account was closed.")
    form.get_by_role("button", name="Acknowledge and tell the complainant").click()
    done(page, "The complaint is acknowledged", "after acknowledging the complaint")

    form = action_form(page, "Record the outcome", "Record and send the outcome")
    field(form, "The outcome, sent to the complainant: what we found and what we will do").fill(
        "You are right: the invoices are older than six years. We will erase your data and write to you."
    )
    form.get_by_role("button", name="Record and send the outcome").click()
    done(page, "The outcome is recorded", "after recording the complaint's outcome")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED

    # What Grace received: the acknowledgement, then the outcome with her right to go to the ICO and to court.
    acknowledgement = notice_to("grace@example.com", f"We are looking into your complaint ({complaint.reference})")
    assert "We are checking when your account was closed." in acknowledgement.body
    outcome = notice_to("grace@example.com", f"The outcome of your complaint ({complaint.reference})")
    assert "We will erase your data and write to you." in outcome.body
    assert f"you can complain to the supervisory authority:\n{ICO}\n{ICO_URL}" in outcome.body
    assert "seek a judicial remedy" in outcome.body

    # The case page of the refused request lists the complaint about it.
    open_case(page, request.reference)
    complaints = page.get_by_role("region", name="Complaints about this request")
    expect(complaints.get_by_role("link", name=complaint.reference)).to_be_visible()
