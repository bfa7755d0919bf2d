"""The person controls the e-mail address: proven at intake by a one-time code (identity.services)."""

from django.utils.translation import gettext as _

from ..models import AssuranceLevel
from .base import MethodOutcome, MethodResult


class EmailPossession:
    key = "email"
    level = AssuranceLevel.EMAIL
    step = ""

    def attempt(self, request, verification) -> MethodResult:
        if request.email_confirmed_at is not None:
            return MethodResult(MethodOutcome.VERIFIED, _("E-mail address confirmed"))
        return MethodResult(MethodOutcome.NOT_MET)

    def explanation(self, request) -> str:
        return ""
