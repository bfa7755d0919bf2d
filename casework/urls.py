from django.urls import path

from . import views, views_actions, views_metrics
from .actions import ACTIONS

app_name = "casework"

# Mounted under staff/ (dsar_portal.urls), after identity's staff/verification/ and staff/evidence/ pages, which
# these patterns leave alone.
urlpatterns = [
    path("", views.queue, name="queue"),
    path("assign/", views.requests_assign, name="requests_assign"),
    path("requests/new/", views.request_log, name="request_log"),
    path("requests/<str:reference>/", views.request_detail, name="request_detail"),
    path("requests/<str:reference>/assign/", views.request_assign, name="request_assign"),
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
    path("metrics/", views_metrics.metrics_page, name="metrics"),
    path("metrics/<slug:table>.csv", views_metrics.metrics_csv, name="metrics_csv"),
    path("metrics/recompute/", views_metrics.metrics_recompute, name="metrics_recompute"),
]
