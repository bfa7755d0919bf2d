from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("verification/", views.verification_queue, name="verification_queue"),
    path("verification/<str:reference>/", views.verification_case, name="verification_case"),
    path("evidence/<slug:key>/", views.evidence_document, name="evidence_document"),
]
