"""An agent signs up, signs in with a second factor, files for someone, and the subject confirms."""

import io
import re
from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from agents.models import AgentCode
from identity import services as identity_services
from identity.models import SubjectConfirmation
from requests_app.models import DataSubjectRequest, Status

from .support import assert_accessible, confirmation_code, emails_to

pytestmark = pytest.mark.django_db(transaction=True)

AGENT_EMAIL = "sam@lawfirm.example"
PASSWORD = "a long and unusual passphrase"
NEW_PASSWORD = "another long and unusual passphrase"


@pytest.fixture
def authority_letter(tmp_path):
    path = tmp_path / "letter-of-authority.png"
    image = Image.new("RGB", (200, 120), "white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_an_agent_files_for_a_client_who_confirms_by_email(page, new_context, authority_letter, settings):
    identity_services.demo_customer_save(customer_number="C-2002", name="Pat Client", email="pat@example.com")

    # Sign up and confirm the address.
    page.goto("/")
    page.get_by_role("link", name="Open an agent account").click()
    assert_accessible(page, "agent sign-up")
    page.get_by_label("Your full name").fill("Sam Solicitor")
    page.get_by_label("Your e-mail address").fill(AGENT_EMAIL)
    page.get_by_label("Your organisation (optional)").fill("Law & Co")
    page.get_by_label("Your role").fill("Solicitor")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Open account").click()
    page.wait_for_url("**/agents/confirm-email/")
    page.get_by_label("Code").fill(confirmation_code(emails_to(AGENT_EMAIL)[-1]))
    page.get_by_role("button", name="Confirm").click()

    # Sign in: password, then the code sent by e-mail.
    page.wait_for_url("**/agents/sign-in/")
    assert_accessible(page, "agent sign-in")
    page.get_by_label("E-mail address").fill(AGENT_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/agents/sign-in/code/")
    page.get_by_label("Code").fill(confirmation_code(emails_to(AGENT_EMAIL)[-1]))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/agents/")
    assert_accessible(page, "agent dashboard")

    # File an access request for a client, with a letter of authority.
    page.get_by_role("link", name="Access to your data").click()
    assert_accessible(page, "agent request form")
    page.get_by_label("Full name of the person you act for").fill("Pat Client")
    # The subject is asked at the address the organisation holds for them, found from their customer number.
    page.get_by_label("Their customer or account number").fill("C-2002")
    page.get_by_label("Your relationship to them").select_option("solicitor")
    page.get_by_label("A letter of authority signed by the person").check()
    page.get_by_label("Proof of your authority").set_input_files(str(authority_letter))
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/agents/")
    request = DataSubjectRequest.objects.get()
    row = page.locator("#agent-requests tbody tr", has_text=request.reference)
    assert "Checking your identity" in row.inner_text()

    # The client confirms from the e-mail we sent them, in their own browser.
    to_client = emails_to("pat@example.com")
    assert len(to_client) == 1
    link = re.search(re.escape(settings.DSAR_PUBLIC_URL) + r"(/confirm-agent/\S+/)", to_client[0].body).group(1)
    client_page = new_context().new_page()
    client_page.goto(link)
    assert "Sam Solicitor of Law & Co has asked" in client_page.locator("main").inner_text()
    assert_accessible(client_page, "subject confirmation")
    client_page.get_by_role("button", name="Yes, they act for me").click()
    assert "You confirmed that they act for you" in client_page.locator("#subject-answer").inner_text()
    assert SubjectConfirmation.objects.get().answer == SubjectConfirmation.Answer.CONFIRMED

    # The agent follows the request on its status page.
    page.get_by_role("link", name=request.reference).click()
    page.wait_for_url(f"**/status/{request.reference}/")
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert "we have your document" in page.locator("#identity-next-step").inner_text()


def test_an_agent_with_an_expired_code_and_a_forgotten_password_gets_back_in_with_the_second_factor(page, settings):
    """Every page on the way back in is checked with axe, in the states a locked-out agent meets."""
    page.goto("/agents/sign-up/")
    page.get_by_label("Your full name").fill("Sam Solicitor")
    page.get_by_label("Your e-mail address").fill(AGENT_EMAIL)
    page.get_by_label("Your role").fill("Solicitor")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Open account").click()
    page.wait_for_url("**/agents/confirm-email/")
    assert_accessible(page, "agent confirm e-mail")

    # The code expires before it is used; a new one, once the minute's wait is over.
    expired = confirmation_code(emails_to(AGENT_EMAIL)[-1])
    AgentCode.objects.update(
        created_at=timezone.now() - timedelta(minutes=16), expires_at=timezone.now() - timedelta(minutes=1)
    )
    page.get_by_label("Code").fill(expired)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#error-summary")).to_contain_text("You can ask for a new code below")
    assert_accessible(page, "agent confirm e-mail, expired code")
    page.get_by_role("button", name="Send me a new code").click()
    expect(page.locator(".messages")).to_contain_text("Please wait a minute")
    settings.DSAR_EMAIL_CODE_RESEND_SECONDS = 0
    page.get_by_role("button", name="Send me a new code").click()
    expect(page.locator(".messages")).to_contain_text("We have sent you a new code")
    assert_accessible(page, "agent confirm e-mail, new code sent")
    page.get_by_label("Code").fill(confirmation_code(emails_to(AGENT_EMAIL)[-1]))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/agents/sign-in/")

    # The password is forgotten.
    page.get_by_role("link", name="Forgotten your password?").click()
    page.wait_for_url("**/agents/password-reset/")
    assert_accessible(page, "agent password reset")
    page.get_by_label("Your e-mail address").fill("not an address")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("#error-summary")).to_contain_text("Enter a valid email address")
    expect(page.get_by_label("Your e-mail address")).to_have_value("not an address")
    assert_accessible(page, "agent password reset, with errors")
    page.get_by_label("Your e-mail address").fill(AGENT_EMAIL)
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_url("**/agents/password-reset/sent/")
    assert_accessible(page, "agent password reset, link sent")

    link = re.search(
        re.escape(settings.DSAR_PUBLIC_URL) + r"(/agents/password-reset/\S+/)", emails_to(AGENT_EMAIL)[-1].body
    )
    page.goto(link.group(1))
    page.wait_for_url("**/agents/password-reset/new/")
    assert_accessible(page, "agent new password")
    page.get_by_label(re.compile(r"^\s*New password")).fill("short")
    page.get_by_label("Type the new password again").fill("short")
    page.get_by_role("button", name="Change my password").click()
    expect(page.locator("#error-summary")).to_contain_text("This password is too short")
    expect(page.get_by_label(re.compile(r"^\s*New password"))).to_have_value("")
    assert_accessible(page, "agent new password, with errors")
    page.get_by_label(re.compile(r"^\s*New password")).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    page.wait_for_url("**/agents/sign-in/")
    expect(page.locator(".messages")).to_contain_text("Your password has been changed")

    # The link is spent.
    page.goto(link.group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    assert_accessible(page, "agent password reset, spent link")

    # The new password, then still the second factor.
    page.goto("/agents/sign-in/")
    page.get_by_label("E-mail address").fill(AGENT_EMAIL)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/agents/sign-in/code/")
    page.get_by_label("Code").fill(confirmation_code(emails_to(AGENT_EMAIL)[-1]))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/agents/")


def test_an_agent_turns_on_an_authenticator_keeps_recovery_codes_and_signs_in_with_one(page):
    """Confirming it is them, setting up the app, the codes shown once and a sign-in with one: all checked with axe."""
    page.goto("/agents/sign-up/")
    page.get_by_label("Your full name").fill("Sam Solicitor")
    page.get_by_label("Your e-mail address").fill(AGENT_EMAIL)
    page.get_by_label("Your role").fill("Solicitor")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Open account").click()
    page.get_by_label("Code").fill(confirmation_code(emails_to(AGENT_EMAIL)[-1]))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/agents/sign-in/")
    page.get_by_label("E-mail address").fill(AGENT_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(confirmation_code(emails_to(AGENT_EMAIL)[-1]))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/agents/")

    # Changing the second factor asks for the password first.
    page.get_by_role("link", name="Use an authenticator app instead").click()
    page.wait_for_url("**/agents/security/confirm/")
    page.get_by_label("Your password").fill("not the password")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#error-summary")).to_contain_text("The password or code is not right")
    assert_accessible(page, "agent re-authentication, with errors")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/agents/security/")
    assert_accessible(page, "agent authenticator set-up")
    secret = page.locator("code.reference").inner_text().strip()
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your authenticator app is set up")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page, "agent recovery codes")
    assert "Your sign-in settings changed" in [message.subject for message in emails_to(AGENT_EMAIL)]

    # The phone is lost: a recovery code signs in, once.
    page.get_by_role("link", name="I have kept them: back to your requests").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail address").fill(AGENT_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/agents/sign-in/code/")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/agents/")
    expect(page.locator("main")).to_contain_text("You have 9 recovery codes left.")
    page.get_by_role("link", name="Sign-in settings").click()
    page.wait_for_url("**/agents/security/confirm/")
    assert_accessible(page, "agent re-authentication with an app")
