from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedTextField


class AssuranceLevel(models.IntegerChoices):
    """How sure we must be that the requester is the data subject, weakest first."""

    EMAIL = 1, _("Confirmed e-mail address")
    RECORDS = 2, _("Details match our records")
    EVIDENCE = 3, _("Document checked by staff")


class VerificationPolicy(models.Model):
    """How much assurance each kind of request needs: one row, edited by the DPO in the admin.

    EDPB Guidelines 01/2022 and the ICO: ask only for what is necessary and
    proportionate. An objection to direct marketing harms no one if the person
    is not who they say, so a confirmed address is enough; disclosure and
    erasure need the address to match our records, or a document.
    """

    access_level = models.PositiveSmallIntegerField(
        _("access"), choices=AssuranceLevel.choices, default=AssuranceLevel.RECORDS
    )
    portability_level = models.PositiveSmallIntegerField(
        _("portability"), choices=AssuranceLevel.choices, default=AssuranceLevel.RECORDS
    )
    erasure_level = models.PositiveSmallIntegerField(
        _("erasure"), choices=AssuranceLevel.choices, default=AssuranceLevel.RECORDS
    )
    rectification_level = models.PositiveSmallIntegerField(
        _("rectification"), choices=AssuranceLevel.choices, default=AssuranceLevel.RECORDS
    )
    restriction_level = models.PositiveSmallIntegerField(
        _("restriction"), choices=AssuranceLevel.choices, default=AssuranceLevel.RECORDS
    )
    # GDPR Art. 7(3): withdrawing consent must be as easy as giving it, and stopping a use harms no one if the person
    # is not who they say, so a confirmed address is enough (as for an objection to direct marketing).
    consent_withdrawal_level = models.PositiveSmallIntegerField(
        _("withdrawal of consent"), choices=AssuranceLevel.choices, default=AssuranceLevel.EMAIL
    )
    # GDPR Art. 22(3), UK Arts. 22A-22D: a review may disclose how the person was assessed, so as much as access.
    automated_decision_level = models.PositiveSmallIntegerField(
        _("automated decisions"), choices=AssuranceLevel.choices, default=AssuranceLevel.RECORDS
    )
    objection_marketing_level = models.PositiveSmallIntegerField(
        _("objection to direct marketing"), choices=AssuranceLevel.choices, default=AssuranceLevel.EMAIL
    )
    objection_other_level = models.PositiveSmallIntegerField(
        _("other objections"), choices=AssuranceLevel.choices, default=AssuranceLevel.RECORDS
    )
    sensitive_data_level = models.PositiveSmallIntegerField(
        _("requests about special category data"),
        choices=AssuranceLevel.choices,
        default=AssuranceLevel.EVIDENCE,
        help_text=_("Health, beliefs, biometrics and the like: applied when the requester says so."),
    )
    evidence_retention_hours = models.PositiveIntegerField(
        _("delete evidence this many hours after the decision"), default=24
    )
    response_timeout_days = models.PositiveIntegerField(
        _("close unanswered identity requests after (days)"), default=30
    )
    reminder_days_before_timeout = models.PositiveIntegerField(_("remind this many days before closing"), default=7)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("verification policy")
        verbose_name_plural = _("verification policy")

    def __str__(self) -> str:
        return str(_("Verification policy"))


class VerificationStep(models.TextChoices):
    NONE = "", _("Nothing asked")
    MORE_DETAILS = "more_details", _("One more detail to match our records")
    DOCUMENT = "document", _("A document for staff to check")


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the requester")
    EVIDENCE_RECEIVED = "evidence_received", _("Evidence received, to review")
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Failed")
    TIMED_OUT = "timed_out", _("Timed out")


class ChildCompetence(models.TextChoices):
    """Staff's decision about a child's request made by a parent (ICO guidance on children's right of access)."""

    NOT_COMPETENT = "not_competent", _("The child cannot understand their rights: the parent acts for them")
    COMPETENT_AUTHORISED = "competent_authorised", _("The child is competent and has authorised the parent")
    COMPETENT_BEST_INTERESTS = (
        "competent_best_interests",
        _("The child is competent; disclosing to the parent is evidently in the child's best interests"),
    )
    COMPETENT_RESPOND_TO_CHILD = "competent_respond_to_child", _("The child is competent: we deal with the child")


