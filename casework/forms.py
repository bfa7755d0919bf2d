from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dsar_portal.crypto import email_lookup_hash
from dsar_portal.jurisdictions import SUPPORTED_JURISDICTIONS
from identity.models import VerificationStatus
from requests_app import documents
from requests_app.models import Channel, DataSubjectRequest, RequesterRole, Right, Status
from requests_app.references import normalise_reference
from requests_app.workflow import OPEN_STATUSES

from .queue_flags import queue_flags
from .queue_pages import extension_notice_due_q
from .roles import ALL_ROLES
from .selectors import assignable_staff, assignable_staff_choices, unassigned
from .widgets import StaffCheckboxInput, StaffNumberInput, StaffSelect, StaffTextInput

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

    q = forms.CharField(
        label=_("Reference or requester's e-mail"), required=False, max_length=254, strip=True, widget=StaffTextInput
    )
    right = forms.ChoiceField(
        label=_("Right"), required=False, choices=_blank(_("Any right"), Right.choices), widget=StaffSelect
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        widget=StaffSelect,
        choices=_blank(
            _("Any open status"), [(value, label) for value, label in Status.choices if value in OPEN_STATUSES]
        ),
    )
    jurisdiction = forms.ChoiceField(
        label=_("Jurisdiction"),
        required=False,
        widget=StaffSelect,
        choices=_blank(_("Any jurisdiction"), sorted(SUPPORTED_JURISDICTIONS.items(), key=lambda item: item[1])),
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, widget=StaffSelect)
    due_within = forms.IntegerField(
        label=_("Due within (days)"), required=False, min_value=0, max_value=366, widget=StaffNumberInput
    )
    overdue = forms.BooleanField(label=_("Overdue"), required=False, widget=StaffCheckboxInput)
    paused = forms.BooleanField(label=_("Clock paused"), required=False, widget=StaffCheckboxInput)
    awaiting_verification = forms.BooleanField(
        label=_("Awaiting identity verification"), required=False, widget=StaffCheckboxInput
    )
    # Evidence the requester sent that staff have not yet reviewed (the identity panel of the case page).
    evidence_to_review = forms.BooleanField(
        label=_("With evidence to review"), required=False, widget=StaffCheckboxInput
    )
    awaiting_fee = forms.BooleanField(label=_("Awaiting a fee"), required=False, widget=StaffCheckboxInput)
    extension_notice_due = forms.BooleanField(
        label=_("Extension notice due this week"), required=False, widget=StaffCheckboxInput
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", _("Anyone or no one")),
            (MINE, _("Me")),
            (UNASSIGNED, _("No one yet")),
            *[(str(pk), username) for pk, username in assignable_staff_choices()],
        ]
        # The flags of the apps above casework, each a checkbox narrowing the queue to the requests it flags.
        for flag in queue_flags():
            self.fields[flag.name] = forms.BooleanField(
                label=flag.filter_label, required=False, widget=StaffCheckboxInput
            )
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
            requests = requests.filter(unassigned())
        elif data["assignee"] == MINE:
            requests = requests.filter(assignee=user)
        elif data["assignee"]:
            requests = requests.filter(assignee_id=int(data["assignee"]))
        if data["due_within"] is not None:
            requests = requests.filter(due_on__lte=today + timedelta(days=data["due_within"]))
        if data["overdue"]:
            requests = requests.filter(due_on__lt=today, clock_paused_on__isnull=True)
        if data["paused"]:
            requests = requests.filter(clock_paused_on__isnull=False)
        if data["awaiting_verification"]:
            requests = requests.filter(status=Status.AWAITING_IDENTITY_VERIFICATION)
        if data.get("evidence_to_review"):
            requests = requests.filter(
                identity_verification__status=VerificationStatus.EVIDENCE_RECEIVED,
                status=Status.AWAITING_IDENTITY_VERIFICATION,
            )
        if data["awaiting_fee"]:
            requests = requests.filter(Q(status=Status.AWAITING_FEE))
        if data["extension_notice_due"]:
            # GDPR Art. 12(3): an extension must be notified within the first month (queue_pages).
            requests = requests.filter(extension_notice_due_q(today=today))
        for flag in queue_flags():
            if not data.get(flag.name):
                continue
            if flag.request_ids is not None:
                requests = requests.filter(pk__in=flag.request_ids())
            else:
                requests = requests.filter(flag.exists())
        return requests


