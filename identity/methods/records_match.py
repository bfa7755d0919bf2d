"""The details the person gave match the organisation's own records (identity.matching)."""

from django.conf import settings
from django.utils.translation import gettext as _

from ..matching import IDENTIFIER_LABELS, MatchResult, MatchStrength, get_matcher
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
        if get_matcher().identifiers_held() and settings.DSAR_MAX_DETAIL_ATTEMPTS > 0:
            # The address is not in our records: the person may be known under other identifiers we hold. Ask for
            # those before any document (EDPB Guidelines 01/2022 §3, an ID copy only where strictly necessary;
            # LAW.md I1).
            return MethodResult(MethodOutcome.ASK, _("No match with our records yet: other identifiers asked"))
        return MethodResult(MethodOutcome.NOT_MET, _("No match with our records"))

    def match(self, request, identifiers: dict | None = None) -> MatchResult:
        merged = {**request.identifiers, **{k: v for k, v in (identifiers or {}).items() if v}}
        return get_matcher().match(email=request.requester_email, identifiers=merged)

    def explanation(self, request) -> str:
        held = [_(IDENTIFIER_LABELS[name]) for name in get_matcher().identifiers_held() if name in IDENTIFIER_LABELS]
        return _(
            "To make sure we only ever give your information to you, please give us details we hold about you: "
            "%(held)s. You can enter them on your request's page. We ask for a document only if these do not "
            "let us find you."
        ) % {"held": _(", or ").join(held) if held else _("your customer number")}
