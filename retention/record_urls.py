from django.urls import path

from . import views

app_name = "record"

# Mounted at staff/record-of-processing/ (dsar_portal.urls): the record of processing (GDPR Art. 30), read-only.
urlpatterns = [
    path("", views.record_page, name="record"),
    path("record-of-processing.csv", views.record_csv, name="record_csv"),
]
