"""Planning a change per kind, and who approves it (GDPR Art. 17, 18, 21(3); Art. 5(2), 24)."""

import pytest

from casework import roles
from changes import services
from changes.models import ChangeJob, ChangeJobStatus, ChangeRun, RunStatus
from datasystems.connectors.changes import ChangeKind
from requests_app.models import EventKind, RequestEvent

from .conftest import member, system

pytestmark = pytest.mark.django_db


def test_an_erasure_is_planned_in_every_active_system_and_waits_for_approval(
    crm, paper, erasure_request, handler, fake_connector, django_capture_on_commit_callbacks
):
    system("Old ledger", "fake", {}, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    assert run.status == RunStatus.AWAITING_APPROVAL
    assert sorted(run.jobs.values_list("system__name", flat=True)) == ["CRM", "Paper files"]
    # customers 12 deleted + invoices 3 anonymised; the complaint kept is not counted.
    assert run.rows_estimate == 15
    assert ChangeJob.objects.filter(run=run, status=ChangeJobStatus.QUEUED).count() == 2
    assert RequestEvent.objects.filter(request=erasure_request, kind=EventKind.CHANGE_RUN_STATUS_CHANGED).exists()
    # Nothing changed before approval.
    assert all(row["state"] == "live" for rows in fake_connector.rows.values() for row in rows)
    again = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    assert again.pk == run.pk


def test_restriction_reaches_systems_with_a_rule_or_a_manual_connector(crm, paper, erasure_request, handler):
    system("Web analytics", "fake", {"tables": [{"name": "visits"}]})
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.RESTRICT, actor=handler)
    assert sorted(run.jobs.values_list("system__name", flat=True)) == ["CRM", "Paper files"]


def test_marketing_reaches_systems_with_a_marketing_purpose_or_rule_and_starts_at_once(
    crm, paper, erasure_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.change_run_start(request=erasure_request, kind=ChangeKind.SUPPRESS_MARKETING, actor=None)
    run.refresh_from_db()
    assert list(run.jobs.values_list("system__name", flat=True)) == ["CRM"]
    assert run.approved_by is None
    assert run.status == RunStatus.DONE
    assert run.finished_at == run.jobs.get().finished_at


def test_rectification_reaches_the_systems_named_in_the_decision(crm, paper, erasure_request, handler):
    payload = {"systems": {str(crm.pk): {"customers": {"name": "Ada King"}}}, "statement": ""}
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.RECTIFY, actor=handler, payload=payload)
    assert list(run.jobs.values_list("system__name", flat=True)) == ["CRM"]
    assert ChangeRun.objects.get(pk=run.pk).payload == payload


def test_the_case_handler_approves_and_the_jobs_start(
    crm, paper, erasure_request, handler, django_capture_on_commit_callbacks
):
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=run, actor=handler)
    run.refresh_from_db()
    assert run.approved_by == handler
    assert run.status == RunStatus.RUNNING  # the paper files wait for their owner
    assert run.jobs.get(system=crm).status == ChangeJobStatus.DONE
    assert run.jobs.get(system=paper).status == ChangeJobStatus.WAITING
    with pytest.raises(services.ChangeError):
        services.change_run_approve(run=run, actor=handler)


def test_above_the_threshold_a_different_dpo_approves_as_well(
    crm, erasure_request, handler, dpo, settings, staff_roles
):
    settings.DSAR_CHANGE_DPO_APPROVAL_ROWS = 10
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    services.change_run_approve(run=run, actor=handler)
    assert run.status == RunStatus.AWAITING_APPROVAL and run.approved_by == handler
    with pytest.raises(services.ChangeError, match="already"):
        services.change_run_approve(run=run, actor=handler)
    second_handler = member(roles.CASE_HANDLER, "second.handler")
    with pytest.raises(services.ChangeError, match="DPO"):
        services.change_run_approve(run=run, actor=second_handler)
    services.change_run_approve(run=run, actor=dpo)
    run.refresh_from_db()
    assert run.dpo_approved_by == dpo
    assert run.status in (RunStatus.RUNNING, RunStatus.DONE)


def test_a_dpo_cannot_give_both_approvals(crm, erasure_request, dpo, settings):
    settings.DSAR_CHANGE_DPO_APPROVAL_ROWS = 10
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=dpo)
    services.change_run_approve(run=run, actor=dpo)
    with pytest.raises(services.ChangeError):
        services.change_run_approve(run=run, actor=dpo)
    assert run.status == RunStatus.AWAITING_APPROVAL


def test_restriction_needs_only_the_case_handler_even_when_large(crm, erasure_request, handler, settings):
    settings.DSAR_CHANGE_DPO_APPROVAL_ROWS = 1
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.RESTRICT, actor=handler)
    services.change_run_approve(run=run, actor=handler)
    assert run.status != RunStatus.AWAITING_APPROVAL


def test_someone_without_the_permission_cannot_approve(crm, erasure_request, handler, owner):
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with pytest.raises(services.ChangeError):
        services.change_run_approve(run=run, actor=owner)
