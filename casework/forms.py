from datetime import timedelta

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from dsar_portal.crypto import email_lookup_hash
from dsar_portal.jurisdictions import SUPPORTED_JURISDICTIONS
from requests_app.models import DataSubjectRequest, Right, Status
from requests_app.references import normalise_reference
from requests_app.workflow import OPEN_STATUSES

from .selectors import assignable_staff

UNASSIGNED = "none"
MINE = "me"


def _blank(label: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


def _style(form: forms.Form) -> None:
    """Bootstrap's classes on each widget (the staff templates lay the fields out themselves)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select"
        else:
            widget.attrs["class"] = "form-control"


class QueueFilterForm(forms.Form):
    """The queue's filters and search: a GET form, so a filtered queue is a link that works without JavaScript."""

    q = forms.CharField(label=_("Reference or requester's e-mail"), required=False, max_length=254, strip=True)
    right = forms.ChoiceField(label=_("Right"), required=False, choices=_blank(_("Any right"), Right.choices))
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_blank(
            _("Any open status"), [(value, label) for value, label in Status.choices if value in OPEN_STATUSES]
        ),
    )
    jurisdiction = forms.ChoiceField(
        label=_("Jurisdiction"),
        required=False,
        choices=_blank(_("Any jurisdiction"), sorted(SUPPORTED_JURISDICTIONS.items(), key=lambda item: item[1])),
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    due_within = forms.IntegerField(label=_("Due within (days)"), required=False, min_value=0, max_value=366)
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    paused = forms.BooleanField(label=_("Clock paused"), required=False)
    awaiting_verification = forms.BooleanField(label=_("Awaiting identity verification"), required=False)
    awaiting_fee = forms.BooleanField(label=_("Awaiting a fee"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", _("Anyone or no one")),
            (MINE, _("Me")),
            (UNASSIGNED, _("No one yet")),
            *[(str(user.pk), user.get_username()) for user in assignable_staff()],
        ]
        _style(self)

    def apply(self, requests: QuerySet[DataSubjectRequest], *, user, today) -> QuerySet[DataSubjectRequest]:
        """``requests`` narrowed by the valid filters (an invalid form filters nothing)."""
        if not self.is_valid():
            return requests
        data = self.cleaned_data
        if data["q"]:
            # By reference, or by the keyed hash of the address: the table is never decrypted to search it.
            if "@" in data["q"]:
                requests = requests.filter(email_hash=email_lookup_hash(data["q"]))
            else:
                requests = requests.filter(reference=normalise_reference(data["q"]))
        for name in ("right", "status", "jurisdiction"):
            if data[name]:
                requests = requests.filter(**{name: data[name]})
        if data["assignee"] == UNASSIGNED:
            requests = requests.filter(assignment__isnull=True)
        elif data["assignee"] == MINE:
            requests = requests.filter(assignment__assignee=user)
        elif data["assignee"]:
            requests = requests.filter(assignment__assignee_id=int(data["assignee"]))
        if data["due_within"] is not None:
            requests = requests.filter(due_on__lte=today + timedelta(days=data["due_within"]))
        if data["overdue"]:
            requests = requests.filter(due_on__lt=today, clock_paused_on__isnull=True)
        if data["paused"]:
            requests = requests.filter(clock_paused_on__isnull=False)
        if data["awaiting_verification"]:
            requests = requests.filter(status=Status.AWAITING_IDENTITY_VERIFICATION)
        if data["awaiting_fee"]:
            requests = requests.filter(Q(status=Status.AWAITING_FEE))
        return requests


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=None, empty_label=None)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_staff()
        self.fields["assignee"].label_from_instance = lambda user: user.get_username()
        _style(self)


class BulkAssignForm(AssignForm):
    references = forms.MultipleChoiceField(label=_("Requests"), choices=[])

    def __init__(self, *args, references: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["references"].choices = [(reference, reference) for reference in references]
