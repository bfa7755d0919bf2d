"""The decisions that drive the change engine for restriction, objection and rectification (issue 13).

- ``Restriction`` (GDPR Art. 18): the ground(s) of Art. 18(1), the scope, the RESTRICT run that flags the systems,
  and its lifting, which only the Art. 18(3) notice to the person opens, on or after the date that notice gives.
- ``RestrictionException`` (Art. 18(2)): each use of restricted data beyond storage, with its ground.
- ``ObjectionDecision`` (Art. 21(1), 21(6)): the DPO's balancing decision with its recorded reasons.
- ``RectificationDecision`` and ``RectificationCorrection`` (Art. 16): the approved correction per system (the new
  value encrypted at rest), or "data accurate", or the person's supplementary statement stored.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedTextField


class RestrictionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested: the systems are being flagged")
    IN_FORCE = "in_force", _("In force")
    LIFT_NOTIFIED = "lift_notified", _("The person was told when it will be lifted")
    LIFTED = "lifted", _("Lifted")


class RestrictionGroundChoice(models.TextChoices):
    """GDPR Art. 18(1)(a)-(d) (the same values as ``requests_app.scope.RestrictionGround``)."""

    ACCURACY_CONTESTED = "accuracy_contested", _("(a) The person contests the accuracy of the data")
    UNLAWFUL_NO_ERASURE = "unlawful_no_erasure", _("(b) The processing is unlawful and the person wants no erasure")
    LEGAL_CLAIMS = "legal_claims", _("(c) The person needs the data for legal claims")
    OBJECTION_PENDING = "objection_pending", _("(d) An objection is being assessed")


def on_ground(ground: str, *, path: str = "grounds") -> models.Q:
    """Restrictions (through ``path``) whose grounds include ``ground`` (a ``RestrictionGroundChoice`` value).

    JSON containment (``grounds__contains=[ground]``) is PostgreSQL's only, and the embedded default runs on SQLite.
    The grounds are a JSON list of choice values, none of which holds a quote, so the value in quotes found in the
    list's text is one whole element of it, on either database."""
    return models.Q(**{f"{path}__icontains": f'"{ground}"'})


class Restriction(models.Model):
    """A restriction of processing on a request (GDPR Art. 18): while in force the data is only stored."""

    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="restrictions"
    )
    # RestrictionGroundChoice values: several cases may apply at once.
    grounds = models.JSONField(default=list)
    # What is restricted, in the staff member's words (may name the person's data).
    scope = EncryptedTextField(blank=True, default="")
    # Ground (d): the objection decision it waits for, once made.
    objection_decision = models.ForeignKey(
        "changes.ObjectionDecision", null=True, blank=True, on_delete=models.SET_NULL, related_name="restrictions"
    )
    status = models.CharField(max_length=20, choices=RestrictionStatus.choices, default=RestrictionStatus.REQUESTED)
    restrict_run = models.ForeignKey(
        "changes.ChangeRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField(null=True, blank=True)
    # Art. 18(3): the notice sent to the person, the day it gives and why.
    lift_notice = models.ForeignKey(
        "requests_app.Message", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_on = models.DateField(null=True, blank=True)
    lift_reason = EncryptedTextField(blank=True, default="")
    # Who decided to lift (sent the notice): the lift run started on the day carries their approval.
    lift_notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lift_run = models.ForeignKey("changes.ChangeRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lifted_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The daily lift task reads the notified restrictions whose day has come.
            models.Index(fields=["lift_on"], name="restriction_lift_due", condition=models.Q(status="lift_notified"))
        ]

    def __str__(self) -> str:
        return f"restriction {self.pk} on request {self.request_id}"

    def grounds_display(self) -> list[str]:
        labels = dict(RestrictionGroundChoice.choices)
        return [str(labels.get(ground, ground)) for ground in self.grounds]


class ExceptionGround(models.TextChoices):
    """GDPR Art. 18(2): the only uses of restricted data beyond storage."""

    CONSENT = "consent", _("With the person's consent")
    LEGAL_CLAIMS = "legal_claims", _("For legal claims")
    PROTECTION_OF_ANOTHER_PERSON = "protection_of_another_person", _("To protect the rights of another person")
    IMPORTANT_PUBLIC_INTEREST = "important_public_interest", _("For reasons of important public interest")


class RestrictionException(models.Model):
    """One use of restricted data beyond storage, under Art. 18(2): logged, never edited."""

    restriction = models.ForeignKey(Restriction, on_delete=models.CASCADE, related_name="exceptions")
    ground = models.CharField(max_length=40, choices=ExceptionGround.choices)
    processing = EncryptedTextField()
    used_by = models.CharField(max_length=200)
    used_on = models.DateField()
    note = EncryptedTextField(blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["used_on", "pk"]

    def __str__(self) -> str:
        return f"{self.ground} on restriction {self.restriction_id}"


class ObjectionOutcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld: the processing stops")
    COMPELLING_GROUNDS = (
        "compelling_grounds",
        _("Not upheld: compelling legitimate grounds override the person's interests (Art. 21(1))"),
    )
    LEGAL_CLAIMS = "legal_claims", _("Not upheld: the processing is needed for legal claims (Art. 21(1))")
    PUBLIC_INTEREST_RESEARCH = (
        "public_interest_research",
        _("Not upheld: research or statistics necessary for a public-interest task (Art. 21(6))"),
    )


class ObjectionDecision(models.Model):
    """The DPO's balancing decision on an objection under Art. 21(1) or 21(6), with the reasons recorded.

    The burden is on the controller (Art. 21(1): "unless the controller demonstrates"), so a decision not to stop
    the processing carries a substantive reason; an upheld one names what stops (systems, purposes).
    """

    request = models.OneToOneField(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="objection_decision"
    )
    outcome = models.CharField(max_length=30, choices=ObjectionOutcome.choices)
    reasons = EncryptedTextField()
    purposes = EncryptedTextField(blank=True, default="")
    systems = models.ManyToManyField("datasystems.DataSystem", blank=True, related_name="+")
    run = models.ForeignKey("changes.ChangeRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("decide_objection", _("Can decide an objection (the DPO's balancing decision)"))]

    def __str__(self) -> str:
        return f"objection decision on request {self.request_id}"


class RectificationOutcome(models.TextChoices):
    CORRECTED = "corrected", _("Corrected in the systems")
    DATA_ACCURATE = "data_accurate", _("Checked: the data is accurate")
    STATEMENT_ADDED = "statement_added", _("The person's supplementary statement is stored")


class RectificationDecision(models.Model):
    """The case handler's decision on a rectification request (Art. 16), carried out by one RECTIFY run."""

    request = models.OneToOneField(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="rectification_decision"
    )
    outcome = models.CharField(max_length=20, choices=RectificationOutcome.choices)
    note = EncryptedTextField(blank=True, default="")
    run = models.ForeignKey("changes.ChangeRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"rectification decision on request {self.request_id}"


class RectificationCorrection(models.Model):
    """One approved correction in one system: a table's column and its new value (encrypted at rest), or, for a
    system without a changing connector, the instruction its owner carries out."""

    decision = models.ForeignKey(RectificationDecision, on_delete=models.CASCADE, related_name="corrections")
    system = models.ForeignKey("datasystems.DataSystem", on_delete=models.PROTECT, related_name="+")
    table = models.CharField(max_length=200, blank=True, default="")
    column = models.CharField(max_length=200, blank=True, default="")
    value = EncryptedTextField(blank=True, default="")
    instruction = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"correction in system {self.system_id}"
