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
        self._decisions_ready()

    def _decisions_ready(self) -> None:
        """The decisions on restriction, objection and rectification (changes.restrictions, .objections,
        .rectifications): their panels on the case page, and the domain events that drive them (IDs only)."""
        from casework.case_panels import CasePanel, case_panel_register
        from requests_app.signals import request_status_changed

        from . import receivers_decisions, views_decisions
        from .signals import change_run_finished

        # GDPR Art. 18(1)(a): a rectification asking for it is restricted while its accuracy is checked.
        request_status_changed.connect(
            receivers_decisions.request_status_changed, dispatch_uid="changes_decisions_on_progress"
        )
        # A restriction goes in force or is lifted, an objection (its marketing suppression, started by the engine,
        # or an upheld one) or a rectification is completed, when its run ends.
        change_run_finished.connect(receivers_decisions.change_run_finished, dispatch_uid="changes_decisions_run_end")
        for template, context in (
            ("changes/decisions/restriction_panel.html", views_decisions.restriction_panel),
            ("changes/decisions/objection_panel.html", views_decisions.objection_panel),
            ("changes/decisions/rectification_panel.html", views_decisions.rectification_panel),
        ):
            case_panel_register(CasePanel(template, context))
