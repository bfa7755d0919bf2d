from django.urls import path

from . import views

app_name = "retention"

# Mounted at staff/retention/ (dsar_portal.urls): the DPO's schedule, and the legal holds of a case.
urlpatterns = [
    path("", views.schedule_page, name="schedule"),
    path("periods/<str:kind>/", views.rule_set, name="rule_set"),
    path("cases/<str:reference>/holds/", views.hold_place, name="hold_place"),
    path("cases/<str:reference>/holds/<int:hold_id>/release/", views.hold_release, name="hold_release"),
]
