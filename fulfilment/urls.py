from django.urls import path

from . import views, views_transmission

app_name = "fulfilment"

# Mounted under staff/requests/ (dsar_portal.urls), beside the case page.
urlpatterns = [
    path("<str:reference>/searches/<int:job_id>/retry/", views.job_retry, name="job_retry"),
    # GDPR Art. 20(2): the feasibility decision on direct transmission, and sending again after a failure.
    path("<str:reference>/transmission/", views_transmission.transmission_decide, name="transmission_decide"),
    path("<str:reference>/transmission/retry/", views_transmission.transmission_retry, name="transmission_retry"),
]
