"""The compiled answer to an access or portability request: one compilation per attempt, one search job per data
system, the search record, and the parts each job wrote (issue 12, "Compiling the answer").

The rows here are the source of truth, not the broker: a lost message or a killed worker leaves a job queued or
running in the database, where the periodic sweep (``services.jobs_sweep``) finds it again.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedTextField


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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["compilation", "system"], name="fulfilment_one_job_per_system"),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="fulfilment_job_status_idx")]

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["compilation", "copy_number"], name="fulfilment_one_release_per_copy"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="fulfilment_release_expiry_idx")]

    def __str__(self) -> str:
        return f"release {self.pk} (copy {self.copy_number}) of request {self.request_id}"


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
