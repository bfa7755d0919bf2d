from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Changes in data systems")

    def ready(self) -> None:
        from casework.case_panels import CasePanel, case_panel_register
        from casework.roles import roles_ensure_after_migrate
        from requests_app.signals import request_status_changed

        from . import receivers, views

        # An objection to direct marketing going into progress is carried out at once (GDPR Art. 21(3)).
        request_status_changed.connect(receivers.request_status_changed, dispatch_uid="changes_marketing_at_once")
        # Per run and system: status, rows, batches, results, approvals, retry (casework knows no changes).
        case_panel_register(CasePanel("changes/case_panel.html", views.case_panel))
        # The roles hold this app's permissions (approve, approve large, work change tasks): set them again.
        post_migrate.connect(roles_ensure_after_migrate, sender=self, dispatch_uid="changes_roles_ensure")
