"""Manual search tasks (connector kind 4 of issue 12): a data system with neither a database the portal reaches nor an
API is searched by its owner, who sees a task in the staff area with its own due date, and uploads what the system
holds (CSV, one file per table) or records that it holds nothing, or why it could not be searched.

The rules:

- GDPR Art. 15(1), (3): the answer covers every system that holds the person's data, the manual ones included; a
  task is due a few working days (``DSAR_MANUAL_TASK_DAYS``) before the request's legal due date (Art. 12(3)), so
  there is time to assemble and review the answer.
- UK GDPR Art. 15(1A): the owner's search, or why it could not be made, is a ``SearchRecord`` with who made it.
- GDPR Art. 5(1)(f), 32: the identifiers to search by are shown only to the system's owner (the one who searches),
  never in a URL, a log or an e-mail; what they upload is written straight into encrypted parts.

A task is a ``SearchJob`` waiting on a system whose connector is ``manual``; finishing it goes through the job's
guarded lifecycle (WAITING -> DONE or NOT_SEARCHED), the same part-writing code as the workers
(``services.write_parts``) and the same finishing step (``services.job_finish``), so the answer assembles when the
last job is finished.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from casework import selectors as casework_selectors
from datasystems.connectors.base import ConnectorError, TableResult
from datasystems.connectors.http import tables_from_answer
from datasystems.selectors import MANAGE
from requests_app import deadlines
from requests_app.audit import SYSTEM, event_record, events_record
from requests_app.clock import calendar_for
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind

from . import services
from .models import LIVE_COMPILATION_STATUSES, JobStatus, OwnerReminder, SearchJob, TaskReminder

logger = logging.getLogger(__name__)

MANUAL = "manual"
WORK_TASKS = "fulfilment.work_search_tasks"
# Tasks due within this many days, or overdue, are in the owner's daily reminder.
REMINDER_DAYS = 3
# At most this many files in one upload (one per table).
MAX_FILES = 20
MAX_COLUMNS = 1000
MAX_NAME = 100


class TaskError(Exception):
    """A task cannot be finished as asked; the message is for the person who tried (no personal data)."""


class TaskFinished(TaskError):
    """The task was finished already (by someone else, or a second click)."""


# --- Who sees and works which task -------------------------------------------------------------------------------


def may_use_tasks(user: AbstractBaseUser) -> bool:
    """Staff who may open the task pages: a system owner (their own systems' tasks), or staff of the staff area
    (the DPO all of them; a case handler those of the requests they may see; an auditor all, read only)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.has_perm(WORK_TASKS) or casework_selectors.may_use_staff_area(user)


def _manual_jobs() -> QuerySet[SearchJob]:
    return SearchJob.objects.filter(connector=MANUAL).select_related("system", "system__owner", "request")


def tasks_visible_to(user: AbstractBaseUser) -> QuerySet[SearchJob]:
    """Every manual task ``user`` may open, finished ones included (object-level: the role alone is not enough).

    A system owner sees the tasks of the systems they own; staff of the staff area see the tasks of the requests
    they may see (``casework.selectors.requests_visible_to``); anyone else none.
    """
    if not may_use_tasks(user):
        return SearchJob.objects.none()
    query = Q(pk__in=[])
    if user.has_perm(WORK_TASKS):
        query |= Q(system__owner=user)
    if casework_selectors.may_use_staff_area(user):
        query |= Q(request__in=casework_selectors.requests_visible_to(user).values("pk"))
    return _manual_jobs().filter(query)


def open_tasks_visible_to(user: AbstractBaseUser) -> QuerySet[SearchJob]:
    """The tasks still waiting, of a compilation still live."""
    return tasks_visible_to(user).filter(status=JobStatus.WAITING, compilation__status__in=LIVE_COMPILATION_STATUSES)


def may_work(user: AbstractBaseUser, job: SearchJob) -> bool:
    """Who searches the system: its owner; the DPO (who edits the register) only while the system has no owner.
    Only they see the identifiers (GDPR Art. 5(1)(c): the others need not)."""
    if not (user.is_authenticated and user.is_active and user.is_staff) or job.connector != MANUAL:
        return False
    owner_id = job.system.owner_id
    if owner_id is not None:
        return owner_id == user.pk and user.has_perm(WORK_TASKS)
    return user.has_perm(MANAGE)


# --- Due dates ---------------------------------------------------------------------------------------------------


def max_upload_bytes() -> int:
    """One uploaded CSV file's limit: never above what the upload handler writes (``DSAR_MAX_DOCUMENT_BYTES``)."""
    return min(
        int(getattr(settings, "DSAR_MANUAL_TASK_MAX_BYTES", settings.DSAR_MAX_DOCUMENT_BYTES)),
        int(settings.DSAR_MAX_DOCUMENT_BYTES),
    )


def task_days() -> int:
    return int(getattr(settings, "DSAR_MANUAL_TASK_DAYS", 5))


def task_due_date(legal_due: date, jurisdiction: str, *, working_days: int, overrides=None) -> date:
    """The task's due date: ``working_days`` working days of the request's jurisdiction before its legal due date
    (GDPR Art. 12(3)), leaving time to assemble and review the answer before it is due."""
    day = legal_due
    counted = 0
    while counted < working_days:
        day -= timedelta(days=1)
        if deadlines.is_working_day(day, jurisdiction, overrides or deadlines.NO_OVERRIDES):
            counted += 1
    return day


def due_date_of(job: SearchJob) -> date:
    request = job.request
    calendar = calendar_for(request.jurisdiction)
    return task_due_date(request.due_on, request.jurisdiction, working_days=task_days(), overrides=calendar.overrides)


def days_left_words(due: date, today: date) -> str:
    days = (due - today).days
    if days == 0:
        return _("Due today")
    if days > 0:
        return ngettext("Due tomorrow", "Due in %(days)d days", days) % {"days": days}
    return ngettext("%(days)d day overdue", "%(days)d days overdue", -days) % {"days": -days}


@dataclass(frozen=True)
class TaskRow:
    job: SearchJob
    due: date
    days_left: int
    words: str


def task_rows(jobs: Sequence[SearchJob], today: date) -> list[TaskRow]:
    rows = []
    for job in jobs:
        due = due_date_of(job)
        rows.append(TaskRow(job=job, due=due, days_left=(due - today).days, words=days_left_words(due, today)))
    return sorted(rows, key=lambda row: (row.due, row.job.pk))


def identifiers_shown(job: SearchJob) -> list[tuple[str, str, str]]:
    """(name, label, value) of the identifiers the request holds, decrypted: for the system's owner only."""
    identifiers = services.identifiers_of(DataSubjectRequest.objects.get(pk=job.request_id))
    labels = {"email": _("E-mail address"), "phone": _("Phone number"), "customer_id": _("Customer number")}
    return [(name, label, identifiers.get(name)) for name, label in labels.items() if identifiers.get(name)]


def task_opened(*, job: SearchJob, user: AbstractBaseUser) -> None:
    """The owner saw the identifiers: written to the request's trail (GDPR Art. 5(2), who saw what, and when)."""
    event_record(
        request_id=job.request_id,
        kind=EventKind.SEARCH_STATUS_CHANGED,
        actor=user,
        actor_kind="staff",
        reason=f"{job.system.name}: search task opened, identifiers shown to the system owner",
    )


# --- Reading what the owner uploads ------------------------------------------------------------------------------


@dataclass
class UploadedTable:
    """One table the owner uploaded, checked: its name, its columns, how many rows, and its rows read again when
    they are written (a CSV file is streamed, never held whole). ``provided_or_observed`` is None for a CSV file (the
    owner says so on the form) and the table's own flag in a JSON file."""

    name: str
    columns: list[str]
    rows: int
    row_iterator: Callable[[], Iterable[Sequence]]
    provided_or_observed: bool | None = None


def _csv_rows(upload: UploadedFile) -> Iterator[list[str]]:
    reader = csv.reader(_lines(upload))
    next(reader, None)  # the header
    for row in reader:
        if row:
            yield row


def _lines(upload: UploadedFile) -> Iterator[str]:
    """The file's text, line by line (split on newlines only, so a quoted field keeps its own), decoded as UTF-8 in
    chunks: never the whole file in memory. Raises UnicodeDecodeError on bytes that are not UTF-8."""
    upload.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""
    for chunk in upload.chunks():
        parts = (pending + decoder.decode(chunk)).split("\n")
        pending = parts.pop()
        for part in parts:
            yield part + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def table_name_of(file_name: str) -> str:
    stem = re.sub(r"\.csv$", "", file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1], flags=re.IGNORECASE)
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:MAX_NAME] or "table"


