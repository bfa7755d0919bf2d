"""The review page's forms: shape only; the rules are ``review`` (GDPR Art. 15(4), 23, 12(4))."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RedactionKind


class RedactionForm(forms.Form):
    """Withhold or redact part of one table: what, where (row number, column), on what ground, and why."""

    kind = forms.ChoiceField(
        label=_("What to withhold or redact"),
        choices=RedactionKind.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Choose what to withhold or redact.")},
    )
    row = forms.IntegerField(
        label=_("Row number (for one row or one cell)"),
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    column = forms.ChoiceField(label=_("Column (for a column or one cell)"), required=False)
    ground = forms.ChoiceField(
        label=_("Ground"), error_messages={"required": _("Choose the ground for withholding or redacting.")}
    )
    reason = forms.CharField(
        label=_("Reason (kept in the case file, not sent)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": _("Say why, in your own words: the ground alone is not a reason.")},
    )

    def __init__(self, *args, columns: list[str], grounds: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["column"].choices = [("", _("— none —"))] + [(column, column) for column in columns]
        self.fields["column"].widget.attrs["class"] = "form-select"
        self.fields["ground"].choices = [("", _("— choose —")), *grounds]
        self.fields["ground"].widget.attrs["class"] = "form-select"

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind in (RedactionKind.ROW, RedactionKind.CELL) and not data.get("row") and "row" not in self.errors:
            self.add_error("row", _("Give the number of the row."))
        if kind in (RedactionKind.COLUMN, RedactionKind.CELL) and not data.get("column"):
            self.add_error("column", _("Choose the column."))
        return data


class SendBackForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it goes back to review"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": _("Say why the answer goes back to review.")},
    )
