"""The demo CRM's records in the admin, so a demonstrator can look at what the portal will find."""

from django.contrib import admin

from .models import (
    Account,
    Customer,
    CustomerInsight,
    Event,
    MarketingPreference,
    Order,
    OrderLine,
    SupportTicket,
    TicketMessage,
)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["customer_number", "name", "email", "created", "restricted"]
    search_fields = ["customer_number", "email"]
    list_filter = ["restricted"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_number", "customer", "placed_at", "status", "total"]
    raw_id_fields = ["customer"]
    inlines = [OrderLineInline]


class TicketMessageInline(admin.TabularInline):
    model = TicketMessage
    extra = 0


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    list_display = ["reference", "customer", "subject", "status", "opened_at"]
    raw_id_fields = ["customer"]
    inlines = [TicketMessageInline]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["username", "customer", "plan", "status", "opened"]
    raw_id_fields = ["customer"]


@admin.register(MarketingPreference)
class MarketingPreferenceAdmin(admin.ModelAdmin):
    list_display = ["customer", "channel", "consent", "changed_at"]
    raw_id_fields = ["customer"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "occurred_at", "device"]
    raw_id_fields = ["customer"]
    list_filter = ["kind"]


@admin.register(CustomerInsight)
class CustomerInsightAdmin(admin.ModelAdmin):
    list_display = ["customer", "segment", "churn_risk", "computed_at"]
    raw_id_fields = ["customer"]
