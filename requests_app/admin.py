"""Staff view of requests until the case-handling dashboard lands.

Read-only: every change goes through the services (and so the workflow and
the audit trail). Personal data shows only to staff with the permission
``requests_app.view_personal_data`` (least privilege, Art. 5(1)(f) and 32): what
the requester told us, the reasons in the audit trail (typed by the requester or
by staff about them) and the bodies of messages; everyone else sees that the
field is there but hidden.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import DataSubjectRequest, DueDateChange, HolidayOverride, Message, RequestEvent

PERSONAL_FIELDS = ("requester_name", "requester_email", "identifiers", "details", "description")
HIDDEN = _("hidden: needs permission to see personal data")


def can_see_personal_data(request: HttpRequest) -> bool:
    return request.user.has_perm("requests_app.view_personal_data")


class PersonalDataHidden:
    """Shows ``personal_fields`` only to staff who may see personal data; others get ``hidden_<field>``, a
    read-only column that says the value is hidden (each admin defines it with the field's label)."""

    personal_fields: tuple[str, ...] = ()

    def _hide(self, request: HttpRequest, names) -> list:
        if can_see_personal_data(request):
            return list(names)
        return [f"hidden_{name}" if name in self.personal_fields else name for name in names]

    def get_fields(self, request: HttpRequest, obj=None):
        return self._hide(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self._hide(request, super().get_readonly_fields(request, obj))


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EventInline(PersonalDataHidden, ReadOnlyInline):
    model = RequestEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor_kind", "actor", "reason")
    readonly_fields = fields
    # Reasons are free text, often the requester's own words (a withdrawal, a reply).
    personal_fields = ("reason",)

    @admin.display(description=_("reason"))
    def hidden_reason(self, obj: RequestEvent) -> str:
        return HIDDEN if obj.reason else ""


class DueDateChangeInline(ReadOnlyInline):
    model = DueDateChange
    fields = ("created_at", "event", "previous_due_on", "due_on", "target_on")
    readonly_fields = fields


class MessageInline(PersonalDataHidden, ReadOnlyInline):
    model = Message
    fields = ("created_at", "direction", "kind", "subject", "body", "sent_at")
    readonly_fields = fields
    # Subjects are our own wording and the reference; bodies greet the person by name or are their own reply.
    personal_fields = ("body",)

    @admin.display(description=_("body"))
    def hidden_body(self, obj: Message) -> str:
        return HIDDEN


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(PersonalDataHidden, admin.ModelAdmin):
    list_display = ("reference", "right", "status", "received_at", "target_on", "due_on", "jurisdiction")
    list_filter = ("status", "right", "jurisdiction", "requester_role")
    search_fields = ("reference",)
    date_hierarchy = "received_at"
    inlines = [DueDateChangeInline, MessageInline, EventInline]

    personal_fields = PERSONAL_FIELDS

    def get_fields(self, request: HttpRequest, obj=None):
        fields = [
            "reference",
            "right",
            "status",
            *PERSONAL_FIELDS,
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
            "refusal_exemption",
            "refusal_reference",
            "neither_confirm_nor_deny",
            "answered_on",
            "answered_late",
            "closed_at",
        ]
        return self._hide(request, fields)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("requester name"))
    def hidden_requester_name(self, obj: DataSubjectRequest) -> str:
        return HIDDEN

    @admin.display(description=_("requester e-mail"))
    def hidden_requester_email(self, obj: DataSubjectRequest) -> str:
        return HIDDEN

    @admin.display(description=_("identifiers"))
    def hidden_identifiers(self, obj: DataSubjectRequest) -> str:
        return HIDDEN

    @admin.display(description=_("details"))
    def hidden_details(self, obj: DataSubjectRequest) -> str:
        return HIDDEN

    @admin.display(description=_("description"))
    def hidden_description(self, obj: DataSubjectRequest) -> str:
        return HIDDEN

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    """The DPO adds or removes a public holiday for a jurisdiction, with the reason (LAW.md D6). Due dates computed
    afterwards use it and record it (``DueDateChange.calendar``); dates already set are not moved."""

    list_display = ["jurisdiction", "day", "is_holiday", "reason", "created_by", "created_at"]
    list_filter = ["jurisdiction", "is_holiday"]
    fields = ["jurisdiction", "day", "is_holiday", "reason"]

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
