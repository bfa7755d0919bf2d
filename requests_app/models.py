from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedJSONField, EncryptedTextField
from dsar_portal.jurisdictions import SUPPORTED_JURISDICTIONS
from dsar_portal.onetime import OneTimeCode

from . import deadlines


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
    AWAITING_FEE = "awaiting_fee", _("Waiting for a fee")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED_UNCONFIRMED = "closed_unconfirmed", _("Closed: e-mail address never confirmed")


class RespondTo(models.TextChoices):
    REQUESTER = "requester", _("The requester")
    SUBJECT = "subject", _("The data subject")


# The statuses of an open request, as stored (requests_app.workflow.OPEN_STATUSES is the rule; a test keeps the two
# equal). Here for the queue's partial index, which a migration must be able to state.
OPEN_STATUS_VALUES = [
    "awaiting_clarification",
    "awaiting_email_confirmation",
    "awaiting_fee",
    "awaiting_identity_verification",
    "in_progress",
]
# The statuses in which an extension may still be notified (requests_app.workflow.EXTENDABLE_STATUSES; a test keeps
# the two equal), for the partial index of the queue's "extension notice due" filter.
EXTENDABLE_STATUS_VALUES = ["awaiting_clarification", "awaiting_identity_verification", "in_progress"]


class Outcome(models.TextChoices):
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTLY_FULFILLED = "partly_fulfilled", _("Partly fulfilled")
    NO_DATA_HELD = "no_data_held", _("No data held")


class RefusalGround(models.TextChoices):
    """Why a request, or part of it, is not acted on: GDPR Art. 12(4) requires the reasons.

    Which ground fits which right is ``requests_app.grounds.ALLOWED_GROUNDS``. Stored values are never renamed.
    """

    # Any right. Art. 12(5): manifestly unfounded or excessive (an evidence note is required); Art. 23 and
    # national law (UK DPA 2018 Sch. 2-4): a named exemption with its reference; Art. 11(2)/12(2): identity.
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded", _("Manifestly unfounded")
    MANIFESTLY_EXCESSIVE = "manifestly_excessive", _("Manifestly excessive")
    EXEMPTION = "exemption", _("An exemption applies")
    IDENTITY_NOT_VERIFIED = "identity_not_verified", _("We could not confirm your identity")
    SUBJECT_DENIED_AGENT = "subject_denied_agent", _("The person the request is about told us you do not act for them")
    NOT_IN_POSITION_TO_IDENTIFY = (
        "not_in_position_to_identify",
        _("We are not in a position to identify you in the data we hold (GDPR Art. 11(2))"),
    )
    # Erasure: the exceptions of Art. 17(3)(a)-(e).
    ERASURE_FREEDOM_OF_EXPRESSION = (
        "erasure_freedom_of_expression",
        _("We need the data to exercise the right of freedom of expression and information (GDPR Art. 17(3)(a))"),
    )
    ERASURE_LEGAL_OBLIGATION = (
        "erasure_legal_obligation",
        _(
            "We must keep the data to comply with a legal obligation, or for a task in the public interest or in the "
            "exercise of official authority (GDPR Art. 17(3)(b))"
        ),
    )
    ERASURE_PUBLIC_HEALTH = (
        "erasure_public_health",
        _("We need the data for reasons of public interest in the area of public health (GDPR Art. 17(3)(c))"),
    )
    ERASURE_ARCHIVING_RESEARCH = (
        "erasure_archiving_research",
        _(
            "Erasing the data would make impossible or seriously impair archiving in the public interest, scientific "
            "or historical research or statistics (GDPR Art. 17(3)(d))"
        ),
    )
    ERASURE_LEGAL_CLAIMS = (
        "erasure_legal_claims",
        _("We need the data to establish, exercise or defend legal claims (GDPR Art. 17(3)(e))"),
    )
    # Objection to processing under Art. 6(1)(e) or (f): Art. 21(1); research and statistics: Art. 21(6).
    OBJECTION_COMPELLING_GROUNDS = (
        "objection_compelling_grounds",
        _(
            "We have compelling legitimate grounds for the processing which override your interests, rights and "
            "freedoms (GDPR Art. 21(1))"
        ),
    )
    OBJECTION_LEGAL_CLAIMS = (
        "objection_legal_claims",
        _("We need the processing to establish, exercise or defend legal claims (GDPR Art. 21(1))"),
    )
    OBJECTION_PUBLIC_INTEREST_RESEARCH = (
        "objection_public_interest_research",
        _(
            "The processing for research or statistics is necessary for a task carried out in the public interest "
            "(GDPR Art. 21(6))"
        ),
    )
    # Portability: the conditions of Art. 20(1), and the limits of Art. 20(3) and 20(4).
    PORTABILITY_NOT_CONSENT_OR_CONTRACT = (
        "portability_not_consent_or_contract",
        _("We do not process the data on the basis of your consent or a contract with you (GDPR Art. 20(1)(a))"),
    )
    PORTABILITY_NOT_AUTOMATED = (
        "portability_not_automated",
        _("We do not process the data by automated means (GDPR Art. 20(1)(b))"),
    )
    PORTABILITY_PUBLIC_TASK = (
        "portability_public_task",
        _(
            "The processing is necessary for a task in the public interest or in the exercise of official authority "
            "(GDPR Art. 20(3))"
        ),
    )
    PORTABILITY_ADVERSELY_AFFECTS_OTHERS = (
        "portability_adversely_affects_others",
        _("Providing the data would adversely affect the rights and freedoms of others (GDPR Art. 20(4))"),
    )
    # Restriction: none of the grounds of Art. 18(1)(a)-(d) is made out.
    RESTRICTION_GROUND_NOT_MADE_OUT = (
        "restriction_ground_not_made_out",
        _("None of the grounds for restricting the use of your data applies (GDPR Art. 18(1))"),
    )
    # Rectification: the data are accurate; the person's own statement is recorded with them (Art. 16).
    RECTIFICATION_DATA_ACCURATE = (
        "rectification_data_accurate",
        _("We have checked and consider the data accurate (GDPR Art. 16)"),
    )


