from django.contrib import admin

from .models import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("pk", "organisation_name", "role", "email_confirmed_at", "created_at")
    fields = ("organisation_name", "role", "email_confirmed_at", "created_at")
    readonly_fields = ("email_confirmed_at", "created_at")

    def has_add_permission(self, request) -> bool:
        return False
