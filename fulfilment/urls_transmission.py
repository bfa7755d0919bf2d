from django.urls import path

from . import views_transmission as views

app_name = "transmission"

# Mounted at staff/transmission-endpoints/ (dsar_portal.urls): the register of receiving controllers' endpoints.
urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new/", views.endpoint_new, name="endpoint_new"),
    path("<uuid:public_id>/", views.endpoint_detail, name="endpoint_detail"),
    path("<uuid:public_id>/verify/", views.endpoint_verify, name="endpoint_verify"),
    path("<uuid:public_id>/secret/", views.endpoint_rotate, name="endpoint_rotate"),
]