class IdentityVerification(models.Model):
    """Where a request stands on proving who the requester is."""

    request = models.OneToOneField(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="identity_verification"
    )
    required_level = models.PositiveSmallIntegerField(choices=AssuranceLevel.choices)
    achieved_level = models.PositiveSmallIntegerField(choices=AssuranceLevel.choices, default=AssuranceLevel.EMAIL)
    status = models.CharField(max_length=20, choices=VerificationStatus.choices, default=VerificationStatus.PENDING)
    step = models.CharField(max_length=20, choices=VerificationStep.choices, blank=True)
    records_match = models.CharField(max_length=10, blank=True)  # full / partial / none, for staff
    detail_attempts = models.PositiveSmallIntegerField(default=0)
    # What the person was asked for and why, in the words they were sent.
    request_to_requester = EncryptedTextField(blank=True, default="")
    asked_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=30, blank=True)
    # Agents: by default the response goes to the data subject; staff record
    # when the authority covers delivery to the agent.
    response_to_agent = models.BooleanField(default=False)
    # A parent asking for a child: staff consider the child's maturity (ICO;
    # in Scotland a child of 12 or over is presumed competent).
    child_maturity_review = models.BooleanField(default=False)
    # Why a document was asked for, kept with the check (Art. 12(6) "reasonable doubts"; LAW.md I1).
    document_reason = EncryptedTextField(blank=True, default="")
    # The child, as the agent with parental responsibility stated (LAW.md I4): the right is the child's, and in
    # Scotland a child of 12 or over is presumed competent to exercise it (DPA 2018 s.208).
    child_birth_date = models.DateField(null=True, blank=True)
    child_age = models.PositiveSmallIntegerField(null=True, blank=True)
    child_in_scotland = models.BooleanField(null=True, blank=True)
    # Staff's recorded decision on the child's competence and best interests, needed before verification succeeds.
    child_competence = models.CharField(max_length=30, choices=ChildCompetence.choices, blank=True)
    child_competence_reason = EncryptedTextField(blank=True, default="")
    # Staff judged the agent's authority sufficient without the subject's answer (LAW.md I3: the answer is a
    # supplementary signal, never a bar).
    authority_sufficient_reason = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            ("view_evidence", _("Can view identity and authority documents")),
            ("decide_verification", _("Can decide identity verification")),
        ]

    def __str__(self) -> str:
        return f"verification of {self.request_id}"


class EvidenceCheck(models.Model):
    """What survives the evidence: 'passport checked by J. Smith on 3 May' (EDPB Guidelines 01/2022)."""

    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="evidence_checks"
    )
    document_kind = models.CharField(max_length=100)
    outcome = models.CharField(max_length=20, choices=VerificationStatus.choices)
    checked_by_name = models.CharField(max_length=200)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(auto_now_add=True)
    evidence_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["checked_at", "pk"]

    def __str__(self) -> str:
        return f"{self.document_kind} checked by {self.checked_by_name} on {self.checked_at:%d %b %Y}"


class DemoCustomer(models.Model):
    """The demo organisation's customer records, for the shipped records matcher.

    A real deployment points DSAR_CUSTOMER_MATCHER at its own matcher (CRM,
    billing system) and never fills this table.
    """

    customer_number = models.CharField(max_length=50, unique=True)
    name = EncryptedTextField()
    email_hash = models.CharField(max_length=64, db_index=True)
    # The address the organisation holds for the customer, encrypted: where the customer is asked whether an agent
    # acts for them (never an address the agent typed; LAW.md I3).
    contact_email = EncryptedTextField(blank=True, default="")
    phone_hash = models.CharField(max_length=64, blank=True)
    postcode_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.customer_number


class SubjectConfirmation(models.Model):
    """The data subject's own answer to an agent's claim to act for them.

    Part of proving the agent's authority (ICO right of access guidance, "requests made on behalf of others"):
    where we can reach the person, we ask them, and a denial stops the request.
    """

    class Answer(models.TextChoices):
        PENDING = "pending", _("Waiting for the person")
        CONFIRMED = "confirmed", _("The person confirmed")
        DENIED = "denied", _("The person denied")

    request = models.OneToOneField(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="subject_confirmation"
    )
    subject_email = EncryptedTextField()
    # How the agent is named to the person ("Sam Solicitor of Law & Co"), captured when the agent files.
    agent_name = EncryptedTextField(blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    answer = models.CharField(max_length=20, choices=Answer.choices, default=Answer.PENDING)
    answered_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table it was created in when this lived in the agents app.
        db_table = "agents_subjectconfirmation"

    def __str__(self) -> str:
        return f"subject confirmation for {self.request_id}"
