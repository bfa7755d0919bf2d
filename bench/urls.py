"""The project's URLs plus the baseline under /bench/baseline/."""

from django.urls import include, path

from dsar_portal.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("bench/baseline/", include("bench.baseline.urls")),
    *project_urlpatterns,
]
