from django.urls import path

from . import views

app_name = "bench_baseline"

urlpatterns = [
    path("", views.submit, name="submit"),
    path("done/", views.done, name="done"),
]
