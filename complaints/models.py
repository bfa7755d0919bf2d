"""Complaints to the organisation about its handling of personal data (UK DPA 2018 s.164A).

A complaint may concern a request the portal handled (then it is linked, and its steps also appear in that request's
audit trail) or anything else the person considers an infringement in connection with their data. Everything the
person told us is encrypted at rest; ``email_hash`` finds a complainant's complaints without decrypting the table.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedTextField
from requests_app.models import DataSubjectRequest


class Channel(models.TextChoices):
    # Stored values are never renamed once released.
    WEB_FORM = "web_form", _("Web form")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    PHONE = "phone", _("Phone")
    IN_PERSON = "in_person", _("In person")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INVESTIGATING = "investigating", _("Being looked into")
    RESOLVED = "resolved", _("Outcome sent")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Complaint(models.Model):
    """One complaint, from receipt to the outcome sent to the complainant."""

    reference = models.CharField(max_length=24, editable=False)
    complainant_name = EncryptedTextField()
    # Empty for a complainant who wrote by letter and has no e-mail address (then ``email_hash`` is empty too).
    complainant_email = EncryptedTextField(blank=True, default="")
    email_hash = models.CharField(max_length=64, editable=False, blank=True, default="")
    # Where letters go: needed without an e-mail address, or when the complainant asks for post.
    postal_address = EncryptedTextField(blank=True, default="")
    # Every notice to this complainant is a letter staff post (``ComplaintMessage.by_post``), never an e-mail.
    notices_by_post = models.BooleanField(default=False)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # The true time it reached us (a letter's day of arrival, not the day it was typed in), and that day in the
    # organisation's jurisdiction: the 30 days to acknowledge run from it (s.164A(3)).
    received_at = models.DateTimeField()
    received_on = models.DateField()
    text = EncryptedTextField()
    request = models.ForeignKey(
        DataSubjectRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints"
    )
    status = models.CharField(max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED)
    acknowledge_by = models.DateField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    outcome = EncryptedTextField(blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["acknowledge_by", "pk"]
        permissions = [("view_complainant_data", _("Can see complainants' personal data and complaints' text"))]
        constraints = [models.UniqueConstraint(fields=["reference"], name="complaint_reference_unique")]
        indexes = [
            models.Index(fields=["status", "acknowledge_by"], name="complaint_register_idx"),
            models.Index(fields=["email_hash"], name="complaint_email_hash_idx"),
        ]

    def __str__(self) -> str:
        return self.reference


class ComplaintEvent(models.Model):
    """The complaint's own history, whether or not it concerns a request. Append-only."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, choices=ComplaintStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ComplaintStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_kind = models.CharField(max_length=20)
    # What staff wrote (a progress note, the outcome) can hold personal data.
    reason = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.complaint_id}:{self.kind}"


class ComplaintMessageKind(models.TextChoices):
    RECEIPT = "receipt", _("We have received your complaint")
    ACKNOWLEDGEMENT = "acknowledgement", _("We are looking into your complaint")
    PROGRESS = "progress", _("An update on your complaint")
    OUTCOME = "outcome", _("The outcome of your complaint")


class ComplaintMessage(models.Model):
    """A notice to the complainant, stored with the step that caused it: an e-mail, sent by a task after the commit,
    or, for a complainant who gets notices by post, a letter staff print and post, recording the day they posted it."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=20, choices=ComplaintMessageKind.choices)
    subject = models.CharField(max_length=200)
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # While a worker sends it (a claim, so that two workers never send it twice), when it went, or when delivery was
    # given up after every retry.
    sending_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_failed_at = models.DateTimeField(null=True, blank=True)
    # A letter (never e-mailed) and the day staff recorded posting it: the proof of when it went.
    by_post = models.BooleanField(default=False)
    posted_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.subject
