"""The register in the admin, for configuration; the DPO's everyday editing is in the staff area (/staff/systems/)."""

from django.contrib import admin

from .models import DataSystem, PrivacyNoticeVersion, Purpose, Recipient, RegisterChange, SystemRecipient, Transfer


class PurposeInline(admin.TabularInline):
    model = Purpose
    extra = 0


class SystemRecipientInline(admin.TabularInline):
    model = SystemRecipient
    extra = 0


class TransferInline(admin.TabularInline):
    model = Transfer
    extra = 0


@admin.register(DataSystem)
class DataSystemAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "connector", "active")
    list_filter = ("active", "connector")
    inlines = [PurposeInline, SystemRecipientInline, TransferInline]


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country")


@admin.register(PrivacyNoticeVersion)
class PrivacyNoticeVersionAdmin(admin.ModelAdmin):
    """Read only: a published version is a snapshot of what people were told (GDPR Art. 5(2))."""

    list_display = ("number", "published_at", "published_by", "summary")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RegisterChange)
class RegisterChangeAdmin(admin.ModelAdmin):
    """Read only: the register's history (GDPR Art. 5(2))."""

    list_display = ("at", "actor", "system", "action", "detail")
    list_filter = ("action",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
