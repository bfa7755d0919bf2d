"""The case page's timeline entries, rendered in Python to the markup the page's template had for them.

Each of the 100 entries the page shows resolved a dozen template variables, a date filter and a few translations
through the template engine: about a third of the case page's CPU time (bench/dashboard_bench.py, issue 11's 50 ms
goal). Here each entry is a few ``format_html`` calls, the labels are translated once per page, and every value is
escaped as the template escaped it (``linebreaksbr`` with autoescaping for a note's or message's text).
tests/casework/test_render_speed.py compares the result with the template's.
"""

from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from .selectors import TimelineEntry
from .widgets import escaped


def timeline_items_html(
    entries: list[TimelineEntry], *, reference: str, can_see_personal_data: bool, can_view_evidence: bool
) -> SafeString:
    """The ``<li>`` of each entry: what happened, when, and by whom; the text of notes, messages and reasons only
    for staff who may see personal data, the evidence link only for staff who may view evidence."""
    words = {
        "note": _("Internal note"),
        "staff": _("staff"),
        "not_sent": _("not sent to the person"),
        "document": _("Document received:"),
        "deleted": _("deleted"),
        "view": _("View (recorded in the audit trail)"),
        "sent": _("Message sent:"),
        "received": _("Message received:"),
        "failed": _("delivery failed"),
        "read": _("Read the message"),
    }
    months = _months()
    items = []
    for entry in entries:
        if entry.kind == "event":
            body = _event(entry.item, words, can_see_personal_data)
        elif entry.kind == "note":
            body = _note(entry.item, words, can_see_personal_data)
        elif entry.kind == "document":
            body = _document(entry.item, words, months, reference, can_see_personal_data, can_view_evidence)
        else:
            body = _message(entry.item, words, can_see_personal_data)
        # A plain string: the date is digits and an escaped month name, the body already escaped markup.
        items.append(
            f'<li class="border-start ps-3 mb-3">\n<p class="mb-0 text-body-secondary">{_when(entry.at, months)}</p>\n'
            f"{body}</li>\n"
        )
    return SafeString("".join(items))


def _when(moment, months: dict[int, str]) -> SafeString:
    """As the template's ``{{ moment|date:"j M Y H:i" }}`` (Django's ``j``, ``M``, ``Y``, ``H`` and ``i``): in the
    current time zone, the month's abbreviation in the current language from ``_months``."""
    local = timezone.localtime(moment)
    # Digits and the month's already escaped abbreviation: safe as it is (format_html must not escape it again).
    return SafeString(f"{local.day} {months[local.month]} {local.year:04d} {local.hour:02d}:{local.minute:02d}")


def _months() -> dict[int, str]:
    """Each month's abbreviation as Django's ``M`` writes it, translated once per page."""
    return {number: escaped(str(name).title()) for number, name in MONTHS_3.items()}


def _event(event, words: dict, can_see_personal_data: bool) -> str:
    # Plain strings with the same escaping as ``format_html`` (``escaped``): most entries are events.
    status = f": {escaped(event.get_to_status_display())}" if event.to_status else ""
    if event.actor_id is None:
        who = escaped(event.actor_kind)
    else:
        # The name case_timeline read with the event, else the user's.
        who = escaped(getattr(event, "actor_username", None) or event.actor.get_username())
    html = f'<p class="mb-0"><strong>{escaped(event.get_kind_display())}</strong>{status} · {who}</p>\n'
    if can_see_personal_data and event.reason:
        html += f'<p class="mb-0">{escaped(event.reason)}</p>\n'
    return html


def _note(note, words: dict, can_see_personal_data: bool) -> SafeString:
    who = note.author.get_username() if note.author else words["staff"]
    html = format_html(
        '<p class="mb-0"><strong>{}</strong> · {} <span class="badge text-bg-secondary">{}</span></p>\n',
        words["note"],
        who,
        words["not_sent"],
    )
    if can_see_personal_data:
        html += format_html('<p class="mb-0 text-pre-wrap">{}</p>\n', linebreaksbr(note.text, autoescape=True))
    return html


def _document(
    document, words: dict, months: dict, reference: str, can_see_personal_data: bool, can_view_evidence: bool
) -> SafeString:
    name = format_html(", {}", document.original_name) if can_see_personal_data else ""
    if document.deleted_at:
        after = format_html(" · {} {}", words["deleted"], _when(document.deleted_at, months))
    elif can_view_evidence:
        url = reverse("casework:evidence_document", args=[reference, document.storage_key[:-4]])
        after = format_html(' · <a href="{}" target="_blank" rel="noopener">{}</a>', url, words["view"])
    else:
        after = ""
    return format_html(
        '<p class="mb-0"><strong>{}</strong> {}{} ({}, {}){}</p>\n',
        words["document"],
        document.get_purpose_display(),
        name,
        document.content_type,
        filesizeformat(document.size),
        after,
    )


def _message(message, words: dict, can_see_personal_data: bool) -> SafeString:
    failed = (
        format_html(' <span class="badge text-bg-danger">{}</span>', words["failed"])
        if message.delivery_failed_at
        else ""
    )
    heading = words["sent"] if message.direction == "to_requester" else words["received"]
    html = format_html('<p class="mb-0"><strong>{}</strong> {}{}</p>\n', heading, message.subject, failed)
    if can_see_personal_data:
        html += format_html(
            '<details><summary>{}</summary><p class="mb-0 text-pre-wrap">{}</p></details>\n',
            words["read"],
            linebreaksbr(message.body, autoescape=True),
        )
    return html
