"""Form widgets of the staff area, rendered in Python to exactly the HTML of Django's own widgets.

Django renders every widget through its template engine (a template, an include for the attributes, one more per
option); on the queue, with a few dozen widgets a page, that was a third of the page's CPU time
(bench/dashboard_bench.py, issue 11's 50 ms goal). These render the same markup, byte for byte, from the same
``get_context`` (so ``attrs``, ``required``, ``aria-invalid`` and ``aria-describedby`` added by the bound field are
kept); tests/casework/test_widgets.py compares each with Django's, bound and with errors.
"""

import html

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class StaffSelect(forms.Select):
    """A select rendered in Python, to the same HTML as Django's ``Select`` (its template, without the includes).

    Django renders each option through its own template include; for the queue's selects (one of the 40 or so
    staff), that was about a quarter of a one-row queue page's CPU time (bench/dashboard_bench.py). The choices of a
    model field (a query each time they are read: once to decide ``required``, once to render) are read once.
    """

    def use_required_attribute(self, initial) -> bool:
        self._choices_read()
        return super().use_required_attribute(initial)

    def render(self, name: str, value, attrs: dict | None = None, renderer=None) -> SafeString:
        self._choices_read()
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            # Plain string building with the same escaping as ``format_html``: a few hundred options a page.
            rendered = "".join(
                f'<option value="{escaped(str(option["value"]))}"'
                f"{_attributes(option['attrs']) if option['attrs'] else ''}>{escaped(option['label'])}</option>"
                for option in options
            )
            groups.append(f'<optgroup label="{escaped(group_name)}">{rendered}</optgroup>' if group_name else rendered)
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], _attributes(widget["attrs"]), SafeString("".join(groups))
        )

    def _choices_read(self) -> None:
        """The choices as a list, for this widget (each form has its own copy): the field's queryset is untouched."""
        if not isinstance(self.choices, list):
            # Through ``iter``: ``list`` asks a model field's choices for their length first, a COUNT query.
            self.choices = list(iter(self.choices))


class _PythonInput:
    """As django/forms/widgets/input.html: type, name, the value unless it is None, then the attributes."""

    def render(self, name: str, value, attrs: dict | None = None, renderer=None) -> SafeString:
        return input_html(self.get_context(name, value, attrs)["widget"])


def input_html(widget: dict) -> SafeString:
    """One ``<input>`` from a widget's context (``Widget.get_context(...)["widget"]``)."""
    value = widget["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        widget["type"],
        widget["name"],
        format_html(' value="{}"', str(value)) if value is not None else "",
        _attributes(widget["attrs"]),
    )


class StaffTextInput(_PythonInput, forms.TextInput):
    """Django's ``TextInput``, rendered in Python."""


class StaffNumberInput(_PythonInput, forms.NumberInput):
    """Django's ``NumberInput``, rendered in Python."""


class StaffDateInput(_PythonInput, forms.DateInput):
    """Django's ``DateInput``, rendered in Python."""


class StaffCheckboxInput(_PythonInput, forms.CheckboxInput):
    """Django's ``CheckboxInput`` (``checked`` when ticked, no value for a boolean), rendered in Python."""


class StaffTextarea(forms.Textarea):
    """Django's ``Textarea`` (a line break after the opening tag, as its template has), rendered in Python."""

    def render(self, name: str, value, attrs: dict | None = None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            widget["name"],
            _attributes(widget["attrs"]),
            widget["value"] or "",
        )


def escaped(value: object) -> str:
    """As ``conditional_escape`` (what ``format_html`` does to each value): markup already safe as it is, anything
    else through ``html.escape`` as Django's ``escape``."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _attributes(attrs: dict) -> SafeString:
    """As django/forms/widgets/attrs.html: in order, ``True`` a bare attribute, ``False`` left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value)),)
            for name, value in attrs.items()
            if value is not False
        ),
    )
