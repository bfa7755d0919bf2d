"""Manual search tasks (issue 12, connector kind 4): a system owner sees the waiting searches of their own systems,
with their own due dates, uploads what the system holds as CSV (or records that it holds nothing, or why it could not
be searched), and the answer assembles when the last search is finished."""

import io
import json
import zipfile
from datetime import date, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework import roles
from datasystems.models import DataSystem
from fulfilment import manual_tasks, services
from fulfilment.manual_tasks import TaskFinished
from fulfilment.models import (
    Compilation,
    CompilationStatus,
    JobStatus,
    SearchJob,
    SearchPart,
    SearchRecord,
    TaskReminder,
)
from requests_app.models import EventKind
from tests.factories import StaffUserFactory

from .conftest import AUTOMATED, alan_request

pytestmark = pytest.mark.django_db(transaction=True)

CALLS = "Call recordings and live-chat transcripts"
SURVEYS = "Customer surveys"


def _member(role: str, username: str):
    user = StaffUserFactory(username=username, email=f"{username}@staff.example")
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def owner(staff_roles):
    return _member(roles.SYSTEM_OWNER, "sam.owner")


@pytest.fixture
def other_owner(staff_roles):
    return _member(roles.SYSTEM_OWNER, "kim.owner")


@pytest.fixture
def auditor(staff_roles):
    return _member(roles.AUDITOR, "auditor")


@pytest.fixture
def two_manual_systems(register, owner, other_owner):
    """The demo register searched by the workers, plus two manual systems: the calls (owned by ``owner``) and the
    surveys (``other_owner``'s); the other manual systems are out of use."""
    DataSystem.objects.filter(connector="manual").exclude(name__in=[CALLS, SURVEYS]).update(active=False)
    DataSystem.objects.filter(name=CALLS).update(owner=owner)
    DataSystem.objects.filter(name=SURVEYS).update(owner=other_owner)
    return DataSystem.objects.filter(active=True)


def _task(request, system_name: str) -> SearchJob:
    return SearchJob.objects.select_related("system", "request").get(request=request, system__name=system_name)


def _path(job: SearchJob) -> str:
    return reverse("fulfilment_tasks:task_detail", kwargs={"public_id": job.public_id})


def _csv(name: str, text: str | bytes) -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


CALLS_CSV = (
    "call_id,started_at,phone,summary\n"
    '1,2026-10-01 10:00,07700 900001,"Asked about, an invoice"\n'
    "2,2026-10-02 11:30,07700 900001,Chat\n"
)


def _upload(client, job, *files, note="Searched by phone and e-mail", identifiers=("email",)):
    return client.post(
        _path(job),
        {
            "action": "upload",
            "upload-files": list(files),
            "upload-identifiers_used": list(identifiers),
            "upload-provided_or_observed": "on",
            "upload-note": note,
        },
    )


def test_a_system_owner_sees_only_the_tasks_of_their_own_systems(client, two_manual_systems, owner, other_owner):
    request = alan_request()
    calls, surveys = _task(request, CALLS), _task(request, SURVEYS)
    assert calls.status == surveys.status == JobStatus.WAITING
    client.force_login(owner)
    page = client.get(reverse("fulfilment_tasks:task_list")).content.decode()
    assert CALLS in page and SURVEYS not in page
    assert _path(calls) in page
    # Another owner's task is not found at all (object-level scoping), nor can it be finished by posting to it.
    assert client.get(_path(surveys)).status_code == 404
    response = client.post(_path(surveys), {"action": "not_searched", "not_searched-reason": "No access"})
    assert response.status_code == 404
    assert SearchJob.objects.get(pk=surveys.pk).status == JobStatus.WAITING
    # The task's URL holds its random public id, never the job's sequential key.
    assert str(calls.pk) not in _path(calls).replace(calls.public_id, "")
    assert len(calls.public_id) >= 24


