"""The request lifecycle table (requests_app.workflow): allowed moves, refused moves, and the audit trail.

A request is put into its starting status directly in the database (that is
the set-up, not the thing under test); every move is then made through
``workflow.transition``, the only code that changes a request's status.
"""

import itertools

import pytest

from requests_app.models import DataSubjectRequest, EventKind, RequestEvent, Status
from requests_app.workflow import (
    EXTENDABLE_STATUSES,
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    IllegalTransition,
    can_transition,
    transition,
)
from tests.factories import StaffUserFactory, submitted_request

pytestmark = pytest.mark.django_db

ALLOWED = sorted((str(frm), str(to)) for frm, targets in TRANSITIONS.items() for to in targets)
REFUSED = sorted(
    (frm, to)
    for frm, to in itertools.permutations(Status.values, 2)  # every ordered pair of two different statuses
    if (frm, to) not in ALLOWED
)


def _request_in(status: str) -> DataSubjectRequest:
    request = submitted_request()
    DataSubjectRequest.objects.filter(pk=request.pk).update(status=status)
    request.refresh_from_db()
    return request


def _status_changes(request: DataSubjectRequest):
    return RequestEvent.objects.filter(request=request, kind=EventKind.STATUS_CHANGED)


def test_the_table_covers_every_status_and_the_pairs_split_cleanly():
    """Every status has a row; the allowed and refused pairs together are all 8 x 7 moves."""
    assert set(TRANSITIONS) == set(Status.values)
    assert len(ALLOWED) + len(REFUSED) == len(Status.values) * (len(Status.values) - 1)
    # Withdrawn and closed-unconfirmed are final: nothing leaves them.
    assert TRANSITIONS[Status.WITHDRAWN] == frozenset()
    assert TRANSITIONS[Status.CLOSED_UNCONFIRMED] == frozenset()
    assert OPEN_STATUSES.isdisjoint(TERMINAL_STATUSES)
    assert EXTENDABLE_STATUSES <= OPEN_STATUSES


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_every_move_in_the_table_is_made_and_recorded(from_status, to_status):
    """An allowed move changes the stored status and writes one STATUS_CHANGED event."""
    request = _request_in(from_status)

    result = transition(request, to_status, actor_kind="system", reason="test move")

    assert result.changed
    assert request.status == to_status  # the caller's instance is refreshed
    request.refresh_from_db()
    assert request.status == to_status
    assert _status_changes(request).count() == 1
    assert can_transition(from_status, to_status)


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_every_move_not_in_the_table_is_refused_and_changes_nothing(from_status, to_status):
    """A move the table does not list raises IllegalTransition; the status and audit trail are untouched."""
    request = _request_in(from_status)
    events_before = RequestEvent.objects.filter(request=request).count()

    with pytest.raises(IllegalTransition) as raised:
        transition(request, to_status, actor_kind="system")

    assert (raised.value.from_status, raised.value.to_status) == (from_status, to_status)
    request.refresh_from_db()
    assert request.status == from_status
    assert RequestEvent.objects.filter(request=request).count() == events_before
    assert not can_transition(from_status, to_status)


def test_an_illegal_move_is_judged_on_the_stored_status_not_a_stale_copy():
    """Two handlers with the same page open: the second move is checked against what is stored now."""
    request = _request_in(Status.IN_PROGRESS)
    stale_copy = DataSubjectRequest.objects.get(pk=request.pk)
    transition(request, Status.WITHDRAWN, actor_kind="requester")

    with pytest.raises(IllegalTransition):
        transition(stale_copy, Status.COMPLETED, actor_kind="staff")
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN


@pytest.mark.parametrize("status", Status.values)
def test_moving_to_the_current_status_is_a_no_op_with_no_event(status):
    """Repeating a move (a double click, a retried task) changes nothing and records nothing."""
    request = _request_in(status)
    closed_at_before = request.closed_at
    events_before = RequestEvent.objects.filter(request=request).count()

    result = transition(request, status, actor_kind="system", reason="again")

    assert not result.changed
    assert result.event is None
    request.refresh_from_db()
    assert request.status == status
    assert request.closed_at == closed_at_before
    assert RequestEvent.objects.filter(request=request).count() == events_before


