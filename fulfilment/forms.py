"""Staff forms of direct transmission (GDPR Art. 20(2)): the feasibility decision and the register of endpoints."""

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.forms import _style

from .transmission import TransmissionError, endpoint_url_check, verified_endpoints


class TransmissionDecisionForm(forms.Form):
    feasible = forms.TypedChoiceField(
        label=_("Is sending the data directly to the other controller technically feasible?"),
        choices=[("yes", _("Yes: send it to a verified endpoint")), ("no", _("No: the person downloads it instead"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    endpoint = forms.ModelChoiceField(
        label=_("Verified endpoint of the receiving controller"),
        queryset=None,
        required=False,
        empty_label=_("Choose an endpoint"),
        help_text=_("Only endpoints verified in the register are offered. Needed when it is feasible."),
    )
    reason = forms.CharField(
        label=_("Reason for the decision"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: the receiving controller runs a compatible endpoint, or has none we can reach."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["endpoint"].queryset = verified_endpoints()
        _style(self)
        self.fields["feasible"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        if data.get("feasible") and not data.get("endpoint"):
            self.add_error("endpoint", _("Choose the verified endpoint to send the data to."))
        return data


class EndpointForm(forms.Form):
    controller_name = forms.CharField(label=_("Receiving controller"), max_length=200)
    contact = forms.CharField(
        label=_("Contact at the receiving controller"),
        max_length=300,
        required=False,
        help_text=_("Who to reach about transmissions (a name, an e-mail address or a phone number)."),
    )
    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=500,
        help_text=_("An https:// address that receives the signed archive and answers the verification challenge."),
    )
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_url(self) -> str:
        try:
            return endpoint_url_check(self.cleaned_data["url"])
        except TransmissionError as error:
            raise forms.ValidationError(str(error)) from None
