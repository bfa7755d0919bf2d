"""The case page's actions: each a small form over one service of the request core (issue 11).

A form checks only the shape of what was typed; the rules of the law stay in ``requests_app.services``, which
raises ``RequestError`` (or ``IllegalTransition``) with a message safe to show. ``fits`` says whether the action is
offered on the page for the request's status and right; the service decides again when the form is sent, so a
request that changed meanwhile is refused there, with the service's message.
"""

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import ClassVar

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from requests_app import grounds, marketing, services
from requests_app.models import (
    DataSubjectRequest,
    Exemption,
    ExtensionBasis,
    FeeBasis,
    Outcome,
    RefusalGround,
    Right,
    Status,
)
from requests_app.workflow import EXTENDABLE_STATUSES, can_transition

from . import selectors
from . import services as casework_services
from .forms import _style
from .models import MessageTemplate

# How many "part not done" rows the completion form offers (GDPR Art. 12(4): one is required for "partly fulfilled").
COMPLETION_PARTS = 3
PART_KEYS = ("done", "not_done", "why", "ground", "reference")


def _ordered(choices: type, values: frozenset[str]) -> list[tuple[str, str]]:
    """``values`` as (value, label) choices, in the order the TextChoices declare them."""
    return [(value, label) for value, label in choices.choices if value in values]


class CaseAction(forms.Form):
    """One action of the case page: its URL name is ``casework:action_<name>``."""

    name: ClassVar[str]
    title: ClassVar[str]
    submit_label: ClassVar[str]

    def __init__(self, *args, request: DataSubjectRequest, **kwargs) -> None:
        kwargs.setdefault("prefix", self.name)
        super().__init__(*args, **kwargs)
        self.request = request

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        raise NotImplementedError

    def action_url(self) -> str:
        return reverse(f"casework:action_{self.name}", args=[self.request.reference])

    def perform(self, *, actor: AbstractBaseUser) -> str:
        """Call the one service with the cleaned data; the success message to show."""
        raise NotImplementedError

    def render(self, template_name: str | None = None, context: dict | None = None, renderer=None) -> SafeString:
        """The form's HTML; a blank form's from the process's memo of blank forms (``blank_form_html``)."""
        if template_name is None and context is None and renderer is None and not self.is_bound and not self.initial:
            return blank_form_html(self)
        return super().render(template_name, context, renderer)

    # Django's forms alias these to its own ``render`` (what ``{{ form }}`` calls), so they are aliased again here.
    __str__ = render
    __html__ = render

    def _styled(self) -> None:
        _style(self)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "form-check-input"


# The HTML of blank action forms, by everything it is made of (``_blank_form_key``): the case page offers up to eight
# blank forms on every view, and rendering them through Django's templates was half of the page's CPU time
# (bench/dashboard_bench.py, issue 11's 50 ms goal). A blank form holds nothing of a user or a request except what the
# key names (the choices that follow from the request's right and jurisdiction, the day's date, the language); the
# CSRF token is in the page's template, outside the form's HTML. Bound forms (what was typed, with its errors) and
# forms started from a template are never memoised.
BLANK_FORMS_KEPT = 256
_blank_forms: OrderedDict[tuple, SafeString] = OrderedDict()
_blank_forms_lock = threading.Lock()


def blank_form_html(form: "CaseAction") -> SafeString:
    """The HTML ``form`` (blank) renders to: rendered once per key and process, then reused."""
    key = _blank_form_key(form)
    with _blank_forms_lock:
        html = _blank_forms.get(key)
        if html is not None:
            _blank_forms.move_to_end(key)
            return html
    html = forms.Form.render(form)
    with _blank_forms_lock:
        _blank_forms[key] = html
        while len(_blank_forms) > BLANK_FORMS_KEPT:
            _blank_forms.popitem(last=False)
    return html


def _blank_form_key(form: "CaseAction") -> tuple:
    """Everything a blank form's HTML follows from: its class, prefix and language, and for each field its kind,
    widget, label, help text, initial value (a date: today's), choices and widget attributes."""
    return (
        type(form),
        form.prefix,
        form.auto_id,
        form.label_suffix,
        form.use_required_attribute,
        translation.get_language(),
        tuple(
            (
                name,
                type(field),
                type(field.widget),
                str(field.label),
                str(field.help_text),
                field.required,
                field.disabled,
                field.show_hidden_initial,
                _frozen(form.get_initial_for_field(field, name)),
                _frozen(getattr(field, "choices", None)),
                _frozen(field.widget.attrs),
            )
            for name, field in form.fields.items()
        ),
    )


