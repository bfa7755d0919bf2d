"""The demo CRM's records in the admin, so a demonstrator can look at what the portal will find and change.

A restricted customer (GDPR Art. 18(1)-(2): their data may only be stored) is shown as such and cannot be edited or
deleted here, nor can the records that belong to them.
"""

from django.contrib import admin, messages
from django.http import HttpRequest

from .models import (
    Account,
    AdAudienceMember,
    Customer,
    CustomerInsight,
    Event,
    MarketingPreference,
    MarketingProfile,
    Order,
    OrderLine,
    SupplementaryStatement,
    SupportTicket,
    TicketMessage,
)

RESTRICTED_MESSAGE = (
    "Processing of this customer's data is restricted (GDPR Art. 18): it is stored only, and cannot be changed here."
)


def _customer_of(obj: object) -> Customer | None:
    """The customer a record belongs to (orders, accounts, preferences, tickets, events, insights all name one)."""
    return obj if isinstance(obj, Customer) else getattr(obj, "customer", None)


class StorageOnlyWhenRestricted(admin.ModelAdmin):
    """Art. 18(2): while restricted, the data is stored, not changed: view only, with a notice saying why."""

    def _restricted(self, obj: object) -> bool:
        customer = _customer_of(obj) if obj is not None else None
        return bool(customer and customer.restricted)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_change_permission(request, obj) and not self._restricted(obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._restricted(obj)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):  # noqa: ANN001, ANN201
        obj = self.get_object(request, object_id)
        if self._restricted(obj):
            messages.warning(request, RESTRICTED_MESSAGE)
        return super().change_view(request, object_id, form_url, extra_context)


class SupplementaryStatementInline(admin.TabularInline):
    model = SupplementaryStatement
    extra = 0
    readonly_fields = ["statement", "received_at"]
    can_delete = False


@admin.register(Customer)
class CustomerAdmin(StorageOnlyWhenRestricted):
    list_display = ["customer_number", "name", "email", "created", "processing"]
    search_fields = ["customer_number", "email"]
    list_filter = ["restricted"]
    inlines = [SupplementaryStatementInline]

    @admin.display(description="Processing", ordering="restricted")
    def processing(self, customer: Customer) -> str:
        return "RESTRICTED: storage only (Art. 18)" if customer.restricted else "In use"


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(StorageOnlyWhenRestricted):
    list_display = ["order_number", "customer", "placed_at", "status", "total"]
    raw_id_fields = ["customer"]
    inlines = [OrderLineInline]


class TicketMessageInline(admin.TabularInline):
    model = TicketMessage
    extra = 0


@admin.register(SupportTicket)
class SupportTicketAdmin(StorageOnlyWhenRestricted):
    list_display = ["reference", "customer", "subject", "status", "opened_at"]
    raw_id_fields = ["customer"]
    inlines = [TicketMessageInline]


@admin.register(Account)
class AccountAdmin(StorageOnlyWhenRestricted):
    list_display = ["username", "customer", "plan", "status", "opened"]
    raw_id_fields = ["customer"]


@admin.register(MarketingPreference)
class MarketingPreferenceAdmin(StorageOnlyWhenRestricted):
    list_display = ["customer", "channel", "consent", "changed_at"]
    raw_id_fields = ["customer"]


@admin.register(Event)
class EventAdmin(StorageOnlyWhenRestricted):
    list_display = ["customer", "kind", "occurred_at", "device"]
    raw_id_fields = ["customer"]
    list_filter = ["kind"]


@admin.register(CustomerInsight)
class CustomerInsightAdmin(StorageOnlyWhenRestricted):
    list_display = ["customer", "segment", "churn_risk", "computed_at"]
    raw_id_fields = ["customer"]


@admin.register(MarketingProfile)
class MarketingProfileAdmin(StorageOnlyWhenRestricted):
    list_display = ["customer", "segment", "offer_propensity", "profiling_stopped", "computed_at"]
    raw_id_fields = ["customer"]
    list_filter = ["profiling_stopped", "segment"]


@admin.register(AdAudienceMember)
class AdAudienceMemberAdmin(StorageOnlyWhenRestricted):
    list_display = ["customer", "audience", "platform", "excluded", "added_at"]
    raw_id_fields = ["customer"]
    list_filter = ["audience", "excluded"]
