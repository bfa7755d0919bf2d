from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class FulfilmentConfig(AppConfig):
    name = "fulfilment"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        from agents.dashboard import dashboard_notes_register
        from casework.case_panels import CasePanel, case_panel_register
        from casework.queue_flags import QueueFlag, queue_flag_register
        from casework.roles import roles_ensure_after_migrate
        from requests_app.models import Status
        from requests_app.signals import request_status_changed
        from requests_app.status_page import StatusPanel, panel_register

        from . import receivers, selectors, views, views_delivery, views_transmission

        # The request core's one domain event: a verified access or portability request going into progress is
        # planned here (IDs only; the work is a Celery task).
        request_status_changed.connect(receivers.request_status_changed, dispatch_uid="fulfilment_plan_on_progress")
        # Progress, failed searches and the search record on the case page (casework knows no fulfilment).
        case_panel_register(CasePanel("fulfilment/case_panel.html", views.case_panel))
        # Secure delivery: the released answer, its downloads and further copies on the case page; on the status
        # page while the request is in progress (an answer released before the request is closed) and once it is
        # completed; and a note on the agent's dashboard when the answer goes to the agent.
        case_panel_register(CasePanel("fulfilment/delivery_case_panel.html", views_delivery.case_panel))
        for status in (Status.IN_PROGRESS, Status.COMPLETED):
            panel_register(status, StatusPanel("fulfilment/delivery_status_panel.html", views_delivery.status_panel))
        dashboard_notes_register(views_delivery.agent_dashboard_notes)
        # A further copy whose first copy's archive has expired is built again by the review's release builder.
        from .delivery import release_builder_register
        from .review import release_build_enqueue

        release_builder_register(release_build_enqueue)
        # GDPR Art. 20(2): the feasibility decision and the sending, on a portability request asking for it.
        case_panel_register(CasePanel("fulfilment/transmission_panel.html", views_transmission.transmission_panel))
        # The queue's "needs a human now" flag and filter for a failed search (issue 11; casework knows no jobs).
        queue_flag_register(
            QueueFlag(
                name="fulfilment_task_failed",
                words=_("A fulfilment task failed"),
                filter_label=_("With a failed fulfilment task"),
                css_class="text-bg-danger",
                exists=selectors.failed_job_exists,
                request_ids=selectors.requests_with_failed_jobs,
            )
        )
        # A system owner's role holds this app's permission to work search tasks: set the roles again once it exists.
        post_migrate.connect(roles_ensure_after_migrate, sender=self, dispatch_uid="fulfilment_roles_ensure")