def test_a_staff_move_records_from_to_who_and_why():
    """The audit trail names the previous and new status, the member of staff and their reason."""
    handler = StaffUserFactory()
    request = _request_in(Status.IN_PROGRESS)

    result = transition(
        request, Status.AWAITING_CLARIFICATION, actor=handler, actor_kind="staff", reason="Which account?"
    )

    event = RequestEvent.objects.get(pk=result.event.pk)
    assert event.kind == EventKind.STATUS_CHANGED
    assert event.from_status == Status.IN_PROGRESS
    assert event.to_status == Status.AWAITING_CLARIFICATION
    assert event.actor == handler
    assert event.actor_kind == "staff"
    assert event.reason == "Which account?"


def test_a_move_by_the_requester_or_system_records_the_kind_of_actor_without_a_user():
    request = _request_in(Status.AWAITING_EMAIL_CONFIRMATION)

    transition(request, Status.WITHDRAWN, actor_kind="requester", reason="Changed my mind")

    event = _status_changes(request).get()
    assert (event.from_status, event.to_status) == (Status.AWAITING_EMAIL_CONFIRMATION, Status.WITHDRAWN)
    assert event.actor is None
    assert event.actor_kind == "requester"
    assert event.reason == "Changed my mind"


def test_each_move_in_a_sequence_writes_its_own_event_in_order():
    request = _request_in(Status.AWAITING_IDENTITY_VERIFICATION)
    for to_status in (Status.IN_PROGRESS, Status.AWAITING_CLARIFICATION, Status.IN_PROGRESS, Status.COMPLETED):
        transition(request, to_status, actor_kind="staff")

    moves = list(_status_changes(request).order_by("created_at", "pk").values_list("from_status", "to_status"))
    assert moves == [
        (Status.AWAITING_IDENTITY_VERIFICATION, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.AWAITING_CLARIFICATION),
        (Status.AWAITING_CLARIFICATION, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.COMPLETED),
    ]


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(frm, to) for frm, to in ALLOWED if to in TERMINAL_STATUSES],
)
def test_ending_a_request_sets_closed_at(from_status, to_status):
    """Completed, refused, withdrawn and closed-unconfirmed requests carry the moment they ended."""
    request = _request_in(from_status)
    assert request.closed_at is None

    transition(request, to_status, actor_kind="system")

    request.refresh_from_db()
    assert request.closed_at is not None
    assert not request.is_open


@pytest.mark.parametrize("ended", [Status.COMPLETED, Status.REFUSED])
def test_reopening_an_ended_request_clears_closed_at(ended):
    """A completed or refused request can be reopened; it is then open again with no closing time."""
    request = _request_in(Status.IN_PROGRESS)
    transition(request, ended, actor_kind="staff")
    request.refresh_from_db()
    assert request.closed_at is not None

    transition(request, Status.IN_PROGRESS, actor_kind="staff", reason="Complaint showed the answer was incomplete")

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.closed_at is None
    assert request.is_open


@pytest.mark.parametrize("final", [Status.WITHDRAWN, Status.CLOSED_UNCONFIRMED])
def test_withdrawn_and_closed_unconfirmed_requests_cannot_be_reopened(final):
    request = _request_in(final)
    with pytest.raises(IllegalTransition):
        transition(request, Status.IN_PROGRESS, actor_kind="staff")


def test_the_queues_partial_index_covers_exactly_the_open_statuses():
    """The staff queue's index (requests_app.models.OPEN_STATUS_VALUES) must hold every open request and no other,
    or the queue would miss requests or PostgreSQL would not use it."""
    from requests_app.models import OPEN_STATUS_VALUES
    from requests_app.workflow import OPEN_STATUSES

    assert set(OPEN_STATUS_VALUES) == set(OPEN_STATUSES)


def test_the_extension_notice_index_covers_exactly_the_extendable_statuses():
    """The "extension notice due" filter's partial index (requests_app.models.EXTENDABLE_STATUS_VALUES) must state
    the statuses in which an extension may be notified (GDPR Art. 12(3)), or PostgreSQL would not use it."""
    from requests_app.models import EXTENDABLE_STATUS_VALUES
    from requests_app.workflow import EXTENDABLE_STATUSES

    assert set(EXTENDABLE_STATUS_VALUES) == set(EXTENDABLE_STATUSES)
