"""The staff area's complaint forms (UK DPA 2018 s.164A): logging one that arrived another way, and the steps of one
complaint, each a small form over one service of ``complaints.services``.

A form checks the shape of what was typed; the service decides whether the step is still allowed when it is sent
(another member of staff may have acted meanwhile), and the view turns its refusal into a message.
"""

from typing import ClassVar

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import services
from complaints.forms import TEXT_LIMIT
from complaints.models import Channel, Complaint, ComplaintStatus
from dsar_portal.text import PlainTextFormMixin, validate_name

from .forms import _style


class ComplaintLogForm(PlainTextFormMixin, forms.Form):
    """A complaint that reached us by letter, e-mail, phone or in person, with the time it truly arrived: the 30
    days to acknowledge run from that day (s.164A(3)), not from the day it is typed in.

    The complainant is answered by e-mail or, with no e-mail address or when they ask for it, by post: one of the
    two addresses is needed, and "by post" needs the postal address. A complaint that came by e-mail came from an
    address, which is asked for.
    """

    channel = forms.ChoiceField(
        label=gettext_lazy("How it arrived"),
        choices=[
            ("", gettext_lazy("Choose how it arrived")),
            *[choice for choice in Channel.choices if choice[0] != Channel.WEB_FORM],
        ],
    )
    received_at = forms.DateTimeField(
        label=gettext_lazy("Received on (date and time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    name = forms.CharField(label=gettext_lazy("Complainant's name"), max_length=200, validators=[validate_name])
    email = forms.EmailField(
        label=gettext_lazy("Complainant's e-mail address (optional for a letter, a phone call or a visit)"),
        max_length=254,
        required=False,
        help_text=gettext_lazy("The acknowledgement, progress and outcome are e-mailed here, unless they go by post."),
    )
    postal_address = forms.CharField(
        label=gettext_lazy("Complainant's postal address (needed without an e-mail address)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Without an e-mail address, every notice is a letter to post to this address."),
    )
    by_post = forms.BooleanField(
        label=gettext_lazy("Answer by post: they asked for letters"),
        required=False,
        help_text=gettext_lazy("Tick to send every notice by post even though there is an e-mail address."),
    )
    text = forms.CharField(
        label=gettext_lazy("The complaint"),
        max_length=TEXT_LIMIT,
        help_text=gettext_lazy("What the complainant told us, in their words where you have them."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    request_reference = forms.CharField(
        label=gettext_lazy("Request it is about (optional)"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("The request's reference (DSAR-...), if the complaint is about one."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_received_at(self):
        received_at = self.cleaned_data["received_at"]
        if received_at > timezone.now():
            raise forms.ValidationError(_("The time of receipt cannot be in the future."))
        return received_at

    def clean(self):
        data = super().clean()
        email, address = data.get("email", ""), data.get("postal_address", "").strip()
        if "email" in self.errors:
            return data  # a mistyped address is reported as such, not as a missing one
        if data.get("channel") == Channel.EMAIL and not email:
            self.add_error("email", _("Give the address the complaint came from."))
        elif not email and not address:
            self.add_error("postal_address", _("Give a postal address, or an e-mail address, to answer at."))
        elif data.get("by_post") and not address:
            self.add_error("postal_address", _("Give the postal address to send the letters to."))
        return data


class ComplaintStep(PlainTextFormMixin, forms.Form):
    """One step of the complaint page: its URL name is ``casework:complaint_<name>``."""

    name: ClassVar[str]
    title: ClassVar[str]
    submit_label: ClassVar[str]
    to_status: ClassVar[str]

    def __init__(self, *args, complaint: Complaint, **kwargs) -> None:
        kwargs.setdefault("prefix", self.name)
        super().__init__(*args, **kwargs)
        self.complaint = complaint
        _style(self)

    @classmethod
    def fits(cls, complaint: Complaint) -> bool:
        return services.COMPLAINT_LIFECYCLE.can_move(complaint.status, cls.to_status)

    def action_url(self) -> str:
        return reverse(f"casework:complaint_{self.name}", args=[self.complaint.reference])

    def perform(self, *, actor: AbstractBaseUser) -> str:
        """Call the one service; the success message to show."""
        raise NotImplementedError


class AcknowledgeForm(ComplaintStep):
    name = "acknowledge"
    title = gettext_lazy("Acknowledge the complaint")
    submit_label = gettext_lazy("Acknowledge and tell the complainant")
    to_status = ComplaintStatus.ACKNOWLEDGED

    note = forms.CharField(
        label=gettext_lazy("A note for the complainant (optional)"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def perform(self, *, actor: AbstractBaseUser) -> str:
        services.complaint_acknowledge(complaint=self.complaint, actor=actor, note=self.cleaned_data["note"])
        return _("The complaint is acknowledged and the complainant is told we are looking into it.")


class ProgressForm(ComplaintStep):
    name = "progress"
    title = gettext_lazy("Tell the complainant how it is going")
    submit_label = gettext_lazy("Record and send the update")
    to_status = ComplaintStatus.INVESTIGATING

    note = forms.CharField(
        label=gettext_lazy("Progress, sent to the complainant"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    @classmethod
    def fits(cls, complaint: Complaint) -> bool:
        # A note while it is being looked into is a step of its own, not a move.
        return complaint.status == ComplaintStatus.INVESTIGATING or super().fits(complaint)

    def perform(self, *, actor: AbstractBaseUser) -> str:
        services.complaint_progress(complaint=self.complaint, actor=actor, note=self.cleaned_data["note"])
        return _("The update is recorded and sent to the complainant.")


class ResolveForm(ComplaintStep):
    name = "resolve"
    title = gettext_lazy("Record the outcome")
    submit_label = gettext_lazy("Record and send the outcome")
    to_status = ComplaintStatus.RESOLVED

    outcome = forms.CharField(
        label=gettext_lazy("The outcome, sent to the complainant: what we found and what we will do"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def perform(self, *, actor: AbstractBaseUser) -> str:
        services.complaint_resolve(complaint=self.complaint, actor=actor, outcome=self.cleaned_data["outcome"])
        return _("The outcome is recorded and sent to the complainant, with where they may go next.")


class WithdrawForm(ComplaintStep):
    name = "withdraw"
    title = gettext_lazy("Record that the complainant withdrew it")
    submit_label = gettext_lazy("Record the withdrawal")
    to_status = ComplaintStatus.WITHDRAWN

    reason = forms.CharField(
        label=gettext_lazy("How they told us (nothing is sent)"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def perform(self, *, actor: AbstractBaseUser) -> str:
        services.complaint_withdraw(complaint=self.complaint, actor=actor, reason=self.cleaned_data["reason"])
        return _("The withdrawal is recorded.")


COMPLAINT_STEPS: dict[str, type[ComplaintStep]] = {
    form.name: form for form in (AcknowledgeForm, ProgressForm, ResolveForm, WithdrawForm)
}


def steps_for(complaint: Complaint, *, bound: ComplaintStep | None = None) -> list[ComplaintStep]:
    """The forms the complaint page offers now, with ``bound`` (sent back with its errors) in place of its blank twin,
    kept even if the complaint no longer fits it so nothing typed is lost."""
    offered = []
    for name, form_class in COMPLAINT_STEPS.items():
        if bound is not None and bound.name == name:
            offered.append(bound)
        elif form_class.fits(complaint):
            offered.append(form_class(complaint=complaint))
    return offered
