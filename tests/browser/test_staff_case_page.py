"""The case page's panels in Chromium, without JavaScript doing anything for them, with axe on each state (issue 11):
the identity check decided from its panel, a message from a template, an internal note, and the DPO's templates."""

import importlib
import re

import pytest
from playwright.sync_api import Page, expect

from identity import services as identity_services
from requests_app.models import DocumentPurpose
from tests.factories import document_asked_request, in_progress_request, png_upload

from .support import assert_accessible
from .test_staff_accessibility import signed_in_dpo  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def default_templates(transactional_db):
    """The templates the data migration seeds (a transactional test's flush removes them)."""
    from django.apps import apps

    seeding = importlib.import_module("casework.migrations.0006_default_message_templates")
    seeding.add_defaults(apps, None)


def test_the_identity_panel_decides_from_the_case_page(signed_in_dpo: Page):  # noqa: F811
    request = document_asked_request(email="stranger@example.com")
    identity_services.request_evidence_upload(
        request=request, document=png_upload(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
    )
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")
    expect(page.get_by_role("heading", name="Identity verification")).to_be_visible()
    expect(
        page.get_by_role("link", name="View (asks for your second factor again if needed; recorded in the audit trail)")
    ).to_be_visible()
    expect(page.get_by_text("Document received:").first).to_be_visible()
    page.get_by_text("Decide the identity check").click()
    assert_accessible(page, "the case page with the identity panel open")

    page.get_by_label("More evidence needed: tell the person what and why").check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Check the identity decision: it was not recorded.")).to_be_visible()
    assert_accessible(page, "the identity decision sent back with what to fix")

    page.get_by_label("More evidence needed: tell the person what and why").check()
    page.get_by_label("Message to the person").fill("A clearer photo of the passport page, please.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text(f"Decision recorded for {request.reference}.")).to_be_visible()


def test_a_message_from_a_template_and_a_note_land_in_the_timeline(signed_in_dpo: Page):  # noqa: F811
    request = in_progress_request(name="Grace Hopper")
    page = signed_in_dpo
    page.goto(f"/staff/requests/{request.reference}/")

    page.get_by_text("Message the requester").click()
    page.get_by_label("Start from a template").select_option(label="Asking for a call-back")
    page.get_by_role("button", name="Use this template").click()
    body = page.locator("#id_message-body")
    # The template's text, with the person's name and the reference filled in.
    expect(body).to_have_value(
        re.compile(rf"^Dear Grace Hopper,\n\nWe would like to speak to you about your request {request.reference}, ")
    )
    assert_accessible(page, "the message form prefilled from a template")
    body.fill("Dear Grace Hopper,\n\nCould you call us on 0800 000 000 about your request?")
    page.get_by_role("button", name="Send the message").click()
    expect(page.get_by_text("The message is sent to the requester and is on their status page.")).to_be_visible()
    expect(page.get_by_text(f"Could we speak to you about your request? ({request.reference})")).to_be_visible()

    page.get_by_text("Add an internal note").click()
    page.get_by_label("Note (kept in the case file, never sent to the person)").fill("She prefers mornings.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_text("The note is added to the case file.")).to_be_visible()
    expect(page.get_by_text("She prefers mornings.")).to_be_visible()
    assert_accessible(page, "the case page with a note and a message in its timeline")


def test_the_dpo_edits_the_message_templates(signed_in_dpo: Page):  # noqa: F811
    page = signed_in_dpo
    page.get_by_role("link", name="Message templates").click()
    expect(page.get_by_role("heading", name="Message templates", level=1)).to_be_visible()
    assert_accessible(page, "the templates list")
    page.get_by_role("link", name="Update on progress").click()
    page.get_by_label("Subject (English) (required)").fill("")
    page.get_by_role("button", name="Save the template").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page, "the template form with what to fix")
    page.get_by_label("Subject (English) (required)").fill("How your request is going")
    page.get_by_role("button", name="Save the template").click()
    expect(page.get_by_text("Template 'Update on progress' saved.")).to_be_visible()
    expect(page.get_by_role("cell", name="How your request is going")).to_be_visible()
