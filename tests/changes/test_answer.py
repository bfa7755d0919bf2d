"""The erasure's answer to the person (GDPR Art. 12(3)-(4), 17), the tombstone and reapplying an erasure after a
backup restore, and the marketing objection carried out at once (Art. 21(3))."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from changes import answer, selectors, services
from changes.models import ChangeRun, ErasureTombstone, RunStatus
from datasystems.connectors.changes import ChangeKind
from requests_app import services as request_services
from requests_app.models import MarketingSuppression, Outcome, Right, Status
from requests_app.scope import ErasureScope
from tests.factories import in_progress_objection, in_progress_request

from .conftest import EMAIL, system

pytestmark = pytest.mark.django_db


@pytest.fixture
def erased(crm, erasure_request, handler, django_capture_on_commit_callbacks):
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=run, actor=handler)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    return run


def test_the_answer_lists_what_was_erased_what_was_kept_and_why(
    erased, erasure_request, handler, django_capture_on_commit_callbacks
):
    result = answer.erasure_answer(erased)
    assert [(line.table, line.rows) for line in result.erased] == [("customers", 12)]
    assert [(line.table, line.ground) for line in result.kept] == [
        ("invoices", "erasure_legal_obligation"),
        ("complaints", "erasure_legal_claims"),
    ]
    assert result.beyond_use[0].roll_off_on == timezone.localdate() + timedelta(days=35)
    answer.publication_steps_record(run=erased, actor=handler, steps="Asked the two press sites to remove the post.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = answer.erasure_answer_send(run=erased, actor=handler)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED and request.outcome == Outcome.PARTLY_FULFILLED
    parts = request.decision_statement["parts"]
    assert [part["ground"] for part in parts] == ["erasure_legal_obligation", "erasure_legal_claims"]
    assert parts[1]["why"] == "A claim about this order is open."
    body = mail.outbox[-1].body
    assert "CRM: customers" in body and "press sites" in body and "backups" in body


def test_everything_erased_is_fulfilled(crm, erasure_request, handler, django_capture_on_commit_callbacks):
    crm.connector_config = {"tables": [{"name": "customers"}]}
    crm.save()
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=run, actor=handler)
    run.refresh_from_db()
    request = answer.erasure_answer_send(run=run, actor=handler)
    assert request.outcome == Outcome.FULFILLED


def test_no_answer_before_every_system_is_done(crm, paper, erasure_request, handler):
    run = services.change_run_start(request=erasure_request, kind=ChangeKind.ERASE, actor=handler)
    with pytest.raises(services.ChangeError, match="not done"):
        answer.erasure_answer_send(run=run, actor=handler)


def test_article_17_2_steps_need_words(erased, handler):
    with pytest.raises(services.ChangeError):
        answer.publication_steps_record(run=erased, actor=handler, steps="  ")


def test_an_erasure_leaves_a_tombstone_of_keyed_hashes_and_reapplies_after_a_restore(erased, fake_connector, crm):
    tombstone = ErasureTombstone.objects.get(run_id=erased.pk)
    assert tombstone.system_ids == [crm.pk]
    assert EMAIL not in str(tombstone.hashes)
    assert tombstone.hashes["email"] == services.keyed_hash(EMAIL)
    # A backup restore brings two of Ada's customer rows back.
    fake_connector.seed("customers", EMAIL, 2)
    call_command("erasure_reapply", "--system", "CRM")
    assert all(row["state"] != "live" for row in fake_connector.rows["customers"] if row["email"] == EMAIL)
    assert all(row["state"] == "live" for row in fake_connector.rows["customers"] if row["email"] != EMAIL)
    tombstone.refresh_from_db()
    assert tombstone.reapplications[-1]["rows"] == 2
    # Run again: nothing left to erase.
    assert services.erasure_reapply().rows == 0


def test_a_restore_names_the_http_system_its_owner_must_erase_again_and_still_erases_the_others(
    erased, fake_connector, crm, settings, capsys
):
    """An HTTP system cannot be searched by keyed hashes: the command says so instead of failing half-way."""
    settings.DSAR_CONNECTORS = {**settings.DSAR_CONNECTORS, "http": "tests.changes.fakes.PendingHttpConnector"}
    desk = system("Ticket desk", "http", {"url": "http://127.0.0.1:9/dsar", "secret_env": "DESK_WEBHOOK_SECRET"})
    ErasureTombstone.objects.filter(run_id=erased.pk).update(system_ids=[desk.pk, crm.pk])
    fake_connector.seed("customers", EMAIL, 2)
    call_command("erasure_reapply")
    assert all(row["state"] != "live" for row in fake_connector.rows["customers"] if row["email"] == EMAIL)
    assert "Ticket desk: cannot be searched by the erasures' keyed hashes" in capsys.readouterr().err
    assert services.erasure_reapply().for_owners == ["Ticket desk"]


def test_an_objection_to_direct_marketing_is_carried_out_at_once_without_approval(
    crm, paper, fake_connector, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = in_progress_objection(email=EMAIL)
    run = ChangeRun.objects.get(request=request, kind=ChangeKind.SUPPRESS_MARKETING)
    assert run.status == RunStatus.DONE and run.approved_by is None
    assert run.finished_at is not None
    assert selectors.time_to_suppression(request.pk) == run.finished_at - request.received_at
    assert [item.table for item in run.jobs.get().items.all()] == ["customers"]
    # Started once: a second start of the same objection starts nothing (the decisions completed it meanwhile,
    # changes.objections.marketing_run_finished).
    services.marketing_suppress(request_id=request.pk)
    assert ChangeRun.objects.filter(request=request, kind=ChangeKind.SUPPRESS_MARKETING).count() == 1


def test_an_erasure_never_removes_the_marketing_suppression_entry(crm, handler, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        objection = in_progress_objection(email=EMAIL)
    request_services.request_complete(request=objection, actor=handler, outcome=Outcome.FULFILLED)
    assert MarketingSuppression.objects.count() == 1
    erasure = in_progress_request(right=Right.ERASURE, details=ErasureScope().as_details(), email=EMAIL)
    run = services.change_run_start(request=erasure, kind=ChangeKind.ERASE, actor=handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=run, actor=handler)
    assert MarketingSuppression.objects.count() == 1
