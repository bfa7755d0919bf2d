"""The staff pages rendered in Python where Django's templates were the slow part (issue 11's 50 ms goal,
bench/dashboard_bench.py): the same HTML as before, byte for byte or tag for tag, and nothing of one request or
user kept for another."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django import forms
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from casework import actions, widgets
from casework.forms import QueueFilterForm
from casework.models import CaseNote
from casework.selectors import case_timeline
from casework.timeline_html import timeline_items_html
from dsar_portal.jurisdictions import SUPPORTED_JURISDICTIONS
from requests_app.models import EventKind, Message, RequestEvent, Status
from tests.factories import MessageFactory, RequestDocumentFactory, give_second_factor, in_progress_request

pytestmark = pytest.mark.django_db

FAST_AND_DJANGO = [
    (widgets.StaffTextInput, forms.TextInput),
    (widgets.StaffNumberInput, forms.NumberInput),
    (widgets.StaffDateInput, forms.DateInput),
    (widgets.StaffCheckboxInput, forms.CheckboxInput),
    (widgets.StaffTextarea, forms.Textarea),
]


@pytest.mark.parametrize(("fast", "django"), FAST_AND_DJANGO)
@pytest.mark.parametrize("value", [None, "", "a<b&\"c'", 0, 7, True, False, "2026-11-30"])
def test_each_fast_widget_renders_exactly_what_djangos_renders(fast, django, value):
    attrs = {"class": "form-control", "disabled": True, "required": False, "data-x": 'q"<', "rows": 3}

    def rendered(widget: type[forms.Widget]) -> str:
        return widget(attrs=dict(attrs)).render("due_within", value, attrs={"id": "id_due_within"})

    assert rendered(fast) == rendered(django)


def test_the_queue_filters_render_as_with_djangos_widgets_bound_with_errors_too():
    """Bound, with an error: the typed value kept, ``aria-invalid`` and the error's id in ``aria-describedby``."""

    def django_twin(form: forms.Form) -> forms.Form:
        for field in form.fields.values():
            if isinstance(field.widget, widgets.StaffSelect):
                continue
            django_class = next(django for fast, django in FAST_AND_DJANGO if isinstance(field.widget, fast))
            widget = django_class(attrs=field.widget.attrs)
            widget.is_required = field.widget.is_required
            field.widget = widget
        return form

    data = {"q": "<b>dsar", "due_within": "soon", "overdue": "on", "right": "access"}
    fast, django = QueueFilterForm(data), django_twin(QueueFilterForm(data))
    assert not fast.is_valid() and not django.is_valid()
    assert not isinstance(django["overdue"].field.widget, widgets.StaffCheckboxInput)
    for name in fast.fields:
        assert str(fast[name]) == str(django[name])
    assert 'aria-invalid="true"' in str(fast["due_within"]) and 'value="soon"' in str(fast["due_within"])
    assert 'value="&lt;b&gt;dsar"' in str(fast["q"]) and " checked" in str(fast["overdue"])


def _uncached(form: forms.Form) -> str:
    return form.renderer.render(form.template_name, form.get_context())


def test_a_blank_action_form_is_rendered_once_and_reused_as_django_renders_it():
    request = in_progress_request()
    actions._blank_forms.clear()
    first = actions.RefuseForm(request=request)
    html = str(first)
    assert html == _uncached(actions.RefuseForm(request=request))
    assert len(actions._blank_forms) == 1
    assert str(actions.RefuseForm(request=request)) is html  # the memo, not a second rendering
    # Every blank action form renders as Django renders it.
    for form in actions.actions_for(request):
        assert str(form) == _uncached(form)


def test_what_was_typed_and_the_csrf_token_never_reach_the_memo(client: Client, dpo):
    request = in_progress_request()
    actions._blank_forms.clear()
    bound = actions.NoteForm({"note-text": "Secret words 123"}, request=request)
    assert "Secret words 123" in str(bound)
    assert all("Secret words 123" not in html for html in actions._blank_forms.values())
    assert "Secret words 123" not in str(actions.NoteForm(request=request))

    client.force_login(dpo)
    give_second_factor(client)
    tokens = set()
    for _ in range(2):
        page = client.get(f"/staff/requests/{request.reference}/").content.decode()
        tokens |= set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
        client.cookies.pop("csrftoken", None)
    assert actions._blank_forms and len(tokens) >= 2  # each page its own token, the forms from the memo
    assert all("csrfmiddlewaretoken" not in html for html in actions._blank_forms.values())
    assert all(token not in html for token in tokens for html in actions._blank_forms.values())


