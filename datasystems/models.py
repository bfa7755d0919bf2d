"""The register of data systems (issue 12): where personal data lives, why, who receives it, for how long.

One record per system, edited by the DPO in the staff area. It is the organisation's record of processing
activities (GDPR Art. 30(1)) with what handling a data subject request needs on top: how to search the system, what
it holds that the person provided (Art. 20), and how erasure and restriction work there. The public privacy notice
(Art. 13 and 14) and the supplementary information of an access answer (Art. 15(1)(a)-(h) and 15(2)) are both
generated from these records by ``selectors.supplementary_information``, so they cannot drift apart.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class LawfulBasis(models.TextChoices):
    """GDPR Art. 6(1)(a)-(f). Stored values are never renamed once released."""

    CONSENT = "consent", _("Consent (Article 6(1)(a))")
    CONTRACT = "contract", _("Contract with the person (Article 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (Article 6(1)(c))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (Article 6(1)(d))")
    PUBLIC_TASK = "public_task", _("Public task (Article 6(1)(e))")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests (Article 6(1)(f))")


class Art9Condition(models.TextChoices):
    """GDPR Art. 9(2)(a)-(j): the condition for special category data (UK: with DPA 2018 Sch. 1 where needed)."""

    NONE = "", _("None (no special category data)")
    EXPLICIT_CONSENT = "explicit_consent", _("Explicit consent (Article 9(2)(a))")
    EMPLOYMENT = "employment", _("Employment and social security law (Article 9(2)(b))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (Article 9(2)(c))")
    NOT_FOR_PROFIT = "not_for_profit", _("Not-for-profit body's members (Article 9(2)(d))")
    MADE_PUBLIC = "made_public", _("Made public by the person (Article 9(2)(e))")
    LEGAL_CLAIMS = "legal_claims", _("Legal claims or courts (Article 9(2)(f))")
    SUBSTANTIAL_PUBLIC_INTEREST = "substantial_public_interest", _("Substantial public interest (Article 9(2)(g))")
    HEALTH_CARE = "health_care", _("Health or social care (Article 9(2)(h))")
    PUBLIC_HEALTH = "public_health", _("Public health (Article 9(2)(i))")
    ARCHIVING = "archiving", _("Archiving, research or statistics (Article 9(2)(j))")


class RecipientKind(models.TextChoices):
    PROCESSOR = "processor", _("Processor (acts on our instructions, Article 28)")
    CONTROLLER = "controller", _("Controller (decides its own use)")
    PUBLIC_AUTHORITY = "public_authority", _("Public authority")


class Safeguard(models.TextChoices):
    """GDPR Chapter V: the ground a transfer outside the UK/EEA rests on (Art. 45, 46, 47, 49)."""

    ADEQUACY = "adequacy", _("Adequacy decision or UK adequacy regulations (Article 45)")
    SCCS = "sccs", _("Standard contractual clauses (Article 46(2)(c))")
    IDTA = "idta", _("UK International Data Transfer Agreement (Article 46(2)(d))")
    UK_ADDENDUM = "uk_addendum", _("UK Addendum to the standard contractual clauses (Article 46(2)(d))")
    BCRS = "bcrs", _("Binding corporate rules (Article 47)")
    DEROGATION = "derogation", _("Derogation for a specific situation (Article 49)")


class DataSystem(models.Model):
    """One system holding personal data: a record of processing (GDPR Art. 30(1)) plus how to handle requests in it."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("what it is for"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("system owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_data_systems",
    )
    # Art. 30(1)(c): the categories of data subjects and of personal data.
    data_subjects = models.TextField(_("whose data it holds"), help_text=_("For example: customers, prospects."))
    personal_data_categories = models.JSONField(_("categories of personal data"), default=list)
    # Art. 9(1): special category data need a condition from Art. 9(2) besides an Art. 6 basis.
    special_category = models.BooleanField(_("holds special category data"), default=False)
    art9_condition = models.CharField(
        _("Article 9 condition"), max_length=40, blank=True, choices=Art9Condition.choices
    )
    # Art. 14(2)(f) and 15(1)(g): where the data come from when not from the person; blank = from the person.
    source = models.TextField(
        _("source, where not collected from the person"),
        blank=True,
        help_text=_("Leave empty when everything in it comes from the person themselves."),
    )
    # Art. 13(2)(a), 14(2)(a), 15(1)(d): the period, or the criteria used to set it.
    retention = models.TextField(_("how long it is kept"))
    # Art. 20(1): portability covers what the person provided, observed data included (WP242 rev.01).
    holds_provided_data = models.BooleanField(_("holds data the person provided"), default=True)
    holds_observed_data = models.BooleanField(
        _("holds data observed about the person (activity, device)"), default=False
    )
    # UK Art. 15(1A): a reasonable and proportionate search, repeatable because it is written down.
    search_procedure = models.TextField(_("how to search it for one person"), blank=True)
    # Art. 17 and 18 (issue 13 refines these).
    erasure_method = models.TextField(_("how erasure works there"), blank=True)
    restriction_method = models.TextField(_("how restriction works there"), blank=True)
    # Art. 13(2)(f), 14(2)(g), 15(1)(h): meaningful information about the logic involved (CJEU C-203/22).
    automated_decisions = models.BooleanField(_("makes automated decisions or profiles people"), default=False)
    automated_logic = models.TextField(
        _("the logic, in plain words"),
        blank=True,
        help_text=_(
            "The procedure and principles actually applied: which data are used and how they affect the outcome."
        ),
    )
    # GDPR Art. 17 and 5(1)(e): after an erasure the system's backups still hold the data, beyond use, until the last
    # of them rolls off this many days later (the erasure answer gives the date). 0: the system keeps no backups.
    backup_roll_off_days = models.PositiveIntegerField(_("backups roll off after (days)"), default=0)
    # A key of settings.DSAR_CONNECTORS ("demo_app", "sql", "http", "manual"); its configuration never holds a
    # secret, only the names of environment variables that do.
    connector = models.CharField(_("connector"), max_length=40, default="manual")
    connector_config = models.JSONField(_("connector configuration"), default=dict, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    recipients = models.ManyToManyField("Recipient", through="SystemRecipient", related_name="systems")

    class Meta:
        ordering = ["name"]
        verbose_name = _("data system")
        permissions = [
            ("manage_register", _("Can edit the register of data systems and publish the privacy notice")),
            ("view_own_systems", _("Can read the data systems they own")),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Art. 9(1): special category data without an Art. 9(2) condition may not be processed at all.
        if self.special_category and not self.art9_condition:
            raise ValidationError({"art9_condition": _("Special category data need an Article 9 condition.")})
        # Art. 13(2)(f) / C-203/22: the existence of automated decisions is never stated without their logic.
        if self.automated_decisions and not self.automated_logic.strip():
            raise ValidationError({"automated_logic": _("Describe the logic of the automated decisions.")})


class Purpose(models.Model):
    """Why a system's data are used, with the lawful basis (GDPR Art. 6(1)) and any Art. 9(2) condition."""

    system = models.ForeignKey(DataSystem, on_delete=models.CASCADE, related_name="purposes")
    description = models.CharField(_("purpose"), max_length=300)
    lawful_basis = models.CharField(_("lawful basis"), max_length=30, choices=LawfulBasis.choices)
    art9_condition = models.CharField(
        _("Article 9 condition"), max_length=40, blank=True, choices=Art9Condition.choices
    )
    # Art. 21(2)-(3): the person may object to direct marketing at any time, absolutely.
    for_marketing = models.BooleanField(_("direct marketing"), default=False)
    # Art. 6(1)(f) and 13(1)(d): the legitimate interest pursued, stated where that is the basis.
    legitimate_interest = models.CharField(_("the legitimate interest"), max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.description


class Recipient(models.Model):
    """Someone the data are disclosed to, by name (GDPR Art. 13(1)(e), 15(1)(c); CJEU C-154/21), with contact
    details for telling them of a rectification, erasure or restriction (Art. 19)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=RecipientKind.choices)
    role = models.CharField(_("what they do for us"), max_length=300)
    address = models.TextField(_("postal address"), blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SystemRecipient(models.Model):
    """One recipient of one system's data, and what it receives."""

    system = models.ForeignKey(DataSystem, on_delete=models.CASCADE, related_name="disclosures")
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="disclosures")
    disclosed = models.CharField(_("what they receive"), max_length=300)

    class Meta:
        ordering = ["recipient__name"]
        constraints = [
            models.UniqueConstraint(fields=["system", "recipient"], name="system_recipient_once"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.system})"


class Transfer(models.Model):
    """Data sent outside the UK/EEA, and the safeguard it rests on (GDPR Art. 13(1)(f), 15(2), Chapter V)."""

    system = models.ForeignKey(DataSystem, on_delete=models.CASCADE, related_name="transfers")
    country = models.CharField(_("destination country"), max_length=100)
    recipient = models.ForeignKey(
        Recipient, verbose_name=_("recipient"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    safeguard = models.CharField(_("safeguard"), max_length=20, choices=Safeguard.choices)
    note = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_("For example how a person may obtain a copy of the safeguard (Article 13(1)(f))."),
    )

    class Meta:
        ordering = ["country", "pk"]

    def __str__(self) -> str:
        return f"{self.system} to {self.country}"


class PrivacyNoticeVersion(models.Model):
    """One published version of the public privacy notice: an immutable snapshot with its date (GDPR Art. 12(1),
    13, 14; Art. 5(2): the organisation can show what it told people, and when)."""

    number = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(_("what changed"), max_length=500)
    # The notice's body as it was rendered when published; shown as stored, never re-rendered.
    html = models.TextField()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"privacy notice version {self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError("A published privacy notice is never changed; publish a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A published privacy notice is kept: the history shows what people were told.")


class RegisterChange(models.Model):
    """One change to the register, by whom and when (GDPR Art. 5(2) and 30: the record of processing is kept up to
    date, and the organisation can show who changed it). Append-only; names what changed, never personal data of
    the people in the systems (the register holds none)."""

    class Action(models.TextChoices):
        # Stored values are never renamed once released.
        SYSTEM_ADDED = "system_added", _("System added")
        SYSTEM_CHANGED = "system_changed", _("System changed")
        PURPOSE_ADDED = "purpose_added", _("Purpose added")
        PURPOSE_REMOVED = "purpose_removed", _("Purpose removed")
        RECIPIENT_SAVED = "recipient_saved", _("Recipient saved")
        RECIPIENT_LINKED = "recipient_linked", _("Recipient added to a system")
        RECIPIENT_UNLINKED = "recipient_unlinked", _("Recipient removed from a system")
        TRANSFER_ADDED = "transfer_added", _("Transfer added")
        TRANSFER_REMOVED = "transfer_removed", _("Transfer removed")
        NOTICE_PUBLISHED = "notice_published", _("Privacy notice published")

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    system = models.ForeignKey(DataSystem, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    action = models.CharField(max_length=30, choices=Action.choices)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at}"
