from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecipientNoticesConfig(AppConfig):
    name = "recipientnotices"
    verbose_name = _("Recipient notices")
