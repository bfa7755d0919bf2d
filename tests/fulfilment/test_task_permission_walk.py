"""Every /staff/tasks/ page (manual search tasks, issue 12), as each role and as an anonymous visitor.

Like the casework and register walks, it resolves every URL pattern of the tasks' namespace, so a page added later
must be given its expectations here; a pattern the walk does not know fails the test.
"""

import secrets

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, get_resolver, reverse

from casework import roles
from casework import services as casework_services
from datasystems.models import DataSystem
from fulfilment.models import Compilation, JobStatus, SearchJob
from requests_app.models import Right
from tests.factories import StaffUserFactory, in_progress_request

pytestmark = pytest.mark.django_db

VISITORS = ("anonymous", "dpo", "handler", "other_handler", "auditor", "owner", "other_owner", "staff_without_role")

# visitor: (task list, the owner's task, the other owner's task) with GET.
GET_EXPECTED = {
    "anonymous": ("login", "login", "login"),
    "dpo": (200, 200, 200),
    # The request is assigned to "handler": their colleague does not see its tasks.
    "handler": (200, 200, 200),
    "other_handler": (200, 404, 404),
    "auditor": (200, 200, 200),
    "owner": (200, 200, 404),
    "other_owner": (200, 404, 200),
    "staff_without_role": (403, 403, 403),
}
# visitor: (the owner's task, the other owner's task) with a POST that finishes nothing (no reason given): the
# system's owner gets the form back with what to fix (400); the others are refused, or find no such task.
POST_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (403, 403),
    "handler": (403, 403),
    "other_handler": (404, 404),
    "auditor": (403, 403),
    "owner": (400, 404),
    "other_owner": (404, 400),
    "staff_without_role": (403, 403),
}


def _patterns() -> list[URLPattern]:
    resolver = get_resolver()
    (tasks,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "fulfilment_tasks"]
    return list(tasks.url_patterns)


def test_the_walk_covers_every_task_page():
    assert {pattern.name for pattern in _patterns()} == {"task_list", "task_detail"}


def _member(role: str, username: str):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def visitors(db):
    roles.roles_ensure()
    return {
        "anonymous": None,
        "dpo": _member(roles.DPO, "dpo"),
        "handler": _member(roles.CASE_HANDLER, "handler-a"),
        "other_handler": _member(roles.CASE_HANDLER, "handler-b"),
        "auditor": _member(roles.AUDITOR, "auditor"),
        "owner": _member(roles.SYSTEM_OWNER, "owner"),
        "other_owner": _member(roles.SYSTEM_OWNER, "other-owner"),
        "staff_without_role": StaffUserFactory(username="no-role"),
    }


@pytest.fixture
def tasks(visitors):
    """One access request assigned to handler-a, waiting on two manual systems, one per owner."""
    request = in_progress_request(right=Right.ACCESS, email="walk@example.com")
    casework_services.request_assign(request=request, assignee=visitors["handler"], actor=visitors["dpo"])
    compilation = Compilation.objects.create(request=request)
    jobs = []
    for name, owner in (("Calls", visitors["owner"]), ("Surveys", visitors["other_owner"])):
        system = DataSystem.objects.create(
            name=name, data_subjects="Customers", retention="A year", connector="manual", owner=owner
        )
        jobs.append(
            SearchJob.objects.create(
                compilation=compilation,
                request=request,
                system=system,
                connector="manual",
                status=JobStatus.WAITING,
                public_id=secrets.token_urlsafe(24),
            )
        )
    return jobs


def _outcome(response) -> object:
    if response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL)):
        return "login"
    return response.status_code


def _login(client, visitors, visitor) -> None:
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)


@pytest.mark.parametrize("visitor", VISITORS)
def test_each_visitor_sees_only_the_tasks_they_may(client, visitors, tasks, visitor):
    _login(client, visitors, visitor)
    listed, on_own, on_other = GET_EXPECTED[visitor]
    assert _outcome(client.get(reverse("fulfilment_tasks:task_list"))) == listed
    for job, expected in zip(tasks, (on_own, on_other), strict=True):
        path = reverse("fulfilment_tasks:task_detail", kwargs={"public_id": job.public_id})
        assert _outcome(client.get(path)) == expected, f"{visitor} opening the task of {job.system.name}"


@pytest.mark.parametrize("visitor", VISITORS)
def test_only_the_systems_owner_may_finish_its_task(client, visitors, tasks, visitor):
    _login(client, visitors, visitor)
    for job, expected in zip(tasks, POST_EXPECTED[visitor], strict=True):
        path = reverse("fulfilment_tasks:task_detail", kwargs={"public_id": job.public_id})
        response = client.post(path, {"action": "not_searched", "not_searched-reason": ""})
        assert _outcome(response) == expected, f"{visitor} finishing the task of {job.system.name}"
        job.refresh_from_db()
        assert job.status == JobStatus.WAITING


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_task_page_answers_an_anonymous_visitor(client, tasks, method):
    for pattern in _patterns():
        kwargs = {name: tasks[0].public_id for name in pattern.pattern.converters}
        response = getattr(client, method)(reverse(f"fulfilment_tasks:{pattern.name}", kwargs=kwargs))
        assert _outcome(response) in ("login", 405), pattern.name
