from django.urls import path

from . import (
    views,
    views_actions,
    views_complaints,
    views_metrics,
    views_pack,
    views_people,
    views_templates,
    views_verification,
)
from .actions import ACTIONS
from .complaint_forms import COMPLAINT_STEPS

app_name = "casework"

# Mounted under staff/ (dsar_portal.urls).
urlpatterns = [
    path("", views.queue, name="queue"),
    path("assign/", views.requests_assign, name="requests_assign"),
    path("requests/new/", views.request_log, name="request_log"),
    path("requests/<str:reference>/", views.request_detail, name="request_detail"),
    path("requests/<str:reference>/assign/", views.request_assign, name="request_assign"),
    path("requests/<str:reference>/pack/", views_pack.request_pack, name="request_pack"),
    path("requests/<str:reference>/pack.pdf", views_pack.request_pack_pdf, name="request_pack_pdf"),
    path("requests/<str:reference>/letters/<int:message_id>/posted/", views.letter_posted, name="letter_posted"),
    *(
        path(
            f"requests/<str:reference>/{name.replace('_', '-')}/",
            views_actions.case_action,
            {"action": name},
            name=f"action_{name}",
        )
        for name in ACTIONS
    ),
    # The identity check is a panel of the case page (identity's staff pages moved here, scoped to the case).
    path("requests/<str:reference>/verification/", views_verification.verification_decide, name="verification_decide"),
    path(
        "requests/<str:reference>/evidence/<slug:key>/",
        views_verification.evidence_document,
        name="evidence_document",
    ),
    # The templates staff message requesters from, which the DPO writes.
    path("templates/", views_templates.template_list, name="message_templates"),
    path("templates/new/", views_templates.template_edit, name="message_template_new"),
    path("templates/<int:template_id>/", views_templates.template_edit, name="message_template_edit"),
    path("complaints/", views_complaints.complaints_register, name="complaints_register"),
    path("complaints/new/", views_complaints.complaint_log, name="complaint_log"),
    path("complaints/<str:reference>/", views_complaints.complaint_detail, name="complaint_detail"),
    path(
        "complaints/<str:reference>/letters/<int:message_id>/posted/",
        views_complaints.complaint_letter_posted,
        name="complaint_letter_posted",
    ),
    *(
        path(
            f"complaints/<str:reference>/{name}/",
            views_complaints.complaint_step,
            {"step": name},
            name=f"complaint_{name}",
        )
        for name in COMPLAINT_STEPS
    ),
    path("metrics/", views_metrics.metrics_page, name="metrics"),
    path("people/", views_people.people, name="people"),
    path("metrics/<slug:table>.csv", views_metrics.metrics_csv, name="metrics_csv"),
    path("metrics/recompute/", views_metrics.metrics_recompute, name="metrics_recompute"),
]
