from django.urls import path

from . import views

app_name = "requests_app"

REFERENCE = "<str:reference>"

urlpatterns = [
    path("", views.start, name="start"),
    path("request/<slug:right>/", views.request_create, name="request_create"),
    path("status/link/<str:token>/", views.status_link, name="status_link"),
    path("status/lost-link/", views.status_lost_link, name="status_lost_link"),
    path("status/lost-link/sent/", views.status_lost_link_sent, name="status_lost_link_sent"),
    path(f"status/{REFERENCE}/", views.status_detail, name="status_detail"),
    path(f"status/{REFERENCE}/resend-code/", views.status_resend_code, name="status_resend_code"),
    path(f"status/{REFERENCE}/reply/", views.status_reply, name="status_reply"),
    path(f"status/{REFERENCE}/withdraw/", views.status_withdraw, name="status_withdraw"),
]