def csv_check(upload: UploadedFile, *, max_bytes: int) -> UploadedTable:
    """Check one uploaded CSV: a .csv name, within the size limit, UTF-8 text, a header row of distinct non-empty
    column names, every row as long as the header. Raises TaskError saying what to fix (never a cell's value)."""
    name = upload.name or "file.csv"
    shown = name[:80]
    _size_check(upload, shown, max_bytes)
    try:
        reader = csv.reader(_lines(upload))
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise TaskError(_("%(file)s is empty: the first line must name the columns.") % {"file": shown})
        columns = [cell.strip() for cell in header]
        if any(not column for column in columns):
            raise TaskError(_("%(file)s: every column in the first line needs a name.") % {"file": shown})
        if len(set(columns)) != len(columns):
            raise TaskError(_("%(file)s: two columns in the first line have the same name.") % {"file": shown})
        if len(columns) > MAX_COLUMNS:
            raise TaskError(_("%(file)s has more than %(max)d columns.") % {"file": shown, "max": MAX_COLUMNS})
        rows = 0
        for row in reader:
            if not row:
                continue  # a blank line
            if len(row) != len(columns):
                raise TaskError(
                    _("%(file)s, line %(line)d: %(found)d values where the first line names %(columns)d columns.")
                    % {"file": shown, "line": reader.line_num, "found": len(row), "columns": len(columns)}
                )
            rows += 1
    except UnicodeDecodeError:
        raise TaskError(_("%(file)s is not UTF-8 text: save it as “CSV UTF-8” and upload it again.") % {"file": shown})
    except csv.Error:
        raise TaskError(_("%(file)s is not a well-formed CSV file (check its quotes).") % {"file": shown})
    return UploadedTable(name=table_name_of(name), columns=columns, rows=rows, row_iterator=lambda: _csv_rows(upload))


