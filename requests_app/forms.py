"""Public forms. They validate shape and explain what to fix; services hold the rules."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dsar_portal.text import PlainTextFormMixin, validate_name

from .documents import ACCEPTED_TYPES_TEXT, validate_document
from .models import RefusalGround, RequesterRole, Right

TEXT_LIMIT = 5000


def _textarea(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "maxlength": TEXT_LIMIT})


class DocumentField(forms.FileField):
    """A file checked by its content (type, size, pages or pixels), not its name."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", _("%(types)s.") % {"types": ACCEPTED_TYPES_TEXT})
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            validate_document(upload)
        return upload


class RequestForm(PlainTextFormMixin, forms.Form):
    """Fields every request has. Subclasses add what their right needs.

    Text fields take plain text only (``dsar_portal.text``): the name is written into e-mails.
    """

    right: str = ""
    # A sentence shown above the right's own questions, where the right needs explaining (Art. 12(1)).
    explanation: str = ""

    requester_role = forms.ChoiceField(
        label=_("Who is this request about?"),
        choices=RequesterRole.choices,
        widget=forms.RadioSelect,
        initial=RequesterRole.DATA_SUBJECT,
    )
    name = forms.CharField(
        label=_("Your full name"),
        max_length=200,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("We will send a code to this address to confirm it is yours, and write to you here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    special_category_data = forms.BooleanField(
        label=_("My request is about sensitive information"),
        required=False,
        help_text=_(
            "For example about your health, religion, sexuality, ethnicity, biometrics or criminal record. "
            "We take extra care to confirm who you are before we disclose or change such data."
        ),
    )
    customer_number = forms.CharField(label=_("Customer or account number"), max_length=100, required=False)
    account_email = forms.EmailField(
        label=_("E-mail address on your account, if different"), max_length=254, required=False
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    address = forms.CharField(
        label=_("Postal address"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    description = forms.CharField(
        label=_("Anything else that will help us"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=_textarea(),
    )

    IDENTIFIER_FIELDS = ("customer_number", "account_email", "phone", "address")
    COMMON_FIELDS = (
        "requester_role",
        "name",
        "email",
        "special_category_data",
        *IDENTIFIER_FIELDS,
        "description",
    )

    def right_fields(self) -> list:
        return [self[name] for name in self.fields if name not in self.COMMON_FIELDS]

    def clean(self):
        data = super().clean()
        if data.get("requester_role") == RequesterRole.AGENT:
            # Someone acting for another person receives that person's data, so they
            # file from an agent account with a second sign-in factor (see agents/).
            self.add_error(
                "requester_role",
                _(
                    "Requests for someone else are made from an agent account, so that only you can see "
                    "their information. Open one with the link under 'If you are acting for someone else', "
                    "or write to us instead."
                ),
            )
        return data

    def identifiers(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.IDENTIFIER_FIELDS}

    def details(self) -> dict:
        """Right-specific answers, as plain JSON values."""
        details = {}
        for name in self.fields:
            if name in self.COMMON_FIELDS or isinstance(self.fields[name], forms.FileField):
                continue
            value = self.cleaned_data.get(name)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            details[name] = value
        if self.cleaned_data.get("special_category_data"):
            details["special_category_data"] = True
        return details

    def uploaded_document(self):
        """The supporting document sent with the request, if the form has one."""
        return self.cleaned_data.get("supporting_document")


def _require_when(form: forms.Form, condition: bool, field: str, message: str) -> None:
    if condition and not form.cleaned_data.get(field):
        form.add_error(field, message)


class AccessForm(RequestForm):
    right = Right.ACCESS

    access_scope = forms.ChoiceField(
        label=_("What would you like?"),
        choices=[("all", _("All the personal data you hold about me")), ("subset", _("Only some of it"))],
        widget=forms.RadioSelect,
        initial="all",
    )
    access_subset = forms.CharField(
        label=_("Which data would you like?"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=_textarea(3),
        help_text=_("Only if you chose 'only some of it'. For example: my orders, or calls with customer service."),
    )
    date_from = forms.DateField(
        label=_("From (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    access_format = forms.ChoiceField(
        label=_("How would you like it?"),
        choices=[
            ("report", _("A readable report")),
            ("report_and_files", _("A readable report and machine-readable files (CSV and JSON)")),
        ],
        widget=forms.RadioSelect,
        initial="report",
    )
    # Independent of the format: the report (HTML in every answer) also as a PDF, for printing or keeping.
    access_report_pdf = forms.BooleanField(
        label=_("I would like the report as a PDF too"),
        required=False,
        help_text=_("The report is always in the answer as a web page; tick this to get a PDF copy of it as well."),
    )

    def clean(self):
        data = super().clean()
        _require_when(
            self, data.get("access_scope") == "subset", "access_subset", _("Describe the data you would like.")
        )
        date_from, date_to = data.get("date_from"), data.get("date_to")
        today = timezone.localdate()
        if date_from and date_from > today:
            self.add_error("date_from", _("The start date cannot be in the future."))
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date must be on or after the start date."))
        return data


class RectificationForm(RequestForm):
    """Right to rectification (GDPR Art. 16), with restriction while accuracy is checked (Art. 18(1)(a)) and the
    recipients told of the correction (Art. 19)."""

    right = Right.RECTIFICATION

    rectification_wrong = forms.CharField(
        label=_("Which data is wrong or incomplete?"), max_length=TEXT_LIMIT, widget=_textarea(3)
    )
    # Optional: a person can contest accuracy without knowing the right value (Art. 16).
    rectification_correct = forms.CharField(
        label=_("What should it say? (optional)"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=_textarea(3),
        help_text=_("If you do not know, leave this empty: we will check and tell you what we find."),
    )
    rectification_restrict = forms.BooleanField(
        label=_("Stop using this data while you check it"),
        required=False,
        help_text=_("We will keep it but not otherwise use it until we have checked whether it is accurate."),
    )
    rectification_recipients = forms.BooleanField(
        label=_("Tell me which organisations you passed the correction on to"),
        required=False,
        help_text=_("We tell everyone we shared the data with about the correction, unless that is impossible."),
    )
    supplementary_statement = forms.CharField(
        label=_("Supplementary statement (optional)"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=_textarea(3),
        help_text=_("Where data is incomplete, you can give us a statement to add to it."),
    )
    supporting_document = DocumentField(label=_("Supporting document (optional)"), required=False)


class ErasureForm(RequestForm):
    """Right to erasure (GDPR Art. 17): the grounds of Art. 17(1), or "not sure" (the organisation assesses)."""

    right = Right.ERASURE

    erasure_grounds = forms.MultipleChoiceField(
        label=_("Why should we erase your data? Choose all that apply."),
        choices=[
            ("no_longer_necessary", _("You no longer need it for the reason you collected it")),
            ("consent_withdrawn", _("I withdraw my consent")),
            ("objection", _("I object to how you use it")),
            ("unlawful", _("You are using it unlawfully")),
            ("legal_obligation", _("The law requires you to erase it")),
            ("child_online_service", _("It was collected when I was a child, for an online service")),
            ("not_sure", _("I'm not sure which reason applies: please check for me")),
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Some data we may have to keep, for example by law or for legal claims; we will tell you what and why."
        ),
    )
    erasure_scope = forms.ChoiceField(
        label=_("What should we erase?"),
        choices=[("all", _("All my data")), ("specific", _("Only specific data"))],
        widget=forms.RadioSelect,
        initial="all",
    )
    erasure_specific = forms.CharField(
        label=_("Which data should we erase?"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=_textarea(3),
        help_text=_("Only if you chose 'only specific data'."),
    )
    # GDPR Art. 19, second sentence: the person is told who the recipients are if they ask.
    erasure_recipients = forms.BooleanField(
        label=_("Tell me which organisations you passed the erasure on to"),
        required=False,
        help_text=_("We tell everyone we shared the data with about the erasure, unless that is impossible."),
    )

    def clean(self):
        data = super().clean()
        _require_when(
            self,
            data.get("erasure_scope") == "specific",
            "erasure_specific",
            _("Describe the data you want erased."),
        )
        return data


class RestrictionForm(RequestForm):
    """Right to restriction (GDPR Art. 18): one or more of the cases of Art. 18(1)(a)-(d)."""

    right = Right.RESTRICTION

    restriction_ground = forms.MultipleChoiceField(
        label=_("Why should we restrict how we use your data? Choose all that apply."),
        choices=[
            ("accuracy_contested", _("The data is wrong, and I want it restricted while you check")),
            ("unlawful_no_erasure", _("You are using it unlawfully, but I do not want it erased")),
            ("legal_claims", _("You no longer need it, but I need it kept for a legal claim")),
            ("objection_pending", _("I have objected, and want it restricted while you decide")),
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("We will tell you before we lift a restriction."),
    )
    restriction_data = forms.CharField(
        label=_("Which data? (optional)"), required=False, max_length=TEXT_LIMIT, widget=_textarea(3)
    )
    # GDPR Art. 19, second sentence: the person is told who the recipients are if they ask.
    restriction_recipients = forms.BooleanField(
        label=_("Tell me which organisations you passed the restriction on to"),
        required=False,
        help_text=_("We tell everyone we shared the data with about the restriction, unless that is impossible."),
    )


class ObjectionForm(RequestForm):
    """Right to object (GDPR Art. 21): the absolute limb (direct marketing and profiling for it, Art. 21(2)-(3)),
    legitimate interests or a public task (Art. 21(1)), and research or statistics (Art. 21(6))."""

    right = Right.OBJECTION

    objection_type = forms.ChoiceField(
        label=_("What do you object to?"),
        choices=[
            ("direct_marketing", _("Direct marketing (we must stop: you need give no reasons)")),
            (
                "marketing_profiling",
                _("Profiling me for direct marketing (we must stop: you need give no reasons)"),
            ),
            (
                "legitimate_interests",
                _("Other use of my data based on your legitimate interests or a public task"),
            ),
            ("research_statistics", _("Use of my data for research or statistics")),
        ],
        widget=forms.RadioSelect,
    )
    objection_processing = forms.CharField(
        label=_("Which use of your data?"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=_textarea(3),
        help_text=_("For example: marketing e-mails, profiling, sharing with partners."),
    )
    objection_grounds = forms.CharField(
        label=_("Your reasons, relating to your particular situation"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=_textarea(3),
        help_text=_("Not needed for direct marketing or profiling for it."),
    )

    def clean(self):
        data = super().clean()
        # GDPR Art. 21(1) and 21(6): grounds "relating to his or her particular situation" are needed, except for
        # direct marketing and profiling related to it (Art. 21(2)-(3)).
        other = data.get("objection_type") in ("legitimate_interests", "research_statistics")
        _require_when(self, other, "objection_processing", _("Tell us which use of your data you object to."))
        _require_when(self, other, "objection_grounds", _("Give your reasons for objecting."))
        return data


class PortabilityForm(RequestForm):
    """Right to data portability (GDPR Art. 20): its scope is set by Art. 20(1), and direct transmission is owed
    "where technically feasible" (Art. 20(2))."""

    right = Right.PORTABILITY
    explanation = _(
        "This right covers the personal data you gave us, including data we observed from your use of our "
        "services, that we process by automated means because you consented or because it is needed for a "
        "contract with you. For other data, ask for a copy of your data instead."
    )

    portability_format = forms.ChoiceField(
        label=_("Which format?"),
        choices=[("json", _("JSON")), ("csv", _("CSV (opens in a spreadsheet)"))],
        widget=forms.RadioSelect,
        initial="json",
    )
    transmit_to_controller = forms.BooleanField(
        label=_("Send my data directly to another organisation"),
        required=False,
        help_text=_("Where it is technically feasible; if it is not, we will tell you and send it to you instead."),
    )
    recipient_name = forms.CharField(
        label=_("Name of the organisation"), required=False, max_length=200, help_text=_("Only if sending directly.")
    )
    recipient_contact = forms.CharField(
        label=_("How to reach them securely"),
        required=False,
        max_length=500,
        help_text=_("For example their data protection e-mail address. Only if sending directly."),
    )

    def clean(self):
        data = super().clean()
        transmit = bool(data.get("transmit_to_controller"))
        _require_when(self, transmit, "recipient_name", _("Enter the name of the organisation to send it to."))
        _require_when(self, transmit, "recipient_contact", _("Tell us how to reach that organisation."))
        return data


class ConsentWithdrawalForm(RequestForm):
    """Withdrawal of consent (GDPR Art. 7(3)): at any time, as easily as it was given, so nothing more is asked than
    what the consent covered."""

    right = Right.CONSENT_WITHDRAWAL
    explanation = _(
        "You can withdraw consent at any time. It does not make what we did before unlawful, and it does not stop "
        "uses of your data that rely on something other than your consent."
    )

    consent_scope = forms.ChoiceField(
        label=_("Which consent do you withdraw?"),
        choices=[
            ("all", _("Every use of my data that relies on my consent")),
            ("specific", _("Only some of it")),
        ],
        widget=forms.RadioSelect,
        initial="all",
    )
    consent_specific = forms.CharField(
        label=_("Which consent?"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=_textarea(3),
        help_text=_("Only if you chose 'only some of it'. For example: newsletters, or analytics cookies."),
    )

    def clean(self):
        data = super().clean()
        _require_when(
            self, data.get("consent_scope") == "specific", "consent_specific", _("Tell us which consent you withdraw.")
        )
        return data


class AutomatedDecisionForm(RequestForm):
    """A decision based solely on automated processing (EU GDPR Art. 22(3); UK GDPR Arts. 22A-22D as inserted by the
    Data (Use and Access) Act 2025): human review, the person's point of view, contesting, and information."""

    right = Right.AUTOMATED_DECISION
    explanation = _(
        "If we made a decision about you by automated means alone that has legal effects on you or affects you "
        "similarly significantly (for example refusing a loan or a job application), you can ask for a person to "
        "look at it again, give us your point of view and contest the decision."
    )

    decision_description = forms.CharField(
        label=_("Which decision?"),
        max_length=TEXT_LIMIT,
        widget=_textarea(3),
        help_text=_("For example: my loan application was refused."),
    )
    decision_date = forms.DateField(
        label=_("When was it made? (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    decision_safeguards = forms.MultipleChoiceField(
        label=_("What would you like? Choose all that apply."),
        choices=[
            ("human_review", _("A person to review the decision")),
            ("point_of_view", _("To give you my point of view")),
            ("contest", _("To contest the decision")),
            ("information", _("An explanation of how the decision was made")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    decision_point_of_view = forms.CharField(
        label=_("Your point of view (optional)"), required=False, max_length=TEXT_LIMIT, widget=_textarea(3)
    )

    def clean(self):
        data = super().clean()
        decided_on = data.get("decision_date")
        if decided_on and decided_on > timezone.localdate():
            self.add_error("decision_date", _("The date cannot be in the future."))
        return data


FORMS: dict[str, type[RequestForm]] = {
    form.right: form
    for form in (
        AccessForm,
        RectificationForm,
        ErasureForm,
        RestrictionForm,
        ObjectionForm,
        PortabilityForm,
        ConsentWithdrawalForm,
        AutomatedDecisionForm,
    )
}


class ConfirmEmailForm(forms.Form):
    code = forms.CharField(
        label=_("Confirmation code"),
        max_length=12,
        help_text=_("The 6-digit code in the e-mail we sent you."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isascii():  # str.isdigit() also takes Arabic-Indic, fullwidth and superscript digits
            raise ValidationError(_("Type the code with the digits 0 to 9."))
        if not code.isdigit() or len(code) != 6:
            raise ValidationError(_("Enter the 6 digits from the e-mail."))
        return code


class ClarificationReplyForm(PlainTextFormMixin, forms.Form):
    answer = forms.CharField(label=_("Your reply"), max_length=TEXT_LIMIT, widget=_textarea(5))
    document = DocumentField(label=_("Attach a document (optional)"), required=False)


class EvidenceUploadForm(forms.Form):
    document = DocumentField(label=_("Document"))


class WithdrawForm(PlainTextFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why are you withdrawing? (optional)"), required=False, max_length=TEXT_LIMIT, widget=_textarea(3)
    )


class LostLinkForm(PlainTextFormMixin, forms.Form):
    reference = forms.CharField(
        label=_("Your request reference"),
        max_length=40,
        help_text=_("It starts with DSAR-, for example DSAR-7K3M-Q9TX-W2PA-H4RN."),
    )
    email = forms.EmailField(
        label=_("The e-mail address you used"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


__all__ = ["FORMS", "RefusalGround"]
