from django.urls import path

from . import views

app_name = "recipientnotices"

# Mounted under staff/requests/ (dsar_portal.urls), beside the case page.
urlpatterns = [
    path(
        "<str:reference>/recipient-notices/<uuid:public_id>/acknowledge/", views.notice_acknowledge, name="acknowledge"
    ),
    path("<str:reference>/recipient-notices/<uuid:public_id>/judge/", views.notice_judge, name="judge"),
    path("<str:reference>/recipient-notices/<uuid:public_id>/retry/", views.notice_retry, name="retry"),
    path("<str:reference>/recipient-notices/<uuid:public_id>/posted/", views.notice_posted, name="posted"),
]
