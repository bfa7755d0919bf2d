from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoCrmConfig(AppConfig):
    """The demo organisation's own CRM: an outside system the portal searches through a connector, never a part
    of the portal (it imports none of the portal's apps; import-linter checks it)."""

    name = "democrm"
    verbose_name = _("Demo CRM (the demo organisation's own application)")
    default_auto_field = "django.db.models.BigAutoField"
