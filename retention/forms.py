"""The DPO's period for one kind of record, and a legal hold placed or released (validated on the server)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import HoldReason


class RetentionRuleForm(forms.Form):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=36500)
    notice_days = forms.IntegerField(
        label=_("Notice, days before deletion"), min_value=1, max_value=36500, required=False
    )
    reason = forms.CharField(
        label=_("Why this period"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the record of the schedule (GDPR Art. 5(2))."),
    )


class HoldPlaceForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why the case is held"), choices=HoldReason.choices)
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example the complaint's or the claim's reference. Required for another reason."),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("reason") == HoldReason.OTHER and not (cleaned.get("note") or "").strip():
            self.add_error("note", _("Say why the case is held."))
        return cleaned


class HoldReleaseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the hold is released"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
