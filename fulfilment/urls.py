from django.urls import path

from . import views

app_name = "fulfilment"

# Mounted under staff/requests/ (dsar_portal.urls), beside the case page.
urlpatterns = [
    path("<str:reference>/searches/<int:job_id>/retry/", views.job_retry, name="job_retry"),
]
