from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Assignment(models.Model):
    """Who works on a request: one assignee per request, and who gave it to them and when."""

    request = models.OneToOneField(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="assignment"
    )
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField()

    class Meta:
        # The staff area's permissions, given to the roles in casework.roles.
        permissions = [
            ("view_staff_area", _("Can open the staff area (the queue and the case pages it may see)")),
            ("view_all_requests", _("Can see every request, whoever it is assigned to")),
            ("assign_request", _("Can assign requests to staff")),
            ("view_metrics", _("Can see the accountability metrics and download them as CSV")),
        ]
        indexes = [models.Index(fields=["assignee"], name="assignment_assignee_idx")]

    def __str__(self) -> str:
        return f"request {self.request_id} assigned to user {self.assignee_id}"