class AssignForm(forms.Form):
    """Who to give requests to: one of the staff who may work the queue (the cached list of the queue and case
    pages; the choice is checked against the database when the form is sent)."""

    assignee = forms.TypedChoiceField(label=_("Assign to"), coerce=int, widget=StaffSelect)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [(str(pk), username) for pk, username in assignable_staff_choices()]
        _style(self)

    def clean_assignee(self):
        assignee = assignable_staff().filter(pk=self.cleaned_data["assignee"]).first()
        if assignee is None:
            raise ValidationError(_("Choose someone who may work on requests."), code="invalid_choice")
        return assignee


class BulkAssignForm(AssignForm):
    references = forms.MultipleChoiceField(label=_("Requests"), choices=[])

    def __init__(self, *args, references: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["references"].choices = [(reference, reference) for reference in references]


class LogRequestForm(forms.Form):
    """A request that reached us another way, as staff log it: its true receipt time, channel and a scan.

    An e-mail address is optional for a letter, a phone call or a visit; without one a postal address is needed
    (our notices then go by post). Typed values come back with the errors.
    """

    right = forms.ChoiceField(label=_("Right"), choices=_blank(_("Choose the right"), Right.choices))
    channel = forms.ChoiceField(
        label=_("How it arrived"),
        choices=_blank(_("Choose how it arrived"), [c for c in Channel.choices if c[0] != Channel.WEB]),
    )
    received_at = forms.DateTimeField(
        label=_("Received on (date and time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    requester_role = forms.ChoiceField(
        label=_("Asking as"), choices=RequesterRole.choices, initial=RequesterRole.DATA_SUBJECT
    )
    name = forms.CharField(label=_("Requester's name"), max_length=200)
    email = forms.EmailField(
        label=_("Requester's e-mail (optional for a letter, a phone call or a visit)"), required=False
    )
    postal_address = forms.CharField(
        label=_("Postal address (needed without an e-mail address)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    description = forms.CharField(label=_("What they asked"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
    scan = forms.FileField(label=_("A scan of what arrived (optional)"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        if scan:
            documents.validate_document(scan)
        return scan

    def clean_received_at(self):
        received_at = self.cleaned_data["received_at"]
        if received_at > timezone.now():
            raise forms.ValidationError(_("The time of receipt cannot be in the future."))
        return received_at

    def clean(self):
        data = super().clean()
        email, address = data.get("email", ""), data.get("postal_address", "").strip()
        if data.get("channel") in (Channel.EMAIL, Channel.SOCIAL_MEDIA) and not email:
            self.add_error("email", _("Give the address the request came from."))
        elif not email and not address:
            self.add_error("postal_address", _("Give a postal address, or an e-mail address, to answer at."))
        return data


class StaffRolesForm(forms.Form):
    """One member of staff's roles and whether their account is active (the DPO's people page).

    Each person's form has its own prefix (ids stay unique on the page); the unprefixed ``person`` field says which
    form was sent, so no account id is put in a URL.
    """

    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        choices=[(name, name) for name in ALL_ROLES],
    )
    is_active = forms.BooleanField(label=_("Account active (may sign in)"), required=False)

    def __init__(self, *args, person, **kwargs) -> None:
        kwargs.setdefault("prefix", f"person-{person.pk}")
        if not args and "data" not in kwargs:
            kwargs.setdefault(
                "initial",
                {
                    "roles": [group.name for group in person.groups.all() if group.name in ALL_ROLES],
                    "is_active": person.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        self.person = person
        self.fields["is_active"].widget.attrs["class"] = "form-check-input"