def test_the_task_page_shows_the_identifiers_to_the_owner_only(client, two_manual_systems, owner, dpo, auditor):
    request = alan_request()
    calls = _task(request, CALLS)
    client.force_login(owner)
    page = client.get(_path(calls)).content.decode()
    assert "alan@demo.example" in page and "C-1001" in page
    assert request.reference in page
    # The register's search procedure for the system.
    assert "The telephony team searches by phone number" in page
    # Their opening the identifiers is in the request's trail, naming them.
    opened = request.events.filter(kind=EventKind.SEARCH_STATUS_CHANGED, actor=owner)
    assert any("identifiers shown" in event.reason for event in opened)
    # The DPO and an auditor follow the task, without the identifiers and without the forms.
    for user in (dpo, auditor):
        client.force_login(user)
        page = client.get(_path(calls)).content.decode()
        assert "alan@demo.example" not in page and "C-1001" not in page
        assert 'name="action"' not in page
        list_page = client.get(reverse("fulfilment_tasks:task_list")).content.decode()
        assert CALLS in list_page and SURVEYS in list_page


def test_uploading_csv_files_finishes_the_search_and_the_answer_assembles(
    client, two_manual_systems, owner, other_owner
):
    request = alan_request()
    calls, surveys = _task(request, CALLS), _task(request, SURVEYS)
    client.force_login(owner)
    response = _upload(client, calls, _csv("calls.csv", CALLS_CSV), _csv("chats.csv", "\ufeffchat_id,text\n9,Hello\n"))
    assert response.status_code == 302
    calls.refresh_from_db()
    assert calls.status == JobStatus.DONE and calls.rows_found == 3
    parts = list(SearchPart.objects.filter(job=calls).order_by("position"))
    assert [(part.table, part.rows, part.columns) for part in parts] == [
        ("calls", 2, ["call_id", "started_at", "phone", "summary"]),
        ("chats", 1, ["chat_id", "text"]),
    ]
    # The parts are encrypted at rest: the stored file is not the CSV's text.
    raw = (services.PARTS.folder / parts[0].csv_name).read_bytes()
    assert raw and b"Asked about" not in raw
    record = SearchRecord.objects.filter(job=calls).latest("at")
    assert record.searched and record.by == owner and record.identifiers_used == ["email"]
    assert record.found == [{"table": "calls", "rows": 2}, {"table": "chats", "rows": 1}]
    assert request.events.filter(kind=EventKind.SEARCH_STATUS_CHANGED, actor=owner, to_status=JobStatus.DONE).exists()
    # Not assembled yet: the surveys still wait. Their owner records that they hold nothing.
    compilation = Compilation.objects.get(request=request)
    assert compilation.status == CompilationStatus.RUNNING
    client.force_login(other_owner)
    response = client.post(
        _path(surveys),
        {"action": "nothing", "nothing-identifiers_used": ["email"], "nothing-note": "No survey answers"},
    )
    assert response.status_code == 302
    surveys.refresh_from_db()
    assert surveys.status == JobStatus.DONE and not surveys.parts.exists()
    nothing = SearchRecord.objects.filter(job=surveys).latest("at")
    assert nothing.searched and nothing.found == [] and nothing.by == other_owner
    assert "Holds nothing" in nothing.reason
    compilation.refresh_from_db()
    assert compilation.status == CompilationStatus.ASSEMBLED
    archive = zipfile.ZipFile(io.BytesIO(services.ARCHIVES.read_bytes(compilation.archive_name)))
    names = archive.namelist()
    calls_csv = [name for name in names if name.startswith("systems/call-recordings") and name.endswith("calls.csv")]
    assert calls_csv
    assert "Asked about, an invoice" in archive.read(calls_csv[0]).decode()
    search_record = json.loads(archive.read("search-record.json"))
    # One entry per system (the task's earlier "waiting" record stays on the case page), naming its job.
    calls_entries = [item for item in search_record if item["system"] == CALLS]
    assert len(calls_entries) == 1
    assert calls_entries[0]["by"] == "staff" and calls_entries[0]["job"] == calls.public_id
    assert calls_entries[0]["searched"] and calls_entries[0]["rows_found"] == 3
    assert calls_entries[0]["identifiers_used"] == ["email"]
    assert len(search_record) == len({item["system"] for item in search_record})


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("calls.csv", b"name,phone\n\xff\xfe,1\n", "is not UTF-8 text"),
        ("calls.csv", "a,b\n1,2,3\n", "line 2: 3 values where the first line names 2 columns"),
        ("calls.csv", "", "is empty"),
        ("calls.csv", "a,a\n1,2\n", "two columns in the first line have the same name"),
        ("calls.csv", "a,\n1,2\n", "every column in the first line needs a name"),
        ("calls.xlsx", "a,b\n1,2\n", "only CSV files"),
    ],
)
def test_a_bad_csv_is_refused_with_what_to_fix_and_the_note_kept(
    client, two_manual_systems, owner, name, content, message
):
    request = alan_request()
    calls = _task(request, CALLS)
    client.force_login(owner)
    response = _upload(client, calls, _csv(name, content), note="Typed by the owner")
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page.replace("&#x27;", "'")
    assert "Typed by the owner" in page
    calls.refresh_from_db()
    assert calls.status == JobStatus.WAITING and not calls.parts.exists()


