from django import forms
from django.utils.translation import gettext_lazy as _

from dsar_portal.text import PlainTextFormMixin, validate_name

TEXT_LIMIT = 5000


class ComplaintForm(PlainTextFormMixin, forms.Form):
    """The public complaint form (UK DPA 2018 s.164A(2): a form that can be completed electronically)."""

    name = forms.CharField(
        label=_("Your full name"),
        max_length=200,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("We will write to you here about your complaint."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    text = forms.CharField(
        label=_("Your complaint"),
        max_length=TEXT_LIMIT,
        help_text=_("Tell us what happened and what you would like us to do. You have up to 5,000 characters."),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    request_reference = forms.CharField(
        label=_("Request reference (optional)"),
        max_length=40,
        required=False,
        help_text=_(
            "If your complaint is about a request you made to us, its reference (it starts with DSAR-). "
            "Use the e-mail address you used for that request."
        ),
    )
