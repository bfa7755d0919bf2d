"""The details the person gave match the organisation's own records (identity.matching)."""

from django.utils.translation import gettext as _

from ..matching import MatchResult, MatchStrength, get_matcher
from ..models import AssuranceLevel, VerificationStep
from .base import MethodOutcome, MethodResult


class RecordsMatch:
    key = "records"
    level = AssuranceLevel.RECORDS
    step = VerificationStep.MORE_DETAILS

    def attempt(self, request, verification, identifiers: dict | None = None) -> MethodResult:
        result = self.match(request, identifiers)
        verification.records_match = result.strength.value
        if result.strength is MatchStrength.FULL:
            details = ", ".join(sorted(result.matched_details))
            return MethodResult(MethodOutcome.VERIFIED, _("Matched our records: %(details)s") % {"details": details})
        if result.strength is MatchStrength.PARTIAL:
            # The confirmed address is known: one more detail is far less to ask than a document.
            return MethodResult(MethodOutcome.ASK, _("Partial match with our records"))
        return MethodResult(MethodOutcome.NOT_MET, _("No match with our records"))

    def match(self, request, identifiers: dict | None = None) -> MatchResult:
        merged = {**request.identifiers, **{k: v for k, v in (identifiers or {}).items() if v}}
        return get_matcher().match(email=request.requester_email, identifiers=merged)

    def explanation(self, request) -> str:
        return _(
            "To make sure we only ever give your information to you, please confirm one more detail we hold "
            "about you: your customer number, your phone number or your postcode. You can enter it on your "
            "request's page."
        )