def test_a_file_over_the_size_limit_is_refused(client, two_manual_systems, owner, settings):
    settings.DSAR_MANUAL_TASK_MAX_BYTES = 1024 * 1024
    request = alan_request()
    calls = _task(request, CALLS)
    client.force_login(owner)
    big = "a,b\n" + "1,2\n" * (300 * 1024)
    response = _upload(client, calls, _csv("calls.csv", big))
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()
    assert SearchJob.objects.get(pk=calls.pk).status == JobStatus.WAITING


def test_no_file_and_no_identifier_ticked_say_what_to_fix(client, two_manual_systems, owner):
    calls = _task(alan_request(), CALLS)
    client.force_login(owner)
    response = client.post(_path(calls), {"action": "upload", "upload-note": "kept"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose at least one CSV file." in page and "Tick the identifiers" in page and "kept" in page


def test_could_not_be_searched_needs_a_reason_and_is_recorded(client, two_manual_systems, owner):
    request = alan_request()
    calls = _task(request, CALLS)
    client.force_login(owner)
    assert client.post(_path(calls), {"action": "not_searched", "not_searched-reason": ""}).status_code == 400
    response = client.post(_path(calls), {"action": "not_searched", "not_searched-reason": "The archive is offline"})
    assert response.status_code == 302
    calls.refresh_from_db()
    assert calls.status == JobStatus.NOT_SEARCHED
    record = SearchRecord.objects.filter(job=calls).latest("at")
    assert not record.searched and "The archive is offline" in record.reason and record.by == owner


def test_a_task_finished_meanwhile_gives_a_message_and_changes_nothing(client, two_manual_systems, owner):
    request = alan_request()
    calls = _task(request, CALLS)
    manual_tasks.task_holds_nothing(job=calls, actor=owner, identifiers_used=["email"], note="")
    records = SearchRecord.objects.filter(job=calls).count()
    client.force_login(owner)
    response = _upload(client, calls, _csv("calls.csv", CALLS_CSV))
    assert response.status_code == 302
    follow = client.get(response.url).content.decode()
    assert "finished already" in follow
    assert SearchRecord.objects.filter(job=calls).count() == records
    assert not SearchPart.objects.filter(job=calls).exists()
    # The service says so too, when two owners' posts cross.
    with pytest.raises(TaskFinished):
        manual_tasks.task_holds_nothing(job=calls, actor=owner, identifiers_used=["email"], note="")


def test_a_task_is_due_working_days_before_the_legal_due_date():
    """GDPR Art. 12(3): five working days (England's bank holidays skipped) before the legal due date."""
    assert manual_tasks.task_due_date(date(2026, 12, 18), "GB-ENG", working_days=5) == date(2026, 12, 11)
    # Christmas Day (Fri 25) and the Boxing Day substitute (Mon 28) are not working days.
    assert manual_tasks.task_due_date(date(2026, 12, 31), "GB-ENG", working_days=5) == date(2026, 12, 22)
    assert manual_tasks.days_left_words(date(2026, 12, 22), date(2026, 12, 22)) == "Due today"
    assert manual_tasks.days_left_words(date(2026, 12, 22), date(2026, 12, 19)) == "Due in 3 days"
    assert manual_tasks.days_left_words(date(2026, 12, 22), date(2026, 12, 24)) == "2 days overdue"


def test_the_daily_reminder_goes_once_without_personal_data(two_manual_systems, owner, other_owner):
    request = alan_request()
    calls = _task(request, CALLS)
    due = manual_tasks.due_date_of(calls)
    mail.outbox.clear()
    too_early = due - timedelta(days=manual_tasks.REMINDER_DAYS + 1)
    assert manual_tasks.task_reminders_send(today=too_early) == 0
    today = due - timedelta(days=2)
    assert manual_tasks.task_reminders_send(today=today) == 2  # both owners have a task due in two days
    assert manual_tasks.task_reminders_send(today=today) == 0
    to_owner = [message for message in mail.outbox if message.to == [owner.email]]
    assert len(to_owner) == 1
    body = to_owner[0].body
    assert CALLS in body and request.reference in body and _path(calls) in body
    assert "alan" not in body.lower() and "C-1001" not in body
    assert TaskReminder.objects.filter(recipient=owner, day=today).count() == 1
    assert request.events.filter(kind=EventKind.STAFF_REMINDER_SENT).exists()
    # The next day reminds again (it is still due); a finished task is not in it.
    manual_tasks.task_holds_nothing(job=calls, actor=owner, identifiers_used=["email"], note="")
    mail.outbox.clear()
    assert manual_tasks.task_reminders_send(today=today + timedelta(days=1)) == 1
    assert [message.to for message in mail.outbox] == [[other_owner.email]]


def test_automated_connectors_still_never_wait(register):
    """The workers search the demo CRM's systems at once; only the manual ones become tasks."""
    request = alan_request()
    waiting = SearchJob.objects.filter(request=request, status=JobStatus.WAITING)
    assert set(waiting.values_list("connector", flat=True)) == {"manual"}
    assert not SearchJob.objects.filter(request=request, connector__in=AUTOMATED, status=JobStatus.WAITING).exists()


def test_a_json_file_in_the_connectors_answer_format_is_accepted_too(client, two_manual_systems, owner):
    request = alan_request()
    calls = _task(request, CALLS)
    answer = {
        "tables": [
            {"name": "calls", "columns": ["id", "minutes"], "rows": [[1, 4.5]], "provided_or_observed": True},
            {"name": "scores", "columns": ["score"], "rows": [[0.7], [0.2]], "provided_or_observed": False},
        ]
    }
    client.force_login(owner)
    bad = _upload(client, calls, _csv("export.json", json.dumps({"tables": [{"name": "x"}]})))
    assert bad.status_code == 400 and "needs &#x27;columns&#x27;" in bad.content.decode()
    response = _upload(client, calls, _csv("export.json", json.dumps(answer)))
    assert response.status_code == 302
    parts = {part.table: part for part in SearchPart.objects.filter(job=calls)}
    assert parts["calls"].rows == 1 and parts["scores"].rows == 2
    # The file's own flag for each table, not the form's (GDPR Art. 20(1) scope of a later portability answer).
    assert parts["calls"].provided_or_observed and not parts["scores"].provided_or_observed


def test_the_case_panel_links_each_waiting_task_to_its_page_with_its_due_date(client, register, handler):
    """The case page's waiting searches link to their task pages (by the job's public id), for those who may open
    them, and show when each task is due."""
    request = alan_request()
    waiting = list(SearchJob.objects.filter(request=request, connector="manual").select_related("system"))
    assert waiting
    client.force_login(handler)
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    due = manual_tasks.due_date_of(waiting[0])
    for job in waiting:
        assert reverse("fulfilment_tasks:task_detail", args=[job.public_id]) in page
    assert f"task due on {due.day} {due:%B %Y}" in page
    # Someone who may not open the tasks sees the systems and due dates, not the links.
    with mock.patch.object(manual_tasks, "tasks_visible_to", lambda user: SearchJob.objects.none()):
        page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert waiting[0].system.name in page and "task due on" in page
    assert "/staff/tasks/" + waiting[0].public_id not in page
