"""A document the person uploads, checked by staff (identity.services.verification_decide).

Only used when the policy calls for it or cheaper methods could not help; the
document is deleted soon after the decision.
"""

from django.utils.translation import gettext as _

from requests_app.models import RequesterRole

from ..models import AssuranceLevel, VerificationStep
from .base import MethodOutcome, MethodResult


class StaffReviewedEvidence:
    key = "evidence"
    level = AssuranceLevel.EVIDENCE
    step = VerificationStep.DOCUMENT

    def attempt(self, request, verification) -> MethodResult:
        return MethodResult(MethodOutcome.ASK, _("Document requested"))

    def explanation(self, request) -> str:
        if request.requester_role == RequesterRole.AGENT:
            return _(
                "Because you are acting for someone else, please send us proof of your authority: a letter of "
                "authority signed by the person, a lasting or enduring power of attorney, proof of parental "
                "responsibility, or a court order. You can upload it on the request's page. We check it and then "
                "delete it, keeping only a note that it was checked."
            )
        return _(
            "We could not confirm your identity from the details you gave us. To protect your information, "
            "please upload one document that shows your name and address, such as a recent utility bill or bank "
            "statement, or a photo ID. You only need to send one. We check it and then delete it, keeping only a "
            "note that it was checked."
        )
