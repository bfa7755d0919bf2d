"""The portal's own records kept no longer than needed (GDPR Art. 5(1)(e); LAW.md §6(h); issue 13).

- ``RetentionRule``: the DPO's period for one kind of record the deletion job enforces. A kind with no row keeps the
  deployment's default from settings (``retention.schedule``), so a fresh portal enforces LAW.md §6(h) as it is.
- ``RetentionRuleChange``: every edit of the schedule, by whom, when, from what to what and why (Art. 5(2), 30).
- ``LegalHold``: a case that must not be deleted while a complaint, a claim or a regulator's inquiry may need it.
- ``ClosedCaseFigure``: what a deleted case leaves for the DPO's figures: no identifier, no reference, no free text
  (Recital 26: anonymous information is outside the GDPR; LAW.md §6(h) "Anonymised statistics: indefinitely").
- ``AgentDeletionNotice``: the e-mail telling an unused agent account it will be deleted (LAW.md §6(h) "with notice").
- ``RetentionRun``: one run of the deletion job, with what it deleted by kind: counts only, never personal data.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    """The records whose period the DPO sets here (the deletion job of ``retention.services`` enforces them)."""

    UNCONFIRMED_REQUEST = "unconfirmed_request", _("Requests closed with the e-mail address never confirmed")
    CASE_FILE = "case_file", _("Closed case files")
    AGENT_ACCOUNT = "agent_account", _("Agent accounts not used")
    COMPLAINT = "complaint", _("Closed complaints not about a case")


class RetentionRule(models.Model):
    """The DPO's period for one kind of record, in days after its start (closure, or the account's last use)."""

    kind = models.CharField(max_length=30, choices=RecordKind.choices, unique=True)
    days = models.PositiveIntegerField()
    # Agent accounts only: how many days before deletion the agent is told (LAW.md §6(h) "with notice").
    notice_days = models.PositiveIntegerField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            ("manage_retention", _("Can set the portal's retention schedule")),
            ("place_legal_hold", _("Can place a legal hold on a case")),
            ("release_legal_hold", _("Can release a legal hold on a case")),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.days} days"


class RetentionRuleChange(models.Model):
    """One edit of the schedule (Art. 5(2): the controller shows the periods it chose and when). Append-only."""

    kind = models.CharField(max_length=30, choices=RecordKind.choices)
    from_days = models.PositiveIntegerField()
    to_days = models.PositiveIntegerField()
    from_notice_days = models.PositiveIntegerField(null=True, blank=True)
    to_notice_days = models.PositiveIntegerField(null=True, blank=True)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.from_days} -> {self.to_days}"


class HoldReason(models.TextChoices):
    COMPLAINT = "complaint", _("A complaint")
    CLAIM = "claim", _("A claim or litigation")
    REGULATOR = "regulator", _("A regulator's inquiry")
    OTHER = "other", _("Another reason")


class HoldStatus(models.TextChoices):
    HELD = "held", _("Held")
    RELEASED = "released", _("Released")


class LegalHold(models.Model):
    """A case the deletion job must leave alone (LAW.md §6(h): "a legal-hold flag on complaints or litigation";
    Art. 17(3)(e) and 5(1)(e): kept while needed for legal claims). Placed and released through
    ``retention.services`` only, each move in the request's trail."""

    request = models.ForeignKey("requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.HELD)
    reason = models.CharField(max_length=20, choices=HoldReason.choices)
    # Staff's words: may name people, so not shown on the retention page and never logged.
    note = models.TextField(blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        indexes = [
            models.Index(fields=["request"], condition=models.Q(status="held"), name="legal_hold_held_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.status} hold on request {self.request_id}"


class ClosedCaseFigure(models.Model):
    """What the metrics need of a deleted case (casework.metrics), written in the transaction that deletes it.

    Months, not days; no reference, no identifier, no text anyone wrote: the row cannot be linked back to a person
    (Recital 26), so it is kept indefinitely (LAW.md §6(h)).
    """

    right = models.CharField(max_length=20)
    jurisdiction = models.CharField(max_length=8)
    channel = models.CharField(max_length=20)
    status = models.CharField(max_length=40)
    outcome = models.CharField(max_length=20, blank=True)
    refusal_ground = models.CharField(max_length=40, blank=True)
    received_month = models.DateField()
    closed_month = models.DateField()
    # Answered requests (completed or refused): the month of the answer, whether it was on or before the due date
    # (Art. 12(3)), and the calendar days from receipt to the answer.
    answered_month = models.DateField(null=True, blank=True)
    answered_in_time = models.BooleanField(null=True, blank=True)
    answered_late = models.BooleanField(default=False)
    days_to_answer = models.IntegerField(null=True, blank=True)
    extension_used = models.BooleanField(default=False)
    fee_asked = models.BooleanField(default=False)
    # The identity decision (Art. 12(6)) and a marketing objection's suppression (Art. 21(3)), in hours from receipt.
    verified_month = models.DateField(null=True, blank=True)
    hours_to_verify = models.FloatField(null=True, blank=True)
    suppressed_month = models.DateField(null=True, blank=True)
    hours_to_suppression = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["answered_month"], name="closed_figure_answered_idx")]

    def __str__(self) -> str:
        return f"{self.right} closed {self.closed_month:%Y-%m}"


class AgentDeletionNotice(models.Model):
    """The e-mail telling an agent their unused account will be deleted, and when it was sent. Deleted with the
    account; a sign-in after it makes it stale (the account is then kept and a later notice starts again)."""

    agent = models.OneToOneField("agents.Agent", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delete_after = models.DateTimeField()

    def __str__(self) -> str:
        return f"deletion notice for agent {self.agent_id}"


class RetentionRun(models.Model):
    """One run of the deletion job (Art. 5(2): the controller shows the schedule is enforced). Counts only."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"unconfirmed_request": 3, "case_file": 10, "agent_notice": 1, "agent_account": 0, "held": 2, "blocked": 0}
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"retention run {self.pk} at {self.started_at:%Y-%m-%d %H:%M}"
