"""Compiling the answer (issue 12): planned on the request core's event, one job per data system, idempotent jobs,
the sweep, retries on transient errors, and an archive assembled once with a manifest that matches its files."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from datasystems.connectors.base import ConnectorTemporaryError
from datasystems.connectors.demo_app import DemoAppConnector
from datasystems.models import DataSystem
from democrm.models import Customer, Order
from fulfilment import services, tasks
from fulfilment.models import Compilation, CompilationStatus, JobStatus, SearchJob, SearchPart, SearchRecord
from requests_app.models import EventKind, Right
from tests.factories import in_progress_request

from .conftest import AUTOMATED, alan_request

# Transactions commit as in production: the domain event and the enqueueing happen after the commit.
pytestmark = pytest.mark.django_db(transaction=True)


def _archive(compilation: Compilation) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(services.ARCHIVES.read_bytes(compilation.archive_name)))


def test_a_verified_access_request_in_progress_plans_one_job_per_active_system_and_waits_for_manual_ones(register):
    request = alan_request()
    compilation = Compilation.objects.get(request=request)
    jobs = {job.system.name: job for job in compilation.jobs.select_related("system")}
    assert set(jobs) == set(DataSystem.objects.filter(active=True).values_list("name", flat=True))
    automated = [job for job in jobs.values() if job.connector in AUTOMATED]
    manual = [job for job in jobs.values() if job.connector not in AUTOMATED]
    assert automated and manual
    # The workers ran every automated search (eager here); nothing was faked for the manual systems.
    assert all(job.status == JobStatus.DONE for job in automated)
    assert all(job.status == JobStatus.WAITING for job in manual)
    for job in manual:
        record = SearchRecord.objects.get(job=job)
        assert not record.searched
        assert record.reason == "Not searched yet: waiting for the manual connector task."
    # The answer waits for them.
    assert compilation.status == CompilationStatus.RUNNING and not compilation.archive_name
    crm = jobs["Customer relationship management (CRM)"]
    record = SearchRecord.objects.get(job=crm)
    assert record.searched and set(record.identifiers_used) <= {"email", "customer_id", "phone"}
    assert {"table": "customers", "rows": 1} in record.found
    # Identifier names only, never values, in the record and the trail.
    assert "alan@demo.example" not in json.dumps(record.identifiers_used) + record.reason
    kinds = set(request.events.values_list("kind", flat=True))
    assert {EventKind.COMPILATION_STATUS_CHANGED, EventKind.SEARCH_STATUS_CHANGED} <= kinds


def test_no_plan_for_other_rights_or_requests_not_in_progress(register):
    erasure = in_progress_request(right=Right.ERASURE, details={})
    assert not Compilation.objects.filter(request=erasure).exists()
    request = alan_request()
    # Planning again (a repeated event) keeps the one live compilation.
    assert services.compilation_plan(request_id=request.pk) == Compilation.objects.get(request=request)
    assert Compilation.objects.filter(request=request).count() == 1


def test_the_archive_is_assembled_once_with_data_supplementary_information_and_matching_hashes(automated_register):
    request = alan_request()
    compilation = Compilation.objects.get(request=request)
    assert compilation.status == CompilationStatus.ASSEMBLED
    archive = _archive(compilation)
    names = archive.namelist()
    assert names[-1] == "manifest.json"
    assert {"report.html", "data-dictionary.json", "search-record.json"} <= set(names)
    # The manifest's hashes match every file, and the database keeps the same manifest.
    manifest = json.loads(archive.read("manifest.json"))
    assert [item["path"] for item in manifest["files"]] == names[:-1]
    for item in manifest["files"]:
        assert hashlib.sha256(archive.read(item["path"])).hexdigest() == item["sha256"]
    assert compilation.manifest[:-1] == manifest["files"]
    assert compilation.manifest[-1]["sha256"] == hashlib.sha256(archive.read("manifest.json")).hexdigest()
    whole = services.ARCHIVES.read_bytes(compilation.archive_name)
    assert hashlib.sha256(whole).hexdigest() == compilation.archive_sha256
    # The data matches the demo CRM: Alan's orders, as CSV and in the system's JSON.
    alan = Customer.objects.get(customer_number="C-1001")
    orders_csv = next(name for name in names if name.endswith("/orders.csv"))
    rows = list(csv.reader(io.StringIO(archive.read(orders_csv).decode())))
    assert sorted(row[0] for row in rows[1:]) == sorted(
        Order.objects.filter(customer=alan).values_list("order_number", flat=True)
    )
    billing = json.loads(archive.read(orders_csv.rsplit("/", 1)[0] + ".json"))
    assert len(billing["tables"]["orders"]) == len(rows) - 1
    assert billing["tables"]["orders"][0].keys() == set(rows[0])
    customers_csv = next(name for name in names if name.endswith("/customers.csv"))
    assert "alan@demo.example" in archive.read(customers_csv).decode()
    # Supplementary information from the register, for the systems where data was found (Art. 15(1)(a)-(h), 15(2)).
    report = archive.read("report.html").decode()
    assert "Mailwise Inc." in report and "United States" in report
    assert "Information Commissioner" in report
    assert f"<td>{orders_csv}</td>" in report  # the report names the file each table is in
    dictionary = json.loads(archive.read("data-dictionary.json"))
    assert {entry["table"] for entry in dictionary} >= {"customers", "orders", "events"}
    assert all(entry["columns"] for entry in dictionary)
    # A second assembly, and running a job again, change nothing: one archive.
    name = compilation.archive_name
    assert tasks.assemble_compilation(compilation.pk) == CompilationStatus.ASSEMBLED
    for job in compilation.jobs.all():
        assert tasks.run_search_job(job.pk) == JobStatus.DONE
    compilation.refresh_from_db()
    assert compilation.archive_name == name
    assert list(services.ARCHIVES.names()) == [name]
    assert SearchRecord.objects.filter(compilation=compilation).count() == compilation.jobs.count()


def test_a_portability_answer_holds_only_provided_and_observed_data_from_systems_where_it_applies(automated_register):
    request = alan_request(Right.PORTABILITY)
    compilation = Compilation.objects.get(request=request)
    assert compilation.portability and compilation.status == CompilationStatus.ASSEMBLED
    tables = set(SearchPart.objects.filter(job__compilation=compilation).values_list("table", flat=True))
    assert "insights" not in tables and "customers" in tables
    for system in DataSystem.objects.filter(active=True):
        if not services.portability_applies(system):
            record = SearchRecord.objects.get(compilation=compilation, system=system)
            assert not record.searched and "Art. 20(1)" in record.reason
            assert not SearchJob.objects.filter(compilation=compilation, system=system).exists()


def test_a_transient_error_puts_the_job_back_and_the_task_retries_until_it_succeeds(automated_register):
    with mock.patch.object(services, "_enqueue_job"):  # the jobs are run by hand below
        request = alan_request()
    compilation = Compilation.objects.get(request=request)
    real_search = DemoAppConnector.search
    calls = {"n": 0}

    def flaky(self, identifiers):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectorTemporaryError("The system did not answer in time.")
        return real_search(self, identifiers)

    first, *others = compilation.jobs.order_by("pk")
    with mock.patch.object(DemoAppConnector, "search", flaky):
        # Celery retries the task (autoretry_for ConnectorTemporaryError, with backoff); run inline here.
        tasks.run_search_job.apply(args=(first.pk,), throw=False)
    first.refresh_from_db()
    assert first.status == JobStatus.DONE and first.attempts == 2 and first.last_error == ""
    reasons = list(request.events.filter(kind=EventKind.SEARCH_STATUS_CHANGED).values_list("reason", flat=True))
    assert any("will retry (The system did not answer in time.)" in reason for reason in reasons)
    for job in others:
        tasks.run_search_job.apply(args=(job.pk,))
    compilation.refresh_from_db()
    assert compilation.status == CompilationStatus.ASSEMBLED


def test_a_job_that_keeps_failing_fails_for_staff_after_the_attempts_allowed(automated_register, settings):
    settings.FULFILMENT_MAX_ATTEMPTS = 2

    def down(self, identifiers):
        raise ConnectorTemporaryError("The system refused the connection.")

    with mock.patch.object(services, "_enqueue_job"):
        request = alan_request()
    compilation = Compilation.objects.get(request=request)
    with mock.patch.object(DemoAppConnector, "search", down):
        for job in compilation.jobs.all():
            tasks.run_search_job.apply(args=(job.pk,), throw=False)
    compilation.refresh_from_db()
    assert {job.status for job in compilation.jobs.all()} == {JobStatus.FAILED}
    assert {job.attempts for job in compilation.jobs.all()} == {2}
    assert {job.last_error for job in compilation.jobs.all()} == {"The system refused the connection."}
    assert compilation.status == CompilationStatus.RUNNING and not compilation.archive_name
    assert SearchRecord.objects.filter(compilation=compilation, reason__startswith="The search failed").exists()


def test_the_sweep_picks_up_a_lost_job_and_then_assembles(automated_register):
    with mock.patch.object(services, "_enqueue_job"):  # the broker lost every message
        request = alan_request()
    compilation = Compilation.objects.get(request=request)
    assert {job.status for job in compilation.jobs.all()} == {JobStatus.QUEUED}
    # Not yet past the timeout: nothing happens.
    assert services.jobs_sweep().requeued == 0
    # A worker was killed mid-run: its job stays running in the database.
    killed = compilation.jobs.first()
    SearchJob.objects.filter(pk=killed.pk).update(status=JobStatus.RUNNING, started_at=timezone.now())
    assert services.jobs_sweep().requeued == 0
    # An hour later: the messages are presumed lost, the worker dead.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    compilation.jobs.update(enqueued_at=an_hour_ago)
    SearchJob.objects.filter(pk=killed.pk).update(started_at=an_hour_ago)
    result = services.jobs_sweep()
    assert result.requeued == compilation.jobs.count()
    compilation.refresh_from_db()
    assert compilation.status == CompilationStatus.ASSEMBLED
    assert {job.status for job in compilation.jobs.all()} == {JobStatus.DONE}
    assert list(services.ARCHIVES.names()) == [compilation.archive_name]


def test_a_redelivered_job_still_running_elsewhere_is_left_to_that_run(automated_register):
    with mock.patch.object(services, "_enqueue_job"):
        request = alan_request()
    job = Compilation.objects.get(request=request).jobs.first()
    SearchJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=timezone.now(), run_token="x")
    assert services.job_run(job_id=job.pk) == JobStatus.RUNNING
    job.refresh_from_db()
    assert job.run_token == "x" and not job.parts.exists()


def test_a_request_whose_planning_never_reached_the_broker_is_planned_by_the_sweep(automated_register):
    with mock.patch.object(tasks.plan_compilation, "delay", side_effect=ConnectionError("broker away")):
        request = alan_request()  # the move stands: the broker's absence is not the person's problem
    assert not Compilation.objects.filter(request=request).exists()
    result = services.jobs_sweep()
    assert result.planned == 1
    assert Compilation.objects.get(request=request).status == CompilationStatus.ASSEMBLED
    assert services.jobs_sweep().planned == 0


def test_retrying_a_search_that_is_done_is_refused_with_a_message(client, automated_register, handler):
    request = alan_request()
    job = Compilation.objects.get(request=request).jobs.first()
    client.force_login(handler)
    response = client.post(f"/staff/requests/{request.reference}/searches/{job.pk}/retry/", follow=True)
    assert "This search is no longer failed" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE


def test_two_compilations_can_never_be_live_for_one_request(register):
    from django.db import IntegrityError, transaction

    request = alan_request()  # waits for the manual systems: live
    assert Compilation.objects.get(request=request).status == CompilationStatus.RUNNING
    with pytest.raises(IntegrityError), transaction.atomic():
        Compilation.objects.create(request=request, attempt=2)
