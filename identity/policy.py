"""How much assurance each request needs before the organisation acts on it (see VerificationPolicy)."""

from requests_app.models import DataSubjectRequest, RequesterRole, Right
from requests_app.scope import ObjectionScope, scope_of

from .models import AssuranceLevel, VerificationPolicy

_LEVEL_FIELD = {
    Right.ACCESS: "access_level",
    Right.PORTABILITY: "portability_level",
    Right.ERASURE: "erasure_level",
    Right.RECTIFICATION: "rectification_level",
    Right.RESTRICTION: "restriction_level",
    Right.CONSENT_WITHDRAWAL: "consent_withdrawal_level",
    Right.AUTOMATED_DECISION: "automated_decision_level",
}


def policy_get() -> VerificationPolicy:
    policy = VerificationPolicy.objects.order_by("pk").first()
    if policy is None:
        policy, _ = VerificationPolicy.objects.get_or_create(pk=1)
    return policy


def required_level(request: DataSubjectRequest, policy: VerificationPolicy | None = None) -> AssuranceLevel:
    policy = policy or policy_get()
    scope = scope_of(request)
    if isinstance(scope, ObjectionScope) and scope.is_direct_marketing:
        # GDPR Art. 21(3): a direct-marketing objection is absolute and stopping marketing harms no one if the person
        # is not who they say, so a confirmed e-mail is enough whatever box was ticked: no identity document, even
        # where the person said the request is about special category data (LAW.md §4, §6(e); EDPB Guidelines
        # 01/2022 §3 and the ICO ask for proportionate checks).
        level = AssuranceLevel.EMAIL
    else:
        if isinstance(scope, ObjectionScope):
            level = policy.objection_other_level
        else:
            level = getattr(policy, _LEVEL_FIELD[request.right])
        if scope.special_category_data:
            level = max(level, policy.sensitive_data_level)
    if request.requester_role == RequesterRole.AGENT:
        # Acting for someone else: staff must see the authority, whatever the right.
        level = AssuranceLevel.EVIDENCE
    return AssuranceLevel(level)
