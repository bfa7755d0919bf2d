"""Forms of the change engine's pages: server-side validation, what was typed kept on an error."""

from django import forms
from django.utils.translation import gettext_lazy as _

from datasystems.change_rules import ERASURE_EXCEPTION_GROUNDS
from requests_app.models import RefusalGround

from .models import ACTION_CHOICES

GROUND_CHOICES = [("", _("None: the data was changed"))] + [
    (ground, RefusalGround(ground).label) for ground in ERASURE_EXCEPTION_GROUNDS
]


class TaskItemForm(forms.Form):
    """One table of the system and what the owner did there."""

    table = forms.CharField(label=_("Table or area of the system"), max_length=100, required=False)
    action = forms.ChoiceField(label=_("What was done"), choices=ACTION_CHOICES, required=False)
    rows = forms.IntegerField(label=_("Records changed"), min_value=0, max_value=10**12, required=False)
    ground = forms.ChoiceField(label=_("Article 17(3) ground, if kept"), choices=GROUND_CHOICES, required=False)
    reason = forms.CharField(label=_("Why it was kept"), max_length=500, required=False)

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        if actions:
            self.fields["action"].choices = [(value, label) for value, label in ACTION_CHOICES if value in actions]

    def clean(self):
        data = super().clean()
        filled = any(data.get(name) not in (None, "") for name in ("table", "rows", "reason", "ground"))
        if filled:
            if not data.get("table"):
                self.add_error("table", _("Name the table or area."))
            if not data.get("action"):
                self.add_error("action", _("Say what was done."))
            if data.get("rows") is None:
                self.add_error("rows", _("Give the number of records (0 if none)."))
        data["filled"] = filled
        return data


TaskItemFormSet = forms.formset_factory(TaskItemForm, extra=0, max_num=20, absolute_max=20)


class TaskNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note (how it was done)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )


class TaskNotDoneForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the change could not be made"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500
    )


class PublicationStepsForm(forms.Form):
    """GDPR Art. 17(2): the data was made public; the steps taken to inform the other controllers processing it."""

    steps = forms.CharField(
        label=_("Steps taken to inform other controllers that the person asked for erasure"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why the change is cancelled"), max_length=500)
