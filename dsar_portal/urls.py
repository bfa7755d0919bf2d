from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from .health import healthz

admin.site.site_header = _("DSAR Portal administration")
admin.site.site_title = _("DSAR Portal")
# The admin's own login form would skip the second factor: its login page sends people to allauth's sign-in.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    # Staff sign-in, second factors and step-up (django-allauth; sign-up is closed in dsar_portal.staff_auth).
    path("accounts/", include("allauth.urls")),
    path("", include("identity.urls")),
    path("", include("agents.urls")),
    path("", include("complaints.urls")),
    path("", include("requests_app.urls")),
    # The released answer on the status page: the download code, the download, a further copy (issue 12).
    path("", include("fulfilment.public_urls")),
    path("", include("datasystems.public_urls")),
    # The register of data systems (issue 12), before casework's staff/ so its own patterns are tried first.
    path("staff/systems/", include("datasystems.urls")),
    # The compiled answer's actions on a case (issue 12), before casework's staff/ like the register.
    path("staff/requests/", include("fulfilment.urls")),
    # GDPR Art. 19: staff actions on the notices to recipients, beside the case page.
    path("staff/requests/", include("recipientnotices.urls")),
    # The decisions on restriction, objection and rectification (issue 13), beside the case page.
    path("staff/requests/", include("changes.urls_decisions")),
    # Receiving controllers' endpoints for direct transmission (GDPR Art. 20(2)), the DPO's register.
    path("staff/transmission-endpoints/", include("fulfilment.urls_transmission")),
    # The changes carried out in the data systems (issue 13): their actions on a case, the system owners' change
    # tasks (before the search tasks, whose <public_id> would otherwise take "changes"), an HTTP system's answer.
    path("staff/requests/", include("changes.urls")),
    path("staff/tasks/changes/", include("changes.task_urls")),
    path("api/connectors/changes/", include("changes.callback_urls")),
    # The system owners' manual search tasks (issue 12), before casework's staff/ like the register.
    path("staff/tasks/", include("fulfilment.task_urls")),
    # An HTTP system's signed answer to a search, posted later (fulfilment.callbacks).
    path("api/connectors/", include("fulfilment.callback_urls")),
    # The retention schedule and legal holds (the retention app; LAW.md §6(h)).
    path("staff/retention/", include("retention.urls")),
    # The record of processing activities, the portal's own entry in it (GDPR Art. 30; the retention app).
    path("staff/record-of-processing/", include("retention.record_urls")),
    path("staff/", include("casework.urls")),
]

# The styled error page with the organisation's contact details (named by its dotted path, like include()).
handler500 = "organisation.views.server_error"
