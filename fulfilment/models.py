"""The compiled answer to an access or portability request: one compilation per attempt, one search job per data
system, the search record, and the parts each job wrote (issue 12, "Compiling the answer").

The rows here are the source of truth, not the broker: a lost message or a killed worker leaves a job queued or
running in the database, where the periodic sweep (``services.jobs_sweep``) finds it again.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedTextField
from dsar_portal.onetime import OneTimeCode


class CompilationStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RUNNING = "running", _("Searching")
    ASSEMBLED = "assembled", _("Answer assembled")
    FAILED = "failed", _("Failed")


LIVE_COMPILATION_STATUSES = (CompilationStatus.PLANNED, CompilationStatus.RUNNING)


class Compilation(models.Model):
    """One attempt at compiling the answer to a request. At most one is live (planned or running) per request."""

    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="compilations"
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=CompilationStatus.choices, default=CompilationStatus.PLANNED)
    # GDPR Art. 20: a portability answer holds only provided and observed data, from systems where it applies.
    portability = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    assembled_at = models.DateTimeField(null=True, blank=True)
    # The encrypted archive in the file store (namespace "archives"); the manifest outlives it.
    archive_name = models.CharField(max_length=200, blank=True)
    archive_bytes = models.BigIntegerField(null=True, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    # [{"path": ..., "sha256": ..., "bytes": ...}] for every file of the archive, the manifest included last.
    manifest = models.JSONField(default=list, blank=True)
    failure = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "attempt"], name="fulfilment_one_compilation_per_attempt"),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=["planned", "running"]),
                name="fulfilment_one_live_compilation_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"compilation {self.pk} of request {self.request_id} (attempt {self.attempt})"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Searching")
    # The system's connector is a person (manual) or a later answer (http): the job waits for that task.
    WAITING = "waiting", _("Waiting for a task outside the portal's workers")
    DONE = "done", _("Searched")
    FAILED = "failed", _("Failed")
    NOT_SEARCHED = "not_searched", _("Not searched")


FINISHED_JOB_STATUSES = (JobStatus.DONE, JobStatus.NOT_SEARCHED)


class SearchJob(models.Model):
    """The search of one data system for one compilation."""

    compilation = models.ForeignKey(Compilation, on_delete=models.CASCADE, related_name="jobs")
    # The request again, so the guarded lifecycle locks the request first (requests_app.locks' order).
    request = models.ForeignKey("requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey("datasystems.DataSystem", on_delete=models.PROTECT, related_name="+")
    connector = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Written for staff by the connector (ConnectorError messages hold no personal data and no secret).
    last_error = models.CharField(max_length=500, blank=True)
    rows_found = models.BigIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    # Which run may finish the job: a run that finds another token here (it was swept and started again) discards
    # what it wrote, so a slow worker and its replacement never both count.
    run_token = models.CharField(max_length=32, blank=True)
    # The job's random public id: in the system owner's task URL and the HTTP connector's callback URL (never the
    # sequential key). Knowing it opens nothing: a task page checks who is asking, a callback its signature.
    public_id = models.CharField(max_length=40, blank=True)
    # The HTTP connector's later answer: the token the system gave when it accepted the search (SearchPending), which
    # its signed callback must carry back.
    callback_token = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["compilation", "system"], name="fulfilment_one_job_per_system"),
            models.UniqueConstraint(
                fields=["public_id"], condition=~Q(public_id=""), name="fulfilment_job_public_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="fulfilment_job_status_idx")]
        permissions = [
            ("work_search_tasks", _("Can search the data systems they own by hand (manual search tasks)")),
        ]

    def __str__(self) -> str:
        return f"search job {self.pk} ({self.connector}, {self.status})"


class SearchPart(models.Model):
    """One table a job found: a CSV and a JSON file in the encrypted file store (namespace "searchparts")."""

    job = models.ForeignKey(SearchJob, on_delete=models.CASCADE, related_name="parts")
    position = models.PositiveSmallIntegerField()
    table = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    columns = models.JSONField(default=list)
    provided_or_observed = models.BooleanField(default=True)
    rows = models.BigIntegerField(default=0)
    csv_name = models.CharField(max_length=200)
    csv_sha256 = models.CharField(max_length=64)
    csv_bytes = models.BigIntegerField()
    json_name = models.CharField(max_length=200)
    json_sha256 = models.CharField(max_length=64)
    json_bytes = models.BigIntegerField()

    class Meta:
        ordering = ["job", "position"]

    def __str__(self) -> str:
        return f"part {self.position} of search job {self.job_id}"


class SearchRecord(models.Model):
    """How one system was searched, or why it was not (UK GDPR Art. 15(1A): a reasonable and proportionate search).

    Append-only: a retried search adds a record. Holds the *names* of the identifiers used, never their values.
    """

    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="search_records"
    )
    compilation = models.ForeignKey(Compilation, on_delete=models.CASCADE, related_name="search_records")
    job = models.ForeignKey(SearchJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="records")
    system = models.ForeignKey(
        "datasystems.DataSystem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    system_name = models.CharField(max_length=150)
    searched = models.BooleanField()
    reason = models.CharField(max_length=500, blank=True)
    identifiers_used = models.JSONField(default=list)
    # [{"table": ..., "rows": ...}]
    found = models.JSONField(default=list)
    at = models.DateTimeField(auto_now_add=True)
    worker = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"search record {self.pk} of request {self.request_id}"

    @property
    def rows_found(self) -> int:
        return sum(int(item.get("rows", 0)) for item in self.found)


class OwnerReminder(models.Model):
    """One day's reminder e-mail to a system owner about their tasks due soon or overdue: each kind of task (search
    here, change in ``changes``) has its table, unique per person and day, so a job run twice sends once
    (``fulfilment.manual_tasks.owner_reminders_make``)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # The jobs it was about (ids only).
    job_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class TaskReminder(OwnerReminder):
    """One day's reminder of manual search tasks (``fulfilment.manual_tasks.task_reminders_send``)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day"], name="fulfilment_one_task_reminder_a_day"),
        ]

    def __str__(self) -> str:
        return f"task reminder {self.pk} for user {self.recipient_id} on {self.day}"


class ReleaseStatus(models.TextChoices):
    IN_REVIEW = "in_review", _("In review")
    # GDPR Art. 15(3), 12(6): an answer going to an agent is approved by a second person before release.
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval", _("Awaiting a second approval")
    # Approved: the released archive (redactions applied) is being built by a worker.
    PREPARING = "preparing", _("Preparing the released archive")
    AVAILABLE = "available", _("Available to download")
    # The download window ended: the archive is deleted, its manifest kept.
    EXPIRED = "expired", _("Expired")


class ReleaseRecipient(models.TextChoices):
    # The authority decision on an agent's request says who receives the answer (identity/agents).
    SUBJECT = "subject", _("The data subject")
    AGENT = "agent", _("The agent acting for them")


class Release(models.Model):
    """One copy of the answer handed to the person: reviewed (and redacted) from an assembled compilation, approved,
    built into its own encrypted archive, downloadable for a window, then deleted keeping its manifest.

    ``copy_number`` 1 is the first copy, which is free; a further copy follows the fee rules (GDPR Art. 15(3)).
    Its status moves only through ``fulfilment.services`` (a guarded lifecycle recorded in the request's trail).
    """

    compilation = models.ForeignKey(Compilation, on_delete=models.CASCADE, related_name="releases")
    request = models.ForeignKey("requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="releases")
    copy_number = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=30, choices=ReleaseStatus.choices, default=ReleaseStatus.IN_REVIEW)
    recipient = models.CharField(max_length=10, choices=ReleaseRecipient.choices, default=ReleaseRecipient.SUBJECT)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    second_approved_at = models.DateTimeField(null=True, blank=True)
    # The released archive in the file store (namespace "releases"), built with the review's redactions applied.
    archive_name = models.CharField(max_length=200, blank=True)
    archive_bytes = models.BigIntegerField(null=True, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    # [{"path": ..., "sha256": ..., "bytes": ...}]: kept after the archive is deleted.
    manifest = models.JSONField(default=list, blank=True)
    available_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    archive_deleted_at = models.DateTimeField(null=True, blank=True)
    # Building the released archive: attempts so far (bounded by FULFILMENT_MAX_ATTEMPTS, then staff build it again
    # from the case page), and the last attempt's error, written for staff (no personal data).
    build_attempts = models.PositiveSmallIntegerField(default=0)
    build_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["compilation", "copy_number"], name="fulfilment_one_release_per_copy"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="fulfilment_release_expiry_idx")]

    def __str__(self) -> str:
        return f"release {self.pk} (copy {self.copy_number}) of request {self.request_id}"


# --- Secure delivery (issue 12, "Secure delivery") -----------------------------------------------------------------


class DownloadCode(OneTimeCode):
    """A fresh one-time code e-mailed to the release's recipient before they may download it (GDPR Art. 32: the
    archive is personal data; Art. 12(6): it goes only to the person entitled to it).

    Made empty by the page (``code_hash`` blank) and filled by the task that e-mails it, so the code itself never
    travels through the broker and exists only in the e-mail.
    """

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="download_codes")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta(OneTimeCode.Meta):
        indexes = [models.Index(fields=["release", "created_at"], name="fulfilment_dlcode_release_idx")]

    def __str__(self) -> str:
        return f"download code {self.pk} of release {self.release_id}"


class DownloadMethod(models.TextChoices):
    STREAM = "stream", _("Streamed by the portal")
    ACCEL = "accel", _("Handed to the front server (X-Accel-Redirect)")


class Download(models.Model):
    """One download of a release: when, by whom (the subject or their agent), how many bytes. Nothing personal
    about the browser is kept: only a keyed hash of its user agent, to tell two devices apart."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="downloads")
    request = models.ForeignKey("requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    by = models.CharField(max_length=10, choices=ReleaseRecipient.choices)
    bytes = models.BigIntegerField()
    method = models.CharField(max_length=10, choices=DownloadMethod.choices, default=DownloadMethod.STREAM)
    user_agent_hash = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"download {self.pk} of release {self.release_id}"


class FurtherCopyStatus(models.TextChoices):
    ASKED = "asked", _("Asked for")
    # GDPR Art. 15(3): a reasonable fee based on administrative costs, told to the person before it is charged.
    FEE_REQUESTED = "fee_requested", _("Fee requested")
    ISSUED = "issued", _("Issued")
    DECLINED = "declined", _("Closed without a copy")


class FurtherCopy(models.Model):
    """The person asked for a further copy of an answer already released (GDPR Art. 15(3)). Staff issue it free or
    ask for a reasonable fee first; once issued, a new ``Release`` (``copy_number`` + 1) of the same reviewed
    content. Its status moves only through ``fulfilment.delivery`` (a guarded lifecycle)."""

    request = models.ForeignKey("requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="further_copies")
    status = models.CharField(max_length=20, choices=FurtherCopyStatus.choices, default=FurtherCopyStatus.ASKED)
    asked_at = models.DateTimeField()
    asked_by = models.CharField(max_length=10, choices=ReleaseRecipient.choices)
    fee_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    fee_currency = models.CharField(max_length=3, blank=True)
    fee_requested_at = models.DateTimeField(null=True, blank=True)
    fee_paid_on = models.DateField(null=True, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release = models.OneToOneField(Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="issued_for")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["asked_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(status__in=["asked", "fee_requested"]),
                name="fulfilment_one_open_further_copy",
            ),
        ]

    def __str__(self) -> str:
        return f"further copy {self.pk} of request {self.request_id} ({self.status})"


class ReceivingEndpoint(models.Model):
    """A receiving controller's endpoint for direct transmission of a portability answer (GDPR Art. 20(2)), kept by
    the DPO in the staff area.

    The portal sends only to a *verified* endpoint: its HTTPS URL answered a signed verification challenge (the
    portal POSTs ``{"type": "endpoint.verification", "challenge": "<random>"}`` signed per Standard Webhooks with
    the endpoint's secret and expects ``{"challenge": "<the same>"}`` back), which proves the receiver holds the
    secret and controls the URL. Who verified, when and how is kept; a new URL or secret needs a new verification.
    The secret is generated by the portal, shown once to the DPO to hand to the receiving controller, and encrypted
    at rest with the portal's keys (so rotation covers it).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    controller_name = models.CharField(max_length=200)
    contact = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=500)
    secret = EncryptedTextField()
    active = models.BooleanField(default=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How it was verified, in words for an auditor (the challenge's outcome), or why the last attempt failed.
    verification_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["controller_name", "pk"]
        permissions = [("manage_transmission_endpoints", "Can manage receiving controllers' endpoints")]

    def __str__(self) -> str:
        return self.controller_name

    @property
    def is_verified(self) -> bool:
        return self.active and self.verified_at is not None


class TransmissionStatus(models.TextChoices):
    # GDPR Art. 20(2): "where technically feasible"; not feasible, the person downloads the answer instead.
    NOT_FEASIBLE = "not_feasible", _("Not technically feasible: the person downloads the answer")
    PENDING = "pending", _("To be sent when the answer is ready")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent to the receiving controller")
    FAILED = "failed", _("Sending failed")


class Transmission(models.Model):
    """The feasibility decision on a portability request asking for direct transmission (GDPR Art. 20(2)), and the
    sending of the answer to the receiving controller's verified endpoint. Its status moves only through
    ``fulfilment.transmission`` (a guarded lifecycle recorded in the request's trail)."""

    request = models.OneToOneField(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="transmission"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=TransmissionStatus.choices)
    feasible = models.BooleanField()
    reason = models.CharField(max_length=1000)
    endpoint = models.ForeignKey(
        ReceivingEndpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="transmissions"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField()
    # What is sent: the released copy once review and release exist, else the assembled compilation.
    compilation = models.ForeignKey(Compilation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"transmission {self.pk} of request {self.request_id} ({self.status})"


class TransmissionAttempt(models.Model):
    """One attempt to send the answer: when, by which worker, what was sent (its hash and size) and the outcome."""

    transmission = models.ForeignKey(Transmission, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    worker = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=500)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    archive_bytes = models.BigIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # Status and kind of failure only: never the receiver's body, never the secret.
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["transmission", "number"]
        constraints = [
            models.UniqueConstraint(fields=["transmission", "number"], name="fulfilment_one_row_per_attempt"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of transmission {self.transmission_id}"


class RedactionKind(models.TextChoices):
    """What a review decision covers in one table of the answer: withholding removes an item (the table, or one row),
    redacting hides a field (a column, or one cell) behind a marker that says why."""

    TABLE = "table", _("Withhold the whole table")
    ROW = "row", _("Withhold one row")
    COLUMN = "column", _("Redact a column")
    CELL = "cell", _("Redact one cell")


WITHHOLDING_KINDS = (RedactionKind.TABLE, RedactionKind.ROW)

# GDPR Art. 15(4): the copy must not adversely affect the rights and freedoms of others (other people's data in the
# person's records). The other grounds are the exemptions of the request's law (requests_app.models.Exemption).
OTHERS_GROUND = "art15_4_others"


class Redaction(models.Model):
    """One review decision on a release: an item withheld or a field redacted, with its ground and reason (GDPR
    Art. 15(4), Art. 23 with DPA 2018 Sch. 2-4; Art. 12(4): the person is told of it and why).

    ``row`` is the row's 1-based number in the table's part (0 when the decision covers no single row); ``column``
    is a column name ("" when it covers none). Undone decisions are kept, with who undid them and when.
    """

    release = models.ForeignKey("Release", on_delete=models.CASCADE, related_name="redactions")
    part = models.ForeignKey(SearchPart, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=RedactionKind.choices)
    row = models.PositiveBigIntegerField(default=0)
    column = models.CharField(max_length=200, blank=True)
    ground = models.CharField(max_length=30)
    # The handler's own words: may name someone, so encrypted at rest, and never copied into the audit trail.
    reason = EncryptedTextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["part", "kind", "row", "column", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "part", "kind", "row", "column"],
                condition=Q(undone_at__isnull=True),
                name="fulfilment_one_live_redaction_per_item",
            ),
        ]

    def __str__(self) -> str:
        return f"redaction {self.pk} ({self.kind}) of release {self.release_id}"

    @property
    def withholds(self) -> bool:
        return self.kind in WITHHOLDING_KINDS
