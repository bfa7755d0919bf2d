from django.urls import path

from . import views_callbacks

app_name = "changes_callbacks"

# Mounted under api/connectors/changes/ (dsar_portal.urls): an HTTP system's signed answer to a change.
urlpatterns = [
    path("<str:public_id>/callback/", views_callbacks.change_callback, name="change_callback"),
]
