from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedJSONField, EncryptedTextField
from dsar_portal.onetime import OneTimeCode


class Right(models.TextChoices):
    ACCESS = "access", _("Access to your data")
    RECTIFICATION = "rectification", _("Correct your data")
    ERASURE = "erasure", _("Erase your data")
    RESTRICTION = "restriction", _("Restrict how we use your data")
    OBJECTION = "objection", _("Object to how we use your data")
    PORTABILITY = "portability", _("Take your data elsewhere")
    # GDPR Art. 7(3): consent may be withdrawn at any time, as easily as it was given.
    CONSENT_WITHDRAWAL = "consent_withdrawal", _("Withdraw your consent")
    # GDPR Art. 22(3) (EU); UK GDPR Arts. 22A-22D as inserted by the Data (Use and Access) Act 2025: human
    # intervention, the person's point of view, contesting a significant decision based solely on automated processing.
    AUTOMATED_DECISION = "automated_decision", _("Challenge a decision made by a computer")


class Status(models.TextChoices):
    # Stored values are never renamed once released.
    AWAITING_EMAIL_CONFIRMATION = "awaiting_email_confirmation", _("Waiting for you to confirm your e-mail address")
    AWAITING_IDENTITY_VERIFICATION = "awaiting_identity_verification", _("Checking your identity")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_CLARIFICATION = "awaiting_clarification", _("Waiting for your reply")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED_UNCONFIRMED = "closed_unconfirmed", _("Closed: e-mail address never confirmed")


class Outcome(models.TextChoices):
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTLY_FULFILLED = "partly_fulfilled", _("Partly fulfilled")
    NO_DATA_HELD = "no_data_held", _("No data held")


class RefusalGround(models.TextChoices):
    # GDPR Art. 12(5): manifestly unfounded or excessive; Art. 23 and national
    # law (e.g. DPA 2018 Sch. 2-4): exemptions; Art. 11(2)/12(2): identity.
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded", _("Manifestly unfounded")
    MANIFESTLY_EXCESSIVE = "manifestly_excessive", _("Manifestly excessive")
    EXEMPTION = "exemption", _("An exemption applies")
    IDENTITY_NOT_VERIFIED = "identity_not_verified", _("We could not confirm your identity")
    SUBJECT_DENIED_AGENT = "subject_denied_agent", _("The person the request is about told us you do not act for them")


class RequesterRole(models.TextChoices):
    DATA_SUBJECT = "data_subject", _("I am asking about my own data")
    AGENT = "agent", _("I am acting for someone else")


class PauseReason(models.TextChoices):
    CLARIFICATION = "clarification", _("We asked you to clarify your request")
    IDENTITY = "identity", _("We asked you for proof of identity")


