"""The queue's rows, rendered in Python to the markup the queue's template had for them.

Fifty rows of a dozen template variables, a URL, a date and a translated label each were most of a queue page's
template time (bench/dashboard_bench.py, issue 11's 50 ms goal). Here a row is a few ``format_html`` calls with the
labels translated once per page; every value is escaped as the template escaped it. tests/casework/test_render_speed.py
compares the result with the template's.
"""

from django.urls import reverse
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

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
    nobody = _("No one yet")
    flags = [(name, css, _(words)) for name, css, words in FLAGS]
    detail_url = reverse("casework:request_detail", args=["REFERENCE"])
    html = []
    for row in rows:
        reference = row.reference
        choose = (
            format_html(
                '<td><input class="form-check-input" type="checkbox" name="references" value="{}" id="choose-{}">'
                '<label class="visually-hidden" for="choose-{}">{}</label></td>',
                reference,
                row.pk,
                row.pk,
                _choose(reference),
            )
            if can_assign
            else ""
        )
        assignment = getattr(row, "assignment", None)  # None when no one is assigned, as the template had it
        badges = SafeString(
            "".join(
                format_html('<span class="flag badge {}">{}</span>', css, words)
                for name, css, words in flags
                if getattr(row, name, False)
            )
        )
        html.append(
            format_html(
                '<tr>{}<td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td>'
                '<td>{}<br><span class="due {}">{}</span></td><td>{}</td><td>{}</td></tr>\n',
                choose,
                _detail_url(detail_url, reference),
                reference,
                row.get_right_display(),
                row.get_status_display(),
                row.jurisdiction,
                formats.date_format(row.due_on, "j M Y"),
                row.due.css_class,
                row.due.words,
                assignment.assignee.get_username() if assignment else nobody,
                badges,
            )
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
