from django.contrib import admin

from .models import Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "jurisdiction", "dpo_email")

    def has_add_permission(self, request) -> bool:
        # One organisation per portal.
        return not Organisation.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
