"""Compiling the answer to an access or portability request (issue 12): planning one search job per data system,
running a job through the system's connector into encrypted parts, assembling the archive once, and the sweep that
finds jobs a lost message or a killed worker left behind.

The rules (LAW.md §6(a), (f), (g)):

- GDPR Art. 15(1), (3): the person gets a copy of their personal data, from every system that holds it, with the
  supplementary information of Art. 15(1)(a)-(h) and 15(2) for those systems.
- UK GDPR Art. 15(1A): the search need only be reasonable and proportionate; every system's search, or the reason it
  was not searched, is kept as a ``SearchRecord`` (identifier names, never values).
- GDPR Art. 20(1): a portability answer covers only systems where the processing rests on consent or a contract and
  is automated, and only data the person provided, observed data included (EDPB WP242 rev.01 s.2).
- GDPR Art. 32: every part and the archive are encrypted at rest in the portal's file store.

Jobs take IDs only; the job rows are the source of truth. A job runs at most once to completion: a run is identified
by a token, and a run that finds another token (it was swept and restarted) throws its files away.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import io
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from zipstream import ZIP_DEFLATED, ZipStream

from datasystems.connectors.base import (
    ConnectorError,
    ConnectorTemporaryError,
    Identifiers,
    SearchContext,
    SearchPending,
    TableResult,
    connector_for,
)
from datasystems.models import DataSystem, LawfulBasis
from datasystems.selectors import active_systems, supplementary_information
from dsar_portal import filestore
from identity.models import VerificationStatus
from organisation.selectors import organisation_get
from requests_app.audit import event_record
from requests_app.lifecycle import Lifecycle
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, RequesterRole, Right, Status

from . import pgexport
from .models import (
    FINISHED_JOB_STATUSES,
    LIVE_COMPILATION_STATUSES,
    Compilation,
    CompilationStatus,
    JobStatus,
    Release,
    SearchJob,
    SearchPart,
    SearchRecord,
)
from .report_pdf import REPORT_PDF_PATH, report_pdf_render, report_pdf_wanted
from .review import release_open

logger = logging.getLogger(__name__)

PARTS = filestore.FileStore("searchparts")
ARCHIVES = filestore.FileStore("archives")

# The connector kinds the workers search by themselves (an HTTP system may answer later: its job then waits for the
# signed callback, fulfilment.callbacks). The others (a person's task, fulfilment.manual_tasks) are waited for from
# the start: the job says so in the search record, and the answer is not assembled without them.
AUTOMATED_CONNECTORS = frozenset({"demo_app", "sql", "http"})

COMPILATION_LIFECYCLE = Lifecycle(
    name="compilation",
    model=Compilation,
    transitions={
        CompilationStatus.PLANNED: frozenset({CompilationStatus.RUNNING, CompilationStatus.ASSEMBLED}),
        CompilationStatus.RUNNING: frozenset({CompilationStatus.ASSEMBLED, CompilationStatus.FAILED}),
        CompilationStatus.ASSEMBLED: frozenset(),
        CompilationStatus.FAILED: frozenset(),
    },
    event_kind=EventKind.COMPILATION_STATUS_CHANGED,
)

JOB_LIFECYCLE = Lifecycle(
    name="search job",
    model=SearchJob,
    transitions={
        JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.WAITING, JobStatus.NOT_SEARCHED}),
        # Back to queued: a transient error, retried with backoff. Waiting: the system will answer by a callback.
        JobStatus.RUNNING: frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.QUEUED, JobStatus.WAITING}),
        # A person's task or a later answer finishes the search; an HTTP system that never answers fails it (the
        # sweep, past ``callback_timeout()``), for staff to see and retry.
        JobStatus.WAITING: frozenset({JobStatus.DONE, JobStatus.NOT_SEARCHED, JobStatus.FAILED}),
        # Staff retry a failed search from the case page.
        JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
        JobStatus.DONE: frozenset(),
        JobStatus.NOT_SEARCHED: frozenset(),
    },
    event_kind=EventKind.SEARCH_STATUS_CHANGED,
)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_attempts() -> int:
    """How many times a job meets a transient error before it fails and waits for staff."""
    return _setting("FULFILMENT_MAX_ATTEMPTS", 5)


def queued_timeout() -> timedelta:
    """A job queued this long without starting lost its message: the sweep queues it again."""
    return timedelta(seconds=_setting("FULFILMENT_QUEUED_TIMEOUT_SECONDS", 10 * 60))


def running_timeout() -> timedelta:
    """A job running this long lost its worker: the sweep starts it again (shorter than the broker's visibility
    timeout, so the broker does not hand the same message out while it still runs)."""
    return timedelta(seconds=_setting("FULFILMENT_RUNNING_TIMEOUT_SECONDS", 30 * 60))


def callback_timeout() -> timedelta:
    """How long an HTTP system that accepted a search may take to answer by its signed callback before the sweep fails
    the search for staff (``DSAR_CONNECTOR_CALLBACK_HOURS``). A person's task is never failed this way: it has its
    own due date and reminders (``manual_tasks``)."""
    return timedelta(hours=_setting("DSAR_CONNECTOR_CALLBACK_HOURS", 72))


# --- Planning ----------------------------------------------------------------------------------------------------


def identifiers_of(request: DataSubjectRequest) -> Identifiers:
    """The identifiers the request holds for the person, verified before the request went into progress: the
    account e-mail they gave, else the address they confirmed (their own, or for an agent, the subject's), the
    customer number and the phone. Never logged (``Identifiers.__repr__`` names only which are present)."""
    given = request.identifiers or {}
    own_email = request.requester_email if request.requester_role == RequesterRole.DATA_SUBJECT else ""
    email = str(given.get("account_email") or own_email or request.subject_email or "")
    return Identifiers.of(
        email=email,
        phone=str(given.get("phone") or ""),
        customer_id=str(given.get("customer_number") or ""),
    )


def portability_applies(system: DataSystem) -> bool:
    """GDPR Art. 20(1): processing based on consent (Art. 6(1)(a), 9(2)(a)) or a contract (Art. 6(1)(b)), carried
    out by automated means, of data the person provided (observed data included; EDPB WP242 rev.01 s.2)."""
    if not (system.holds_provided_data or system.holds_observed_data):
        return False
    bases = {purpose.lawful_basis for purpose in system.purposes.all()}
    return bool(bases & {LawfulBasis.CONSENT, LawfulBasis.CONTRACT})


def _verified(request: DataSubjectRequest) -> bool:
    """Identity is settled: the request core moves a request into progress only once it is (requests_app.services
    request_identity_verified, or the verification policy at e-mail level); a failed or timed-out check never
    yields an answer (GDPR Art. 12(6))."""
    if request.email_confirmed_at is None:
        return False
    verification = getattr(request, "identity_verification", None)
    return verification is None or verification.status not in (VerificationStatus.FAILED, VerificationStatus.TIMED_OUT)


def _enqueue_job(job_id: int) -> None:
    from . import tasks

    tasks.run_search_job.delay(job_id)


def _enqueue_assembly(compilation_id: int) -> None:
    from . import tasks

    tasks.assemble_compilation.delay(compilation_id)


def compilation_plan(*, request_id: int, reopened: bool = False) -> Compilation | None:
    """Plan the answer of a verified access or portability request in progress: one job per active data system
    (portability: only where Art. 20 applies), enqueued when this commits. Idempotent: a request with a live
    compilation keeps it; one already answered is planned again only when it was reopened (``reopened``: an answer
    found incomplete after a complaint). Returns the live compilation, or None when there is nothing to plan."""
    with transaction.atomic():
        request = request_lock(request_id)
        if request.status != Status.IN_PROGRESS or request.right not in (Right.ACCESS, Right.PORTABILITY):
            return None
        if not _verified(request):
            return None
        existing = Compilation.objects.filter(request=request).order_by("-attempt")
        live = existing.filter(status__in=LIVE_COMPILATION_STATUSES).first()
        if live is not None:
            return live
        latest = existing.first()
        if latest is not None and latest.status == CompilationStatus.ASSEMBLED and not reopened:
            return None
        portability = request.right == Right.PORTABILITY
        compilation = Compilation.objects.create(
            request=request, attempt=(latest.attempt + 1) if latest else 1, portability=portability
        )
        event_record(
            request_id=request.pk,
            kind=EventKind.COMPILATION_STATUS_CHANGED,
            actor_kind="system",
            to_status=CompilationStatus.PLANNED,
            reason=f"Compilation {compilation.attempt} planned",
        )
        now = timezone.now()
        for system in active_systems().prefetch_related("purposes"):
            if portability and not portability_applies(system):
                SearchRecord.objects.create(
                    request=request,
                    compilation=compilation,
                    system=system,
                    system_name=system.name,
                    searched=False,
                    reason="Not searched: the right to data portability does not apply to this system (Art. 20(1): "
                    "neither consent nor a contract, or no data the person provided or observed).",
                )
                continue
            job = SearchJob.objects.create(
                compilation=compilation,
                request=request,
                system=system,
                connector=system.connector,
                enqueued_at=now,
                public_id=secrets.token_urlsafe(24),
            )
            if system.connector in AUTOMATED_CONNECTORS:
                transaction.on_commit(lambda job_id=job.pk: _enqueue_job(job_id))
            else:
                reason = f"Not searched yet: waiting for the {system.connector} connector task."
                JOB_LIFECYCLE.move(job, JobStatus.WAITING, actor_kind="system", reason=reason)
                SearchRecord.objects.create(
                    request=request,
                    compilation=compilation,
                    job=job,
                    system=system,
                    system_name=system.name,
                    searched=False,
                    reason=reason,
                )
        # Nothing to search at all (an empty register): the answer says so.
        transaction.on_commit(lambda: compilation_check(compilation_id=compilation.pk))
    return compilation


# --- Running a job -----------------------------------------------------------------------------------------------


class _ChunkReader(io.RawIOBase):
    """A binary reader over an iterator of byte chunks, hashing and counting what passes (for ``FileStore.save``)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                return 0
            self.sha256.update(chunk)
            self.size += len(chunk)
            self._buffer = chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Positional always ("0.0000001", not str()'s "1E-7"): what a person reads, and what PostgreSQL's COPY path
        # writes (pgexport).
        return format(value, "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


BATCH_ROWS = 1000


def _json_chunks(
    columns: Sequence[str], rows: Iterable[Sequence] | Iterable[dict], counter: list[int], *, objects: bool = False
) -> Iterator[bytes]:
    """A JSON array of objects, one object per line (so it can be read back line by line), streamed. ``rows`` are
    sequences in the order of ``columns``, or (``objects``) dicts already."""
    yield b"[\n"
    dumps = json.JSONEncoder(default=_json_value, ensure_ascii=False).encode
    batch: list[str] = []
    count = 0
    for row in rows:
        batch.append(("" if count == 0 else ",\n") + dumps(row if objects else dict(zip(columns, row, strict=False))))
        count += 1
        if len(batch) >= BATCH_ROWS:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()
    counter[0] = count
    yield b"\n]\n"


def _json_lines(name: str) -> Iterator[dict]:
    """The objects of a part's JSON file, read back one line at a time."""
    with PARTS.open(name) as reader:
        text = io.TextIOWrapper(reader, encoding="utf-8", newline="\n")
        for line in text:
            line = line.rstrip("\n").rstrip(",")
            if line.startswith("{"):
                yield json.loads(line)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _csv_chunks(columns: Sequence[str], json_name: str, items: Iterable[dict] | None = None) -> Iterator[bytes]:
    """A part's CSV from its JSON file read back line by line (or from ``items``, the same rows edited)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    count = 0
    for item in _json_lines(json_name) if items is None else items:
        writer.writerow([_csv_cell(item.get(column)) for column in columns])
        count += 1
        if count % BATCH_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@dataclass
class _WrittenPart:
    table: TableResult
    rows: int
    json_name: str
    json_sha256: str
    json_bytes: int
    csv_name: str
    csv_sha256: str
    csv_bytes: int


@contextmanager
def _part_file(suffix: str, written: list[str]) -> Iterator[Any]:
    with PARTS.writer(suffix=suffix) as writer:
        yield writer
    written.append(writer.name)


def _write_part(table: TableResult, written: list[str]) -> _WrittenPart:
    """The table's rows into an encrypted JSON file and its CSV; never all rows in memory. Where the connector
    offers its rows as a PostgreSQL query, the database writes both by COPY (``pgexport``, the same bytes);
    otherwise the JSON is written in one pass over the connector's stream and the CSV from that file, read back row
    by row. The names of the files written are added to ``written`` as soon as each exists."""
    if table.postgres is not None and getattr(settings, "DSAR_FULFILMENT_POSTGRES_COPY", True):
        copied = pgexport.copy_part(table.postgres, table.columns, lambda suffix: _part_file(suffix, written))
        if copied is not None:
            return _WrittenPart(
                table=table,
                rows=copied.rows,
                json_name=copied.json.name,
                json_sha256=copied.json.sha256,
                json_bytes=copied.json.size,
                csv_name=copied.csv.name,
                csv_sha256=copied.csv.sha256,
                csv_bytes=copied.csv.size,
            )
    counter = [0]
    json_reader = _ChunkReader(_json_chunks(table.columns, table.rows, counter))
    stored_json = PARTS.save(json_reader, suffix=".json")
    written.append(stored_json.name)
    csv_reader = _ChunkReader(_csv_chunks(table.columns, stored_json.name))
    stored_csv = PARTS.save(csv_reader, suffix=".csv")
    written.append(stored_csv.name)
    return _WrittenPart(
        table=table,
        rows=counter[0],
        json_name=stored_json.name,
        json_sha256=json_reader.sha256.hexdigest(),
        json_bytes=json_reader.size,
        csv_name=stored_csv.name,
        csv_sha256=csv_reader.sha256.hexdigest(),
        csv_bytes=csv_reader.size,
    )


def _discard(names: Iterable[str]) -> None:
    for name in names:
        PARTS.delete(name)


def job_claim(job: Any, *, lifecycle: Lifecycle, queued: str, running: str, worker: str) -> str | None:
    """Give ``job`` (a search or change job, locked by the caller after its request) to this run: the run's token,
    or None when it is not ours to run (finished, waiting, or running elsewhere).

    A job already running is taken over only once that run is presumed lost (``running_timeout``): its message was
    redelivered (acks_late) or the sweep queued it again. The new token fences the old run off: each of its writes
    checks it first, so a lost worker that comes back cannot write over the new run's work."""
    now = timezone.now()
    if job.status == running:
        if job.started_at and now - job.started_at < running_timeout():
            return None
    elif job.status != queued:
        return None
    token = secrets.token_hex(16)
    changes = {"started_at": now, "worker": worker[:200], "run_token": token, "attempts": job.attempts + 1}
    if job.status == queued:
        lifecycle.move(job, running, actor_kind="system", changes=changes)
    else:
        for name, value in changes.items():
            setattr(job, name, value)
        job.save(update_fields=[*changes, "updated_at"])
    return token


def _job_start(job_id: int, worker: str) -> tuple[SearchJob, str] | None:
    """Take the job for this run; None when it is not ours to run (finished, waiting, or running elsewhere)."""
    with transaction.atomic():
        job = SearchJob.objects.select_related("compilation").get(pk=job_id)
        request_lock(job.request_id)
        job = SearchJob.objects.select_for_update(of=("self",)).select_related("compilation").get(pk=job_id)
        token = job_claim(
            job, lifecycle=JOB_LIFECYCLE, queued=JobStatus.QUEUED, running=JobStatus.RUNNING, worker=worker
        )
        if token is None:
            return None
        if job.compilation.status == CompilationStatus.PLANNED:
            COMPILATION_LIFECYCLE.move(job.compilation, CompilationStatus.RUNNING, actor_kind="system")
        return job, token


def _locked_run(job_id: int, token: str) -> SearchJob | None:
    """Inside a transaction: the job locked (request first), if this run still owns it."""
    job = SearchJob.objects.get(pk=job_id)
    request_lock(job.request_id)
    job = SearchJob.objects.select_for_update(of=("self",)).select_related("system").get(pk=job_id)
    if job.status != JobStatus.RUNNING or job.run_token != token:
        return None
    return job


def job_run(*, job_id: int, worker: str = "") -> str:
    """Run one search job: the connector searched with the request's identifiers, each table written as encrypted
    parts, the search recorded (UK GDPR Art. 15(1A)). Idempotent: a job not queued (or not presumed lost) is left
    alone. Returns the job's status after the run. Raises ConnectorTemporaryError (after putting the job back in
    the queue) for the task's retry with backoff, until ``max_attempts`` makes it fail."""
    started = _job_start(job_id, worker)
    if started is None:
        return SearchJob.objects.values_list("status", flat=True).get(pk=job_id)
    job, token = started
    system = job.system
    written: list[str] = []
    try:
        request = DataSubjectRequest.objects.get(pk=job.request_id)
        identifiers = identifiers_of(request)
        connector = connector_for(system.connector, system.connector_config)
        if "context" in inspect.signature(connector.search).parameters:
            # A connector that sends the search elsewhere (http) learns what it may say of it, and where to answer.
            outcome = connector.search(identifiers, context=search_context(job, request))
        else:
            outcome = connector.search(identifiers)
        tables = [
            table
            for table in outcome.tables
            if not job.compilation.portability or table.provided_or_observed  # Art. 20(1): provided or observed only
        ]
        parts = [_write_part(table, written) for table in tables] if outcome.searched else []
    except SearchPending as pending:
        return _job_pending(job_id, token, pending)
    except ConnectorTemporaryError as error:
        _discard(written)
        failed = _job_error(job_id, token, str(error), temporary=True)
        if not failed:
            raise
        return JobStatus.FAILED
    except ConnectorError as error:
        _discard(written)
        _job_error(job_id, token, str(error), temporary=False)
        return JobStatus.FAILED
    except Exception:
        _discard(written)
        logger.exception("search job %s stopped on an unexpected error", job_id)
        _job_error(job_id, token, "The search stopped on an unexpected error (see the worker's log).", temporary=False)
        return JobStatus.FAILED
    with transaction.atomic():
        locked = _locked_run(job_id, token)
        if locked is None:
            # Swept and started again meanwhile: the other run's result counts, never both.
            transaction.on_commit(lambda: _discard(written))
            return SearchJob.objects.values_list("status", flat=True).get(pk=job_id)
        status = job_finish(
            locked,
            searched=outcome.searched,
            reason=outcome.not_searched_reason,
            identifiers_used=list(outcome.identifiers_used),
            parts=parts,
            worker=worker,
            actor_kind="system",
            move_reason=system.name,
        )
    return status


def job_finish(
    locked: SearchJob,
    *,
    searched: bool,
    reason: str,
    identifiers_used: list[str],
    parts: list[_WrittenPart],
    worker: str = "",
    by: AbstractBaseUser | None = None,
    actor_kind: str,
    move_reason: str,
) -> str:
    """Inside a transaction, the job locked (request first) and still the caller's to finish: its parts, its search
    record (UK GDPR Art. 15(1A)), its move to done or not searched, and the assembly check after commit. Shared by
    the workers, a system owner's task and an HTTP system's callback, so each finishes a search the same way."""
    system = locked.system
    SearchPart.objects.bulk_create(
        SearchPart(
            job=locked,
            position=position,
            table=part.table.name[:100],
            description=part.table.description[:500],
            columns=list(part.table.columns),
            provided_or_observed=part.table.provided_or_observed,
            rows=part.rows,
            csv_name=part.csv_name,
            csv_sha256=part.csv_sha256,
            csv_bytes=part.csv_bytes,
            json_name=part.json_name,
            json_sha256=part.json_sha256,
            json_bytes=part.json_bytes,
        )
        for position, part in enumerate(parts)
    )
    rows = sum(part.rows for part in parts)
    SearchRecord.objects.create(
        request_id=locked.request_id,
        compilation_id=locked.compilation_id,
        job=locked,
        system=system,
        system_name=system.name,
        searched=searched,
        reason=reason[:500],
        identifiers_used=identifiers_used,
        found=[{"table": part.table.name, "rows": part.rows} for part in parts if part.rows],
        worker=worker[:200],
        by=by,
    )
    status = JobStatus.DONE if searched else JobStatus.NOT_SEARCHED
    JOB_LIFECYCLE.move(
        locked,
        status,
        actor=by,
        actor_kind=actor_kind,
        reason=move_reason,
        changes={"rows_found": rows, "finished_at": timezone.now(), "last_error": ""},
    )
    compilation_id = locked.compilation_id
    transaction.on_commit(lambda: compilation_check(compilation_id=compilation_id))
    return status


def write_parts(tables: Iterable[TableResult], written: list[str]) -> list[_WrittenPart]:
    """Each table as encrypted parts (the names written are added to ``written``, to discard on failure)."""
    return [_write_part(table, written) for table in tables]


def discard_parts(names: Iterable[str]) -> None:
    _discard(names)


def callback_url(job: SearchJob) -> str:
    """Where an HTTP system posts its later answer: the job's random public id, never its key."""
    path = reverse("fulfilment_callbacks:connector_callback", kwargs={"public_id": job.public_id})
    return settings.DSAR_PUBLIC_URL + path


def search_context(job: SearchJob, request: DataSubjectRequest) -> SearchContext:
    """What a connector may send about the search: the request type, an opaque id stable for the job (its public
    id), the case reference (sent only where the system's configuration asks), and the callback URL."""
    return SearchContext(
        request_type="portability" if job.compilation.portability else "access",
        search_id=job.public_id,
        reference=request.reference,
        submitted_at=request.received_at,
        callback_url=callback_url(job) if job.public_id else "",
    )


def _job_pending(job_id: int, token: str, pending: SearchPending) -> str:
    """The system accepted the search and will answer by a signed callback: the job waits, keeping the system's
    callback token, and the search record says so (UK GDPR Art. 15(1A))."""
    with transaction.atomic():
        locked = _locked_run(job_id, token)
        if locked is None:
            return SearchJob.objects.values_list("status", flat=True).get(pk=job_id)
        reason = f"Not searched yet: {locked.system.name} will answer later by a signed callback."
        if pending.expected_by is not None:
            reason += f" Expected by {pending.expected_by.isoformat()}."
        JOB_LIFECYCLE.move(
            locked,
            JobStatus.WAITING,
            actor_kind="system",
            reason=reason,
            changes={"callback_token": pending.token[:500], "last_error": ""},
        )
        SearchRecord.objects.create(
            request_id=locked.request_id,
            compilation_id=locked.compilation_id,
            job=locked,
            system=locked.system,
            system_name=locked.system.name,
            searched=False,
            reason=reason[:500],
            worker=locked.worker,
        )
    return JobStatus.WAITING


def _job_error(job_id: int, token: str, message: str, *, temporary: bool) -> bool:
    """Record a failed run: a transient error puts the job back in the queue until ``max_attempts``; a permanent one
    fails it for staff to see and retry. Returns True when the job failed."""
    message = message[:500]
    with transaction.atomic():
        job = _locked_run(job_id, token)
        if job is None:
            return True
        if temporary and job.attempts < max_attempts():
            JOB_LIFECYCLE.move(
                job,
                JobStatus.QUEUED,
                actor_kind="system",
                reason=f"{job.system.name}: will retry ({message})",
                changes={"last_error": message, "enqueued_at": timezone.now()},
            )
            return False
        _job_failed(job, message, changes={"finished_at": timezone.now()})
        return True


def _job_failed(job: SearchJob, message: str, *, changes: dict) -> None:
    """Fail ``job`` (locked) for staff to see and retry, and record that the system was not searched and why (UK
    GDPR Art. 15(1A))."""
    JOB_LIFECYCLE.move(
        job,
        JobStatus.FAILED,
        actor_kind="system",
        reason=f"{job.system.name}: {message}",
        changes={"last_error": message, **changes},
    )
    SearchRecord.objects.create(
        request_id=job.request_id,
        compilation_id=job.compilation_id,
        job=job,
        system=job.system,
        system_name=job.system.name,
        searched=False,
        reason=f"The search failed: {message}",
        worker=job.worker,
    )


def job_retry(*, job: SearchJob, actor: AbstractBaseUser) -> bool:
    """Staff retry a failed search (a case handler's decision, written to the request's trail with who did it).
    False when it was queued already (a second click); raises IllegalTransition when it is no longer failed."""
    with transaction.atomic():
        move = JOB_LIFECYCLE.move(
            job,
            JobStatus.QUEUED,
            actor=actor,
            actor_kind="staff",
            reason=f"{job.system.name}: search retried",
            changes={"enqueued_at": timezone.now(), "attempts": 0},
        )
        if move.changed:
            transaction.on_commit(lambda: _enqueue_job(job.pk))
    return move.changed


def callbacks_overdue_fail(*, now: datetime) -> int:
    """Fail the HTTP searches whose system accepted them and never answered within ``callback_timeout()`` (counted
    from the run that sent the search): without this the answer would wait for ever and the request run past its
    due date unseen (GDPR Art. 12(3)). Each becomes a failed search with a staff-facing error, on the case page with
    its retry button and in the queue's flag; its search record says it was not searched (UK GDPR Art. 15(1A)). The
    callback token is cleared, so a very late answer to this run is refused. Returns how many were failed."""
    hours = int(callback_timeout().total_seconds() // 3600)
    overdue = list(
        SearchJob.objects.filter(
            status=JobStatus.WAITING, connector="http", started_at__lt=now - callback_timeout()
        ).values_list("pk", flat=True)
    )
    failed = 0
    for job_id in overdue:
        with transaction.atomic():
            job = SearchJob.objects.get(pk=job_id)
            request_lock(job.request_id)
            job = SearchJob.objects.select_for_update(of=("self",)).select_related("system").get(pk=job_id)
            if job.status != JobStatus.WAITING or job.started_at is None or job.started_at >= now - callback_timeout():
                continue  # answered (or retried) meanwhile
            message = f"No answer from {job.system.name} within {hours} hours of sending the search."[:500]
            _job_failed(job, message, changes={"finished_at": now, "callback_token": ""})
            failed += 1
    return failed


# --- Assembly ----------------------------------------------------------------------------------------------------


def compilation_check(*, compilation_id: int) -> bool:
    """Enqueue the assembly once every job of a live compilation is finished; True if it was enqueued."""
    compilation = Compilation.objects.filter(pk=compilation_id, status__in=LIVE_COMPILATION_STATUSES).first()
    if compilation is None:
        return False
    if compilation.jobs.exclude(status__in=FINISHED_JOB_STATUSES).exists():
        return False
    transaction.on_commit(lambda: _enqueue_assembly(compilation_id))
    return True


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:60] or "system"


class _Hashed:
    """An archive entry's bytes, hashed and counted as the ZIP reads them; checked against ``expected`` at the end."""

    def __init__(self, path: str, chunks: Callable[[], Iterable[bytes]], expected: str = "") -> None:
        self.path = path
        self._chunks = chunks
        self.expected = expected
        self.sha256 = ""
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        size = 0
        for chunk in self._chunks():
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        self.sha256, self.size = digest.hexdigest(), size
        if self.expected and self.expected != self.sha256:
            raise filestore.FileDecryptionError(f"Part {self.path} does not match the hash recorded when written.")


def _part_chunks(name: str) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        with PARTS.open(name) as reader:
            while chunk := reader.read(filestore.CHUNK_SIZE):
                yield chunk

    return chunks


def _bytes(data: bytes) -> Callable[[], Iterator[bytes]]:
    return lambda: iter((data,))


def _system_json(system_name: str, record: SearchRecord | None, parts: list[SearchPart], plan=None) -> Callable:
    """One JSON document per system, its tables' rows copied from the parts as they are read (never whole); a table
    with review decisions (``plan``) is written again row by row with them applied."""

    def chunks() -> Iterator[bytes]:
        head = {
            "system": system_name,
            "searched_at": record.at.isoformat() if record else None,
            "identifiers_used": record.identifiers_used if record else [],
        }
        yield json.dumps(head, ensure_ascii=False)[:-1].encode() + b', "tables": {'
        for index, part in enumerate(parts):
            yield (", " if index else "").encode() + json.dumps(part.table).encode() + b": "
            edits = plan.edits(part) if plan is not None else None
            if edits is None:
                yield from _part_chunks(part.json_name)()
            else:
                yield from _json_chunks(part.columns, _edited_rows(part, edits), [0], objects=True)
        yield b"}}\n"

    return chunks


def _report_pdf_entry(context: dict) -> _Hashed:
    """``report.pdf``: the report as a PDF, rendered as the ZIP reads it (the person asked for one; report_pdf)."""
    return _Hashed(REPORT_PDF_PATH, lambda: iter((report_pdf_render(context),)))


def _edited_csv(part: SearchPart, edits) -> Callable[[], Iterator[bytes]]:
    return lambda: _csv_chunks(part.columns, part.json_name, _edited_rows(part, edits))


def _edited_rows(part: SearchPart, edits) -> Iterator[dict]:
    """A part's rows read back one at a time with the review's ``edits`` applied (withheld rows out, redacted fields
    replaced by their marker): never all rows in memory."""
    return edits.apply(_json_lines(part.json_name))


def _archive_entries(compilation: Compilation, plan=None) -> tuple[list[_Hashed], dict]:
    """The files of a compilation's archive, each streamed when the ZIP reads it. ``plan`` (a release's review
    decisions, ``review.ReleasePlan``) leaves withheld tables and rows out, replaces redacted fields by a marker, and
    has the report say what was withheld or redacted per system and on what ground (GDPR Art. 12(4), 15(4))."""
    request = compilation.request
    jobs = list(compilation.jobs.select_related("system").prefetch_related("parts").order_by("system__name"))
    records = list(compilation.search_records.select_related("job").order_by("at", "pk"))
    last_record = {record.job_id: record for record in records if record.job_id}
    review_summary = plan.summary() if plan is not None else {}
    entries: list[_Hashed] = []
    systems_found = []
    dictionary = []
    report_systems = []
    for job in jobs:
        parts = [part for part in job.parts.all() if part.rows]
        withheld_tables = 0
        if plan is not None:
            kept = [part for part in parts if not (plan.edits(part) and plan.edits(part).withheld)]
            withheld_tables = len(parts) - len(kept)
            parts = kept
            for part in parts:
                part.rows = plan.rows_kept(part)
        folder = f"systems/{_slug(job.system.name)}"
        for part in parts:
            part.archive_path = f"{folder}/{_slug(part.table)}.csv"
        report_systems.append(
            {
                "name": job.system.name,
                "record": last_record.get(job.pk),
                "parts": parts,
                "folder": folder,
                "status": job.get_status_display(),
                "review": review_summary.get(job.system.name, []),
                "withheld_tables": withheld_tables,
            }
        )
        if not parts:
            if withheld_tables:
                # Data was found, and withheld: the person still gets the Art. 15(1)(a)-(h) information about it.
                systems_found.append(job.system)
            continue
        systems_found.append(job.system)
        entries.append(
            _Hashed(f"{folder}.json", _system_json(job.system.name, last_record.get(job.pk), parts, plan=plan))
        )
        for part in parts:
            path = part.archive_path
            edits = plan.edits(part) if plan is not None else None
            if edits is None:
                entries.append(_Hashed(path, _part_chunks(part.csv_name), expected=part.csv_sha256))
            else:
                edited = _edited_csv(part, edits)
                entries.append(_Hashed(path, edited))
            dictionary.append(
                {
                    "system": job.system.name,
                    "table": part.table,
                    "description": part.description,
                    "columns": part.columns,
                    "rows": part.rows,
                    "provided_or_observed": part.provided_or_observed,
                    "csv": path,
                    "json": f"{folder}.json",
                }
            )
    organisation = organisation_get()
    context = {
        "request": request,
        "compilation": compilation,
        "organisation": organisation,
        "systems": report_systems,
        "not_searched": [record for record in records if record.job_id is None],
        "disclosures": supplementary_information(systems_found),
        "dictionary": dictionary,
        "generated_at": timezone.now(),
        "reviewed": plan is not None,
        "anything_withheld": bool(review_summary),
    }
    report = render_to_string("fulfilment/archive_report.html", context).encode()
    if report_pdf_wanted(request, portability=compilation.portability):
        entries.append(_report_pdf_entry(context))
    # UK GDPR Art. 15(1A): one entry per system, how it was last searched (or why not), by whom and in which job; a
    # search that first waited for a person or a callback leaves its earlier records to the case page's history.
    latest = {record.job_id or f"record-{record.pk}": record for record in records}
    search_record = [
        {
            "system": record.system_name,
            "searched": record.searched,
            "reason": record.reason,
            "identifiers_used": record.identifiers_used,
            "found": record.found,
            "rows_found": record.rows_found,
            "at": record.at.isoformat(),
            "by": _searched_by(record),
            # The job's random public id (as on the system owner's task page), not its row number.
            "job": record.job.public_id if record.job_id else None,
        }
        for record in sorted(latest.values(), key=lambda record: (record.at, record.pk))
    ]
    entries[:0] = [
        _Hashed("report.html", _bytes(report)),
        _Hashed("data-dictionary.json", _bytes(json.dumps(dictionary, indent=2, ensure_ascii=False).encode())),
        _Hashed("search-record.json", _bytes(json.dumps(search_record, indent=2, ensure_ascii=False).encode())),
    ]
    return entries, {"reference": request.reference, "attempt": compilation.attempt}


def _searched_by(record: SearchRecord) -> str:
    """Who made a search, as the search record says it: a member of staff (a system owner's task), the system
    itself (an HTTP system's signed callback) or a worker (the portal's connector)."""
    if record.by_id is not None:
        return "staff"
    return "system" if record.worker == "callback" else "worker"


@dataclass(frozen=True)
class StoredArchive:
    name: str
    size: int
    sha256: str
    # [{"path": ..., "sha256": ..., "bytes": ...}] for every file, the manifest's own row last.
    manifest: list[dict]


def archive_store(entries: list[_Hashed], about: dict, store: filestore.FileStore) -> StoredArchive:
    """Stream ``entries`` and a manifest of their SHA-256 hashes into a ZIP, encrypted into ``store`` as it is
    written: no file, and not the archive, is ever whole in memory or on disk in the clear (GDPR Art. 32)."""
    archive = ZipStream(compress_type=ZIP_DEFLATED, compress_level=1)
    for entry in entries:
        archive.add(entry, entry.path)
    manifest_rows: list[dict] = []

    def manifest() -> Iterator[bytes]:
        manifest_rows.extend({"path": e.path, "sha256": e.sha256, "bytes": e.size} for e in entries)
        yield json.dumps({**about, "algorithm": "SHA-256", "files": manifest_rows}, indent=2).encode()

    manifest_entry = _Hashed("manifest.json", manifest)
    archive.add(manifest_entry, "manifest.json")
    reader = _ChunkReader(archive)
    stored = store.save(reader, suffix=".zip")
    return StoredArchive(
        name=stored.name,
        size=stored.size,
        sha256=reader.sha256.hexdigest(),
        manifest=[
            *manifest_rows,
            {"path": "manifest.json", "sha256": manifest_entry.sha256, "bytes": manifest_entry.size},
        ],
    )


def compilation_assemble(*, compilation_id: int) -> Compilation:
    """Assemble the answer once (the compilation's row locked, after the request's): a streamed ZIP, encrypted at
    rest, with the report (Art. 15(1)(a)-(h), 15(2) for the systems where data was found), JSON per system, CSV per
    table, the data dictionary, the search record, and a manifest of SHA-256 hashes, also kept in the database. The
    first copy of the answer goes into review (``review.release_open``). A second attempt, or one before every job
    is finished, is a no-op."""
    with filestore.atomic():
        compilation = Compilation.objects.get(pk=compilation_id)
        request_lock(compilation.request_id)
        compilation = (
            Compilation.objects.select_for_update(of=("self",)).select_related("request").get(pk=compilation_id)
        )
        if compilation.status not in LIVE_COMPILATION_STATUSES:
            return compilation
        if compilation.jobs.exclude(status__in=FINISHED_JOB_STATUSES).exists():
            return compilation
        entries, about = _archive_entries(compilation)
        stored = archive_store(entries, about, ARCHIVES)
        COMPILATION_LIFECYCLE.move(
            compilation,
            CompilationStatus.ASSEMBLED,
            actor_kind="system",
            reason=f"Archive of compilation {compilation.attempt} assembled",
            changes={
                "assembled_at": timezone.now(),
                "archive_name": stored.name,
                "archive_bytes": stored.size,
                "archive_sha256": stored.sha256,
                "manifest": stored.manifest,
            },
        )
        # The first copy goes into review; nothing leaves before it is approved and built (review, releases).
        release_open(compilation=compilation)
    return compilation


# --- The sweep ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    assemblies: int
    planned: int = 0
    callbacks_failed: int = 0


SWEEP_PLAN_BATCH = 200


def jobs_sweep(*, now: datetime | None = None) -> SweepResult:
    """Queue again the jobs a lost message or a killed worker left queued or running past their timeout, fail the
    HTTP searches whose callback never came (``callbacks_overdue_fail``), plan the requests in progress whose
    planning never reached the broker, and assemble the compilations whose jobs are all finished (the rows are the
    truth, not the broker)."""
    now = now or timezone.now()
    callbacks_failed = callbacks_overdue_fail(now=now)
    stuck = list(
        SearchJob.objects.filter(status=JobStatus.QUEUED, enqueued_at__lt=now - queued_timeout()).values_list(
            "pk", flat=True
        )
    ) + list(
        SearchJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=now - running_timeout()).values_list(
            "pk", flat=True
        )
    )
    SearchJob.objects.filter(pk__in=stuck, status=JobStatus.QUEUED).update(enqueued_at=now)
    for job_id in stuck:
        transaction.on_commit(lambda job_id=job_id: _enqueue_job(job_id))
    # A request whose planning message never reached the broker (it was away after the move committed).
    unplanned = DataSubjectRequest.objects.filter(
        status=Status.IN_PROGRESS, right__in=(Right.ACCESS, Right.PORTABILITY), compilations__isnull=True
    ).values_list("pk", flat=True)[:SWEEP_PLAN_BATCH]
    planned = sum(compilation_plan(request_id=request_id) is not None for request_id in unplanned)
    assemblies = 0
    for compilation_id in Compilation.objects.filter(status__in=LIVE_COMPILATION_STATUSES).values_list("pk", flat=True):
        assemblies += compilation_check(compilation_id=compilation_id)
    return SweepResult(requeued=len(stuck), assemblies=assemblies, planned=planned, callbacks_failed=callbacks_failed)


# --- Orphan files ------------------------------------------------------------------------------------------------

# Every column that names a file in the answer's stores. A file none of them names is an orphan: a run that crashed
# after writing its parts (or a worker killed mid-assembly), a run swept and discarded. A new column that keeps a
# file in one of these namespaces must be listed here, or the sweep deletes its files.
FILE_REFERENCES: dict[filestore.FileStore, tuple[tuple[type, str], ...]] = {
    PARTS: ((SearchPart, "json_name"), (SearchPart, "csv_name")),
    # A release's archive belongs in its own namespace; listed too, so a release never loses its file here.
    ARCHIVES: ((Compilation, "archive_name"), (Release, "archive_name")),
}


def orphan_grace() -> timedelta:
    """How old a file no row names must be before the sweep deletes it: an hour, and never less than twice the
    time a search job may run (a running job's parts are named by rows only when it finishes)."""
    return max(timedelta(hours=1), 2 * running_timeout())


def orphan_files_sweep(*, now: datetime | None = None) -> int:
    """Delete part and archive files no row refers to, once older than ``orphan_grace()``; returns how many.

    GDPR Art. 5(1)(e) and 32: a part is a person's data; one that no search part or compilation names is personal
    data nothing tracks, never delivered and never deleted by retention. Safe to run any number of times.
    """
    now = now or timezone.now()
    removed = 0
    for store, references in FILE_REFERENCES.items():

        def referenced(names: list[str], references=references) -> set[str]:
            kept: set[str] = set()
            for model, column in references:
                kept.update(model.objects.filter(**{f"{column}__in": names}).values_list(column, flat=True))
            return kept

        swept = store.sweep(older_than=now - orphan_grace(), referenced=referenced)
        if swept:
            logger.info("removed %s orphan files from %s", swept, store.namespace)
        removed += swept
    return removed