class Exemption(models.TextChoices):
    """The provision a refusal on ``RefusalGround.EXEMPTION`` relies on; a free-text reference says exactly which.

    UK: DPA 2018 Sch. 2 (the paragraphs a DPO meets most), Sch. 3 (health, social work, education: serious harm),
    Sch. 4 (disclosure prohibited by other law). EU: a restriction in national law under GDPR Art. 23, the law named.
    """

    UK_SCH2_PARA2 = "uk_sch2_para2", _("DPA 2018 Sch. 2 para 2: crime and taxation")
    UK_SCH2_PARA5 = "uk_sch2_para5", _("DPA 2018 Sch. 2 para 5: disclosure required by law or for legal proceedings")
    UK_SCH2_PARA16 = "uk_sch2_para16", _("DPA 2018 Sch. 2 para 16: information about other people")
    UK_SCH2_PARA19 = "uk_sch2_para19", _("DPA 2018 Sch. 2 para 19: legal professional privilege")
    UK_SCH2_PARA22 = "uk_sch2_para22", _("DPA 2018 Sch. 2 para 22: management forecasts")
    UK_SCH2_PARA23 = "uk_sch2_para23", _("DPA 2018 Sch. 2 para 23: negotiations")
    UK_SCH2_PARA24 = "uk_sch2_para24", _("DPA 2018 Sch. 2 para 24: confidential references")
    UK_SCH2_PARA25 = "uk_sch2_para25", _("DPA 2018 Sch. 2 para 25: exam scripts and exam marks")
    UK_SCH2_OTHER = "uk_sch2_other", _("DPA 2018 Sch. 2: another paragraph")
    UK_SCH3 = "uk_sch3", _("DPA 2018 Sch. 3: health, social work or education data (serious harm)")
    UK_SCH4 = "uk_sch4", _("DPA 2018 Sch. 4: disclosure prohibited or restricted by law")
    EU_ART23 = "eu_art23", _("GDPR Art. 23: a restriction in national law")