class DataSubjectRequest(models.Model):
    """One rights request from a data subject (or someone acting for them).

    Everything the person told us is encrypted at rest; ``email_hash`` is a
    keyed hash of the normalised address so we can find requests by e-mail
    without storing it in the clear.
    """

    reference = models.CharField(max_length=24, editable=False)
    right = models.CharField(max_length=20, choices=Right.choices)
    status = models.CharField(max_length=40, choices=Status.choices, default=Status.AWAITING_EMAIL_CONFIRMATION)
    requester_role = models.CharField(max_length=20, choices=RequesterRole.choices, default=RequesterRole.DATA_SUBJECT)
    requester_name = EncryptedTextField()
    requester_email = EncryptedTextField()
    email_hash = models.CharField(max_length=64, editable=False)
    identifiers = EncryptedJSONField(default=dict, blank=True)
    details = EncryptedJSONField(default=dict, blank=True)
    description = EncryptedTextField(blank=True, default="")
    jurisdiction = models.CharField(max_length=8)

    received_at = models.DateTimeField()
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    unconfirmed_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # The statutory clock. Dates are in the organisation's time zone.
    clock_started_on = models.DateField()
    clock_paused_on = models.DateField(null=True, blank=True)
    clock_pause_reason = models.CharField(max_length=20, choices=PauseReason.choices, blank=True)
    paused_days = models.PositiveIntegerField(default=0)
    extension_months = models.PositiveSmallIntegerField(default=0)
    due_on = models.DateField()
    target_on = models.DateField()

    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    refusal_ground = models.CharField(max_length=30, choices=RefusalGround.choices, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("data subject request")
        permissions = [("view_personal_data", _("Can see requesters' personal data"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(extension_months__lte=2), name="extension_at_most_two_months"),
            models.UniqueConstraint(fields=["reference"], name="request_reference_unique"),
        ]
        # Declared here rather than with unique=True or db_index=True on the fields: on PostgreSQL those add a
        # second, pattern-matching index to every text column for LIKE queries the portal never makes, and each
        # index is written on every submission.
        indexes = [
            models.Index(fields=["status"], name="request_status_idx"),
            models.Index(fields=["email_hash"], name="request_email_hash_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        from .workflow import OPEN_STATUSES

        return self.status in OPEN_STATUSES

    @property
    def is_clock_paused(self) -> bool:
        return self.clock_paused_on is not None


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Request submitted")
    STATUS_CHANGED = "status_changed", _("Status changed")
    EMAIL_CONFIRMED = "email_confirmed", _("E-mail address confirmed")
    EMAIL_CODE_FAILED = "email_code_failed", _("Wrong e-mail confirmation code entered")
    CLARIFICATION_REQUESTED = "clarification_requested", _("Clarification requested")
    CLARIFICATION_ANSWERED = "clarification_answered", _("Clarification received")
    EXTENDED = "extended", _("Deadline extended")
    CLOCK_RESTARTED = "clock_restarted", _("Clock restarted")
    CLOCK_PAUSED = "clock_paused", _("Clock paused")
    CLOCK_RESUMED = "clock_resumed", _("Clock resumed")
    DOCUMENT_UPLOADED = "document_uploaded", _("Document uploaded")
    DOCUMENT_VIEWED = "document_viewed", _("Document viewed")
    DOCUMENT_DELETED = "document_deleted", _("Document deleted")
    IDENTITY_EVIDENCE_REQUESTED = "identity_evidence_requested", _("Identity evidence requested")
    MESSAGE_SENT = "message_sent", _("Message sent")
    MESSAGE_FAILED = "message_failed", _("Message could not be delivered")
    STATUS_LINK_SENT = "status_link_sent", _("Status link sent")
    SUBJECT_CONFIRMED_AGENT = "subject_confirmed_agent", _("Data subject confirmed the agent")
    SUBJECT_DENIED_AGENT = "subject_denied_agent", _("Data subject denied the agent")
    REMINDER_SENT = "reminder_sent", _("Reminder sent")
    IDENTITY_STATUS_CHANGED = "identity_status_changed", _("Identity check status changed")


class RequestEvent(models.Model):
    """The request's audit trail: who did what, when, and why. Append-only."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    from_status = models.CharField(max_length=40, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=40, choices=Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "requester", "system" or "staff": who acted when there is no user.
    actor_kind = models.CharField(max_length=20)
    # Reasons written by staff or the requester can hold personal data.
    reason = EncryptedTextField(blank=True, default="")
    # Read per request (by the request_id index), so no index of its own.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}:{self.kind}"


class DueDateChange(models.Model):
    """History of the legal due date, each change tied to the event that caused it."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="due_date_changes")
    event = models.ForeignKey(RequestEvent, on_delete=models.CASCADE, related_name="due_date_changes")
    previous_due_on = models.DateField(null=True, blank=True)
    due_on = models.DateField()
    target_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}: due {self.due_on}"


class MessageKind(models.TextChoices):
    EMAIL_CONFIRMATION = "email_confirmation", _("Confirm your e-mail address")
    RECEIPT = "receipt", _("We have received your request")
    IDENTITY_NEEDED = "identity_needed", _("We need to confirm your identity")
    IDENTITY_REMINDER = "identity_reminder", _("Reminder: we still need to confirm your identity")
    IDENTITY_CONFIRMED = "identity_confirmed", _("We have confirmed your identity")
    CLARIFICATION_REQUESTED = "clarification_requested", _("We need more information")
    EXTENSION = "extension", _("We need more time")
    REFUSAL = "refusal", _("We cannot act on your request")
    COMPLETION = "completion", _("Your request is complete")
    WITHDRAWAL = "withdrawal", _("Your request has been withdrawn")
    REOPENED = "reopened", _("Your request has been reopened")
    UNCONFIRMED_REMINDER = "unconfirmed_reminder", _("Please confirm your e-mail address")
    CLOSED_UNCONFIRMED = "closed_unconfirmed", _("Your request has been closed")
    STATUS_LINK = "status_link", _("Your link to follow your request")
    REQUESTER_REPLY = "requester_reply", _("Your reply")


class Message(models.Model):
    """Correspondence on a request, shown on the status page.

    Outgoing messages are e-mailed by a task; the stored body is what the
    person sees on the status page (secrets such as codes and links are never
    stored: the task puts them into the e-mail only).
    """

    class Direction(models.TextChoices):
        TO_REQUESTER = "to_requester", _("From us")
        FROM_REQUESTER = "from_requester", _("From you")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=20, choices=Direction.choices)
    kind = models.CharField(max_length=30, choices=MessageKind.choices)
    subject = models.CharField(max_length=200)
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When its e-mail task was last handed to the broker; empty while it never was (the broker was down): the
    # undelivered-messages sweep queues those within minutes (requests_app.correspondence).
    queued_at = models.DateTimeField(null=True, blank=True)
    # When delivery was given up after every retry (MESSAGE_FAILED in the trail): staff reach the person another way.
    delivery_failed_at = models.DateTimeField(null=True, blank=True)
    # While a worker sends it: until when it holds the message, and the link and code made for it (encrypted,
    # forgotten once it is sent), so that a retry sends the same secrets (requests_app.correspondence).
    sending_until = models.DateTimeField(null=True, blank=True)
    pending_secrets = EncryptedJSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.subject


class StatusLink(models.Model):
    """A random, single-purpose link to a request's status page, stored only as a hash."""

    # Keys the token's hash (dsar_portal.onetime.secret_hash) to this one purpose.
    TOKEN_PURPOSE = "status-link"

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="status_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"status link for {self.request_id}"


class StatusGrant(models.Model):
    """One browser's access to one request's status page, which the server can end (``status_access``).

    The random token lives only in that browser's signed cookie; this row holds its keyed hash, so a database
    leak gives no usable cookie, and a copied cookie stops working once the grant is revoked or expires.
    """

    # Keys the token's hash (dsar_portal.onetime.secret_hash) to this one purpose.
    TOKEN_PURPOSE = "status-grant"

    # The request_id index serves closing a request's grants (status_access.grants_end_soon).
    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="status_grants")
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # A constraint rather than unique=True: on PostgreSQL that adds a second, pattern-matching index the
        # portal never uses (see DataSubjectRequest.Meta).
        constraints = [models.UniqueConstraint(fields=["token_hash"], name="status_grant_token_hash_unique")]

    def __str__(self) -> str:
        return f"status grant for {self.request_id}"


class DocumentPurpose(models.TextChoices):
    SUPPORTING = "supporting", _("Supporting document")
    CLARIFICATION = "clarification", _("Document sent with a reply")
    IDENTITY_EVIDENCE = "identity_evidence", _("Proof of identity")
    AUTHORITY = "authority", _("Proof of authority to act")


class RequestDocument(models.Model):
    """A file a requester sent us, encrypted at rest outside the web root."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="documents")
    purpose = models.CharField(max_length=30, choices=DocumentPurpose.choices)
    original_name = EncryptedTextField()
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    storage_key = models.CharField(max_length=200, unique=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.request_id})"


class EmailConfirmation(OneTimeCode):
    """Proves the requester controls the e-mail address they gave."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="email_confirmations")

    class Meta(OneTimeCode.Meta):
        # The table it was created in when this lived in the identity app.
        db_table = "identity_emailconfirmation"

    def __str__(self) -> str:
        return f"e-mail confirmation for {self.request_id}"
