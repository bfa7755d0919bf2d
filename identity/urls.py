from django.urls import path

from . import views

app_name = "identity"

REFERENCE = "<str:reference>"

urlpatterns = [
    # The requester's steps on their status page.
    path(f"status/{REFERENCE}/confirm-email/", views.status_confirm_email, name="status_confirm_email"),
    path(f"status/{REFERENCE}/more-details/", views.status_more_details, name="status_more_details"),
    path(f"status/{REFERENCE}/upload/", views.status_upload, name="status_upload"),
    # The portal's own privacy notice (GDPR Art. 13): here, the layer that knows every retention period it states.
    path("privacy/", views.privacy_notice, name="privacy_notice"),
    # The data subject's answer to an agent (the address is in e-mails already sent: keep it).
    path("confirm-agent/<str:token>/", views.subject_confirm, name="subject_confirm"),
]
