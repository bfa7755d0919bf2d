"""Objections (GDPR Art. 21): direct marketing stopped at once with its time to suppression measured; the others
weighed by the DPO with recorded reasons, restriction offered while they are (Art. 18(1)(d))."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from changes import objections, restrictions, services
from changes.models import ChangeRun, RunStatus
from changes.models_decisions import ObjectionDecision, Restriction, RestrictionStatus
from datasystems.connectors.changes import ChangeKind
from requests_app.models import EventKind, MarketingSuppression, RefusalGround, RequestEvent, Right, Status
from requests_app.scope import ObjectionScope, ObjectionType
from tests.factories import give_second_factor, in_progress_objection, in_progress_request

from .conftest import EMAIL

pytestmark = pytest.mark.django_db

COMPELLING = (
    "Fraud screening of every order protects all our customers and the payment network; the screening keeps only the "
    "order's risk score for ninety days, so the effect on the person is small and outweighed."
)


def test_a_marketing_objection_is_suppressed_at_once_and_completes_the_request(
    crm, fake_connector, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = in_progress_objection(email=EMAIL)
    request.refresh_from_db()
    run = ChangeRun.objects.get(request=request, kind=ChangeKind.SUPPRESS_MARKETING)
    # No approval, no pause: started at once and done in every system that markets.
    assert run.approved_by is None and run.status == RunStatus.DONE
    assert request.status == Status.COMPLETED
    # Time to suppression runs to the last system done.
    assert request.suppressed_at == run.jobs.get().finished_at
    assert MarketingSuppression.objects.filter(source_request_id=request.pk).exists()
    assert request.messages.filter(kind="completion").exists()
    timing = objections.suppression_timing(request)
    assert timing.met is True and timing.working_days == 0


def test_a_suppression_that_reached_no_system_is_left_for_staff_to_check_and_complete(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = in_progress_objection(email=EMAIL)
    run = ChangeRun.objects.get(request=request, kind=ChangeKind.SUPPRESS_MARKETING)
    assert run.status == RunStatus.DONE and not run.jobs.exists()
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS and request.suppressed_at is None


def test_time_to_suppression_beyond_the_next_working_day_is_shown_as_missed(crm):
    # Received on Thursday 5 November 2026; the target is Friday 6 November (the next working day in England).
    request = in_progress_objection(email=EMAIL, received_on=date(2026, 11, 5))
    request.refresh_from_db()
    request.suppressed_at = timezone.make_aware(timezone.datetime(2026, 11, 9, 10, 0))
    timing = objections.suppression_timing(request)
    assert timing.target_on == date(2026, 11, 6)
    assert timing.met is False and timing.working_days == 2


def test_a_suppression_started_by_the_sweep_completes_the_request_too(crm, django_capture_on_commit_callbacks):
    request = in_progress_objection(email=EMAIL)  # callbacks not run: as if the broker was away
    assert not ChangeRun.objects.filter(request=request).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.jobs_sweep()
    request.refresh_from_db()
    assert request.status == Status.COMPLETED and request.suppressed_at is not None


@pytest.fixture
def objection(db):
    scope = ObjectionScope(type=ObjectionType.LEGITIMATE_INTERESTS, processing="Fraud scoring", grounds="I am harmed")
    return in_progress_request(right=Right.OBJECTION, details=scope.as_details(), email=EMAIL)


def test_only_the_dpo_decides_an_objection(objection, handler, client):
    with pytest.raises(objections.ObjectionError, match="data protection officer"):
        objections.objection_decide(request=objection, actor=handler, outcome="compelling_grounds", reasons=COMPELLING)
    client.force_login(handler)
    give_second_factor(client)
    response = client.post(
        reverse("decisions:objection_decide", args=[objection.reference]),
        {"objection-outcome": "compelling_grounds", "objection-reasons": COMPELLING},
    )
    assert response.status_code == 403
    assert not ObjectionDecision.objects.exists()


def test_not_stopping_needs_a_substantive_reason_and_refuses_on_that_ground(objection, dpo, client):
    with pytest.raises(objections.ObjectionError, match="burden is on us"):
        objections.objection_decide(
            request=objection, actor=dpo, outcome="compelling_grounds", reasons="Business need."
        )
    # Through the page: the error, and what was typed kept.
    client.force_login(dpo)
    give_second_factor(client)
    response = client.post(
        reverse("decisions:objection_decide", args=[objection.reference]),
        {"objection-outcome": "compelling_grounds", "objection-reasons": "Business need."},
    )
    assert response.status_code == 400
    assert "burden is on us" in response.content.decode() and "Business need." in response.content.decode()
    response = client.post(
        reverse("decisions:objection_decide", args=[objection.reference]),
        {"objection-outcome": "compelling_grounds", "objection-reasons": COMPELLING},
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == Status.REFUSED
    assert objection.refusal_ground == RefusalGround.OBJECTION_COMPELLING_GROUNDS
    decision = ObjectionDecision.objects.get(request=objection)
    assert (decision.decided_by, decision.reasons) == (dpo, COMPELLING)
    assert RequestEvent.objects.filter(request=objection, kind=EventKind.OBJECTION_DECIDED).exists()


def test_a_research_objection_is_refused_only_as_necessary_for_a_public_task(dpo, db):
    scope = ObjectionScope(type=ObjectionType.RESEARCH_STATISTICS, processing="Survey", grounds="My situation")
    request = in_progress_request(right=Right.OBJECTION, details=scope.as_details(), email=EMAIL)
    with pytest.raises(objections.ObjectionError, match="not one the law gives"):
        objections.objection_decide(request=request, actor=dpo, outcome="compelling_grounds", reasons=COMPELLING)
    objections.objection_decide(request=request, actor=dpo, outcome="public_interest_research", reasons=COMPELLING)
    request.refresh_from_db()
    assert request.refusal_ground == RefusalGround.OBJECTION_PUBLIC_INTEREST_RESEARCH


def test_restriction_is_offered_while_assessed_and_announced_for_lifting_when_refused(
    crm, objection, handler, dpo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        restriction = objections.objection_restriction_offer(request=objection, actor=handler)
    restriction.refresh_from_db()
    assert restriction.grounds == ["objection_pending"]
    assert restriction.restrict_run.kind == ChangeKind.RESTRICT
    assert restriction.status == RestrictionStatus.IN_FORCE
    with pytest.raises(objections.ObjectionError):
        objections.objection_restriction_offer(request=objection, actor=handler)
    decision = objections.objection_decide(request=objection, actor=dpo, outcome="legal_claims", reasons=COMPELLING)
    restriction.refresh_from_db()
    # Linked to the decision it waited for, and the person told before it is lifted (Art. 18(3)).
    assert restriction.objection_decision == decision
    assert restriction.status == RestrictionStatus.LIFT_NOTIFIED
    assert restriction.lift_notice.kind == "restriction_lift"
    with pytest.raises(restrictions.RestrictionError):
        restrictions.restriction_lift(restriction=restriction, actor=dpo)


def test_an_upheld_objection_stops_the_processing_in_the_systems_and_completes(
    crm, objection, dpo, django_capture_on_commit_callbacks
):
    with pytest.raises(objections.ObjectionError, match="which processing stops"):
        objections.objection_decide(request=objection, actor=dpo, outcome="upheld", reasons="Her interests prevail.")
    with django_capture_on_commit_callbacks(execute=True):
        decision = objections.objection_decide(
            request=objection,
            actor=dpo,
            outcome="upheld",
            reasons="Her interests prevail.",
            purposes="Fraud scoring",
            systems=[crm],
            stop_with=ChangeKind.RESTRICT,
        )
    decision.refresh_from_db()
    assert decision.run.kind == ChangeKind.RESTRICT and decision.run.status == RunStatus.DONE
    objection.refresh_from_db()
    assert objection.status == Status.COMPLETED
    assert not Restriction.objects.exists()  # a stop, not an Art. 18 restriction
