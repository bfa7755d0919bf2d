"""The test factories make rows that the portal itself can use: a signed-in agent, a readable document, a live link."""

import pytest
from django.test import Client
from django.urls import reverse

from identity import services as identity_services
from requests_app import documents
from requests_app.models import RequesterRole
from requests_app.scope import agent_authority_of
from tests.factories import (
    AGENT_PASSWORD,
    AgentFactory,
    AgentFilingFactory,
    EvidenceCheckFactory,
    IdentityVerificationFactory,
    MessageFactory,
    RequestDocumentFactory,
    SubjectConfirmationFactory,
    png_bytes,
)

pytestmark = pytest.mark.django_db


def test_a_factory_agent_can_sign_in_with_its_password(mailoutbox):
    agent = AgentFactory(email="sol@lawfirm.example")
    response = Client().post(reverse("agents:sign_in"), {"email": "sol@lawfirm.example", "password": AGENT_PASSWORD})
    assert response["Location"] == reverse("agents:second_factor")
    assert agent.email == "sol@lawfirm.example" and agent.user.email == "" and agent.email_confirmed_at is not None


def test_a_factory_filing_is_an_agents_request_on_their_dashboard():
    filing = AgentFilingFactory()
    assert filing.request.requester_role == RequesterRole.AGENT
    assert filing.request.requester_email == filing.agent.email
    assert agent_authority_of(filing.request).subject_name == "Pat Client"
    assert list(filing.agent.filings.all()) == [filing]


def test_a_factory_document_is_stored_encrypted_and_opens():
    document = RequestDocumentFactory()
    assert documents.document_read(document) == png_bytes()
    assert document.size > 0 and document.content_type == "image/png"


def test_a_factory_subject_confirmation_answers_to_its_token():
    confirmation = SubjectConfirmationFactory(token="known-token")
    assert identity_services.subject_confirmation_for_token(token="known-token") == confirmation


def test_the_other_factories_make_rows_tied_to_one_request():
    verification = IdentityVerificationFactory()
    check = EvidenceCheckFactory(request=verification.request)
    message = MessageFactory(request=verification.request)
    assert verification.request.identity_verification == verification
    assert list(verification.request.evidence_checks.all()) == [check]
    assert check.checked_by_name == "Jo Smith"
    assert verification.request.reference in message.subject
