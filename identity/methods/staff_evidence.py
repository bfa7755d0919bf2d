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

    def reason(self, request, verification) -> str:
        """Why a document is needed, kept with the check (Art. 12(6) "reasonable doubts"; LAW.md I1)."""
        if request.requester_role == RequesterRole.AGENT:
            return _("Acting for someone else: the authority must be seen (Art. 12(6); ICO, requests made on behalf)")
        if verification.required_level >= AssuranceLevel.EVIDENCE:
            return _("The verification policy asks for a document for this kind of request")
        if verification.detail_attempts:
            return _("The details given did not match our records after %(count)s tries") % {
                "count": verification.detail_attempts
            }
        return _("Our records hold no identifier we could check instead")

    def explanation(self, request) -> str:
        if request.requester_role == RequesterRole.AGENT:
            return _(
                "Because you are acting for someone else, please send us proof of your authority: a letter of "
                "authority signed by the person, a lasting or enduring power of attorney, proof of parental "
                "responsibility, or a court order. You can upload it on the request's page. You may black out "
                "anything in it that we do not need to see. We check it and then delete it, keeping only a note "
                "that it was checked."
            )
        return _(
            "We could not confirm your identity from the details you gave us. To protect your information, "
            "please upload one document that shows your name and address, such as a recent utility bill or bank "
            "statement, or a photo ID. You only need to send one. Please cover or black out anything we do not "
            "need to see (account numbers, transactions, other people's details, your photo ID's number): we only "
            "need your name and address. We check it and then delete it, keeping only a note that it was "
            "checked."
        )
