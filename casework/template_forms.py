"""The form the DPO writes a message template with: a name, and a subject and body per language."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .forms import _style
from .models import MessageTemplate


def _languages() -> list[tuple[str, str]]:
    """The portal's languages, its default first: the default's text is required, the others optional."""
    default = settings.LANGUAGE_CODE
    return sorted(settings.LANGUAGES, key=lambda language: language[0] != default)


class MessageTemplateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name (for staff)"), max_length=100)

    def __init__(self, *args, template: MessageTemplate | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.template = template
        texts = {text.language: text for text in template.translations.all()} if template else {}
        if template is not None:
            self.fields["name"].initial = template.name
        self.languages = []
        for code, label in _languages():
            required = code == settings.LANGUAGE_CODE
            existing = texts.get(code)
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": label},
                max_length=150,
                required=required,
                initial=existing.subject if existing else "",
            )
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Message (%(language)s)") % {"language": label},
                max_length=5000,
                required=required,
                initial=existing.body if existing else "",
                widget=forms.Textarea(attrs={"rows": 8}),
                help_text=_(
                    "{name}, {reference} and {due_date} are filled in when staff pick the template; "
                    "anything in [brackets] must be replaced before sending."
                ),
            )
            self.languages.append((code, label, required))
        _style(self)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = MessageTemplate.objects.filter(name=name)
        if self.template is not None:
            others = others.exclude(pk=self.template.pk)
        if others.exists():
            raise forms.ValidationError(_("Another template has this name."))
        return name

    def clean(self) -> dict:
        data = super().clean()
        for code, _label, _required in self.languages:
            subject, body = data.get(f"subject_{code}", ""), data.get(f"body_{code}", "")
            if bool(subject.strip()) != bool(body.strip()):
                self.add_error(f"body_{code}" if subject.strip() else f"subject_{code}", _("Give both or neither."))
        return data

    def texts(self) -> dict[str, tuple[str, str]]:
        """(subject, body) per language; empty for a language without a translation."""
        data = self.cleaned_data
        return {code: (data[f"subject_{code}"], data[f"body_{code}"]) for code, _label, _required in self.languages}
