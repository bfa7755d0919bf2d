from django.contrib import admin

from .models import EvidenceCheck, IdentityVerification, VerificationPolicy


@admin.register(VerificationPolicy)
class VerificationPolicyAdmin(admin.ModelAdmin):
    """The DPO decides how much assurance each kind of request needs."""

    fieldsets = [
        (
            "Assurance needed per request",
            {
                "fields": [
                    "access_level",
                    "portability_level",
                    "erasure_level",
                    "rectification_level",
                    "restriction_level",
                    "objection_marketing_level",
                    "objection_other_level",
                    "sensitive_data_level",
                ]
            },
        ),
        (
            "Evidence and time-outs",
            {"fields": ["evidence_retention_hours", "response_timeout_days", "reminder_days_before_timeout"]},
        ),
    ]

    def has_add_permission(self, request) -> bool:
        return not VerificationPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(ReadOnlyAdmin):
    list_display = ("request", "required_level", "achieved_level", "status", "step", "method", "decided_at")
    list_filter = ("status", "step", "required_level")
    exclude = ("request_to_requester",)


@admin.register(EvidenceCheck)
class EvidenceCheckAdmin(ReadOnlyAdmin):
    list_display = ("request", "document_kind", "outcome", "checked_by_name", "checked_at", "evidence_deleted_at")
