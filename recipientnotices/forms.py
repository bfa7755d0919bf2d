"""Staff forms on a notice: the recipient's answer, and the "impossible or disproportionate effort" judgement."""

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.forms import _style


class AcknowledgeForm(forms.Form):
    answer = forms.CharField(
        label=_("What the recipient answered"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: confirmed by e-mail that they erased their copy."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class DisproportionateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why telling this recipient is impossible or involves disproportionate effort (Article 19)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 10:
            raise forms.ValidationError(_("Give the reason in a sentence: it is the record the law asks for."))
        return reason
