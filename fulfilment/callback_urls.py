from django.urls import path

from . import views_callbacks

app_name = "fulfilment_callbacks"

# Mounted under api/connectors/ (dsar_portal.urls): an HTTP system's signed later answer to one search.
urlpatterns = [
    path("<str:public_id>/callback/", views_callbacks.connector_callback, name="connector_callback"),
]
