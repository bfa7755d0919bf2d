from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedTextField


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
            ("act_on_request", _("Can act on the requests they may see: clarify, extend, fees, refuse, complete")),
            ("view_metrics", _("Can see the accountability metrics and download them as CSV")),
        ]
        indexes = [models.Index(fields=["assignee"], name="assignment_assignee_idx")]

    def __str__(self) -> str:
        return f"request {self.request_id} assigned to user {self.assignee_id}"


class ReminderKind(models.TextChoices):
    # Stored values are never renamed once released.
    DUE_DATE = "due_date", _("Legal due date approaching")
    TARGET_DATE = "target_date", _("Internal target approaching")
    OVERDUE = "overdue", _("Request overdue (escalated to the DPO)")
    EXTENSION_NOTICE = "extension_notice", _("Last week to notify an extension")
    AGENT_CONFIRMATION = "agent_confirmation", _("Data subject has not answered about an agent")
    COMPLAINT_UNACKNOWLEDGED = "complaint_unacknowledged", _("Complaint not yet acknowledged")
    DIGEST = "digest", _("Daily digest of what is due")


class StaffReminder(models.Model):
    """One reminder the portal sent (or is sending) to one member of staff about one deadline.

    The unique constraints are what make every reminder job idempotent: a job run twice (beat and the cron
    command, or a retried worker) finds the row already there and sends nothing again.
    """

    kind = models.CharField(max_length=30, choices=ReminderKind.choices)
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="staff_reminders",
    )
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.CASCADE, related_name="staff_reminders"
    )
    # The deadline the reminder is about (for a digest: the day it covers), and how many days before it this
    # reminder falls (0 on or after the day).
    due_on = models.DateField()
    offset_days = models.PositiveSmallIntegerField(default=0)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind", "due_on", "offset_days", "recipient"],
                condition=models.Q(request__isnull=False, complaint__isnull=True),
                name="staff_reminder_once_per_request",
            ),
            models.UniqueConstraint(
                fields=["complaint", "kind", "due_on", "offset_days", "recipient"],
                condition=models.Q(complaint__isnull=False),
                name="staff_reminder_once_per_complaint",
            ),
            models.UniqueConstraint(
                fields=["kind", "due_on", "recipient"],
                condition=models.Q(request__isnull=True, complaint__isnull=True),
                name="staff_reminder_one_digest_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder {self.pk} for user {self.recipient_id}"


class StaffRoleChange(models.Model):
    """One change of a member of staff's roles or of whether their account is active: who, whom, from, to, when.

    The accountability log of who may see personal data (GDPR Art. 5(2), Art. 32(4): the controller ensures that
    anyone acting under its authority with access to personal data processes it only on instructions). Written only
    by ``services.staff_roles_set``; never edited. The accounts are protected: an account with history is
    deactivated, not deleted, so the log keeps its names.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The role (group) names before and after, sorted; and whether the account was and is active.
    from_roles = models.JSONField(default=list)
    to_roles = models.JSONField(default=list)
    was_active = models.BooleanField()
    is_active = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The DPO's alone (casework.roles gives the DPO every permission; no other role has it).
        permissions = [("manage_staff_roles", _("Can change staff members' roles and deactivate their accounts"))]

    def __str__(self) -> str:
        return f"roles of user {self.user_id} changed by user {self.changed_by_id}"


class CaseNote(models.Model):
    """An internal note on a case: part of the case file, never sent to the person (issue 11).

    A note is personal data like the rest of the case file (GDPR Art. 4(1)), so its text is encrypted at rest; the
    trail records only that a note was added, by whom and when (EventKind.NOTE_ADDED).
    """

    request = models.ForeignKey("requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"note {self.pk} on request {self.request_id}"


class MessageTemplate(models.Model):
    """A message staff send to requesters from the case page, written by the DPO, with a translation per language.

    The text is what staff start from: they edit it before sending. No personal data: the person's details are
    typed by staff in the message itself.
    """

    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["name"], name="message_template_name_unique")]
        permissions = [("manage_message_templates", _("Can write the templates staff message requesters from"))]

    def __str__(self) -> str:
        return self.name


class MessageTemplateTranslation(models.Model):
    """A template's subject and body in one language (one of settings.LANGUAGES)."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=16)
    subject = models.CharField(_("subject"), max_length=150)
    body = models.TextField(_("body"))

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["template", "language"], name="message_template_one_text_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.template_id} ({self.language})"


class MetricsSnapshot(models.Model):
    """The metrics page's figures as computed at one moment (casework.metrics): the page and its CSV downloads read
    the latest, so they open at once whatever the number of requests; a periodic job and the DPO's "recompute now"
    add new ones. Counts and durations only, never personal data."""

    for_day = models.DateField()
    computed_at = models.DateTimeField()
    # How long the computation took, shown to the DPO beside "recompute now".
    seconds = models.FloatField()
    # The tables of casework.metrics.metrics_tables, as JSON (slug, title, columns, rows, chart_column).
    tables = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["for_day", "computed_at"], name="metrics_snapshot_day_idx")]

    def __str__(self) -> str:
        return f"metrics for {self.for_day} computed at {self.computed_at.isoformat()}"
