"""Form widgets of the staff area."""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class StaffSelect(forms.Select):
    """A select rendered in Python, to the same HTML as Django's ``Select`` (its template, without the includes).

    Django renders each option through its own template include; for the queue's selects (one of the 40 or so
    staff), that was about a quarter of a one-row queue page's CPU time (bench/dashboard_bench.py).
    """

    def render(self, name: str, value, attrs: dict | None = None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            rendered = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((str(option["value"]), _attributes(option["attrs"]), option["label"]) for option in options),
            )
            groups.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered) if group_name else rendered
            )
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], _attributes(widget["attrs"]), SafeString("".join(groups))
        )


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
