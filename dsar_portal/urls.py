from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy as _


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


admin.site.site_header = _("DSAR Portal administration")
admin.site.site_title = _("DSAR Portal")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("", include("identity.urls")),
    path("", include("agents.urls")),
    path("", include("requests_app.urls")),
]
