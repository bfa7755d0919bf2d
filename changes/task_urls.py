from django.urls import path

from . import views_tasks

app_name = "changes_tasks"

# Mounted under staff/tasks/changes/ (dsar_portal.urls): the system owners' change tasks.
urlpatterns = [
    path("", views_tasks.task_list, name="task_list"),
    path("<str:public_id>/", views_tasks.task_detail, name="task_detail"),
]