def _size_check(upload: UploadedFile, shown: str, max_bytes: int) -> None:
    if upload.size is None or upload.size > max_bytes:
        raise TaskError(
            _("%(file)s is larger than %(mb)s MB: split it into smaller files.")
            % {"file": shown, "mb": max_bytes // (1024 * 1024)}
        )


def json_check(upload: UploadedFile, *, max_bytes: int) -> list[UploadedTable]:
    """A JSON file in the HTTP connector's answer format (``{"tables": [{"name", "columns", "rows",
    "provided_or_observed"}]}``), checked by the same strict reader (``datasystems.connectors.http``)."""
    shown = (upload.name or "file.json")[:80]
    _size_check(upload, shown, max_bytes)
    upload.seek(0)
    try:
        payload = json.loads(b"".join(upload.chunks()).decode("utf-8-sig"))
        tables = tables_from_answer(payload)
    except UnicodeDecodeError:
        raise TaskError(_("%(file)s is not UTF-8 text.") % {"file": shown})
    except ValueError:
        raise TaskError(_("%(file)s is not valid JSON.") % {"file": shown})
    except ConnectorError as error:
        raise TaskError(f"{shown}: {error}")
    return [
        UploadedTable(
            name=table_name_of(table.name),
            columns=list(table.columns),
            rows=table.row_count or 0,
            row_iterator=lambda rows=table.rows: rows,
            provided_or_observed=table.provided_or_observed,
        )
        for table in tables
    ]


def upload_check(upload: UploadedFile, *, max_bytes: int) -> list[UploadedTable]:
    """One uploaded file's tables: a CSV file is one table, a JSON file one or more."""
    name = (upload.name or "").lower()
    if name.endswith(".csv"):
        return [csv_check(upload, max_bytes=max_bytes)]
    if name.endswith(".json"):
        return json_check(upload, max_bytes=max_bytes)
    raise TaskError(
        _("%(file)s: only CSV files (ending .csv), or JSON files (ending .json), can be uploaded.")
        % {"file": (upload.name or "")[:80]}
    )


def uploads_check(uploads: Sequence[UploadedFile], *, max_bytes: int) -> tuple[list[UploadedTable], list[str]]:
    """Every file checked; the tables, and one error per file that failed (all of them, so all can be fixed)."""
    if len(uploads) > MAX_FILES:
        return [], [_("Upload at most %(max)d files at once.") % {"max": MAX_FILES}]
    tables, errors = [], []
    for upload in uploads:
        try:
            tables += upload_check(upload, max_bytes=max_bytes)
        except TaskError as error:
            errors.append(str(error))
    names = [table.name for table in tables]
    if len(set(names)) != len(names):
        errors.append(_("Two files would make tables of the same name: give each file its own name."))
    return tables, errors


# --- Finishing a task --------------------------------------------------------------------------------------------


def _locked_waiting(job: SearchJob) -> SearchJob:
    """Inside a transaction: the job locked (request first), still waiting, or TaskFinished."""
    request_lock(job.request_id)
    locked = SearchJob.objects.select_for_update(of=("self",)).select_related("system", "compilation").get(pk=job.pk)
    if locked.status != JobStatus.WAITING or locked.compilation.status not in LIVE_COMPILATION_STATUSES:
        raise TaskFinished(_("This search task was finished already; nothing was changed."))
    return locked


def _check_actor(job: SearchJob, actor: AbstractBaseUser) -> None:
    if not may_work(actor, job):
        raise TaskError(_("Only the owner of this data system can finish its search task."))


def task_upload(
    *,
    job: SearchJob,
    actor: AbstractBaseUser,
    tables: Sequence[UploadedTable],
    identifiers_used: list[str],
    provided_or_observed: bool,
    note: str = "",
) -> str:
    """The owner uploads what the system holds: each CSV table written as encrypted parts (the workers' own
    part-writing code), the search recorded with who made it, the job done, and the answer assembled when it was the
    last. Raises TaskFinished when someone finished it first (the files just written are thrown away)."""
    _check_actor(job, actor)
    if not tables:
        raise TaskError(_("Choose at least one CSV file, or record that the system holds nothing."))
    results = []
    for table in tables:
        provided = provided_or_observed if table.provided_or_observed is None else table.provided_or_observed
        if job.compilation.portability and not provided:
            continue  # GDPR Art. 20(1): a portability answer holds only data the person provided or that was observed
        results.append(
            TableResult(
                name=table.name,
                columns=table.columns,
                rows=table.row_iterator(),
                row_count=table.rows,
                provided_or_observed=provided,
                description=_("Uploaded by the system owner"),
            )
        )
    written: list[str] = []
    try:
        parts = services.write_parts(results, written)
        with transaction.atomic():
            locked = _locked_waiting(job)
            reason = f"{locked.system.name}: searched by its owner, {len(parts)} table(s) uploaded"
            status = services.job_finish(
                locked,
                searched=True,
                reason=note[:500],
                identifiers_used=identifiers_used,
                parts=parts,
                by=actor,
                actor_kind="staff",
                move_reason=reason,
            )
    except BaseException:
        services.discard_parts(written)
        raise
    logger.info("search task %s: %s table(s) uploaded by user %s", job.pk, len(parts), actor.pk)
    return status


def task_holds_nothing(*, job: SearchJob, actor: AbstractBaseUser, identifiers_used: list[str], note: str) -> str:
    """The owner searched the system and it holds nothing about the person: searched, nothing found (UK GDPR
    Art. 15(1A): the search is recorded all the same, with the identifiers used and the owner's note)."""
    _check_actor(job, actor)
    with transaction.atomic():
        locked = _locked_waiting(job)
        return services.job_finish(
            locked,
            searched=True,
            reason=("Holds nothing about the person. " + note).strip()[:500],
            identifiers_used=identifiers_used,
            parts=[],
            by=actor,
            actor_kind="staff",
            move_reason=f"{locked.system.name}: searched by its owner, holds nothing",
        )


def task_not_searched(*, job: SearchJob, actor: AbstractBaseUser, reason: str) -> str:
    """The owner could not search the system, with the reason (UK GDPR Art. 15(1A): a search not made is recorded
    with why, for the DPO to judge whether it was reasonable and proportionate)."""
    _check_actor(job, actor)
    reason = reason.strip()
    if not reason:
        raise TaskError(_("Say why the system could not be searched."))
    with transaction.atomic():
        locked = _locked_waiting(job)
        return services.job_finish(
            locked,
            searched=False,
            reason=f"Could not be searched: {reason}"[:500],
            identifiers_used=[],
            parts=[],
            by=actor,
            actor_kind="staff",
            move_reason=f"{locked.system.name}: could not be searched by its owner",
        )


# --- The owners' daily reminder ----------------------------------------------------------------------------------


def _task_link(job: SearchJob) -> str:
    return settings.DSAR_PUBLIC_URL + reverse("fulfilment_tasks:task_detail", kwargs={"public_id": job.public_id})


def owner_reminders_make(
    *, model: type[OwnerReminder], today: date, due_by_owner: dict[int, list], task: str, queue: Callable[[int], None]
) -> int:
    """One reminder per owner for ``today`` about their jobs in ``due_by_owner``, each written to its request's audit
    trail (``task`` names the kind of task there), and queued once committed. Idempotent: the reminder is made, unique
    per owner and day, before anything is sent, so a job run twice reminds once. Returns how many were made now."""
    made = []
    for owner_id, owner_jobs in due_by_owner.items():
        try:
            with transaction.atomic():
                reminder = model.objects.create(
                    recipient_id=owner_id, day=today, job_ids=[job.pk for job in owner_jobs]
                )
                events_record(
                    [
                        {
                            "request_id": job.request_id,
                            "kind": EventKind.STAFF_REMINDER_SENT,
                            "actor_kind": SYSTEM,
                            "reason": f"{task} of {job.system.name} due soon or overdue (staff user {owner_id})",
                        }
                        for job in owner_jobs
                    ]
                )
        except IntegrityError:
            continue  # reminded today already
        made.append(reminder.pk)
    if made:
        transaction.on_commit(lambda: _reminders_queue(made, queue))
    return len(made)


def _reminders_queue(reminder_ids: list[int], queue: Callable[[int], None]) -> None:
    for reminder_id in reminder_ids:
        try:
            queue(reminder_id)
        except Exception as error:  # noqa: BLE001 - the next day's run reminds again
            logger.error("task reminder %s not queued (%s)", reminder_id, type(error).__name__)


def owner_reminder_deliver(
    *,
    model: type[OwnerReminder],
    reminder_id: int,
    still_open: Callable[[list[int]], bool],
    email: Callable[[OwnerReminder], tuple[str, str]],
) -> bool:
    """Send one reminder unless it was sent already or ``still_open`` says its tasks are all finished now; True if
    it went now. Only the reminder's id travels through the broker (no personal data in broker messages)."""
    with transaction.atomic():
        reminder = (
            model.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=reminder_id, sent_at__isnull=True)
            .first()
        )
        if reminder is None or not reminder.recipient.email or not still_open(reminder.job_ids):
            return False
        subject, body = email(reminder)
        EmailMessage(subject=subject, body=body, to=[reminder.recipient.email]).send()
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
    logger.info("task reminder %s (%s) sent to user %s", reminder.pk, model.__name__, reminder.recipient_id)
    return True


