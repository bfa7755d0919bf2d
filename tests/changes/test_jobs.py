"""Running a change job: set-based batches, the checkpoint saved after each, a crashed worker's job resumed by the
sweep with every row changed exactly once, a superseded run stopping, retry (issue 13's reliability)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from changes import services
from changes.models import ChangeItem, ChangeJob, ChangeJobStatus, ChangeRun, RunStatus
from changes.signals import change_run_finished
from datasystems.connectors.changes import ChangeKind, ChangeSuperseded
from datasystems.models import DataSystem
from requests_app.lifecycle import IllegalTransition

from .fakes import Crash

pytestmark = pytest.mark.django_db


def _approved_erasure(request, handler, capture):
    run = services.change_run_start(request=request, kind=ChangeKind.ERASE, actor=handler)
    with capture(execute=True):
        services.change_run_approve(run=run, actor=handler)
    run.refresh_from_db()
    return run


def test_an_erasure_runs_in_batches_and_records_each_table(
    crm, erasure_request, handler, fake_connector, django_capture_on_commit_callbacks
):
    run = _approved_erasure(erasure_request, handler, django_capture_on_commit_callbacks)
    job = run.jobs.get()
    assert job.status == ChangeJobStatus.DONE
    # 12 customers in batches of 5 (3 batches), 3 invoices (1 batch).
    assert (job.rows_changed, job.batches) == (15, 4)
    assert run.status == RunStatus.DONE
    items = {item.table: item for item in job.items.all()}
    assert (items["customers"].action, items["customers"].rows) == ("delete", 12)
    assert (items["invoices"].action, items["invoices"].ground) == ("anonymise", "erasure_legal_obligation")
    assert (items["complaints"].action, items["complaints"].reason) == ("keep", "A claim about this order is open.")
    assert items["backups"].action == "beyond_use"
    assert items["backups"].roll_off_on == timezone.localdate() + timedelta(days=35)
    # The other person's rows were not touched.
    assert all(row["state"] == "live" for row in fake_connector.rows["customers"] if row["email"] != "ada@example.com")


def test_a_killed_worker_is_resumed_by_the_sweep_from_its_checkpoint_every_row_once(
    crm, erasure_request, handler, fake_connector, django_capture_on_commit_callbacks
):
    fake_connector.crash_after_batches = 2
    with pytest.raises(Crash):
        _approved_erasure(erasure_request, handler, django_capture_on_commit_callbacks)
    job = ChangeJob.objects.get(run__request=erasure_request)
    assert job.status == ChangeJobStatus.RUNNING
    assert (job.rows_changed, job.batches, job.checkpoint) == (10, 2, {"customers": 9})
    first_token = job.run_token
    # Not yet presumed lost: the sweep leaves it.
    assert services.jobs_sweep().requeued == 0
    ChangeJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.jobs_sweep().requeued == 1
    job.refresh_from_db()
    assert job.status == ChangeJobStatus.DONE
    assert job.run_token != first_token and job.attempts == 2
    assert (job.rows_changed, job.batches) == (15, 4)
    mine = [row for table in ("customers", "invoices") for row in fake_connector.rows[table]]
    assert all(row.get("changes") == 1 for row in mine if row["email"] == "ada@example.com")
    assert ChangeItem.objects.get(job=job, table="customers").rows == 12
    assert job.run.status == RunStatus.DONE


def test_a_run_whose_job_was_taken_over_stops_at_its_next_batch(crm, erasure_request, handler):
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    ChangeJob.objects.filter(run=run).update(status=ChangeJobStatus.RUNNING, run_token="new-owner")
    ChangeRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    job = run.jobs.get()
    progress = services.DbProgress(job.pk, "old-owner", {})
    with pytest.raises(ChangeSuperseded):
        progress.batch_done({"customers": 4}, table="customers", rows=5)
    job.refresh_from_db()
    assert (job.rows_changed, job.batches, job.checkpoint) == (0, 0, {})


def test_the_batch_being_written_is_saved_before_its_commit_and_only_by_the_run_that_owns_the_job(
    crm, erasure_request, handler
):
    """GDPR Art. 5(2): the batch a connector is about to commit is saved first (its key range and rows), so a run
    resumed after a crash can tell whether it was committed and count it once; a superseded run saves nothing."""
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    ChangeJob.objects.filter(run=run).update(status=ChangeJobStatus.RUNNING, run_token="owner")
    job = run.jobs.get()
    writing = {"table": "customers", "after": 4, "writing": {"table": "customers", "after": 4, "last": 9, "rows": 5}}
    with pytest.raises(ChangeSuperseded):
        services.DbProgress(job.pk, "old-owner", {}).batch_begin(writing)
    job.refresh_from_db()
    assert job.checkpoint == {}
    progress = services.DbProgress(job.pk, "owner", {})
    progress.batch_begin(writing)
    job.refresh_from_db()
    assert job.checkpoint == writing == progress.checkpoint
    assert (job.rows_changed, job.batches) == (0, 0)  # nothing is counted before the batch is done
    progress.batch_done({"table": "customers", "after": 9}, table="customers", rows=5)
    job.refresh_from_db()
    assert job.checkpoint == {"table": "customers", "after": 9} and (job.rows_changed, job.batches) == (5, 1)


def test_a_failed_change_is_retried_by_staff_and_the_run_finishes(
    crm, erasure_request, handler, django_capture_on_commit_callbacks
):
    DataSystem.objects.filter(pk=crm.pk).update(connector_config={"tables": [{"name": "x", "erasure": "bad"}]})
    run = _approved_erasure(erasure_request, handler, django_capture_on_commit_callbacks)
    job = run.jobs.get()
    assert job.status == ChangeJobStatus.FAILED and "must be an object" in job.last_error
    assert run.status == RunStatus.FAILED
    DataSystem.objects.filter(pk=crm.pk).update(connector_config={"tables": [{"name": "customers"}]})
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_retry(job=job, actor=handler) is True
    job.refresh_from_db()
    run.refresh_from_db()
    assert job.status == ChangeJobStatus.DONE and run.status == RunStatus.DONE
    with pytest.raises(IllegalTransition):  # a finished change is never run again
        services.job_retry(job=job, actor=handler)


def test_the_run_finished_signal_goes_out_once_when_the_run_ends(
    crm, erasure_request, handler, django_capture_on_commit_callbacks
):
    heard = []

    def receiver(sender, run_id, kind, status, **kwargs):
        heard.append((run_id, kind, status))

    change_run_finished.connect(receiver)
    try:
        run = _approved_erasure(erasure_request, handler, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            services.jobs_sweep()
    finally:
        change_run_finished.disconnect(receiver)
    assert heard == [(run.pk, "erase", "done")]


def test_recipients_are_told_of_a_finished_erasure_for_the_systems_changed(
    crm, erasure_request, handler, monkeypatch, django_capture_on_commit_callbacks
):
    asked = []
    monkeypatch.setattr(services, "notices_plan", lambda **kwargs: asked.append(kwargs) or [])
    run = _approved_erasure(erasure_request, handler, django_capture_on_commit_callbacks)
    assert asked == [{"request_id": erasure_request.pk, "system_ids": [crm.pk], "change_kind": "erase", "actor": None}]
    assert run.status == RunStatus.DONE


def test_a_marketing_suppression_tells_no_recipients(
    crm, erasure_request, monkeypatch, django_capture_on_commit_callbacks
):
    asked = []
    monkeypatch.setattr(services, "notices_plan", lambda **kwargs: asked.append(kwargs) or [])
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_start(request=erasure_request, kind=ChangeKind.SUPPRESS_MARKETING, actor=None)
    assert asked == []


def test_the_sweep_fails_an_http_change_whose_callback_never_came(
    crm, erasure_request, handler, fake_connector, django_capture_on_commit_callbacks
):
    fake_connector.pending = True
    run = _approved_erasure(erasure_request, handler, django_capture_on_commit_callbacks)
    job = run.jobs.get()
    assert job.status == ChangeJobStatus.WAITING and job.callback_token == "token-1"
    ChangeJob.objects.filter(pk=job.pk).update(connector="http", started_at=timezone.now() - timedelta(days=4))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.jobs_sweep().callbacks_failed == 1
    job.refresh_from_db()
    run.refresh_from_db()
    assert job.status == ChangeJobStatus.FAILED and job.callback_token == ""
    assert run.status == RunStatus.FAILED


def test_an_erasure_that_removes_the_persons_identifiers_waits_until_every_other_system_has_finished(
    crm, erasure_request, handler, fake_connector, django_capture_on_commit_callbacks
):
    """Art. 17(1) in every system: the CRM's own customer record (found by its own e-mail column, deleted by the
    erasure) is what the billing system finds the person through, so the CRM goes last."""
    from .conftest import system

    crm.connector_config = {"tables": [{**CRM_CONFIG_OWN, **table} for table in crm.connector_config["tables"][:1]]}
    crm.save()
    billing = system("Billing", "fake", {"tables": [{"name": "invoices", "match": {"email": "customer__email"}}]})
    assert services.removes_identifiers(crm) and not services.removes_identifiers(billing)

    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with django_capture_on_commit_callbacks(execute=False):
        services.change_run_approve(run=run, actor=handler)
    held = run.jobs.get(system=crm)
    assert (held.status, held.enqueued_at) == (ChangeJobStatus.QUEUED, None)

    with django_capture_on_commit_callbacks(execute=True):
        services.run_check(run_id=run.pk)  # nothing to release while the billing system's job is unfinished
        services.job_run(job_id=run.jobs.get(system=billing).pk)
    crm_job, billing_job = run.jobs.get(system=crm), run.jobs.get(system=billing)
    assert crm_job.status == billing_job.status == ChangeJobStatus.DONE
    assert billing_job.finished_at <= crm_job.started_at
    run.refresh_from_db()
    assert run.status == RunStatus.DONE


CRM_CONFIG_OWN = {"match": {"email": "email"}}
