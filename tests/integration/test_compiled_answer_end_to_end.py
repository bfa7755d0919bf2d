"""Issue 12, done when: with a real Celery worker on Redis and PostgreSQL, a verified access request for a demo person
becomes a downloadable archive whose contents match the source data across all four connector kinds (the demo CRM,
an external SQL database, a system with an API that answers later by a signed callback, and a manual task a system
owner completes by uploading a CSV), with the supplementary information generated from the register and a complete
search record; a portability request yields only provided and observed data; every job, the assembly and the
release build run twice yield one archive; and a worker killed mid-compilation, replaced by a new one, yields
exactly one archive."""

import base64
import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from casework import roles
from datasystems import webhooks
from datasystems.models import DataSystem
from datasystems.selectors import supplementary_information
from democrm.models import Order, OrderLine
from dsar_portal.celery import app as celery_app
from fulfilment import releases, services, tasks
from fulfilment.models import (
    Compilation,
    CompilationStatus,
    JobStatus,
    Release,
    ReleaseStatus,
    SearchJob,
    SearchPart,
)
from requests_app.models import Right
from tests.connectors import conftest as external_crm
from tests.factories import StaffUserFactory, give_second_factor
from tests.fulfilment.conftest import (  # noqa: F401 (fixtures)
    alan_request,
    dpo,
    handler,
    register,
    staff_roles,
)
from tests.fulfilment.delivery_support import open_status_page
from tests.integration.test_celery_worker import _sent_emails, _services_available, _wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEMO = "Billing"  # the demo CRM's orders, through the demo application's connector
SQL = "Website analytics"  # an outside database (tests/connectors/conftest.py), through the SQL connector
HTTP = "Marketing e-mail"  # a system with an API that answers later by a signed callback
MANUAL = "Call recordings and live-chat transcripts"  # a system owner's task
SYSTEMS = (DEMO, SQL, HTTP, MANUAL)

SECRET = "whsec_" + base64.b64encode(b"the portal and the mailing system share this").decode()
SECRET_ENV = "E2E_MAILING_WEBHOOK_SECRET"

SQL_SOURCE = "From you, and from our advertising partner Adtrail Ltd when you arrive from one of its adverts."
SQL_CONFIG = {
    "url_env": "CRM_DATABASE_URL",
    "tables": [
        {
            "name": "customers",
            "table": "customer",
            "match": {"email": {"column": "email_address", "lower": True}, "customer_id": "customer_ref"},
            "columns": ["customer_ref", "full_name", "email_address", "mobile"],
        },
        {
            "name": "orders",
            "table": "sales_order",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["order_no", "placed_on", "total"],
        },
        {
            "name": "risk",
            "table": "risk_score",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["score"],
            "provided_or_observed": False,
        },
    ],
}

# What the mailing system's API holds for Alan, posted back in its signed callback.
HTTP_TABLES = [
    {
        "name": "subscriptions",
        "columns": ["list", "subscribed", "since", "note"],
        "rows": [["newsletter", True, "2026-03-01T09:00:00+00:00", None], ["offers", False, "2026-04-01", "by SMS"]],
        "provided_or_observed": True,
        "description": "The lists you joined",
    },
    {
        "name": "segments",
        "columns": ["segment", "score"],
        "rows": [["loyal", 0.9]],
        "provided_or_observed": False,
        "description": "What we inferred",
    },
]

CALLS_CSV = 'call_id,started_at,summary\n1,2026-10-01 10:00,"Asked about, an invoice"\n2,2026-10-02 11:30,Chat\n'


# --- The services around the portal: a worker process, the external database, the API -------------------------