def task_reminders_send(*, today: date) -> int:
    """Remind each system owner, once a day, of their tasks due within ``REMINDER_DAYS`` days or overdue (GDPR
    Art. 12(3): the answer is due on the legal date whatever a task waits for). Idempotent: one ``TaskReminder`` per
    owner and day, made before anything is sent. Returns how many reminders were made now."""
    from . import tasks

    jobs = (
        _manual_jobs()
        .filter(status=JobStatus.WAITING, compilation__status__in=LIVE_COMPILATION_STATUSES)
        .filter(system__owner__isnull=False, system__owner__is_active=True)
        .order_by("pk")
    )
    due_by_owner: dict[int, list[SearchJob]] = {}
    for job in jobs:
        if (due_date_of(job) - today).days <= REMINDER_DAYS:
            due_by_owner.setdefault(job.system.owner_id, []).append(job)
    return owner_reminders_make(
        model=TaskReminder,
        today=today,
        due_by_owner=due_by_owner,
        task="Search task",
        queue=tasks.send_task_reminder.delay,
    )


def task_reminder_email(reminder: TaskReminder) -> tuple[str, str]:
    """Subject and body: system names, references, due dates and links, never the person's name or identifiers
    (GDPR Art. 5(1)(f), 32: staff mailboxes are forwarded and synced; the task page is behind sign-in)."""
    jobs = list(
        _manual_jobs().filter(pk__in=reminder.job_ids, status=JobStatus.WAITING).order_by("request__due_on", "pk")
    )
    lines = []
    for job in jobs:
        due = due_date_of(job)
        lines.append(
            f"- {job.system.name}, request {job.request.reference}: due {due.isoformat()} "
            f"({days_left_words(due, reminder.day)})\n  {_task_link(job)}"
        )
    subject = f"Search tasks due soon: {len(jobs)}"
    body = "\n".join(
        [
            "These searches of the data systems you own are due soon or overdue:",
            "",
            *lines,
            "",
            "Open each task to see what to search for.",
        ]
    )
    return subject, body


def task_reminder_deliver(*, reminder_id: int) -> bool:
    """Send one reminder unless it was sent already (or its tasks are all finished now); True if it went now."""
    return owner_reminder_deliver(
        model=TaskReminder,
        reminder_id=reminder_id,
        still_open=lambda job_ids: SearchJob.objects.filter(pk__in=job_ids, status=JobStatus.WAITING).exists(),
        email=task_reminder_email,
    )
