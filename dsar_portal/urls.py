from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from .health import healthz

admin.site.site_header = _("DSAR Portal administration")
admin.site.site_title = _("DSAR Portal")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("", include("identity.urls")),
    path("", include("agents.urls")),
    path("", include("complaints.urls")),
    path("", include("requests_app.urls")),
    path("staff/", include("casework.urls")),
]

# The styled error page with the organisation's contact details (named by its dotted path, like include()).
handler500 = "organisation.views.server_error"
