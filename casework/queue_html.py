"""The queue's rows, rendered in Python to the markup the queue's template had for them.

Fifty rows of a dozen template variables, a URL, a date and a translated label each were most of a queue page's
template time (bench/dashboard_bench.py, issue 11's 50 ms goal). Here a row is a few ``format_html`` calls with the
labels translated once per page; every value is escaped as the template escaped it. tests/casework/test_render_speed.py
compares the result with the template's.
"""

from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from requests_app.models import Right, Status

from .queue_flags import queue_flags
from .widgets import escaped

# The flags of the "Needs a human" column: the row's attribute, the badge's colour, its words (translated per page).
FLAGS = (
    ("evidence_to_review", "text-bg-warning", "Evidence to review"),
    ("requester_replied", "text-bg-info", "Reply from the requester"),
    ("delivery_failed", "text-bg-danger", "An e-mail failed"),
    ("extension_notice_due", "text-bg-warning", "An extension notice must go out this week"),
    ("agent_unanswered", "text-bg-secondary", "Subject has not answered about the agent"),
)


def queue_rows_html(rows: list, *, can_assign: bool) -> SafeString:
    """The ``<tr>`` of each request of the page: a box to choose it (for staff who may assign), its reference linked
    to its case page, right, status, jurisdiction, legal due date with the time left, assignee and flags."""
    nobody = escaped(_("No one yet"))
    flags = [(name, css, escaped(_(words))) for name, css, words in FLAGS]
    # The flags of the apps above casework (``queue_flags``), after casework's own.
    flags += [(flag.name, flag.css_class, escaped(str(flag.words))) for flag in queue_flags()]
    detail_url = reverse("casework:request_detail", args=["REFERENCE"])
    # As ``get_right_display`` and ``get_status_display`` (the label, or the value when it has none) and the date
    # filter's "j M Y" (the month's abbreviation in the page's language), each worked out once a page.
    rights = {value: escaped(label) for value, label in Right.choices}
    statuses = {value: escaped(label) for value, label in Status.choices}
    months = {number: escaped(str(name).title()) for number, name in MONTHS_3.items()}
    html = []
    for row in rows:
        # Plain string building with the same escaping as ``format_html`` (``escaped``): fifty rows a page.
        reference = escaped(row.reference)
        choose = (
            '<td><input class="form-check-input" type="checkbox" name="references" '
            f'value="{reference}" id="choose-{row.pk}"><label class="visually-hidden" for="choose-{row.pk}">'
            f"{_choose(row.reference)}</label></td>"
            if can_assign
            else ""
        )
        assignee = row.assignee  # None when no one is assigned
        badges = "".join(
            f'<span class="flag badge {css}">{words}</span>' for name, css, words in flags if getattr(row, name, False)
        )
        html.append(
            f'<tr>{choose}<td><a href="{escaped(_detail_url(detail_url, row.reference))}">{reference}</a></td>'
            f"<td>{rights.get(row.right) or escaped(row.right)}</td>"
            f"<td>{statuses.get(row.status) or escaped(row.status)}</td>"
            f"<td>{escaped(row.jurisdiction)}</td>"
            f"<td>{row.due_on.day} {months[row.due_on.month]} {row.due_on.year:04d}<br>"
            f'<span class="due {escaped(row.due.css_class)}">{escaped(row.due.words)}</span></td>'
            f"<td>{escaped(assignee.get_username()) if assignee else nobody}</td><td>{badges}</td></tr>\n"
        )
    return SafeString("".join(html))


def _detail_url(pattern: str, reference: str) -> str:
    """The case page's URL: ``reverse`` once per page, the reference put in (what ``reverse`` does when it has
    nothing to quote, as a reference never has); anything else goes through ``reverse``."""
    if reference.replace("-", "").isalnum() and reference.isascii():
        return pattern.replace("REFERENCE", reference)
    return reverse("casework:request_detail", args=[reference])


def _choose(reference: str) -> SafeString:
    """As ``{% blocktranslate %}Choose {{ reference }}{% endblocktranslate %}``: the translated words as they are
    (ours, from the catalogue), the reference escaped."""
    return mark_safe(_("Choose %(reference)s") % {"reference": conditional_escape(reference)})  # noqa: S308 - escaped
