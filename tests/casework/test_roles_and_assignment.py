"""The staff roles, who sees which request, and assigning requests (issue 11)."""

import pytest
from django.contrib.auth.models import Group

from casework import roles, selectors, services
from casework.models import Assignment
from requests_app.models import EventKind
from tests.factories import StaffUserFactory, in_progress_request

pytestmark = pytest.mark.django_db


def test_roles_are_created_once_and_set_back_when_changed(staff_roles):
    """Running the roles twice changes nothing; a permission added by hand to a role is taken back."""
    handler_group = Group.objects.get(name=roles.CASE_HANDLER)
    extra = Group.objects.get(name=roles.DPO).permissions.get(codename="view_all_requests")
    handler_group.permissions.add(extra)
    roles.roles_ensure()
    roles.roles_ensure()
    assert (
        Group.objects.filter(name__in=[roles.DPO, roles.CASE_HANDLER, roles.AUDITOR, roles.SYSTEM_OWNER]).count() == 4
    )
    assert not handler_group.permissions.filter(codename="view_all_requests").exists()


def test_each_role_has_what_issue_11_gives_it(dpo, handler, auditor, system_owner):
    assert dpo.has_perm("casework.view_all_requests") and dpo.has_perm("auth.change_group")
    assert handler.has_perm("casework.view_staff_area") and not handler.has_perm("casework.view_all_requests")
    assert auditor.has_perm("casework.view_all_requests") and auditor.has_perm("requests_app.view_requestevent")
    assert not auditor.has_perm("identity.view_evidence"), "an auditor never sees identity evidence"
    assert not auditor.has_perm("casework.assign_request")
    assert not system_owner.has_perm("casework.view_staff_area")


def test_a_case_handler_sees_unassigned_requests_and_their_own_never_a_colleagues(dpo, handler, other_handler):
    unassigned = in_progress_request(email="one@example.com")
    mine = in_progress_request(email="two@example.com")
    theirs = in_progress_request(email="three@example.com")
    services.request_assign(request=mine, assignee=handler, actor=dpo)
    services.request_assign(request=theirs, assignee=other_handler, actor=dpo)
    assert set(selectors.requests_visible_to(handler)) == {unassigned, mine}
    assert set(selectors.requests_visible_to(dpo)) == {unassigned, mine, theirs}


def test_staff_without_a_role_and_non_staff_see_nothing(staff_roles, system_owner):
    in_progress_request()
    assert not selectors.requests_visible_to(system_owner).exists()
    assert not selectors.requests_visible_to(StaffUserFactory(username="no-role")).exists()
    member = StaffUserFactory(username="not-staff", is_staff=False)
    member.groups.add(Group.objects.get(name=roles.DPO))
    assert not selectors.requests_visible_to(member).exists()


def test_assigning_is_recorded_in_the_trail_once(dpo, handler):
    """Who assigned the request to whom is in its audit trail; assigning it again to the same person adds nothing."""
    request = in_progress_request()
    assert services.request_assign(request=request, assignee=handler, actor=dpo) is True
    assert services.request_assign(request=request, assignee=handler, actor=dpo) is False
    assignment = Assignment.objects.get(request=request)
    assert (assignment.assignee, assignment.assigned_by) == (handler, dpo)
    events = request.events.filter(kind=EventKind.ASSIGNED)
    assert events.count() == 1
    assert events.get().actor == dpo and "handler-a" in events.get().reason


def test_requests_go_only_to_staff_who_may_work_the_queue(dpo, auditor, system_owner):
    request = in_progress_request()
    with pytest.raises(services.AssignmentError):
        services.request_assign(request=request, assignee=system_owner, actor=dpo)
    with pytest.raises(PermissionError):
        services.request_assign(request=request, assignee=dpo, actor=auditor)
    assert not Assignment.objects.exists()


def test_a_case_handler_cannot_take_a_colleagues_request(dpo, handler, other_handler):
    request = in_progress_request()
    services.request_assign(request=request, assignee=other_handler, actor=dpo)
    with pytest.raises(PermissionError):
        services.request_assign(request=request, assignee=handler, actor=handler)
    assert Assignment.objects.get(request=request).assignee == other_handler


def test_bulk_assign_gives_every_chosen_request_to_one_person(dpo, handler):
    requests = [in_progress_request(email=f"p{n}@example.com") for n in range(3)]
    assert services.requests_assign(requests=requests, assignee=handler, actor=dpo) == 3
    assert Assignment.objects.filter(assignee=handler).count() == 3


def test_reassigning_moves_the_request_between_the_queues_assignee_filters(dpo, handler, other_handler):
    """The queue's "assigned to" and "no one yet" filters read the request's own assignee, which every assignment
    keeps (a colleague who took it over sees it; the first assignee no longer does)."""
    from casework.forms import UNASSIGNED, QueueFilterForm

    request = in_progress_request()
    today = request.received_on

    def filtered(assignee: str) -> set:
        form = QueueFilterForm({"assignee": assignee})
        return set(form.apply(selectors.queue_requests(dpo), user=dpo, today=today))

    assert filtered(UNASSIGNED) == {request}
    services.request_assign(request=request, assignee=handler, actor=dpo)
    assert filtered(str(handler.pk)) == {request} and filtered(UNASSIGNED) == set()
    services.request_assign(request=request, assignee=other_handler, actor=dpo)
    assert filtered(str(handler.pk)) == set() and filtered(str(other_handler.pk)) == {request}
    assert set(selectors.requests_visible_to(handler)) == set()


def test_the_cached_list_of_assignable_staff_follows_role_changes_at_once(dpo, handler, staff_roles):
    """The assignee selects read a cached list of staff (selectors.assignable_staff_choices); a colleague given the
    case handler role is offered at once, and one whose role is taken away no longer is."""
    from casework.forms import AssignForm

    def offered() -> set[str]:
        return {label for _value, label in AssignForm().fields["assignee"].choices}

    assert "handler-a" in offered()
    newcomer = StaffUserFactory(username="newcomer")
    assert "newcomer" not in offered()
    newcomer.groups.add(Group.objects.get(name=roles.CASE_HANDLER))
    assert "newcomer" in offered()
    handler.groups.clear()
    assert "handler-a" not in offered()
    newcomer.is_active = False
    newcomer.save()
    assert "newcomer" not in offered()
    # Sent with someone no longer offered (a page opened before the change): a message, not a 500.
    form = AssignForm({"assignee": str(newcomer.pk)})
    assert not form.is_valid() and "assignee" in form.errors
