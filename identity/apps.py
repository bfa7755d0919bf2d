from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = _("Identity")

    def ready(self) -> None:
        from requests_app.models import Status
        from requests_app.status_page import StatusPanel, panel_register

        from . import views
        from .services import verification_methods_check

        # A list of verification methods that cannot work is the operator's mistake: say so at start-up, not with
        # an error page when someone confirms their address.
        verification_methods_check()
        # What the person does on their status page while identity waits for them.
        panel_register(
            Status.AWAITING_EMAIL_CONFIRMATION,
            StatusPanel("identity/status_confirm_email.html", views.confirm_email_panel),
        )
        panel_register(
            Status.AWAITING_IDENTITY_VERIFICATION,
            StatusPanel("identity/status_identity.html", views.identity_panel),
        )
