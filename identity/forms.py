from django import forms
from django.utils.translation import gettext_lazy as _

from dsar_portal.text import PlainTextFormMixin

from .models import ChildCompetence, VerificationStatus

# What staff check per authority type (ICO guidance on requests made on behalf of others; LAW.md I3). Lines marked
# "House rule" are the organisation's own practice, not law.
AUTHORITY_CHECKLISTS = {
    "letter_of_authority": [
        _("Signed by the data subject"),
        _("House rule, not law: dated in the last 6 months"),
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
    "power_of_attorney_scotland": [
        _(
            "Continuing (financial) or welfare power of attorney, registered with the Office of the Public Guardian "
            "(Scotland)"
        ),
        _("Covers the affairs the request is about; a welfare power has started (the granter lacks capacity)"),
        _("The agent is named as an attorney"),
    ],
    "power_of_attorney_ni": [
        _(
            "Enduring power of attorney registered with the Office of Care and Protection (Northern Ireland), or a "
            "lasting power of attorney where in force there"
        ),
        _("The agent is named as an attorney"),
    ],
    "deputyship": [
        _("Court of Protection order appointing the agent as deputy (England and Wales), in force"),
        _("Covers property and financial affairs, or health and welfare, as the request needs"),
    ],
    "guardianship_scotland": [
        _("Guardianship or intervention order under the Adults with Incapacity (Scotland) Act 2000, in force"),
        _("The powers granted cover the affairs the request is about"),
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
        label=_("The letter of authority says the response goes to the agent"),
        required=False,
        help_text=_(
            "Letters of authority only. Attorneys, deputies, guardians, court orders and parents of a child who is "
            "not competent receive the response; otherwise it goes to the data subject at the address we hold."
        ),
    )
    authority_sufficient_reason = forms.CharField(
        label=_("Go on without the data subject's answer: why the authority is sufficient"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Their answer is a supplementary signal; recorded in the audit trail."),
    )
    child_competence = forms.ChoiceField(
        label=_("The child's competence and best interests"),
        required=False,
        choices=[("", _("Not a child's request")), *ChildCompetence.choices],
    )
    child_competence_reason = forms.CharField(
        label=_("Reasons for the decision about the child"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
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
