"""Third parties who make requests for someone else: solicitors, family members, rights services."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedTextField
from dsar_portal.onetime import OneTimeCode


class Agent(models.Model):
    """An agent's profile. They sign in with a password and a second factor, since they receive
    other people's data.

    The address is personal data like a requester's, so it is kept the same way: encrypted here, and
    the login's username is its keyed look-up hash (``crypto.email_lookup_hash``); ``User.email`` stays
    empty, so ``auth_user`` holds no agent's address in clear.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    email = EncryptedTextField(blank=True, default="")
    full_name = EncryptedTextField()
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=200)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Base32 secret of an authenticator app, encrypted; empty means codes go by e-mail.
    totp_secret = EncryptedTextField(blank=True, default="")
    totp_last_step = models.BigIntegerField(null=True, blank=True)  # a TOTP code is used once
    # When "someone tried to open an account with your address" was last sent: one per window, retries included.
    account_exists_notice_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"agent {self.pk}"

    @property
    def display_name(self) -> str:
        """How we name the agent to the person they act for: 'Sam Solicitor of Law & Co'."""
        if self.organisation_name:
            return f"{self.full_name} of {self.organisation_name}"
        return self.full_name

    @property
    def uses_authenticator(self) -> bool:
        return bool(self.totp_secret)


class AgentCode(OneTimeCode):
    """A one-time code e-mailed to an agent: to confirm the address, or as the second sign-in factor."""

    class Purpose(models.TextChoices):
        CONFIRM_EMAIL = "confirm_email", _("Confirm e-mail address")
        SIGN_IN = "sign_in", _("Sign in")
        PASSWORD_RESET = "password_reset", _("Reset your password")

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)

    class Meta(OneTimeCode.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.purpose} code for agent {self.agent_id}"


class AgentRecoveryCode(models.Model):
    """A single-use code that stands in for the authenticator app when the phone is lost: only a keyed hash
    is kept, and a new set replaces the old one."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code {self.pk} of agent {self.agent_id}"


class AgentNotice(models.Model):
    """An e-mail telling the agent their sign-in settings changed, sent once by a task that takes its ID."""

    class Kind(models.TextChoices):
        AUTHENTICATOR_ON = "authenticator_on", _("An authenticator app was turned on")
        AUTHENTICATOR_REPLACED = "authenticator_replaced", _("Your authenticator app was replaced")
        RECOVERY_CODES_NEW = "recovery_codes_new", _("New recovery codes were made")
        RECOVERY_CODE_USED = "recovery_code_used", _("A recovery code was used to sign in")

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} notice for agent {self.agent_id}"


class AuthorityType(models.TextChoices):
    """What gives an agent authority (GDPR Art. 12(2), Recital 59; UK DPA 2018 s.166; ICO guidance on requests made
    on behalf of others; LAW.md I3). Stored values are never renamed once released."""

    LETTER_OF_AUTHORITY = "letter_of_authority", _("A letter of authority signed by the person")
    POWER_OF_ATTORNEY = "power_of_attorney", _("A lasting or enduring power of attorney (England and Wales)")
    POWER_OF_ATTORNEY_SCOTLAND = (
        "power_of_attorney_scotland",
        _("A continuing or welfare power of attorney (Scotland)"),
    )
    POWER_OF_ATTORNEY_NI = "power_of_attorney_ni", _("An enduring or lasting power of attorney (Northern Ireland)")
    DEPUTYSHIP = "deputyship", _("A Court of Protection deputyship order (England and Wales)")
    GUARDIANSHIP_SCOTLAND = (
        "guardianship_scotland",
        _("A guardianship or intervention order (Adults with Incapacity (Scotland) Act 2000)"),
    )
    PARENTAL_RESPONSIBILITY = "parental_responsibility", _("Parental responsibility for a child")
    COURT_ORDER = "court_order", _("A court order")


class AgentFiling(models.Model):
    """A request an agent filed from their account: the agent sees it on their dashboard and can open it."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="filings")
    request = models.OneToOneField(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="agent_filing"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"request {self.request_id} filed by agent {self.agent_id}"
