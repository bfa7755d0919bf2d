import pytest
from django.contrib.auth.models import Group

from casework import roles
from tests.factories import StaffUserFactory


@pytest.fixture
def staff_roles(db):
    return roles.roles_ensure()


def _member(role: str, username: str):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def dpo(staff_roles):
    return _member(roles.DPO, "dpo")


@pytest.fixture
def handler(staff_roles):
    return _member(roles.CASE_HANDLER, "handler-a")


@pytest.fixture
def other_handler(staff_roles):
    return _member(roles.CASE_HANDLER, "handler-b")


@pytest.fixture
def auditor(staff_roles):
    return _member(roles.AUDITOR, "auditor")


@pytest.fixture
def system_owner(staff_roles):
    return _member(roles.SYSTEM_OWNER, "owner")
