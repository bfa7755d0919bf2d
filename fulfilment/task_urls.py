from django.urls import path

from . import views_tasks

app_name = "fulfilment_tasks"

# Mounted under staff/tasks/ (dsar_portal.urls): the system owners' manual search tasks.
urlpatterns = [
    path("", views_tasks.task_list, name="task_list"),
    path("<str:public_id>/", views_tasks.task_detail, name="task_detail"),
]
