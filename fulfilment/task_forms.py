"""The forms of a manual search task: upload what the system holds, record that it holds nothing, or that it could
not be searched. Each validates on the server and keeps what was typed (a browser never keeps a chosen file)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import manual_tasks

IDENTIFIER_CHOICES = [
    ("email", _("E-mail address")),
    ("phone", _("Phone number")),
    ("customer_id", _("Customer number")),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".csv,text/csv,.json,application/json"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple) and data:
            return [single(item, initial) for item in data]
        cleaned = single(data or None, initial)
        return [cleaned] if cleaned else []


class _SearchedBy(forms.Form):
    identifiers_used = forms.MultipleChoiceField(
        label=_("Identifiers you searched by"),
        choices=IDENTIFIER_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick the identifiers you searched the system by.")},
    )

    def __init__(self, *args, available: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if available is not None:
            self.fields["identifiers_used"].choices = [c for c in IDENTIFIER_CHOICES if c[0] in available]


class TaskUploadForm(_SearchedBy):
    files = MultipleFileField(
        label=_("What the system holds: CSV files, one per table"),
        help_text=_(
            "UTF-8 text, the first line naming the columns, every line with as many values. A JSON file in the "
            "connectors' answer format is accepted too."
        ),
        required=True,
        error_messages={"required": _("Choose at least one CSV file.")},
    )
    provided_or_observed = forms.BooleanField(
        label=_("The person provided this data, or it was observed about them (not inferred)"),
        required=False,
        initial=True,
    )
    note = forms.CharField(
        label=_("Note for the search record (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        uploads = cleaned.get("files") or []
        if uploads:
            tables, errors = manual_tasks.uploads_check(uploads, max_bytes=manual_tasks.max_upload_bytes())
            for error in errors:
                self.add_error("files", error)
            cleaned["tables"] = tables
        return cleaned


class TaskNothingForm(_SearchedBy):
    note = forms.CharField(
        label=_("How you searched (optional)"),
        required=False,
        max_length=450,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TaskNotSearchedForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the system could not be searched"),
        max_length=450,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the system could not be searched.")},
    )
