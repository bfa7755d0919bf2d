from django.urls import path

from . import views, views_delivery, views_review, views_transmission

app_name = "fulfilment"

# Mounted under staff/requests/ (dsar_portal.urls), beside the case page.
urlpatterns = [
    path("<str:reference>/searches/<int:job_id>/retry/", views.job_retry, name="job_retry"),
    # A further copy of a released answer (GDPR Art. 15(3)): a fee asked for, its payment, issued free, or closed.
    path(
        "<str:reference>/further-copies/<int:further_id>/fee/", views_delivery.further_copy_fee, name="further_copy_fee"
    ),
    path(
        "<str:reference>/further-copies/<int:further_id>/paid/",
        views_delivery.further_copy_paid,
        name="further_copy_paid",
    ),
    path(
        "<str:reference>/further-copies/<int:further_id>/free/",
        views_delivery.further_copy_free,
        name="further_copy_free",
    ),
    path(
        "<str:reference>/further-copies/<int:further_id>/decline/",
        views_delivery.further_copy_decline,
        name="further_copy_decline",
    ),
    # GDPR Art. 20(2): the feasibility decision on direct transmission, and sending again after a failure.
    path("<str:reference>/transmission/", views_transmission.transmission_decide, name="transmission_decide"),
    path("<str:reference>/transmission/retry/", views_transmission.transmission_retry, name="transmission_retry"),
    # Review before release (issue 12).
    path("<str:reference>/review/", views_review.review_page, name="review"),
    path("<str:reference>/review/decisions/", views_review.redaction_add, name="redaction_add"),
    path(
        "<str:reference>/review/decisions/<int:redaction_id>/undo/",
        views_review.redaction_undo,
        name="redaction_undo",
    ),
    path("<str:reference>/review/approve/", views_review.release_approve, name="release_approve"),
    # A released archive whose build kept failing, built again by staff.
    path(
        "<str:reference>/releases/<int:release_id>/build-again/",
        views.release_build_again,
        name="release_build_again",
    ),
    path("<str:reference>/review/send-back/", views_review.release_send_back, name="release_send_back"),
]
