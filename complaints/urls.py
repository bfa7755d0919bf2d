from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("complaints/new/", views.complaint_create, name="complaint_create"),
    path("complaints/received/", views.complaint_received, name="complaint_received"),
]