class RequesterRole(models.TextChoices):
    DATA_SUBJECT = "data_subject", _("I am asking about my own data")
    AGENT = "agent", _("I am acting for someone else")


class PauseReason(models.TextChoices):
    CLARIFICATION = "clarification", _("We asked you to clarify your request")
    IDENTITY = "identity", _("We asked you for proof of identity")
    # UK GDPR Art. 12A: the time to respond begins again on payment of a fee (services.request_fee_paid).
    FEE = "fee", _("We asked you for a fee")


class ExtensionBasis(models.TextChoices):
    """What may justify more time: GDPR Art. 12(3) "taking into account the complexity and number of the requests";
    UK GDPR Art. 12A "by reason of the complexity of requests made by the data subject, or the number of such
    requests". Staff shortage, holidays or the organisation's overall volume do not count (ICO right of access
    guidance; EDPB Guidelines 01/2022 §5.3: the extension is an exception)."""

    COMPLEXITY = "complexity", _("The request is complex")
    NUMBER_OF_REQUESTS = "number_of_requests", _("We have received a number of requests from you")


class FeeBasis(models.TextChoices):
    """When a fee may be charged at all: GDPR Art. 12(5)(a) (UK GDPR Art. 12A as amended by the Data (Use and
    Access) Act 2025 keeps the same rule) for a manifestly unfounded or excessive request, and Art. 15(3) for
    further copies of the data; the first copy is always free (CJEU C-307/22)."""

    MANIFESTLY_UNFOUNDED = "manifestly_unfounded", _("The request is manifestly unfounded")
    MANIFESTLY_EXCESSIVE = "manifestly_excessive", _("The request is manifestly excessive")
    FURTHER_COPY = "further_copy", _("A further copy of data we have already given you")


