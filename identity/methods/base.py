import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from requests_app.models import DataSubjectRequest

    from ..models import IdentityVerification


class MethodOutcome(enum.Enum):
    VERIFIED = "verified"  # this method proves identity to its level
    ASK = "ask"  # the person must do something (the method's step)
    NOT_MET = "not_met"  # this method cannot help; try the next one


@dataclass(frozen=True)
class MethodResult:
    outcome: MethodOutcome
    summary: str = ""  # for the audit trail; never personal data


class VerificationMethod(Protocol):
    key: str  # stored in IdentityVerification.method
    level: int  # the AssuranceLevel it gives when it verifies
    step: str  # the VerificationStep it asks the person for, or "" if it needs nothing from them

    def attempt(self, request: "DataSubjectRequest", verification: "IdentityVerification") -> MethodResult:
        """Try the method without the person's help, or say that it needs them."""
        ...

    def explanation(self, request: "DataSubjectRequest") -> str:
        """What we tell the person to do, and why, when the method asks them."""
        ...