def _frozen(value: object) -> object:
    """``value`` as a hashable key: lists and choices as tuples, lazy text and choice values as text."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, (str, bytes, Promise)):
        return str(value)
    if isinstance(value, dict):
        return tuple((str(key), _frozen(item)) for key, item in value.items())
    if isinstance(value, Iterable):
        return tuple(_frozen(item) for item in value)
    return (type(value).__name__, str(value))


class ClarifyForm(CaseAction):
    name = "clarify"
    title = gettext_lazy("Ask the person to clarify")
    submit_label = gettext_lazy("Send the question")

    question = forms.CharField(label=gettext_lazy("Question"), widget=forms.Textarea(attrs={"rows": 3}))
    stops_clock = forms.BooleanField(
        label=gettext_lazy(
            "Stop the clock: we reasonably need the person to identify the information or processing activities "
            "the request relates to"
        ),
        required=False,
    )
    condition = forms.CharField(
        label=gettext_lazy("Why we need it (kept with the pause)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only an access request may stop the clock (UK GDPR Art. 12A; EDPB 01/2022 §5.3): the others just ask.
        if self.request.right != Right.ACCESS:
            del self.fields["stops_clock"]
            del self.fields["condition"]
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return request.status == Status.IN_PROGRESS and not marketing.is_direct_marketing_objection(request)

    def perform(self, *, actor: AbstractBaseUser) -> str:
        data = self.cleaned_data
        stops = bool(data.get("stops_clock"))
        services.request_clarification_ask(
            request=self.request,
            actor=actor,
            question=data["question"],
            stops_clock=stops,
            condition=data.get("condition", ""),
        )
        if stops:
            return _("The question was sent and the clock is stopped until the person answers.")
        return _("The question was sent; the clock keeps running.")


class ResumeForm(CaseAction):
    name = "resume"
    title = gettext_lazy("Resume without an answer")
    submit_label = gettext_lazy("Resume work")

    on = forms.DateField(label=gettext_lazy("Resume from"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=gettext_lazy("Why"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return request.status == Status.AWAITING_CLARIFICATION

    def perform(self, *, actor: AbstractBaseUser) -> str:
        data = self.cleaned_data
        services.request_clarification_resume(request=self.request, actor=actor, on=data["on"], reason=data["reason"])
        return _("Work resumed without an answer.")


class ExtendForm(CaseAction):
    name = "extend"
    title = gettext_lazy("Extend the deadline")
    submit_label = gettext_lazy("Extend and tell the person")

    months = forms.TypedChoiceField(
        label=gettext_lazy("By"),
        coerce=int,
        choices=[(1, gettext_lazy("One month")), (2, gettext_lazy("Two months"))],
    )
    basis = forms.MultipleChoiceField(
        label=gettext_lazy("Why more time is needed (GDPR Art. 12(3))"),
        choices=ExtensionBasis.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    reasons = forms.CharField(
        label=gettext_lazy("Reasons, sent to the person"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return (
            request.status in EXTENDABLE_STATUSES
            and request.extension_months < 2
            and not marketing.is_direct_marketing_objection(request)
        )

    def perform(self, *, actor: AbstractBaseUser) -> str:
        data = self.cleaned_data
        request = services.request_extend(
            request=self.request, actor=actor, months=data["months"], basis=data["basis"], reasons=data["reasons"]
        )
        return _("The deadline is extended to %(date)s and the person is told why.") % {
            "date": request.due_on.isoformat()
        }


class FeeRequestForm(CaseAction):
    name = "fee_request"
    title = gettext_lazy("Ask for a fee")
    submit_label = gettext_lazy("Ask for the fee")

    amount = forms.DecimalField(label=gettext_lazy("Amount"), min_value=0, max_digits=10, decimal_places=2)
    basis = forms.ChoiceField(label=gettext_lazy("Basis (GDPR Art. 12(5) or 15(3))"), choices=FeeBasis.choices)
    reasons = forms.CharField(
        label=gettext_lazy("Reasons, sent to the person"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return request.status == Status.IN_PROGRESS and not marketing.is_direct_marketing_objection(request)

    def perform(self, *, actor: AbstractBaseUser) -> str:
        data = self.cleaned_data
        request = services.request_fee_request(
            request=self.request, actor=actor, amount=data["amount"], basis=data["basis"], reasons=data["reasons"]
        )
        return _("The person is asked for %(amount)s %(currency)s.") % {
            "amount": request.fee_amount,
            "currency": request.fee_currency,
        }


class FeePaidForm(CaseAction):
    name = "fee_paid"
    title = gettext_lazy("Record the fee's payment")
    submit_label = gettext_lazy("Record the payment")

    paid_on = forms.DateField(label=gettext_lazy("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=gettext_lazy("Payment reference"), max_length=200)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return request.status == Status.AWAITING_FEE

    def perform(self, *, actor: AbstractBaseUser) -> str:
        data = self.cleaned_data
        services.request_fee_paid(
            request=self.request, actor=actor, paid_on=data["paid_on"], reference=data["reference"]
        )
        return _("The payment is recorded and work goes on.")


class RefuseForm(CaseAction):
    name = "refuse"
    title = gettext_lazy("Refuse")
    submit_label = gettext_lazy("Refuse and tell the person")

    ground = forms.ChoiceField(label=gettext_lazy("Ground"))
    exemption = forms.ChoiceField(label=gettext_lazy("Exemption relied on"), required=False)
    reference = forms.CharField(label=gettext_lazy("Exact reference of the exemption"), required=False, max_length=200)
    reasons = forms.CharField(
        label=gettext_lazy("Reasons, sent to the person"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    note = forms.CharField(
        label=gettext_lazy("Internal note (never sent): the evidence for the decision"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The grounds the law gives for this right (GDPR Art. 12(4) with Arts. 16-21, 11(2), 12(5), 23), and the
        # exemptions of the request's jurisdiction (UK DPA 2018 Sch. 2-4; EU national law under Art. 23).
        self.fields["ground"].choices = _ordered(
            RefusalGround, grounds.allowed_grounds(right=self.request.right, details=self.request.details)
        )
        self.fields["exemption"].choices = [
            ("", _("None")),
            *_ordered(Exemption, grounds.exemptions_for(self.request.jurisdiction)),
        ]
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return can_transition(request.status, Status.REFUSED)

    def perform(self, *, actor: AbstractBaseUser) -> str:
        data = self.cleaned_data
        services.request_refuse(
            request=self.request,
            actor=actor,
            ground=data["ground"],
            reasons=data["reasons"],
            exemption=data["exemption"],
            reference=data["reference"],
            note=data["note"],
        )
        return _("The request is refused and the person is told why and how to complain.")


class CompleteForm(CaseAction):
    name = "complete"
    title = gettext_lazy("Complete")
    submit_label = gettext_lazy("Complete and tell the person")

    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=Outcome.choices)
    summary = forms.CharField(
        label=gettext_lazy("Summary, sent to the person"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A part not done is a refusal of that part (Art. 12(4)): only the grounds of this right, never the
        # direct-marketing ones (an objection to direct marketing is acted on in full, Art. 21(3)).
        part_grounds = grounds.allowed_grounds(right=self.request.right, details=self.request.details) - (
            grounds.DIRECT_MARKETING_GROUNDS
        )
        ground_choices = [("", _("Choose a ground")), *_ordered(RefusalGround, part_grounds)]
        for number in range(1, COMPLETION_PARTS + 1):
            self.fields[f"part{number}_done"] = forms.CharField(
                label=_("Part %(n)d: what we did") % {"n": number}, required=False
            )
            self.fields[f"part{number}_not_done"] = forms.CharField(
                label=_("Part %(n)d: what we did not do") % {"n": number}, required=False
            )
            self.fields[f"part{number}_why"] = forms.CharField(
                label=_("Part %(n)d: why") % {"n": number}, required=False
            )
            self.fields[f"part{number}_ground"] = forms.ChoiceField(
                label=_("Part %(n)d: ground") % {"n": number}, required=False, choices=ground_choices
            )
            self.fields[f"part{number}_reference"] = forms.CharField(
                label=_("Part %(n)d: exact reference of an exemption") % {"n": number}, required=False
            )
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return request.status == Status.IN_PROGRESS

    def parts(self) -> list[dict[str, str]]:
        """The part rows with anything typed in them (empty rows are not parts)."""
        rows = (
            {key: self.cleaned_data.get(f"part{number}_{key}", "") for key in PART_KEYS}
            for number in range(1, COMPLETION_PARTS + 1)
        )
        return [row for row in rows if any(value.strip() for value in row.values())]

    def perform(self, *, actor: AbstractBaseUser) -> str:
        data = self.cleaned_data
        # Parts typed under another outcome go to the service too, which says they fit only "partly fulfilled",
        # rather than being dropped unseen.
        services.request_complete(
            request=self.request, actor=actor, outcome=data["outcome"], summary=data["summary"], parts=self.parts()
        )
        return _("The request is completed (%(outcome)s) and the person is told.") % {
            "outcome": Outcome(data["outcome"]).label
        }


class ReopenForm(CaseAction):
    name = "reopen"
    title = gettext_lazy("Reopen")
    submit_label = gettext_lazy("Reopen the request")

    reason = forms.CharField(label=gettext_lazy("Why"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return request.status in (Status.COMPLETED, Status.REFUSED)

    def perform(self, *, actor: AbstractBaseUser) -> str:
        services.request_reopen(request=self.request, actor=actor, reason=self.cleaned_data["reason"])
        return _("The request is open again and the person is told.")


class NoteForm(CaseAction):
    name = "note"
    title = gettext_lazy("Add an internal note")
    submit_label = gettext_lazy("Add the note")

    text = forms.CharField(
        label=gettext_lazy("Note (kept in the case file, never sent to the person)"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        return True

    def perform(self, *, actor: AbstractBaseUser) -> str:
        casework_services.note_add(request=self.request, actor=actor, text=self.cleaned_data["text"])
        return _("The note is added to the case file.")


# Left in a template's text for staff to fill in: "[say what was done]" or "{name}" (a placeholder we could not fill).
UNFILLED = re.compile(r"\[[^\]\n]{3,}\]|\{[a-z_]+\}")


class MessageForm(CaseAction):
    name = "message"
    title = gettext_lazy("Message the requester")
    submit_label = gettext_lazy("Send the message")

    template = forms.ModelChoiceField(
        label=gettext_lazy("Template"), queryset=MessageTemplate.objects.none(), required=False
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=150)
    body = forms.CharField(label=gettext_lazy("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = selectors.message_templates()
        self.fields["template"].empty_label = _("None: written from scratch")
        self.prefilled = False
        self._styled()

    @classmethod
    def fits(cls, request: DataSubjectRequest) -> bool:
        # Only to someone we can reach: a confirmed address, or by post (requests_app.services.request_message_write).
        return request.status != Status.CLOSED_UNCONFIRMED and (
            request.notices_by_post or request.email_confirmed_at is not None
        )

    def prefill(self, template: MessageTemplate, *, can_see_personal_data: bool) -> None:
        """Start from ``template`` in the person's language where a translation exists (GDPR Art. 12(1)), its
        placeholders filled in; the member of staff edits it before sending."""
        text = selectors.template_text_for(template, self.request.language)
        if text is None:
            return
        with translation.override(text.language):  # the date in the words of the message's language
            due_date = formats.date_format(self.request.due_on, "j F Y")
        values = {"reference": self.request.reference, "due_date": due_date}
        if can_see_personal_data:
            values["name"] = self.request.requester_name
        self.initial.update(
            {"template": template.pk, "subject": _fill(text.subject, values), "body": _fill(text.body, values)}
        )
        self.language = text.language
        self.prefilled = True

    def clean(self) -> dict:
        data = super().clean()
        for field in ("subject", "body"):
            if UNFILLED.search(data.get(field, "")):
                self.add_error(field, _("Fill in or remove what is still in [brackets] or {braces}."))
        return data

    def perform(self, *, actor: AbstractBaseUser) -> str:
        data = self.cleaned_data
        message = casework_services.requester_message_send(
            request=self.request, actor=actor, subject=data["subject"], body=data["body"], template=data["template"]
        )
        if message.by_post:
            return _("The message is ready to post: print it from 'Letters to post' and record the day you post it.")
        return _("The message is sent to the requester and is on their status page.")


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


ACTIONS: dict[str, type[CaseAction]] = {
    form.name: form
    for form in (
        NoteForm,
        MessageForm,
        ClarifyForm,
        ResumeForm,
        ExtendForm,
        FeeRequestForm,
        FeePaidForm,
        RefuseForm,
        CompleteForm,
        ReopenForm,
    )
}


def actions_for(request: DataSubjectRequest, *, bound: CaseAction | None = None) -> list[CaseAction]:
    """The forms the case page offers for ``request`` now, with ``bound`` (a form sent back with its errors) in
    place of its blank twin, kept even if the request no longer fits it so nothing typed is lost."""
    forms_now = []
    for name, form_class in ACTIONS.items():
        if bound is not None and bound.name == name:
            forms_now.append(bound)
        elif form_class.fits(request):
            forms_now.append(form_class(request=request))
    return forms_now
