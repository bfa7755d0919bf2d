"""Staff view of requests until the case-handling dashboard lands.

Read-only: every change goes through the services (and so the workflow and
the audit trail). Personal data shows only to staff with the permission.
"""

from django.contrib import admin
from django.http import HttpRequest

from .models import DataSubjectRequest, DueDateChange, Message, RequestEvent

PERSONAL_FIELDS = ("requester_name", "requester_email", "identifiers", "details", "description")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = RequestEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor_kind", "actor", "reason")
    readonly_fields = fields


class DueDateChangeInline(ReadOnlyInline):
    model = DueDateChange
    fields = ("created_at", "event", "previous_due_on", "due_on", "target_on")
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "direction", "kind", "subject", "sent_at")
    readonly_fields = fields


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = ("reference", "right", "status", "received_at", "target_on", "due_on", "jurisdiction")
    list_filter = ("status", "right", "jurisdiction", "requester_role")
    search_fields = ("reference",)
    date_hierarchy = "received_at"
    inlines = [DueDateChangeInline, MessageInline, EventInline]

    def get_fields(self, request: HttpRequest, obj=None):
        fields = [
            "reference",
            "right",
            "status",
            "requester_role",
            "jurisdiction",
            "received_at",
            "email_confirmed_at",
            "clock_started_on",
            "clock_paused_on",
            "clock_pause_reason",
            "paused_days",
            "extension_months",
            "target_on",
            "due_on",
            "outcome",
            "refusal_ground",
            "closed_at",
        ]
        if request.user.has_perm("requests_app.view_personal_data"):
            fields[3:3] = PERSONAL_FIELDS
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
