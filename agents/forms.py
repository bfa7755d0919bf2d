from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from dsar_portal.text import NAME_MAX_LENGTH, PlainTextFormMixin, validate_name
from requests_app.forms import FORMS, DocumentField, RequestForm
from requests_app.scope import AgentAuthority

from .models import Agent, AuthorityType
from .services import recovery_code_shape

RELATIONSHIPS = [
    ("solicitor", _("Solicitor or legal representative")),
    ("parent", _("Parent or guardian of a child")),
    ("attorney", _("Attorney under a power of attorney")),
    ("family", _("Family member or friend with their permission")),
    ("rights_service", _("Consumer or rights organisation")),
    ("court_appointed", _("Appointed by a court")),
]


class SignUpForm(PlainTextFormMixin, forms.Form):
    # The name and organisation are quoted in e-mails to the people the agent acts for: plain and short.
    full_name = forms.CharField(
        label=_("Your full name"),
        max_length=NAME_MAX_LENGTH,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    organisation_name = forms.CharField(
        label=_("Your organisation (optional)"),
        max_length=NAME_MAX_LENGTH,
        validators=[validate_name],
        required=False,
        help_text=_("For example your law firm or rights organisation."),
    )
    role = forms.CharField(
        label=_("Your role"),
        max_length=NAME_MAX_LENGTH,
        validators=[validate_name],
        help_text=_("For example: solicitor, parent, attorney."),
    )
    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. Not a common password."),
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isascii():  # str.isdigit() also takes Arabic-Indic, fullwidth and superscript digits
            raise forms.ValidationError(_("Type the code with the digits 0 to 9."))
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError(_("Enter the 6 digits."))
        return code


class SecondFactorForm(forms.Form):
    """The second sign-in step: six digits, or (with an authenticator app) one of the recovery codes."""

    code = forms.CharField(
        label=_("Code"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def __init__(self, *args, accepts_recovery_code: bool = False, **kwargs) -> None:
        self.accepts_recovery_code = accepts_recovery_code
        super().__init__(*args, **kwargs)
        if accepts_recovery_code:
            self.fields["code"].help_text = _("Lost your phone? Enter one of your recovery codes instead.")
        else:
            self.fields["code"].widget.attrs["inputmode"] = "numeric"

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if code.isdigit() and len(code) == 6:
            return code
        if self.accepts_recovery_code and recovery_code_shape(code):
            return code
        if self.accepts_recovery_code:
            raise forms.ValidationError(_("Enter the 6 digits, or one of your recovery codes."))
        raise forms.ValidationError(_("Enter the 6 digits."))


class ReauthenticationForm(SecondFactorForm):
    """Before the second factor changes: the password again, and the current authenticator's code where one
    is set."""

    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    field_order = ("password", "code")

    def __init__(self, *args, uses_authenticator: bool, **kwargs) -> None:
        super().__init__(*args, accepts_recovery_code=uses_authenticator, **kwargs)
        if uses_authenticator:
            self.fields["code"].label = _("Code from your authenticator app")
        else:
            del self.fields["code"]


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("The address you signed up with."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class NewPasswordForm(forms.Form):
    """A new password, typed twice and checked by Django's password validators against this account."""

    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. Not a common password."),
    )
    new_password2 = forms.CharField(
        label=_("Type the new password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, agent: Agent, *args, **kwargs) -> None:
        # Django's similarity check reads the address off a user; an agent's lives encrypted on the Agent,
        # so it is checked against an unsaved stand-in that carries it (never saved, so auth_user stays clear).
        self.user = get_user_model()(email=agent.email)
        super().__init__(*args, **kwargs)

    def clean_new_password1(self) -> str:
        password = self.cleaned_data["new_password1"]
        password_validation.validate_password(password, self.user)
        return password

    def clean(self) -> dict:
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords are not the same."))
        return cleaned


class AgentAuthorityMixin(forms.Form):
    """What an agent adds to any request: who it is for, and their authority to act."""

    subject_name = forms.CharField(
        label=_("Full name of the person you act for"), max_length=NAME_MAX_LENGTH, validators=[validate_name]
    )
    agent_relationship = forms.ChoiceField(label=_("Your relationship to them"), choices=RELATIONSHIPS)
    authority_type = forms.ChoiceField(
        label=_("Your authority to act"), choices=AuthorityType.choices, widget=forms.RadioSelect
    )
    authority_document = DocumentField(label=_("Proof of your authority"))
    # A child's request: the right is the child's, and in Scotland a child of 12 or over is presumed competent to
    # exercise it (DPA 2018 s.208; ICO guidance on children; LAW.md I4). Asked for parental responsibility.
    child_birth_date = forms.DateField(
        label=_("The child's date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For a child: their date of birth, or their age below."),
    )
    child_age = forms.IntegerField(label=_("Or the child's age"), required=False, min_value=0, max_value=17)
    child_in_scotland = forms.TypedChoiceField(
        label=_("Does the child live in Scotland?"),
        required=False,
        choices=[("", _("Not a child's request")), ("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        empty_value=None,
    )

    AGENT_FIELDS = (
        "subject_name",
        "agent_relationship",
        "authority_type",
        "authority_document",
        "child_birth_date",
        "child_age",
        "child_in_scotland",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        for_a_child = (
            cleaned.get("authority_type") == AuthorityType.PARENTAL_RESPONSIBILITY
            or cleaned.get("agent_relationship") == "parent"
        )
        if for_a_child:
            if cleaned.get("child_birth_date") is None and cleaned.get("child_age") is None:
                self.add_error("child_birth_date", _("Give the child's date of birth or their age."))
            if cleaned.get("child_in_scotland") is None:
                self.add_error("child_in_scotland", _("Say whether the child lives in Scotland."))
        return cleaned

    def child(self) -> dict | None:
        """What the agent said about the child, for the identity check; None when it is not a child's request."""
        data = self.cleaned_data
        if data.get("child_in_scotland") is None:
            return None
        return {
            "birth_date": data.get("child_birth_date"),
            "age": data.get("child_age"),
            "in_scotland": data.get("child_in_scotland"),
        }


def agent_request_form(right: str) -> type[RequestForm]:
    """The public form for ``right``, asked of an agent: about the person they act for."""
    base = FORMS[right]

    class AgentRequestForm(AgentAuthorityMixin, base):
        COMMON_FIELDS = (*RequestForm.COMMON_FIELDS, *AgentAuthorityMixin.AGENT_FIELDS)

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            # The agent is the requester: their name and address come from the account.
            for name in ("requester_role", "name", "email"):
                self.fields.pop(name)
            self.fields["customer_number"].label = _("Their customer or account number")
            self.fields["account_email"].label = _("E-mail address on their account")
            self.fields["phone"].label = _("Their phone number")
            self.fields["address"].label = _("Their postal address")

        def details(self) -> dict:
            authority = AgentAuthority(
                subject_name=self.cleaned_data["subject_name"],
                relationship=self.cleaned_data["agent_relationship"],
                authority_type=self.cleaned_data["authority_type"],
            )
            return {**super().details(), **authority.as_details()}

    AgentRequestForm.__name__ = f"Agent{base.__name__}"
    return AgentRequestForm
