"""Verification methods sit behind one interface; an organisation can add its own through settings."""

import pytest

from identity.methods import MethodOutcome, MethodResult, registered_methods
from identity.models import AssuranceLevel
from requests_app.models import Status
from tests.factories import confirmed_request, document_asked_request

pytestmark = pytest.mark.django_db


class LoyaltyCardCheck:
    """An organisation's own method: a loyalty card number it can check against its till system."""

    key = "loyalty_card"
    level = AssuranceLevel.RECORDS
    step = ""

    def attempt(self, request, verification) -> MethodResult:
        if request.identifiers.get("customer_number", "").startswith("LOYAL-"):
            return MethodResult(MethodOutcome.VERIFIED, "Loyalty card checked")
        return MethodResult(MethodOutcome.NOT_MET)

    def explanation(self, request) -> str:
        return ""


def test_the_shipped_methods_are_tried_weakest_first():
    assert [method.key for method in registered_methods()] == ["email", "records", "evidence"]


def test_an_organisation_adds_its_own_method_through_settings(settings):
    settings.DSAR_VERIFICATION_METHODS = [
        "identity.methods.email_possession.EmailPossession",
        f"{__name__}.LoyaltyCardCheck",
        "identity.methods.staff_evidence.StaffReviewedEvidence",
    ]
    verified = document_asked_request(email="stranger@example.com", identifiers={"customer_number": "LOYAL-42"})
    assert verified.status == Status.IN_PROGRESS
    assert verified.identity_verification.method == "loyalty_card"

    # When the new method cannot help, the next one (a document) is asked for.
    asked = confirmed_request(email="other@example.com", identifiers={"customer_number": "C-1"})
    assert asked.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert asked.identity_verification.step == "document"
