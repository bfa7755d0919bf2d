"""How much assurance each request needs before the organisation acts on it (see VerificationPolicy)."""

from requests_app.models import DataSubjectRequest, RequesterRole, Right

from .models import AssuranceLevel, VerificationPolicy

_LEVEL_FIELD = {
    Right.ACCESS: "access_level",
    Right.PORTABILITY: "portability_level",
    Right.ERASURE: "erasure_level",
    Right.RECTIFICATION: "rectification_level",
    Right.RESTRICTION: "restriction_level",
}


def policy_get() -> VerificationPolicy:
    policy = VerificationPolicy.objects.order_by("pk").first()
    if policy is None:
        policy, _ = VerificationPolicy.objects.get_or_create(pk=1)
    return policy


def required_level(request: DataSubjectRequest, policy: VerificationPolicy | None = None) -> AssuranceLevel:
    policy = policy or policy_get()
    if request.right == Right.OBJECTION:
        marketing = request.details.get("objection_type") == "direct_marketing"
        level = policy.objection_marketing_level if marketing else policy.objection_other_level
    else:
        level = getattr(policy, _LEVEL_FIELD[request.right])
    if request.details.get("special_category_data"):
        level = max(level, policy.sensitive_data_level)
    if request.requester_role == RequesterRole.AGENT:
        # Acting for someone else: staff must see the authority, whatever the right.
        level = AssuranceLevel.EVIDENCE
    return AssuranceLevel(level)


def identity_check_needed(request: DataSubjectRequest) -> bool:
    return required_level(request) > AssuranceLevel.EMAIL
