"""A register of two systems (one changed by the fake connector, one by its owner's hand) and an erasure request."""

import pytest
from django.contrib.auth.models import Group

from casework import roles
from datasystems.models import DataSystem, LawfulBasis, Purpose
from requests_app.models import Right
from requests_app.scope import ErasureScope
from tests.factories import StaffUserFactory, in_progress_request

from .fakes import FakeChangingConnector

CRM_CONFIG = {
    "tables": [
        {"name": "customers", "restriction": {"column": "restricted"}, "marketing": {"set": {"email_opt_in": False}}},
        {
            "name": "invoices",
            "erasure": {
                "action": "anonymise",
                "fields": {"email": "keyed_hash", "name": "null"},
                "ground": "erasure_legal_obligation",
                "reason": "Invoices are kept six years for HMRC.",
            },
        },
        {
            "name": "complaints",
            "erasure": {
                "action": "keep",
                "ground": "erasure_legal_claims",
                "reason": "A claim about this order is open.",
            },
        },
    ]
}
EMAIL = "ada@example.com"


@pytest.fixture(autouse=True)
def fake_connector(settings):
    settings.DSAR_CONNECTORS = {**settings.DSAR_CONNECTORS, "fake": "tests.changes.fakes.FakeChangingConnector"}
    settings.DSAR_CHANGE_BATCH_ROWS = 5
    FakeChangingConnector.reset()
    yield FakeChangingConnector
    FakeChangingConnector.reset()


@pytest.fixture
def staff_roles(db):
    return roles.roles_ensure()


def member(role: str, username: str):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def dpo(staff_roles):
    return member(roles.DPO, "dpo")


@pytest.fixture
def handler(staff_roles):
    return member(roles.CASE_HANDLER, "handler")


@pytest.fixture
def owner(staff_roles):
    return member(roles.SYSTEM_OWNER, "owner")


@pytest.fixture
def other_owner(staff_roles):
    return member(roles.SYSTEM_OWNER, "other.owner")


def system(name: str, connector: str, config=None, **values) -> DataSystem:
    return DataSystem.objects.create(
        name=name,
        data_subjects="customers",
        retention="six years",
        connector=connector,
        connector_config=config or {},
        **values,
    )


@pytest.fixture
def crm(fake_connector):
    crm = system("CRM", "fake", CRM_CONFIG, backup_roll_off_days=35)
    Purpose.objects.create(system=crm, description="Newsletters", lawful_basis=LawfulBasis.CONSENT, for_marketing=True)
    fake_connector.seed("customers", EMAIL, 12)
    fake_connector.seed("invoices", EMAIL, 3)
    fake_connector.seed("complaints", EMAIL, 1)
    fake_connector.seed("customers", "someone.else@example.com", 4)
    return crm


@pytest.fixture
def paper(owner):
    return system("Paper files", "manual", owner=owner)


@pytest.fixture
def erasure_request(db):
    return in_progress_request(right=Right.ERASURE, details=ErasureScope().as_details(), email=EMAIL)
