"""Restriction of processing (GDPR Art. 18): in force once the systems are flagged, exceptions logged (Art. 18(2)),
and lifted only after the Art. 18(3) notice, on or after the day it gives."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import roles
from changes import restrictions
from changes.models import ChangeRun, RunStatus
from changes.models_decisions import ExceptionGround, Restriction, RestrictionException, RestrictionStatus
from datasystems.connectors.changes import ChangeKind
from requests_app.models import EventKind, MessageKind, RequestEvent, Right, Status
from requests_app.scope import RestrictionGround, RestrictionScope
from tests.factories import give_second_factor, in_progress_request

from .conftest import EMAIL, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def restriction_request(db):
    scope = RestrictionScope(grounds=(RestrictionGround.LEGAL_CLAIMS,), data="My order history")
    return in_progress_request(right=Right.RESTRICTION, details=scope.as_details(), email=EMAIL)


@pytest.fixture
def in_force(crm, restriction_request, handler, django_capture_on_commit_callbacks):
    """A restriction started by the case handler: the CRM flags the rows, the run ends, the restriction is in force."""
    with django_capture_on_commit_callbacks(execute=True):
        restriction = restrictions.restriction_start(
            request=restriction_request, grounds=["legal_claims"], scope="Order history", actor=handler
        )
    restriction.refresh_from_db()
    return restriction


def test_a_restriction_is_in_force_once_its_run_flagged_the_systems(in_force, fake_connector):
    assert in_force.status == RestrictionStatus.IN_FORCE
    assert in_force.started_on == timezone.localdate()
    assert in_force.restrict_run.kind == ChangeKind.RESTRICT
    assert in_force.restrict_run.status == RunStatus.DONE
    assert list(in_force.restrict_run.jobs.values_list("system__name", flat=True)) == ["CRM"]
    assert {row["state"] for row in fake_connector.rows["customers"] if row["email"] == EMAIL} == {"flag"}
    # The restriction request is answered: the data is only stored now.
    in_force.request.refresh_from_db()
    assert in_force.request.status == Status.COMPLETED
    moves = RequestEvent.objects.filter(request=in_force.request, kind=EventKind.RESTRICTION_STATUS_CHANGED)
    assert list(moves.values_list("to_status", flat=True)) == ["", "in_force"]


def test_a_restriction_needs_a_ground_of_article_18_1(restriction_request, handler):
    with pytest.raises(restrictions.RestrictionError):
        restrictions.restriction_start(request=restriction_request, grounds=[], scope="", actor=handler)
    with pytest.raises(restrictions.RestrictionError):
        restrictions.restriction_start(request=restriction_request, grounds=["because"], scope="", actor=handler)
    assert not Restriction.objects.exists()


def test_lifting_is_blocked_until_the_person_was_sent_the_notice(in_force, handler):
    with pytest.raises(restrictions.RestrictionError, match="Art. 18\\(3\\)"):
        restrictions.restriction_lift(
            restriction=in_force, actor=handler, today=timezone.localdate() + timedelta(days=30)
        )
    assert restrictions.restrictions_lift_due(today=timezone.localdate() + timedelta(days=30)) == 0
    in_force.refresh_from_db()
    assert in_force.lift_run is None
    assert not ChangeRun.objects.filter(kind=ChangeKind.LIFT_RESTRICTION).exists()


def test_the_notice_tells_the_person_what_when_and_why_and_must_come_before_the_day(in_force, handler):
    today = timezone.localdate()
    with pytest.raises(restrictions.RestrictionError):
        restrictions.restriction_lift_notify(restriction=in_force, lift_on=today, reason="Claim settled", actor=handler)
    with pytest.raises(restrictions.RestrictionError):
        restrictions.restriction_lift_notify(
            restriction=in_force, lift_on=today + timedelta(days=3), reason=" ", actor=handler
        )
    restrictions.restriction_lift_notify(
        restriction=in_force, lift_on=today + timedelta(days=3), reason="Your legal claim was settled.", actor=handler
    )
    in_force.refresh_from_db()
    assert in_force.status == RestrictionStatus.LIFT_NOTIFIED
    notice = in_force.lift_notice
    assert notice.kind == MessageKind.RESTRICTION_LIFT
    assert "Order history" in notice.body
    assert "Your legal claim was settled." in notice.body
    assert (today + timedelta(days=3)).strftime("%B") in notice.body


def test_staff_cannot_lift_before_the_day_the_notice_gives(in_force, handler, client):
    today = timezone.localdate()
    restrictions.restriction_lift_notify(
        restriction=in_force, lift_on=today + timedelta(days=3), reason="Claim settled.", actor=handler
    )
    with pytest.raises(restrictions.RestrictionError, match="cannot be lifted before"):
        restrictions.restriction_lift(restriction=in_force, actor=handler, today=today + timedelta(days=2))
    assert restrictions.restrictions_lift_due(today=today + timedelta(days=2)) == 0
    # Nor through the case page.
    client.force_login(handler)
    give_second_factor(client)
    url = reverse("decisions:restriction_lift", args=[in_force.request.reference, in_force.pk])
    response = client.post(url, follow=True)
    assert "cannot be lifted before" in response.content.decode()
    in_force.refresh_from_db()
    assert in_force.lift_run is None and in_force.status == RestrictionStatus.LIFT_NOTIFIED


def test_the_scheduled_task_lifts_on_the_notified_day_once(
    in_force, handler, fake_connector, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    restrictions.restriction_lift_notify(
        restriction=in_force, lift_on=today + timedelta(days=3), reason="Claim settled.", actor=handler
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert restrictions.restrictions_lift_due(today=today + timedelta(days=3)) == 1
    in_force.refresh_from_db()
    assert in_force.status == RestrictionStatus.LIFTED
    assert in_force.lift_run.kind == ChangeKind.LIFT_RESTRICTION
    # Approved with the notice, by the one who sent it.
    assert in_force.lift_run.approved_by == handler
    assert restrictions.restrictions_lift_due(today=today + timedelta(days=4)) == 0
    assert ChangeRun.objects.filter(kind=ChangeKind.LIFT_RESTRICTION).count() == 1


def test_exceptions_are_logged_with_their_ground_and_listed(in_force, handler, client):
    today = timezone.localdate()
    with pytest.raises(restrictions.RestrictionError):
        restrictions.restriction_exception_log(
            restriction=in_force,
            ground="convenience",
            processing="Mailing",
            used_by="Sales",
            used_on=today,
            note="",
            actor=handler,
        )
    restrictions.restriction_exception_log(
        restriction=in_force,
        ground=ExceptionGround.LEGAL_CLAIMS,
        processing="Order history sent to our solicitors",
        used_by="Legal team",
        used_on=today,
        note="Claim 2026/14",
        actor=handler,
    )
    exception = RestrictionException.objects.get()
    assert (exception.ground, exception.used_by, exception.recorded_by) == ("legal_claims", "Legal team", handler)
    assert RequestEvent.objects.filter(request=in_force.request, kind=EventKind.RESTRICTION_EXCEPTION).count() == 1
    # The case page lists it, and logs another through its form.
    client.force_login(handler)
    give_second_factor(client)
    page = client.get(reverse("casework:request_detail", args=[in_force.request.reference])).content.decode()
    assert "Order history sent to our solicitors" in page
    response = client.post(
        reverse("decisions:restriction_exception", args=[in_force.request.reference, in_force.pk]),
        {
            f"restriction-{in_force.pk}-exception-{name}": value
            for name, value in {
                "ground": "consent",
                "processing": "Shared with the courier",
                "used_by": "Dispatch",
                "used_on": today.isoformat(),
            }.items()
        },
    )
    assert response.status_code == 302
    assert RestrictionException.objects.count() == 2


def test_an_auditor_reads_the_panel_but_cannot_act(in_force, staff_roles, client):
    auditor = member(roles.AUDITOR, "auditor")
    client.force_login(auditor)
    give_second_factor(client)
    page = client.get(reverse("casework:request_detail", args=[in_force.request.reference]))
    assert page.status_code == 200 and "Restriction of processing" in page.content.decode()
    response = client.post(
        reverse("decisions:restriction_notice", args=[in_force.request.reference, in_force.pk]),
        {"lift_on": "2099-01-01", "reason": "x"},
    )
    assert response.status_code == 403
