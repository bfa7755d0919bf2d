"""Telling the recipients of a person's data of a rectification, erasure or restriction (GDPR Art. 19).

One ``RecipientNotice`` per request, recipient and kind of change: planning twice finds the one already there. It
names the systems the change was made in, says in words what changed (no personal data beyond what the recipient
already received), and carries the identifiers by which the recipient knows the person, encrypted at rest. Its status
moves only through ``recipientnotices.services`` (a guarded lifecycle written to the request's audit trail).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedJSONField


class NoticeStatus(models.TextChoices):
    """Stored values are never renamed once released."""

    PLANNED = "planned", _("Planned")
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the recipient")
    FAILED = "failed", _("Failed")
    # Art. 19, first sentence: "unless this proves impossible or involves disproportionate effort".
    NOT_SENT_DISPROPORTIONATE = "not_sent_disproportionate", _("Not sent: impossible or disproportionate effort")


class RecipientNotice(models.Model):
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="recipient_notices"
    )
    recipient = models.ForeignKey("datasystems.Recipient", on_delete=models.PROTECT, related_name="notices")
    # A value of datasystems.connectors.changes.ChangeKind: erase, rectify, restrict or lift_restriction.
    change_kind = models.CharField(max_length=30)
    # The opaque id the recipient sees (e-mail subject, HTTP payload): never the request's reference.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    systems = models.ManyToManyField("datasystems.DataSystem", related_name="+")
    what_changed = models.TextField()
    # The person's identifiers the request holds ({"email": ..., "phone": ..., "customer_id": ...}).
    identifiers = EncryptedJSONField(default=dict, blank=True)
    method = models.CharField(max_length=10)  # datasystems.models.NotifyBy, as it was when planned
    status = models.CharField(max_length=30, choices=NoticeStatus.choices, default=NoticeStatus.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set while a worker sends it (claimed, committed, then sent without holding a lock); cleared with the outcome.
    sending_since = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # The answer: what the recipient wrote back (recorded by staff), or the HTTP status their endpoint gave.
    answer = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Art. 19: the "impossible or disproportionate effort" judgement, its reason and who made it.
    judgement_reason = models.TextField(blank=True)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    judged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["request", "recipient__name", "change_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "recipient", "change_kind"], name="recipientnotices_one_per_recipient_and_kind"
            ),
        ]
        # The queue's "a recipient notice failed" filter and the sweep of notices left planned read by status.
        indexes = [models.Index(fields=["status", "updated_at"], name="recipientnotices_status_idx")]

    def __str__(self) -> str:
        return f"notice {self.pk} of request {self.request_id} to recipient {self.recipient_id} ({self.status})"
