"""A read-only view of complaints in the admin (staff work them in the staff area, /staff/complaints/): every change
goes through the services. The complainant's details, the complaint's text, notes and e-mails show only to staff with
``complaints.view_complainant_data`` (least privilege, Art. 5(1)(f) and 32)."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Complaint, ComplaintEvent, ComplaintMessage

HIDDEN = _("hidden: needs permission to see complainants' data")


def can_see_complainant_data(request: HttpRequest) -> bool:
    return request.user.has_perm("complaints.view_complainant_data")


class ReadOnly:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PersonalDataHidden:
    """``personal_fields`` show only to staff with the permission; others read that the value is hidden."""

    personal_fields: tuple[str, ...] = ()

    def get_fields(self, request: HttpRequest, obj=None):
        names = super().get_fields(request, obj)
        if can_see_complainant_data(request):
            return names
        return [name for name in names if name not in self.personal_fields] + ["hidden_personal_data"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [*super().get_readonly_fields(request, obj), "hidden_personal_data"]

    @admin.display(description=_("personal data"))
    def hidden_personal_data(self, obj) -> str:
        return HIDDEN


class EventInline(PersonalDataHidden, ReadOnly, admin.TabularInline):
    model = ComplaintEvent
    extra = 0
    fields = ("created_at", "kind", "from_status", "to_status", "actor_kind", "actor", "reason")
    readonly_fields = fields
    personal_fields = ("reason",)


class MessageInline(PersonalDataHidden, ReadOnly, admin.TabularInline):
    model = ComplaintMessage
    extra = 0
    fields = ("created_at", "kind", "subject", "body", "by_post", "sent_at", "delivery_failed_at", "posted_on")
    readonly_fields = fields
    personal_fields = ("body",)


@admin.register(Complaint)
class ComplaintAdmin(PersonalDataHidden, ReadOnly, admin.ModelAdmin):
    list_display = ("reference", "channel", "status", "received_on", "acknowledge_by", "request")
    list_filter = ("status", "channel")
    search_fields = ("reference",)
    ordering = ("acknowledge_by", "pk")
    fields = (
        "reference",
        "channel",
        "status",
        "received_at",
        "received_on",
        "acknowledge_by",
        "acknowledged_at",
        "resolved_at",
        "request",
        "logged_by",
        "complainant_name",
        "complainant_email",
        "postal_address",
        "notices_by_post",
        "text",
        "outcome",
    )
    readonly_fields = fields
    personal_fields = ("complainant_name", "complainant_email", "postal_address", "text", "outcome")
    inlines = [EventInline, MessageInline]
    list_select_related = ("request",)