class Workers:
    """Real worker processes on one queue of their own, started and killed by the test."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.queue = f"dsar-e2e-{uuid.uuid4().hex[:8]}"
        self.mail_dir = tmp_path / "mail"
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "DSAR_EMAIL_DIR": str(self.mail_dir),
            "DSAR_PRIVATE_UPLOAD_DIR": str(tmp_path / "uploads"),
            "DSAR_CELERY_DEFAULT_QUEUE": self.queue,
            "DJANGO_SETTINGS_MODULE": "tests.integration.e2e_worker_settings",
            **env,
        }
        self.processes: list[tuple[subprocess.Popen, Path]] = []
        self.results = RedisBackend(app=celery_app, url=django_settings.REDIS_URL)

    def start(self, **env: str) -> subprocess.Popen:
        log = self.tmp_path / f"worker-{len(self.processes)}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "celery", "-A", "dsar_portal", "--result-backend", django_settings.REDIS_URL, "worker"),
                *("--pool=solo", "-Q", self.queue, "--loglevel=INFO", "-n", f"e2e-{len(self.processes)}@%h"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=PROJECT_ROOT,
            env={**self.env, **env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.processes.append((process, log))
        return process

    def stop(self) -> None:
        for process, log in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")

    def run_again(self, signatures: list[tuple]) -> list:
        """Send tasks to the workers again and wait for their results."""
        sent = [task.apply_async(args=args, ignore_result=False) for task, *args in signatures]
        outcomes = [AsyncResult(result.id, backend=self.results, app=celery_app) for result in sent]
        try:
            assert _wait_for(lambda: all(outcome.ready() for outcome in outcomes), timeout=60)
            return [outcome.result for outcome in outcomes]
        finally:
            for outcome in outcomes:
                outcome.forget()


class MailingSystem:
    """The mailing system's API on a local port: it checks the portal's signature, answers 202, and a moment later
    posts the person's rows, signed, to the callback URL the portal sent (which the live server answers)."""

    def __init__(self) -> None:
        self.searches: list[dict] = []
        self.callbacks: list[int] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    webhooks.verify_signature(dict(self.headers.items()), body, SECRET)
                except webhooks.SignatureError:
                    self.send_response(401)
                    self.end_headers()
                    return
                search = json.loads(body)
                owner.searches.append(search)
                token = f"mailing-{uuid.uuid4().hex}"
                answer = json.dumps({"callback_token": token}).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                threading.Thread(target=owner.answer_later, args=(search, token), daemon=True).start()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dsar/search"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer_later(self, search: dict, token: str) -> None:
        payload = json.dumps(
            {
                "callback_token": token,
                "request_id": search["request_id"],
                "request_status": "completed",
                "tables": HTTP_TABLES,
            }
        ).encode()
        # The worker records that the search waits only after the 202: until then the portal answers 409.
        for _ in range(80):
            request = urllib.request.Request(  # noqa: S310 (the live server's URL, from the portal)
                search["status_callback_urls"][0],
                data=payload,
                headers={"Content-Type": "application/json", **webhooks.sign(payload, SECRET)},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    self.callbacks.append(response.status)
                    return
            except urllib.error.HTTPError as error:
                self.callbacks.append(error.code)
                if error.code != 409:
                    return
            time.sleep(0.25)


@pytest.fixture
def crm_database():
    """The outside CRM: a second real PostgreSQL database beside the test database, filled (Alan is C-1001)."""
    url = external_crm.postgres_url()
    external_crm.ensure_database(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    external_crm._fill(engine)
    yield url, engine
    external_crm.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def mailing_system():
    system = MailingSystem()
    yield system
    system.server.shutdown()
    system.server.server_close()


@pytest.fixture
def owner(staff_roles):  # noqa: F811
    user = StaffUserFactory(username="sam.owner", email="sam.owner@staff.example")
    user.groups.add(Group.objects.get(name=roles.SYSTEM_OWNER))
    return user


@pytest.fixture
def four_systems(register, owner, crm_database, mailing_system, monkeypatch):  # noqa: F811
    """The demo register with one system of each connector kind in use: the demo CRM's billing, the website
    analytics in an outside SQL database, the marketing e-mail system behind an API, and the call recordings (a
    manual task for ``owner``)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("CRM_DATABASE_URL", crm_database[0])
    DataSystem.objects.exclude(name__in=SYSTEMS).update(active=False)
    # The outside database's analytics come partly from a partner: the report must name that source (Art. 15(1)(g)).
    DataSystem.objects.filter(name=SQL).update(connector="sql", connector_config=SQL_CONFIG, source=SQL_SOURCE)
    DataSystem.objects.filter(name=HTTP).update(
        connector="http",
        connector_config={"url": mailing_system.url, "secret_env": SECRET_ENV, "identities": ["email", "customer_id"]},
    )
    DataSystem.objects.filter(name=MANUAL).update(owner=owner)
    return {system.name: system for system in DataSystem.objects.filter(name__in=SYSTEMS)}


@pytest.fixture
def workers(tmp_path, settings, live_server, crm_database):
    """Worker processes that see the test database, the outside CRM, the signing secret and the live server (the
    callback URL they send the API is on it); the portal's tasks go to their queue."""
    if not _services_available():
        if os.environ.get("DSAR_REQUIRE_SERVICES"):
            pytest.fail("DSAR_REQUIRE_SERVICES is set but DATABASE_URL/REDIS_URL do not point at PostgreSQL/Redis")
        pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL; .ci/run sets both")
    settings.PRIVATE_UPLOAD_DIR = tmp_path / "uploads"
    settings.DSAR_PUBLIC_URL = live_server.url
    pool = Workers(
        tmp_path,
        {"DSAR_PUBLIC_URL": live_server.url, "CRM_DATABASE_URL": crm_database[0], SECRET_ENV: SECRET},
    )
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = pool.queue
    try:
        yield pool
    finally:
        celery_app.conf.task_default_queue = "celery"
        pool.stop()


# --- What the archive should hold ----------------------------------------------------------------------------


def _json_value(value):
    """A source value as the archive's JSON writes it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return services._json_value(value)


def _csv_value(value) -> str:
    value = _json_value(value)
    return "" if value is None else str(value)


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _csv_rows(archive: zipfile.ZipFile, path: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(archive.read(path).decode())))


def _system_tables(archive: zipfile.ZipFile, system: str) -> dict[str, list[dict]]:
    return json.loads(archive.read(f"systems/{services._slug(system)}.json"))["tables"]


def _assert_table(archive: zipfile.ZipFile, system: str, table: str, columns: list[str], rows: list[tuple]) -> None:
    """The table's rows in the system's JSON and in its CSV are exactly ``rows`` (in any order)."""
    expected_json = sorted(
        (dict(zip(columns, (_json_value(value) for value in row), strict=True)) for row in rows), key=repr
    )
    assert sorted(_system_tables(archive, system)[table], key=repr) == expected_json, f"{system}/{table} (JSON)"
    found = _csv_rows(archive, f"systems/{services._slug(system)}/{services._slug(table)}.csv")
    assert found[0] == columns
    expected_csv = sorted([_csv_value(value) for value in row] for row in rows)
    assert sorted(found[1:]) == expected_csv, f"{system}/{table} (CSV)"


def _demo_rows(model, columns: list[str], **where) -> list[tuple]:
    return list(model.objects.filter(**where).values_list(*columns))


def _sql_rows(engine, query: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query), {"ref": "C-1001"})]


SQL_ORDERS = (
    "SELECT order_no, placed_on, total FROM sales_order JOIN customer ON customer.id = sales_order.customer_id "
    "WHERE customer_ref = :ref"
)


def _demo_columns(system: DataSystem, table: str) -> list[str]:
    return next(item["columns"] for item in system.connector_config["tables"] if item["name"] == table)


# --- The flow ------------------------------------------------------------------------------------------------


def _wait_for_job(request, system: str, *statuses: str, timeout: float = 60) -> SearchJob:
    jobs = SearchJob.objects.filter(request=request, system__name=system, status__in=statuses)
    assert _wait_for(jobs.exists, timeout=timeout), f"the {system} search did not reach {statuses}"
    return jobs.get()


def _complete_manual_task(client, request, owner) -> None:
    """The system owner, signed in with a second factor, uploads what the call recordings hold from the task page."""
    job = _wait_for_job(request, MANUAL, JobStatus.WAITING)
    client.force_login(owner)
    give_second_factor(client)
    path = reverse("fulfilment_tasks:task_detail", kwargs={"public_id": job.public_id})
    assert client.get(reverse("fulfilment_tasks:task_list")).content.decode().count(path) == 1
    response = client.post(
        path,
        {
            "action": "upload",
            "upload-files": [SimpleUploadedFile("calls.csv", CALLS_CSV.encode(), content_type="text/csv")],
            "upload-identifiers_used": ["email", "customer_id"],
            "upload-provided_or_observed": "on",
            "upload-note": "Searched the telephony system by e-mail and customer number",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()


def _approve(client, request, handler) -> Release:  # noqa: F811
    """A case handler approves the compiled answer behind a fresh second factor; a worker builds the release."""
    release = Release.objects.filter(request=request)
    assert _wait_for(release.exists, timeout=60), "the compiled answer did not go into review"
    client.force_login(handler)
    assert client.get(reverse("fulfilment:review", args=[request.reference])).status_code == 200
    approve = reverse("fulfilment:release_approve", args=[request.reference])
    assert "reauthenticate" in client.post(approve).url  # step-up first
    give_second_factor(client)
    assert client.post(approve).status_code == 302
    client.logout()
    available = release.filter(status=ReleaseStatus.AVAILABLE)
    assert _wait_for(available.exists, timeout=60), "the worker did not build the release"
    return available.get()


def _download(client, request, mail_dir: Path) -> bytes:
    """The person opens their status page, asks for a code, reads it in the e-mail the worker wrote, enters it and
    downloads the answer."""
    status_page = open_status_page(client, request)
    assert 'id="answer-ready"' in client.get(status_page).content.decode()
    client.post(reverse("delivery:code_send", args=[request.reference]))

    def code_email():
        if not mail_dir.exists():
            return None
        return next(
            (message for message in _sent_emails(mail_dir) if "code to download" in message["Subject"]),
            None,
        )

    assert _wait_for(lambda: code_email() is not None, timeout=60), "the worker did not send the download code"
    email = code_email()
    assert email["To"] == request.requester_email
    code = re.search(r"^\s+(\d{6})\s*$", email.get_content(), re.MULTILINE).group(1)
    response = client.post(reverse("delivery:code_enter", args=[request.reference]), {"code": code})
    assert response.status_code == 302, response.content.decode()[-3000:]
    response = client.get(reverse("delivery:download", args=[request.reference]))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def _assert_manifest(archive: zipfile.ZipFile) -> None:
    manifest = json.loads(archive.read("manifest.json"))
    listed = {item["path"]: item for item in manifest["files"]}
    assert set(listed) == set(archive.namelist()) - {"manifest.json"}
    for path, item in listed.items():
        data = archive.read(path)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (item["sha256"], item["bytes"]), path


def test_an_access_request_becomes_a_downloadable_archive_across_all_four_connector_kinds(
    client,
    workers,
    four_systems,
    crm_database,
    mailing_system,
    owner,
    handler,  # noqa: F811
):
    workers.start()
    request = alan_request()
    # The API got a signed search naming the identifiers (never the case reference), and a callback URL.
    # (It waits for the callback, which may have come already.)
    _wait_for_job(request, HTTP, JobStatus.WAITING, JobStatus.DONE)
    assert mailing_system.searches[0]["subject_request_type"] == "access"
    assert {item["identity_type"] for item in mailing_system.searches[0]["subject_identities"]} == {
        "email",
        "controller_customer_id",
    }
    _complete_manual_task(client, request, owner)
    compilation = Compilation.objects.filter(request=request, status=CompilationStatus.ASSEMBLED)
    assert _wait_for(compilation.exists, timeout=60), "the worker did not assemble the answer"
    compilation = compilation.get()
    assert {job.system.name: job.status for job in compilation.jobs.select_related("system")} == dict.fromkeys(
        SYSTEMS, JobStatus.DONE
    )
    assert 200 in mailing_system.callbacks
    release = _approve(client, request, handler)
    data = _download(client, request, workers.mail_dir)
    assert hashlib.sha256(data).hexdigest() == release.archive_sha256
    archive = _zip(data)

    # Every system's rows, in JSON and CSV, are the source's.
    billing = four_systems[DEMO]
    for table, model, where in (
        ("orders", Order, {"customer__customer_number": "C-1001"}),
        ("order_lines", OrderLine, {"order__customer__customer_number": "C-1001"}),
    ):
        columns = _demo_columns(billing, table)
        rows = _demo_rows(model, columns, **where)
        assert rows
        _assert_table(archive, DEMO, table, columns, rows)
    engine = crm_database[1]
    customer = "SELECT customer_ref, full_name, email_address, mobile FROM customer WHERE customer_ref = :ref"
    _assert_table(
        archive, SQL, "customers", ["customer_ref", "full_name", "email_address", "mobile"], _sql_rows(engine, customer)
    )
    _assert_table(archive, SQL, "orders", ["order_no", "placed_on", "total"], _sql_rows(engine, SQL_ORDERS))
    _assert_table(archive, SQL, "risk", ["score"], [(Decimal("0.250"),)])
    for table in HTTP_TABLES:
        _assert_table(archive, HTTP, table["name"], table["columns"], [tuple(row) for row in table["rows"]])
    _assert_table(
        archive,
        MANUAL,
        "calls",
        ["call_id", "started_at", "summary"],
        [("1", "2026-10-01 10:00", "Asked about, an invoice"), ("2", "2026-10-02 11:30", "Chat")],
    )

    # The report gives the supplementary information from the register for these systems, and no other's.
    report = archive.read("report.html").decode()
    disclosures = supplementary_information(four_systems.values())
    for disclosure in disclosures:
        assert escape(disclosure.name) in report
        assert escape(disclosure.retention) in report, disclosure.name
        for purpose in disclosure.purposes:
            assert escape(purpose.description) in report and escape(purpose.lawful_basis_label) in report
        for recipient in disclosure.recipients:
            assert escape(recipient.name) in report
        for transfer in disclosure.transfers:
            assert escape(f"{transfer.country} ({transfer.recipient_name}): {transfer.safeguard_label}") in report
        assert escape(disclosure.source) in report if disclosure.source else "From you." in report
    assert escape(SQL_SOURCE) in report
    # The register's entries used here cover every kind of information: transfers and a source among them.
    assert any(disclosure.transfers for disclosure in disclosures)
    assert any(disclosure.recipients for disclosure in disclosures)
    for other in DataSystem.objects.filter(active=False):
        assert escape(other.retention) not in report, other.name

    # The search record: one complete entry per system.
    record = json.loads(archive.read("search-record.json"))
    assert sorted(entry["system"] for entry in record) == sorted(SYSTEMS)
    jobs = {job.system.name: job for job in compilation.jobs.select_related("system")}
    for entry in record:
        job = jobs[entry["system"]]
        assert entry["searched"] is True
        assert entry["identifiers_used"], entry
        assert set(entry["identifiers_used"]) <= {"email", "customer_id", "phone"}
        assert entry["at"]
        assert entry["job"] == job.public_id
        assert entry["by"] == {MANUAL: "staff", HTTP: "system"}.get(entry["system"], "worker")
        assert sum(item["rows"] for item in entry["found"]) == entry["rows_found"] == job.rows_found > 0
    # The manifest's hashes are the files'.
    _assert_manifest(archive)

    # Every job, the assembly and the release build sent again: one archive, one release, nothing rebuilt.
    assembled_name, release_name = compilation.archive_name, release.archive_name
    again = [(tasks.run_search_job, job.pk) for job in compilation.jobs.all()]
    again += [(tasks.assemble_compilation, compilation.pk), (tasks.build_release, release.pk)]
    assert workers.run_again(again) == [JobStatus.DONE] * 4 + [CompilationStatus.ASSEMBLED, ReleaseStatus.AVAILABLE]
    compilation.refresh_from_db()
    release.refresh_from_db()
    assert (compilation.archive_name, release.archive_name) == (assembled_name, release_name)
    assert list(services.ARCHIVES.names()) == [assembled_name]
    assert list(releases.RELEASES.names()) == [release_name]
    assert Release.objects.filter(request=request).count() == 1


def test_a_portability_request_yields_only_provided_and_observed_data(
    client,
    workers,
    four_systems,
    crm_database,
    owner,
    handler,  # noqa: F811
):
    workers.start()
    request = alan_request(Right.PORTABILITY)
    compilation = Compilation.objects.filter(request=request)
    assert _wait_for(compilation.exists, timeout=60)
    compilation = compilation.get()
    assert compilation.portability
    searched = set(compilation.jobs.values_list("system__name", flat=True))
    applies = {name for name, system in four_systems.items() if services.portability_applies(system)}
    assert searched == applies and {DEMO, SQL, HTTP} <= searched
    if MANUAL in searched:
        _complete_manual_task(client, request, owner)
    assembled = Compilation.objects.filter(pk=compilation.pk, status=CompilationStatus.ASSEMBLED)
    assert _wait_for(assembled.exists, timeout=60), "the worker did not assemble the answer"
    release = _approve(client, request, handler)
    archive = _zip(releases.RELEASES.read_bytes(release.archive_name))
    dictionary = json.loads(archive.read("data-dictionary.json"))
    # Only tables of provided or observed data, each in JSON and CSV: the inferred risk score and segments are out.
    assert dictionary and all(item["provided_or_observed"] for item in dictionary)
    tables = {(item["system"], item["table"]) for item in dictionary}
    assert (SQL, "risk") not in tables and (HTTP, "segments") not in tables
    assert {(SQL, "customers"), (SQL, "orders"), (HTTP, "subscriptions"), (DEMO, "orders")} <= tables
    for item in dictionary:
        assert item["csv"] in archive.namelist()
        assert item["table"] in json.loads(archive.read(item["json"]))["tables"]
    _assert_table(archive, SQL, "orders", ["order_no", "placed_on", "total"], _sql_rows(crm_database[1], SQL_ORDERS))
    _assert_table(archive, HTTP, "subscriptions", HTTP_TABLES[0]["columns"], [tuple(r) for r in HTTP_TABLES[0]["rows"]])
    _assert_manifest(archive)


def test_a_worker_killed_mid_compilation_and_a_new_one_yield_exactly_one_archive(
    workers,
    register,  # noqa: F811
    settings,
    tmp_path,
):
    """The demo CRM's searches are held mid-run; the worker is killed (SIGKILL); a new worker starts; the sweep finds
    the running job past its timeout and queues it again; the new run (a new token) finishes it; one archive."""
    DataSystem.objects.exclude(connector="demo_app").update(active=False)
    gate = tmp_path / "gate"
    settings.FULFILMENT_RUNNING_TIMEOUT_SECONDS = 1
    settings.FULFILMENT_QUEUED_TIMEOUT_SECONDS = 1  # the messages the killed worker had taken are lost with it
    first = workers.start(E2E_GATE=str(gate), E2E_RUNNING_TIMEOUT_SECONDS="1")
    request = alan_request()
    assert _wait_for(Path(f"{gate}.started").exists, timeout=60), "no search started"
    held = SearchJob.objects.filter(request=request, status=JobStatus.RUNNING)
    assert _wait_for(held.exists, timeout=10)
    held = held.get()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    gate.touch()
    workers.start(E2E_GATE=str(gate), E2E_RUNNING_TIMEOUT_SECONDS="1")
    time.sleep(1.2)  # past the running timeout
    swept = tasks.sweep_search_jobs()  # the periodic sweep, run here rather than by beat
    assert swept["requeued"] >= 1
    assembled = Compilation.objects.filter(request=request, status=CompilationStatus.ASSEMBLED)
    assert _wait_for(assembled.exists, timeout=60), "the new worker did not finish the answer"
    compilation = Compilation.objects.get(request=request)
    assert {job.status for job in compilation.jobs.all()} == {JobStatus.DONE}
    taken_over = SearchJob.objects.get(pk=held.pk)
    assert taken_over.run_token != held.run_token and taken_over.attempts == held.attempts + 1
    assert taken_over.worker.startswith("e2e-1@")
    # Its parts are those of the second run alone, and no file lies about that no row names; one archive.
    assert taken_over.parts.count() == len(taken_over.system.connector_config["tables"])
    named = SearchPart.objects.values_list("json_name", "csv_name")
    assert set(services.PARTS.names()) == {name for pair in named for name in pair}
    assert list(services.ARCHIVES.names()) == [compilation.archive_name]
    assert Compilation.objects.filter(request=request).count() == 1
