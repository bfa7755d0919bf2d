from django.urls import path

from . import views

app_name = "changes"

# Mounted under staff/requests/ (dsar_portal.urls), beside the case page.
urlpatterns = [
    path("<str:reference>/changes/erasure/", views.erasure_plan, name="erasure_plan"),
    path("<str:reference>/changes/<int:run_id>/approve/", views.run_approve, name="run_approve"),
    path("<str:reference>/changes/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("<str:reference>/changes/<int:run_id>/jobs/<int:job_id>/retry/", views.job_retry, name="job_retry"),
    path("<str:reference>/changes/<int:run_id>/published/", views.publication_steps, name="publication_steps"),
    path("<str:reference>/changes/<int:run_id>/answer/", views.answer_send, name="answer_send"),
]