def test_a_blank_form_differs_by_choices_language_and_day():
    uk = in_progress_request()
    other = in_progress_request()
    other.jurisdiction = next(code for code in SUPPORTED_JURISDICTIONS if code != uk.jurisdiction)
    actions._blank_forms.clear()
    # The exemptions offered follow the request's jurisdiction: each gets its own HTML.
    uk_html, other_html = str(actions.RefuseForm(request=uk)), str(actions.RefuseForm(request=other))
    assert uk_html == _uncached(actions.RefuseForm(request=uk))
    assert other_html == _uncached(actions.RefuseForm(request=other))
    if actions.RefuseForm(request=uk).fields["exemption"].choices != (
        actions.RefuseForm(request=other).fields["exemption"].choices
    ):
        assert uk_html != other_html and len(actions._blank_forms) == 2
    # The language is in the key, so a page in another language never gets this one's labels.
    with translation.override("fr"):
        french_key = actions._blank_form_key(actions.NoteForm(request=uk))
    assert french_key != actions._blank_form_key(actions.NoteForm(request=uk))
    # A date offered as today's is in the key: tomorrow's form is not yesterday's.
    form = actions.FeePaidForm(request=uk)
    key_today = actions._blank_form_key(form)
    tomorrow = timezone.localdate() + timedelta(days=1)
    form.fields["paid_on"].initial = tomorrow
    assert actions._blank_form_key(form) != key_today
    assert tomorrow.isoformat() in str(form)


# The case page's timeline entries as the page's template rendered them before timeline_html.py.
TEMPLATE = (Path(__file__).parent / "timeline_entries_before.html").read_text()


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize(
    ("can_see_personal_data", "can_view_evidence", "language", "zone"),
    [
        (True, True, "en", "Europe/London"),
        (True, False, "fr", "Asia/Tokyo"),
        (False, True, "de", "America/New_York"),
        (False, False, "en", "UTC"),
    ],
)
def test_the_timeline_renders_as_the_template_did_for_every_kind_of_entry(
    dpo, can_see_personal_data, can_view_evidence, language, zone
):
    request = in_progress_request()
    CaseNote.objects.create(request=request, author=dpo, text="Line one <b>\nline & two")
    CaseNote.objects.create(request=request, author=None, text="by no one")
    MessageFactory(request=request, subject="Hello <there>", body="Body\n<i>x</i>")
    MessageFactory(
        request=request,
        direction=Message.Direction.FROM_REQUESTER,
        subject="Re: & more",
        delivery_failed_at=timezone.now(),
    )
    RequestDocumentFactory(request=request, original_name="pass<port>.png")
    RequestDocumentFactory(request=request, deleted_at=timezone.now())
    RequestEvent.objects.create(
        request=request, kind=EventKind.STATUS_CHANGED, to_status=Status.IN_PROGRESS, actor=dpo, reason="Why <b> & 'so'"
    )
    RequestEvent.objects.create(request=request, kind=EventKind.STATUS_CHANGED, actor=None, actor_kind="system")
    timeline = case_timeline(request)
    assert {entry.kind for entry in timeline} == {"event", "note", "message", "document"}
    flags = {"can_see_personal_data": can_see_personal_data, "can_view_evidence": can_view_evidence}

    # Dates in the page's time zone and language (the month's abbreviation), as the date filter wrote them.
    with translation.override(language), timezone.override(zone):
        before = Template(TEMPLATE).render(Context({"timeline": timeline, "request": request, **flags}))
        after = timeline_items_html(timeline, reference=request.reference, **flags)

    assert _tags(after) == _tags(before)
    assert ("Line one &lt;b&gt;<br>line &amp; two" in after) is can_see_personal_data
    assert ("/evidence/" in after) is can_view_evidence
    assert ("Why &lt;b&gt; &amp; &#x27;so&#x27;" in after) is can_see_personal_data


@pytest.mark.parametrize(("can_assign", "language"), [(True, "en"), (False, "fr"), (True, "de")])
def test_the_queue_rows_render_as_the_template_did(dpo, can_assign, language):
    from casework import selectors
    from casework.queue_html import queue_rows_html
    from tests.factories import assignment_make

    assigned, alone = in_progress_request(), in_progress_request()
    assignment_make(assigned, dpo, assigned_by=dpo)
    rows = list(selectors.queue_requests(dpo).filter(pk__in=[assigned.pk, alone.pk]))
    today = timezone.localdate()
    for number, row in enumerate(rows):
        row.due = selectors.due_summary(due_on=row.due_on, today=today, paused=False)
        # Every flag, on one row or the other.
        row.evidence_to_review = row.delivery_failed = row.agent_unanswered = number == 0
        row.requester_replied = row.extension_notice_due = number == 1
    template = (Path(__file__).parent / "queue_rows_before.html").read_text()

    with translation.override(language):
        before = Template(template).render(Context({"rows": rows, "can_assign": can_assign}))
        after = queue_rows_html(rows, can_assign=can_assign)

    assert _tags(after) == _tags(before)
    assert (f'id="choose-{assigned.pk}"' in after) is can_assign and dpo.get_username() in after
    if language == "en":
        assert "No one yet" in after and "Evidence to review" in after and "Reply from the requester" in after


def test_the_assign_select_reads_the_staff_once(dpo, django_assert_num_queries):
    """The assign select's staff are read in one query, then from the cache (selectors.assignable_staff_choices):
    the queue and every case page show it, and a COUNT and the list read twice cost three queries a form before."""
    from casework.forms import AssignForm

    with django_assert_num_queries(1):
        html = str(AssignForm()["assignee"])
    assert dpo.get_username() in html
    with django_assert_num_queries(0):
        assert str(AssignForm()["assignee"]) == html
