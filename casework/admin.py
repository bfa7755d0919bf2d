"""The admin's user pages, with roles left to the people page.

Roles and whether an account is active are changed only on /staff/people/, behind a fresh second factor and with
every change in ``StaffRoleChange`` (GDPR Art. 5(2), accountability; Art. 32(4)). The stock user admin would let
anyone who may change users give themselves or others any group, unlogged and without step-up, so here those
fields are read only and say where they are changed.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

User = get_user_model()

ROLE_FIELDS = ("is_active", "is_superuser", "groups", "user_permissions")


class StaffUserAdmin(UserAdmin):
    readonly_fields = (*UserAdmin.readonly_fields, *ROLE_FIELDS, "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (
            _("Roles (changed on the staff area's People page, with a second factor, and logged)"),
            {"fields": ("is_staff", *ROLE_FIELDS)},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    actions = None


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
