from django import forms
from django.utils.translation import gettext_lazy as _

from dsar_portal.text import PlainTextFormMixin

from .models import VerificationStatus

AUTHORITY_CHECKLISTS = {
    "letter_of_authority": [
        _("Signed by the data subject, with a date in the last 6 months"),
        _("Names the agent (person or firm) and what they may ask for"),
        _("Signature consistent with anything else we hold"),
    ],
    "power_of_attorney": [
        _("Lasting or enduring power of attorney, registered with the Office of the Public Guardian"),
        _("Covers property and financial affairs, or health and welfare, as the request needs"),
        _("The agent is named as an attorney"),
    ],
    "parental_responsibility": [
        _("Birth certificate or court order shows the agent's parental responsibility"),
        _("Consider the child's maturity: can the child exercise the right themselves? (Scotland presumes so from 12)"),
        _("Disclosure is in the child's best interests"),
    ],
    "court_order": [
        _("Sealed order of a court, in force"),
        _("Names the agent and gives them authority over the subject's affairs"),
    ],
}


class VerificationDecisionForm(PlainTextFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (VerificationStatus.VERIFIED, _("Verified: act on the request")),
            ("more_needed", _("More evidence needed: tell the person what and why")),
            (VerificationStatus.FAILED, _("Failed: refuse, with reasons")),
        ],
    )
    document_kind = forms.CharField(
        label=_("What did you check?"),
        max_length=100,
        required=False,
        help_text=_("For the record kept after the document is deleted, e.g. 'passport' or 'utility bill'."),
    )
    response_to_agent = forms.BooleanField(
        label=_("The authority covers sending the response to the agent"),
        required=False,
        help_text=_("Agents only. Unless ticked, the response goes to the data subject."),
    )
    message = forms.CharField(
        label=_("Message to the person"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Needed for 'more evidence' (what to send and why) and for 'failed' (the reasons)."),
    )

    def __init__(self, *args, can_check_documents: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_check_documents:
            # Only someone allowed to see the documents may record one as checked (identity.services).
            self.fields["outcome"].choices = [
                choice for choice in self.fields["outcome"].choices if choice[0] != VerificationStatus.VERIFIED
            ]
            del self.fields["document_kind"]
            del self.fields["response_to_agent"]


class MoreDetailsForm(PlainTextFormMixin, forms.Form):
    customer_number = forms.CharField(label=_("Customer or account number"), max_length=100, required=False)
    phone = forms.CharField(
        label=_("Phone number"), max_length=40, required=False, widget=forms.TextInput(attrs={"autocomplete": "tel"})
    )
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in ("customer_number", "phone", "postcode")):
            raise forms.ValidationError(_("Enter at least one of these details."))
        return data
