from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class FulfilmentConfig(AppConfig):
    name = "fulfilment"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        from casework.case_panels import CasePanel, case_panel_register
        from casework.roles import roles_ensure_after_migrate
        from requests_app.signals import request_status_changed

        from . import receivers, views

        # The request core's one domain event: a verified access or portability request going into progress is
        # planned here (IDs only; the work is a Celery task).
        request_status_changed.connect(receivers.request_status_changed, dispatch_uid="fulfilment_plan_on_progress")
        # Progress, failed searches and the search record on the case page (casework knows no fulfilment).
        case_panel_register(CasePanel("fulfilment/case_panel.html", views.case_panel))
        # A system owner's role holds this app's permission to work search tasks: set the roles again once it exists.
        post_migrate.connect(roles_ensure_after_migrate, sender=self, dispatch_uid="fulfilment_roles_ensure")
