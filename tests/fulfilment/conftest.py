"""The demo organisation's register and CRM, and a verified access request from one of the demo people."""

from datetime import date

import pytest
from django.contrib.auth.models import Group

from casework import roles
from datasystems.models import DataSystem
from demo.register import demo_register_load
from democrm.generate import democrm_generate
from requests_app.models import Right
from requests_app.scope import PortabilityScope
from tests.factories import StaffUserFactory, in_progress_request

AUTOMATED = ("demo_app", "sql")


@pytest.fixture
def staff_roles(db):
    return roles.roles_ensure()


@pytest.fixture
def dpo(staff_roles):
    user = StaffUserFactory(username="dpo")
    user.groups.add(Group.objects.get(name=roles.DPO))
    return user


@pytest.fixture
def handler(staff_roles):
    user = StaffUserFactory(username="handler")
    user.groups.add(Group.objects.get(name=roles.CASE_HANDLER))
    return user


@pytest.fixture
def register(dpo):
    """The demo register (eight systems: four searched through the demo CRM's connector, four manual) and the CRM."""
    demo_register_load(dpo=dpo)
    democrm_generate(people=6, rows_per_person=30, as_of=date(2026, 11, 1), demo_people=True, demo_rows_per_person=40)
    return DataSystem.objects.all()


@pytest.fixture
def automated_register(register):
    """The demo register with its manual systems out of use, so an answer can be assembled without a person's task
    (the manual connector comes later)."""
    DataSystem.objects.exclude(connector__in=AUTOMATED).update(active=False)
    return DataSystem.objects.filter(active=True)


def alan_request(right: str = Right.ACCESS, **overrides):
    """Alan Turing (C-1001 in the demo CRM) asks, identified by his customer number and account e-mail."""
    values = {
        "right": right,
        "name": "Alan Turing",
        "email": "alan.t@example.net",
        "identifiers": {"customer_number": "C-1001", "account_email": "alan@demo.example"},
    }
    if right == Right.PORTABILITY:
        values["details"] = PortabilityScope().as_details()
    values.update(overrides)
    return in_progress_request(**values)
