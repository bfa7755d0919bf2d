"""Third parties who make requests for someone else: solicitors, family members, rights services."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.fields import EncryptedTextField
from dsar_portal.onetime import OneTimeCode


class Agent(models.Model):
    """An agent's profile. They sign in with a password and a second factor, since they receive
    other people's data."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
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


class AuthorityType(models.TextChoices):
    LETTER_OF_AUTHORITY = "letter_of_authority", _("A letter of authority signed by the person")
    POWER_OF_ATTORNEY = "power_of_attorney", _("A lasting or enduring power of attorney")
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
