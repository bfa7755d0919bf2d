from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecipientNoticesConfig(AppConfig):
    name = "recipientnotices"
    verbose_name = _("Recipient notices")

    def ready(self) -> None:
        from casework.case_panels import CasePanel, case_panel_register
        from casework.queue_flags import QueueFlag, queue_flag_register
        from requests_app.completion_extras import completion_extra_register
        from requests_app.status_page import StatusSection, section_register

        from . import selectors, views

        # GDPR Art. 19: the notices to recipients on the case page (casework knows no recipient notices), and the
        # recipients on the person's status page when they asked to be told who they are.
        case_panel_register(CasePanel("recipientnotices/case_panel.html", views.case_panel))
        section_register(StatusSection("recipientnotices/status_section.html", views.status_section))
        completion_extra_register(views.completion_context)
        # The queue's "needs a human now" flag and filter: a notice that could not be sent (Art. 19).
        queue_flag_register(
            QueueFlag(
                name="recipient_notice_failed",
                words=_("A recipient notice failed"),
                filter_label=_("With a failed recipient notice"),
                css_class="text-bg-danger",
                exists=selectors.failed_notice_exists,
                request_ids=selectors.requests_with_failed_notices,
            )
        )
