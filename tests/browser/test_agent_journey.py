"""An agent signs up, signs in with a second factor, files for someone, and the subject confirms."""

import io
import re

import pytest
from PIL import Image

from identity.models import SubjectConfirmation
from requests_app.models import DataSubjectRequest, Status

from .support import assert_accessible, confirmation_code, emails_to

pytestmark = pytest.mark.django_db(transaction=True)

AGENT_EMAIL = "sam@lawfirm.example"
PASSWORD = "a long and unusual passphrase"


@pytest.fixture
def authority_letter(tmp_path):
    path = tmp_path / "letter-of-authority.png"
    image = Image.new("RGB", (200, 120), "white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_an_agent_files_for_a_client_who_confirms_by_email(page, new_context, authority_letter, settings):

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
    page.get_by_label("Their e-mail address (if they can be contacted)").fill("pat@example.com")
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
