from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Changes in data systems")

    def ready(self) -> None:
        from casework.case_panels import CasePanel, case_panel_register
        from casework.queue_flags import QueueFlag, queue_flag_register
        from casework.roles import roles_ensure_after_migrate
        from requests_app.signals import request_status_changed

        from . import receivers, selectors, views

        # An objection to direct marketing going into progress is carried out at once (GDPR Art. 21(3)).
        request_status_changed.connect(receivers.request_status_changed, dispatch_uid="changes_marketing_at_once")
        # Per run and system: status, rows, batches, results, approvals, retry (casework knows no changes).
        case_panel_register(CasePanel("changes/case_panel.html", views.case_panel))
        # The queue's "needs a human now" flags and filters: a failed change waiting for a retry, and a system owner's
        # change task past its due date (casework knows no change jobs).
        queue_flag_register(
            QueueFlag(
                name="change_job_failed",
                words=_("A change in a data system failed"),
                filter_label=_("With a failed change in a data system"),
                css_class="text-bg-danger",
                exists=selectors.failed_job_exists,
                request_ids=selectors.requests_with_failed_jobs,
            )
        )
        queue_flag_register(
            QueueFlag(
                name="change_task_overdue",
                words=_("A change task is overdue"),
                filter_label=_("With an overdue change task"),
                css_class="text-bg-warning",
                exists=selectors.overdue_task_exists,
                request_ids=selectors.requests_with_overdue_tasks,
            )
        )
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
