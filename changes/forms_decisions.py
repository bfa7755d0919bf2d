"""Forms of the decisions on the case page: shape only; the rules are in restrictions, objections, rectifications."""

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from datasystems.connectors.changes import ChangeKind
from datasystems.models import DataSystem

from .models_decisions import ExceptionGround, ObjectionOutcome, RectificationOutcome, RestrictionGroundChoice
from .rectifications import column_choices, is_manual

TEXTAREA = {"rows": 3, "class": "form-control"}
DATE = {"type": "date", "class": "form-control"}


# Each form has its own prefix: the case page holds other forms with fields of the same names (ids must be unique).


class RestrictionStartForm(forms.Form):
    prefix = "restriction"
    grounds = forms.MultipleChoiceField(
        label=_("Grounds (GDPR Art. 18(1))"),
        choices=RestrictionGroundChoice.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    scope = forms.CharField(
        label=_("What is restricted"),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("Empty: all the data we hold about the person."),
    )


def restriction_form_prefix(restriction_id: int, what: str) -> str:
    """One restriction's notice or exception form (a case may hold several restrictions)."""
    return f"restriction-{restriction_id}-{what}"


class LiftNoticeForm(forms.Form):
    lift_on = forms.DateField(label=_("Lift on or after"), widget=forms.DateInput(attrs=DATE))
    reason = forms.CharField(
        label=_("Why it will be lifted (sent to the person)"), widget=forms.Textarea(attrs=TEXTAREA)
    )


class RestrictionExceptionForm(forms.Form):
    ground = forms.ChoiceField(
        label=_("Ground (GDPR Art. 18(2))"),
        choices=ExceptionGround.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    processing = forms.CharField(label=_("What processing"), widget=forms.Textarea(attrs=TEXTAREA))
    used_by = forms.CharField(
        label=_("By whom"), max_length=200, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    used_on = forms.DateField(label=_("When"), widget=forms.DateInput(attrs=DATE))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs=TEXTAREA))


def _active_systems():
    return DataSystem.objects.filter(active=True).order_by("name")


class ObjectionDecisionForm(forms.Form):
    prefix = "objection"
    outcome = forms.ChoiceField(label=_("Decision"), choices=ObjectionOutcome.choices, widget=forms.RadioSelect)
    reasons = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 5}),
        help_text=_(
            "Not upheld: set out the compelling legitimate grounds and how they override the person's interests, "
            "rights and freedoms, or the legal claims (the burden is on us, GDPR Art. 21(1))."
        ),
    )
    purposes = forms.CharField(
        label=_("Upheld: which processing stops (purposes)"), required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    systems = forms.ModelMultipleChoiceField(
        label=_("Upheld: in which systems"),
        queryset=DataSystem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    stop_with = forms.ChoiceField(
        label=_("Upheld: carry it out in those systems"),
        required=False,
        choices=[
            ("", _("Nothing to change in the systems")),
            (ChangeKind.RESTRICT, _("Restrict the data there")),
            (ChangeKind.ERASE, _("Erase the data there")),
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["systems"].queryset = _active_systems()


class RectificationDecisionForm(forms.Form):
    prefix = "rectification"
    outcome = forms.ChoiceField(label=_("Decision"), choices=RectificationOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Data accurate: the reasons sent to the person"), required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    statement_recorded = forms.CharField(
        label=_("Data accurate: how the person's own statement is recorded with the data"),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    systems = forms.ModelMultipleChoiceField(
        label=_("Statement added: the systems in which it is stored"),
        queryset=DataSystem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["systems"].queryset = _active_systems()


def correction_targets() -> list[tuple[str, str]]:
    """Each rectifiable column of each active system (``id|table|column``), and each manual system (``id|``)."""
    choices: list[tuple[str, str]] = [("", _("—"))]
    for system in _active_systems():
        if is_manual(system):
            choices.append((f"{system.pk}||", _("%(system)s: a task for its owner") % {"system": system.name}))
            continue
        for value, label in column_choices(system):
            table, column = value.split(".", 1)
            choices.append((f"{system.pk}|{table}|{column}", f"{system.name}: {label}"))
    return choices


class CorrectionForm(forms.Form):
    target = forms.ChoiceField(
        label=_("Where"), required=False, choices=(), widget=forms.Select(attrs={"class": "form-select"})
    )
    value = forms.CharField(
        label=_("Corrected value"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    instruction = forms.CharField(
        label=_("Manual system: what its owner must correct, and to what"),
        required=False,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )

    def __init__(self, *args, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets if targets is not None else correction_targets()


CorrectionFormSet = formset_factory(CorrectionForm, extra=3, max_num=20)


def correction_formset(data=None) -> forms.BaseFormSet:
    """Three rows of corrections, each offering only the columns the register allows (built once per page)."""
    targets = correction_targets()
    return CorrectionFormSet(data, prefix="correction", form_kwargs={"targets": targets})
