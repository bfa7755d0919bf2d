"""Forms of secure delivery: the download code on the status page, and staff's decisions on a further copy."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class DownloadCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Download code"),
        max_length=12,
        help_text=_("The 6-digit code in the e-mail we sent you."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isascii() or not code.isdigit() or len(code) != 6:
            raise ValidationError(_("Type the 6 digits of the code, with the digits 0 to 9."))
        return code


class FurtherCopyFeeForm(forms.Form):
    prefix = "fee"
    amount = forms.DecimalField(
        label=_("Fee"),
        min_value=0.01,
        max_digits=10,
        decimal_places=2,
        help_text=_("A reasonable fee based on the administrative cost of the further copy (GDPR Art. 15(3))."),
    )
    reasons = forms.CharField(
        label=_("Reasons, sent to the person"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class FurtherCopyPaidForm(forms.Form):
    prefix = "paid"
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Payment reference"), max_length=100)


class FurtherCopyFreeForm(forms.Form):
    prefix = "free"
    reasons = forms.CharField(
        label=_("Note for the record (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class FurtherCopyDeclineForm(forms.Form):
    prefix = "decline"
    reasons = forms.CharField(
        label=_("Why no copy is issued"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
