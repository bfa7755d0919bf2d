"""Rectification decisions (GDPR Art. 16): corrections only in the columns the register allows, encrypted at rest,
the supplementary statement passed to the systems, and restriction while the accuracy is checked (Art. 18(1)(a))."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from changes import rectifications, services
from changes.models import ChangeRun, RunStatus
from changes.models_decisions import RectificationCorrection, RectificationDecision, Restriction, RestrictionStatus
from changes.rectifications import Correction
from datasystems.connectors.changes import ChangeKind
from requests_app.models import EventKind, RefusalGround, RequestEvent, Right, Status
from requests_app.scope import RectificationScope
from tests.factories import give_second_factor, in_progress_request

from .conftest import EMAIL, system

pytestmark = pytest.mark.django_db

SHOP_CONFIG = {
    "tables": [
        {"name": "customers", "rectifiable": ["name", "phone"], "restriction": {"column": "restricted"}},
        {"name": "orders"},
    ]
}


@pytest.fixture
def shop(fake_connector):
    shop = system("Shop", "fake", SHOP_CONFIG)
    fake_connector.seed("customers", EMAIL, 2)
    return shop


def rectification(**scope) -> object:
    details = RectificationScope(wrong="My name is misspelt", **scope).as_details()
    return in_progress_request(right=Right.RECTIFICATION, details=details, email=EMAIL)


def test_only_the_columns_the_register_allows_can_be_corrected(shop, handler):
    request = rectification(correct="Ada King")
    assert rectifications.column_choices(shop) == [
        ("customers.name", "customers.name"),
        ("customers.phone", "customers.phone"),
    ]
    for table, column in (("customers", "email"), ("orders", "name")):
        with pytest.raises(rectifications.RectificationError, match="rectifiable columns"):
            rectifications.rectification_decide(
                request=request,
                actor=handler,
                outcome="corrected",
                corrections=[Correction(system=shop, table=table, column=column, value="Ada King")],
            )
    assert not RectificationDecision.objects.exists()


def test_a_manual_system_gets_its_owner_an_instruction(paper, handler):
    request = rectification()
    with pytest.raises(rectifications.RectificationError, match="owner"):
        rectifications.rectification_decide(
            request=request, actor=handler, outcome="corrected", corrections=[Correction(system=paper, value="x")]
        )
    decision = rectifications.rectification_decide(
        request=request,
        actor=handler,
        outcome="corrected",
        corrections=[Correction(system=paper, instruction="Correct the surname on the paper file to King.")],
    )
    assert decision.run.payload["instructions"] == {str(paper.pk): "Correct the surname on the paper file to King."}
    assert list(decision.run.jobs.values_list("system__name", flat=True)) == ["Paper files"]


def test_the_correction_is_encrypted_at_rest_and_carried_out_after_approval(
    shop, handler, fake_connector, django_capture_on_commit_callbacks
):
    request = rectification(correct="Ada King")
    decision = rectifications.rectification_decide(
        request=request,
        actor=handler,
        outcome="corrected",
        corrections=[Correction(system=shop, table="customers", column="name", value="Ada King")],
    )
    correction = RectificationCorrection.objects.get()
    assert correction.value == "Ada King"
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM changes_rectificationcorrection WHERE id = %s", [correction.pk])
        assert "Ada King" not in cursor.fetchone()[0]
    run = decision.run
    assert run.kind == ChangeKind.RECTIFY
    assert run.payload["systems"] == {str(shop.pk): {"customers": {"name": "Ada King"}}}
    # A destructive change: the engine's approval first.
    assert run.status == RunStatus.AWAITING_APPROVAL
    event = RequestEvent.objects.get(request=request, kind=EventKind.RECTIFICATION_DECIDED)
    assert "Ada King" not in event.reason
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=run, actor=handler)
    request.refresh_from_db()
    assert ChangeRun.objects.get(pk=run.pk).status == RunStatus.DONE
    assert request.status == Status.COMPLETED


def test_the_supplementary_statement_is_passed_on_to_the_systems(shop, handler):
    request = rectification(supplementary_statement="I moved house in May 2026; the old address is no longer mine.")
    with pytest.raises(rectifications.RectificationError, match="systems"):
        rectifications.rectification_decide(request=request, actor=handler, outcome="statement_added")
    decision = rectifications.rectification_decide(
        request=request, actor=handler, outcome="statement_added", systems=[shop]
    )
    instruction = services.instruction_for(decision.run, shop)
    assert instruction.supplementary_statement == "I moved house in May 2026; the old address is no longer mine."


def test_data_found_accurate_is_a_refusal_with_the_statement_recorded(handler):
    request = rectification()
    with pytest.raises(rectifications.RectificationError):
        rectifications.rectification_decide(request=request, actor=handler, outcome="data_accurate", note="Checked.")
    assert not RectificationDecision.objects.exists()
    rectifications.rectification_decide(
        request=request,
        actor=handler,
        outcome="data_accurate",
        note="We checked the spelling against your signed contract.",
        statement_recorded="Your statement is attached to your customer record.",
    )
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert request.refusal_ground == RefusalGround.RECTIFICATION_DATA_ACCURATE


def test_restriction_while_checking_starts_at_once_and_is_announced_for_lifting_on_the_decision(
    shop, handler, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = rectification(correct="Ada King", restrict_while_checking=True)
    restriction = Restriction.objects.get(request=request)
    assert restriction.grounds == ["accuracy_contested"]
    assert restriction.restrict_run.status == RunStatus.AWAITING_APPROVAL  # started by the portal: staff approve
    assert rectifications.restrict_while_checking(request_id=request.pk) is None  # once
    with django_capture_on_commit_callbacks(execute=True):
        services.change_run_approve(run=restriction.restrict_run, actor=handler)
    restriction.refresh_from_db()
    assert restriction.status == RestrictionStatus.IN_FORCE
    rectifications.rectification_decide(
        request=request,
        actor=handler,
        outcome="corrected",
        corrections=[Correction(system=shop, table="customers", column="name", value="Ada King")],
    )
    restriction.refresh_from_db()
    assert restriction.status == RestrictionStatus.LIFT_NOTIFIED
    assert restriction.lift_on == timezone.localdate() + timedelta(days=settings.DSAR_RESTRICTION_LIFT_NOTICE_DAYS)


def test_the_case_page_offers_only_rectifiable_columns_and_records_the_decision(shop, paper, handler, client):
    request = rectification(correct="Ada King")
    client.force_login(handler)
    give_second_factor(client)
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "Shop: customers.name" in page and "Shop: customers.phone" in page
    assert "Shop: orders" not in page and "Paper files: a task for its owner" in page
    data = {
        "rectification-outcome": "corrected",
        "correction-TOTAL_FORMS": "3",
        "correction-INITIAL_FORMS": "0",
        "correction-0-target": f"{shop.pk}|customers|phone",
        "correction-0-value": "",
    }
    response = client.post(reverse("decisions:rectification_decide", args=[request.reference]), data)
    assert response.status_code == 400 and "Give the corrected value" in response.content.decode()
    data["correction-0-value"] = "+44 20 7946 0000"
    response = client.post(reverse("decisions:rectification_decide", args=[request.reference]), data)
    assert response.status_code == 302
    assert RectificationCorrection.objects.get().column == "phone"
