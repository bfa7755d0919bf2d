"""The portal's own records kept no longer than needed (GDPR Art. 5(1)(e)): the retention schedule and legal
holds, issue 13."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Retention")

    def ready(self) -> None:
        from casework.case_panels import CasePanel, case_panel_register
        from casework.metrics import kept_figures_register
        from casework.roles import roles_ensure_after_migrate
        from identity.notice_periods import notice_periods_register
        from requests_app.retention_holds import held_condition_register

        from . import selectors, services, views

        # The legal holds of a case on its page (casework knows no retention).
        case_panel_register(CasePanel("retention/case_panel.html", views.case_panel))
        # Deleted cases still count in the DPO's figures (casework.metrics reads what is registered).
        kept_figures_register(selectors.kept_figures_between)
        # A held case keeps its supporting documents too (requests_app's own sweep asks).
        held_condition_register(services.held_condition)
        # The privacy notice states the periods of the schedule in force (identity renders it).
        notice_periods_register(selectors.notice_periods)
        # Case handlers place holds: the roles are set again once this app's permissions exist.
        post_migrate.connect(roles_ensure_after_migrate, sender=self, dispatch_uid="retention_roles_ensure")
