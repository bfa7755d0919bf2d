"""The change engine's records (issue 13): one run per decision carried out, one job per data system, one item per
table with what was done there, and the erasure tombstone.

The rows are the source of truth, not the broker: a lost message or a killed worker leaves a job queued or running
here, where the periodic sweep (``services.jobs_sweep``) finds it again, and the job's checkpoint says where its
connector carries on, so every row is changed exactly once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from datasystems.connectors.changes import ChangeKind, TableAction
from dsar_portal.fields import EncryptedJSONField, EncryptedTextField
from fulfilment.models import OwnerReminder

KIND_CHOICES = [
    (ChangeKind.ERASE.value, _("Erasure")),
    (ChangeKind.RECTIFY.value, _("Rectification")),
    (ChangeKind.RESTRICT.value, _("Restriction")),
    (ChangeKind.LIFT_RESTRICTION.value, _("Lifting of a restriction")),
    (ChangeKind.SUPPRESS_MARKETING.value, _("Marketing suppression")),
]
ACTION_CHOICES = [(action.value, action.value.replace("_", " ")) for action in TableAction]


class RunStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    PARTLY_DONE = "partly_done", _("Partly done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


LIVE_RUN_STATUSES = (RunStatus.PLANNED, RunStatus.AWAITING_APPROVAL, RunStatus.APPROVED, RunStatus.RUNNING)
FINISHED_RUN_STATUSES = (RunStatus.DONE, RunStatus.PARTLY_DONE, RunStatus.FAILED, RunStatus.CANCELLED)


class ChangeRun(models.Model):
    """One decision carried out in the data systems: an erasure, a rectification, a restriction or its lifting, a
    marketing suppression. At most one live run of a kind per request."""

    request = models.ForeignKey("requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="change_runs")
    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.PLANNED)
    # Rows the changing connectors said they would touch (``count``), summed when the run was planned.
    rows_estimate = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # Above settings.DSAR_CHANGE_DPO_APPROVAL_ROWS the DPO approves as well, a person other than the first approver.
    dpo_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dpo_approved_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Rectification: {"<system id>": {"<table>": {"<column>": value}}, "statement": "..."} (the person's data).
    payload = EncryptedJSONField(default=dict, blank=True)
    # GDPR Art. 17(2): the data was made public; the steps taken to inform other controllers.
    publication_steps = EncryptedTextField(blank=True, default="")
    publication_steps_at = models.DateTimeField(null=True, blank=True)
    publication_steps_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind"],
                condition=Q(status__in=["planned", "awaiting_approval", "approved", "running"]),
                name="changes_one_live_run_per_kind",
            ),
        ]
        permissions = [
            ("approve_changes", _("Can approve changes in the data systems (erasure, rectification, restriction)")),
            ("approve_large_changes", _("Can approve changes above the size that needs the DPO")),
            ("work_change_tasks", _("Can carry out changes by hand in the data systems they own")),
        ]

    def __str__(self) -> str:
        return f"change run {self.pk} ({self.kind}, {self.status})"


class ChangeJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    # A person's task (manual connector) or an HTTP system's later answer (202).
    WAITING = "waiting", _("Waiting for a task outside the portal's workers")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


FINISHED_JOB_STATUSES = (ChangeJobStatus.DONE, ChangeJobStatus.FAILED)


class ChangeJob(models.Model):
    """The change in one data system for one run."""

    run = models.ForeignKey(ChangeRun, on_delete=models.CASCADE, related_name="jobs")
    # The request again, so the guarded lifecycle locks the request first (requests_app.locks' order).
    request = models.ForeignKey("requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey("datasystems.DataSystem", on_delete=models.PROTECT, related_name="+")
    connector = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=ChangeJobStatus.choices, default=ChangeJobStatus.QUEUED)
    # Where the connector carries on after a crash (its own keys, no personal data), saved after every batch.
    checkpoint = models.JSONField(default=dict, blank=True)
    rows_estimate = models.BigIntegerField(default=0)
    rows_changed = models.BigIntegerField(default=0)
    # Table -> rows changed there, summed over every committed batch of every run of the job.
    table_rows = models.JSONField(default=dict, blank=True)
    batches = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    run_token = models.CharField(max_length=32, blank=True)
    public_id = models.CharField(max_length=40, blank=True)
    callback_token = models.CharField(max_length=500, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # A system owner's task (a system the portal cannot change itself): the day it is due, set each time it is given
    # to the owner (``services.task_due_date``); the queue flags it and the owner is reminded once it is near.
    due_on = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    # A system owner's answer to a manual task: who, and their note (what they did, or why it could not be done).
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "system"], name="changes_one_job_per_system"),
            models.UniqueConstraint(
                fields=["public_id"], condition=~Q(public_id=""), name="changes_job_public_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="changes_job_status_idx")]

    def __str__(self) -> str:
        return f"change job {self.pk} ({self.connector}, {self.status})"


class ChangeTaskReminder(OwnerReminder):
    """One day's reminder of change tasks due soon or overdue (``changes.manual_tasks.task_reminders_send``)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day"], name="changes_one_task_reminder_a_day"),
        ]

    def __str__(self) -> str:
        return f"change task reminder {self.pk} for user {self.recipient_id} on {self.day}"


class ChangeItem(models.Model):
    """What was done to one table of a system: the proof (GDPR Art. 5(2)), and for erasure what was kept and why
    (Art. 17(3), 12(4))."""

    job = models.ForeignKey(ChangeJob, on_delete=models.CASCADE, related_name="items")
    table = models.CharField(max_length=100)
    action = models.CharField(max_length=20, choices=ACTION_CHOICES)
    rows = models.BigIntegerField(default=0)
    ground = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    roll_off_on = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "pk"]

    def __str__(self) -> str:
        return f"change item {self.pk} ({self.table}: {self.action})"


class ErasureTombstone(models.Model):
    """What is left of an erased person: keyed hashes of their identifiers (never the values), so an erasure can be
    applied again after a backup restore (``manage.py erasure_reapply``). No foreign key: it outlives the case."""

    # {"email": hex, "phone": hex, "customer_id": hex}: HMAC-SHA256 under a key derived for erasure tombstones.
    hashes = models.JSONField(default=dict)
    system_ids = models.JSONField(default=list)
    run_id = models.BigIntegerField()
    erased_at = models.DateTimeField()
    # [{"at": iso, "system_id": int, "rows": int}] each time the erasure was applied again.
    reapplications = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["erased_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["run_id"], name="changes_one_tombstone_per_run")]

    def __str__(self) -> str:
        return f"erasure tombstone {self.pk} (run {self.run_id})"


# The decisions that drive the engine for restriction, objection and rectification (changes.restrictions, ...).
from .models_decisions import *  # noqa: E402,F401,F403
