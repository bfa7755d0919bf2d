from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Changes in data systems")

    def ready(self) -> None:
        self._decisions_ready()

    def _decisions_ready(self) -> None:
        """The decisions on restriction, objection and rectification (changes.restrictions, .objections,
        .rectifications): their panels on the case page, and the domain events that drive them (IDs only)."""
        from casework.case_panels import CasePanel, case_panel_register
        from requests_app.signals import request_status_changed

        from . import receivers_decisions, views_decisions
        from .signals import change_run_finished

        # GDPR Art. 21(3): a marketing objection in progress is suppressed at once; Art. 18(1)(a): a rectification
        # asking for it is restricted while its accuracy is checked.
        request_status_changed.connect(
            receivers_decisions.request_status_changed, dispatch_uid="changes_decisions_on_progress"
        )
        # A restriction goes in force or is lifted, an objection or a rectification is completed, when its run ends.
        change_run_finished.connect(receivers_decisions.change_run_finished, dispatch_uid="changes_decisions_run_end")
        for template, context in (
            ("changes/decisions/restriction_panel.html", views_decisions.restriction_panel),
            ("changes/decisions/objection_panel.html", views_decisions.objection_panel),
            ("changes/decisions/rectification_panel.html", views_decisions.rectification_panel),
        ):
            case_panel_register(CasePanel(template, context))
