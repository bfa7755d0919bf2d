from django.urls import path

from . import views, views_review

app_name = "fulfilment"

# Mounted under staff/requests/ (dsar_portal.urls), beside the case page.
urlpatterns = [
    path("<str:reference>/searches/<int:job_id>/retry/", views.job_retry, name="job_retry"),
    # Review before release (issue 12).
    path("<str:reference>/review/", views_review.review_page, name="review"),
    path("<str:reference>/review/decisions/", views_review.redaction_add, name="redaction_add"),
    path(
        "<str:reference>/review/decisions/<int:redaction_id>/undo/",
        views_review.redaction_undo,
        name="redaction_undo",
    ),
    path("<str:reference>/review/approve/", views_review.release_approve, name="release_approve"),
    path("<str:reference>/review/send-back/", views_review.release_send_back, name="release_send_back"),
]