class Channel(models.TextChoices):
    """How a request reached us: a request is valid whatever the channel (EDPB Guidelines 01/2022 para 52-56)."""

    WEB = "web", _("The online form")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    PHONE = "phone", _("Phone")
    SOCIAL_MEDIA = "social_media", _("Social media")
    IN_PERSON = "in_person", _("In person")


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
    # A second regime whose law also applies (GDPR Art. 3(2): a UK controller answering an EU resident, or the
    # reverse); both due dates are computed and the earlier governs (requests_app.deadlines).
    second_jurisdiction = models.CharField(max_length=8, blank=True, default="")
    # Who receives our messages and the response: the requester, or (an agent's request, decided by identity per
    # authority type; LAW.md I3/I4, ICO guidance on requests made on behalf of others) the data subject at the
    # address the organisation holds for them.
    respond_to = models.CharField(max_length=10, choices=RespondTo.choices, default="requester")
    subject_email = EncryptedTextField(blank=True, default="")

    received_at = models.DateTimeField()
    # How it arrived; anything but the web form was logged by staff with its true receipt time (casework).
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    # A postal requester without e-mail: our notices are stored and marked for posting, not e-mailed.
    notices_by_post = models.BooleanField(default=False)
    postal_address = EncryptedTextField(blank=True, default="")
    # The day of receipt in the jurisdiction's own time zone, and that zone (deadlines.day_of_receipt).
    received_on = models.DateField()
    received_time_zone = models.CharField(max_length=64, blank=True, default="")
    # The language the requester used (the page's active language when they filed it; one of settings.LANGUAGES),
    # so staff write to them in it where a translation exists. Empty for requests filed before it was recorded.
    language = models.CharField(max_length=16, blank=True, default="")
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    unconfirmed_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # The statutory clock. Dates are in the organisation's time zone.
    clock_started_on = models.DateField()
    clock_paused_on = models.DateField(null=True, blank=True)
    clock_pause_reason = models.CharField(max_length=20, choices=PauseReason.choices, blank=True)
    # The reasonable doubt recorded when identity information was asked for (UK GDPR Art. 12(6)): without one, the
    # UK clock is suspended rather than restarted when the information arrives (requests_app.clock).
    clock_pause_doubt = models.CharField(max_length=500, blank=True, default="")
    paused_days = models.PositiveIntegerField(default=0)
    extension_months = models.PositiveSmallIntegerField(default=0)
    # GDPR Art. 12(3): why the deadline was extended (ExtensionBasis values); the reasons are in the EXTENDED event.
    extension_basis = models.JSONField(default=list, blank=True)
    due_on = models.DateField()
    # The staff member working the case. Written only by casework.services.request_assign, in the transaction that
    # records who assigned it and when (casework.Assignment): kept on the request so that the queue's "assigned to"
    # and "no one yet" filters read one partial index in due order instead of probing the assignments row by row
    # (55-80 ms a page at a million requests, bench/dashboard_bench.py).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    target_on = models.DateField()

    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    refusal_ground = models.CharField(max_length=40, choices=RefusalGround.choices, blank=True)
    # The decision's particulars (requests_app.grounds). A named exemption and its exact reference (Art. 23; DPA
    # 2018 Sch. 2-4); whether the UK "neither confirm nor deny" notice was sent (ICO: stating the ground could
    # prejudice the purpose of the exemption); the internal note never sent to the person (the evidence for a
    # manifestly unfounded or excessive request, Art. 12(5); the controller's demonstration under Art. 11(2); the
    # reason for "neither confirm nor deny"); and the structured statement the person reads (what was done, what
    # was not and why, for a partly fulfilled request; the statement recorded under Art. 16).
    refusal_exemption = models.CharField(max_length=20, choices=Exemption.choices, blank=True)
    refusal_reference = models.CharField(max_length=300, blank=True)
    neither_confirm_nor_deny = models.BooleanField(default=False)
    decision_note = EncryptedTextField(blank=True, default="")
    decision_statement = EncryptedJSONField(default=dict, blank=True)
    # The day the refusal or completion was sent, in the organisation's date, and whether it was after ``due_on``
    # (Art. 12(3)-(4): "without undue delay and in any event within one month").
    answered_on = models.DateField(null=True, blank=True)
    answered_late = models.BooleanField(default=False)

    # A fee asked for (GDPR Art. 12(5), 15(3); services.request_fee_request): amount, basis, when asked and paid.
    fee_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    fee_currency = models.CharField(max_length=3, blank=True)
    fee_basis = models.CharField(max_length=30, choices=FeeBasis.choices, blank=True)
    fee_requested_on = models.DateField(null=True, blank=True)
    fee_paid_on = models.DateField(null=True, blank=True)

    # GDPR Art. 21(3): when an objection to direct marketing was completed, so "time to suppression" can be measured.
    suppressed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("data subject request")
        permissions = [
            ("view_personal_data", _("Can see requesters' personal data")),
            # ICO guidance on DPA 2018 Sch. 2: the "neither confirm nor deny" reply is a DPO's decision.
            ("refuse_neither_confirm_nor_deny", _("Can refuse without stating the ground (neither confirm nor deny)")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(extension_months__lte=2), name="extension_at_most_two_months"),
            models.UniqueConstraint(fields=["reference"], name="request_reference_unique"),
        ]
        # Declared here rather than with unique=True or db_index=True on the fields: on PostgreSQL those add a
        # second, pattern-matching index to every text column for LIKE queries the portal never makes, and each
        # index is written on every submission.
        indexes = [
            models.Index(fields=["status"], name="request_status_idx"),
            # Search by e-mail, and the person's most recent other requests on the case page (casework): with the
            # receipt time in the index, the ten most recent of a person's thousands are read without the others.
            models.Index(fields=["email_hash", "received_at", "id"], name="request_email_received_idx"),
            # The staff queue's order and its keyset pages (casework): soonest legal deadline first, then id, over
            # open requests only. A full index made PostgreSQL walk past every closed request first (3 s a page at
            # a million requests, bench/dashboard_bench.py); this one holds only what the queue shows.
            models.Index(
                fields=["due_on", "id"],
                name="request_open_due_on_id_idx",
                condition=models.Q(status__in=OPEN_STATUS_VALUES),
            ),
            # The queue filtered by an open status (a status, awaiting verification, awaiting a fee): the same order
            # within the status, so a page stops after its rows instead of sorting every request of that status
            # (20,000 of them, 80-140 ms at a million requests: bench/dashboard_bench.py).
            models.Index(
                fields=["status", "due_on", "id"],
                name="request_open_status_due_idx",
                condition=models.Q(status__in=OPEN_STATUS_VALUES),
            ),
            # The queue by assignee, in the queue's order.
            models.Index(
                fields=["assignee", "due_on", "id"],
                name="request_open_assignee_due_idx",
                condition=models.Q(status__in=OPEN_STATUS_VALUES),
            ),
            # And "no one yet": PostgreSQL reads the index above in due order only for an equality on its first
            # column, which IS NULL is not.
            models.Index(
                fields=["due_on", "id"],
                name="request_open_unassigned_idx",
                condition=models.Q(status__in=OPEN_STATUS_VALUES, assignee__isnull=True),
            ),
            # Search by e-mail in the queue (open requests, soonest first): the rows of one address in order.
            models.Index(
                fields=["email_hash", "due_on", "id"],
                name="request_open_email_due_idx",
                condition=models.Q(status__in=OPEN_STATUS_VALUES),
            ),
            # "Extension notice due" (casework.queue_pages.extension_notice_due_q): the requests that may still be
            # extended and are not, with the clock running, in due order.
            models.Index(
                fields=["due_on", "id"],
                name="request_extension_notice_idx",
                condition=models.Q(
                    status__in=EXTENDABLE_STATUS_VALUES, extension_months=0, clock_paused_on__isnull=True
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    # Looked up rather than Django's generated get_FOO_display, which hashes every choice on each call: the staff
    # queue calls these twice a row (bench/dashboard_bench.py).
    def get_right_display(self) -> str:
        return _RIGHT_LABELS.get(self.right, self.right)

    def get_status_display(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        from .workflow import OPEN_STATUSES

        return self.status in OPEN_STATUSES

    @property
    def delivery_email(self) -> str:
        """Where our messages go: the data subject's held address when the response is routed to them."""
        if self.respond_to == RespondTo.SUBJECT and self.subject_email:
            return self.subject_email
        return self.requester_email

    @property
    def is_clock_paused(self) -> bool:
        return self.clock_paused_on is not None

    @property
    def time_to_suppression(self) -> timedelta | None:
        """Elapsed time from receipt to the completion of an objection to direct marketing (Art. 21(3)), or None."""
        if self.suppressed_at is None:
            return None
        return self.suppressed_at - self.received_at

    @property
    def working_days_to_suppression(self) -> int | None:
        """Working days of the jurisdiction after the day of receipt until suppression: 0 is the same day, 1 the
        next working day (the internal target for an objection to direct marketing, ICO direct marketing guidance).
        None until suppressed."""
        if self.suppressed_at is None:
            return None
        return deadlines.working_days_after(
            timezone.localdate(self.received_at), timezone.localdate(self.suppressed_at), self.jurisdiction
        )


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
    FEE_REQUESTED = "fee_requested", _("Fee requested")
    FEE_PAID = "fee_paid", _("Fee paid")
    FEE_WAIVED = "fee_waived", _("Fee waived")
    MARKETING_SUPPRESSED = "marketing_suppressed", _("Direct marketing suppressed")
    DECISION_NOTE = "decision_note", _("Internal note on the decision (not sent to the person)")
    ANSWERED_LATE = "answered_late", _("Answered after the due date")
    RESPONSE_ROUTED = "response_routed", _("Recipient of the response decided")
    IDENTITY_JUDGEMENT = "identity_judgement", _("Identity or authority judgement recorded")
    ASSIGNED = "assigned", _("Assigned to a member of staff")
    # A complaint about how the request was handled (UK DPA 2018 s.164A), and each step of it (the complaints app).
    COMPLAINT_RECEIVED = "complaint_received", _("Complaint received")
    COMPLAINT_ACKNOWLEDGED = "complaint_acknowledged", _("Complaint acknowledged")
    COMPLAINT_INVESTIGATING = "complaint_investigating", _("Complaint being looked into")
    COMPLAINT_PROGRESS = "complaint_progress", _("Complainant told of progress")
    COMPLAINT_RESOLVED = "complaint_resolved", _("Complaint outcome sent")
    COMPLAINT_WITHDRAWN = "complaint_withdrawn", _("Complaint withdrawn")
    # The portal reminded staff of a deadline of this request (casework.reminders).
    STAFF_REMINDER_SENT = "staff_reminder_sent", _("Staff reminded of a deadline")
    # A request that arrived by letter, e-mail, phone, social media or in person, logged by staff.
    RECEIVED_ANOTHER_WAY = "received_another_way", _("Request received another way, logged by staff")
    LETTER_POSTED = "letter_posted", _("Letter posted to the requester")
    # Staff produced the case pack (casework.case_pack), as HTML or PDF: who took a copy of the file, and when.
    CASE_PACK_GENERATED = "case_pack_generated", _("Case pack generated")
    # Staff wrote to the requester from the case page (the message itself is in the correspondence), and staff
    # added an internal note (the note is kept in the case file, casework.CaseNote; never its text here).
    MESSAGE_WRITTEN = "message_written", _("Message to the requester written by staff")
    NOTE_ADDED = "note_added", _("Internal note added (not sent to the person)")
    # The compiled answer of an access or portability request (the fulfilment app): a compilation's and a data
    # system search's moves, written by their guarded lifecycles.
    COMPILATION_STATUS_CHANGED = "compilation_status_changed", _("Answer compilation status changed")
    SEARCH_STATUS_CHANGED = "search_status_changed", _("Search of a data system status changed")
    RELEASE_STATUS_CHANGED = "release_status_changed", _("Release of the answer status changed")
    # Secure delivery (fulfilment.delivery): a download code e-mailed, a download, a further copy's moves.
    DOWNLOAD_CODE_SENT = "download_code_sent", _("Download code sent")
    DOWNLOAD_CODE_FAILED = "download_code_failed", _("Wrong download code entered")
    ANSWER_DOWNLOADED = "answer_downloaded", _("Answer downloaded")
    FURTHER_COPY_STATUS_CHANGED = "further_copy_changed", _("Further copy of the answer status changed")
    # GDPR Art. 20(2): the feasibility decision and every attempt to send the answer to another controller.
    TRANSMISSION_STATUS_CHANGED = "transmission_status_changed", _("Direct transmission to another controller")
    # An item of the answer withheld or a field redacted before release, or such a decision undone (fulfilment.review).
    RELEASE_REVIEWED = "release_reviewed", _("Answer reviewed before release")
    # Issue 13, the change engine (changes): a run's and a data system's change moves (their guarded lifecycles),
    # and what staff record about a run (approvals, Art. 17(2) steps, a system owner's answer, an erasure reapplied).
    CHANGE_RUN_STATUS_CHANGED = "change_run_status_changed", _("Change in the data systems: status changed")
    CHANGE_JOB_STATUS_CHANGED = "change_job_status_changed", _("Change in one data system: status changed")
    CHANGE_RECORDED = "change_recorded", _("Change in the data systems: recorded")


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

    # Django's generated get_FOO_display hashes every choice on each call (about 1 ms for EventKind's), which a case
    # page with a long timeline calls hundreds of times (bench/dashboard_bench.py); these look the label up.
    def get_kind_display(self) -> str:
        return _EVENT_KIND_LABELS.get(self.kind, self.kind)

    def get_from_status_display(self) -> str:
        return _STATUS_LABELS.get(self.from_status, self.from_status)

    def get_to_status_display(self) -> str:
        return _STATUS_LABELS.get(self.to_status, self.to_status)


_EVENT_KIND_LABELS = dict(EventKind.choices)


class DueDateChange(models.Model):
    """History of the legal due date, each change tied to the event that caused it."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="due_date_changes")
    event = models.ForeignKey(RequestEvent, on_delete=models.CASCADE, related_name="due_date_changes")
    previous_due_on = models.DateField(null=True, blank=True)
    due_on = models.DateField()
    target_on = models.DateField()
    # The calendar the dates were computed with: the holidays library's version, the DPO's overrides that applied
    # and a digest of them (deadlines.calendar_record).
    calendar = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}: due {self.due_on}"


class HolidayOverride(models.Model):
    """The DPO's correction to a jurisdiction's public holidays, with the reason (LAW.md D6).

    ``is_holiday=True`` adds a statutory holiday the library lacks; ``False`` removes a day the library lists but the
    law does not (Reg. 1182/71 Art. 2(1): holidays "designated as such" in the Member State). Due dates computed
    after the change record which overrides applied (``DueDateChange.calendar``).
    """

    # Only a jurisdiction whose calendar the clock uses: a mistyped code would silently correct nothing.
    jurisdiction = models.CharField(
        max_length=8, choices=sorted(SUPPORTED_JURISDICTIONS.items(), key=lambda item: item[1])
    )
    day = models.DateField()
    is_holiday = models.BooleanField()
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["jurisdiction", "day"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "day"], name="holiday_override_one_per_day"),
            models.CheckConstraint(
                condition=models.Q(jurisdiction__in=sorted(SUPPORTED_JURISDICTIONS)),
                name="holiday_override_supported_jurisdiction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.day}: {'holiday' if self.is_holiday else 'working day'}"


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
    FEE_REQUESTED = "fee_requested", _("A fee for your request")
    # Written by staff on the case page, from a template the DPO edits (casework.MessageTemplate).
    STAFF_MESSAGE = "staff_message", _("A message about your request")
    # Secure delivery (fulfilment.delivery): the answer ready to download, and a further copy's fee.
    ANSWER_READY = "answer_ready", _("Your answer is ready to download")
    FURTHER_COPY_FEE = "further_copy_fee", _("A fee for a further copy")


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
    # For a requester who gets notices by post: the message is printed and posted by staff, who record the day.
    by_post = models.BooleanField(default=False)
    posted_on = models.DateField(null=True, blank=True)

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


class MarketingSuppression(models.Model):
    """An address that must never again receive direct marketing: the person objected (GDPR Art. 21(2)-(3)).

    Once a person objects to direct marketing their data "shall no longer be processed for such purposes"
    (Art. 21(3)), and the ICO's direct marketing guidance says to keep a suppression list rather than delete them
    entirely, since otherwise the address could be added again from another source and marketed to. So this entry
    is kept to the person's benefit, even after a later erasure request (Art. 17(3) does not reach it: the entry is
    what makes the objection last). It holds the least that works: a keyed hash of the normalised address
    (``dsar_portal.crypto.email_lookup_hash``), which cannot be read back into the address, when it was made and
    the id of the request that made it (a plain number, not a foreign key, so deleting or erasing that request
    never deletes this entry). Kept while the organisation markets to anyone (LAW.md §6(h)).
    """

    email_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    source_request_id = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email_hash"], name="marketing_suppression_email_unique")]

    def __str__(self) -> str:
        return f"suppression from request {self.source_request_id}"


# The labels the display methods above look up (module level: resolved when called, after every class is defined).
_STATUS_LABELS = dict(Status.choices)
_RIGHT_LABELS = dict(Right.choices)
