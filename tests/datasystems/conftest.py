import pytest
from django.contrib.auth.models import Group

from casework import roles
from datasystems import services
from datasystems.models import LawfulBasis, RecipientKind, Safeguard
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
def auditor(staff_roles):
    return _member(roles.AUDITOR, "auditor")


@pytest.fixture
def system_owner(staff_roles):
    return _member(roles.SYSTEM_OWNER, "owner")


SYSTEM = {
    "name": "CRM",
    "description": "Customer accounts",
    "data_subjects": "Customers",
    "personal_data_categories": ["Name", "E-mail address"],
    "retention": "6 years after the account closes",
    "connector": "demo_app",
    "connector_config": {"tables": {"customers": {"model": "democrm.Customer", "match": {"email": "email"}}}},
}


@pytest.fixture
def crm(dpo, system_owner):
    """A system with one purpose, one named recipient and one transfer under the UK Addendum, owned by the owner."""
    system = services.system_save(system=None, values={**SYSTEM, "owner": system_owner}, actor=dpo)
    services.purpose_add(
        system=system,
        values={"description": "Managing your account", "lawful_basis": LawfulBasis.CONTRACT},
        actor=dpo,
    )
    mailer = services.recipient_save(
        recipient=None,
        values={
            "name": "Mailwise Inc.",
            "kind": RecipientKind.PROCESSOR,
            "role": "Sends our e-mails",
            "email": "dpo@mailwise.example",
            "country": "United States",
        },
        actor=dpo,
    )
    services.system_recipient_link(system=system, recipient=mailer, disclosed="your e-mail address", actor=dpo)
    services.transfer_add(
        system=system,
        values={"country": "United States", "recipient": mailer, "safeguard": Safeguard.UK_ADDENDUM, "note": ""},
        actor=dpo,
    )
    return system


@pytest.fixture
def billing(dpo):
    """A system nobody but the DPO owns."""
    return services.system_save(
        system=None, values={**SYSTEM, "name": "Billing", "connector": "manual", "connector_config": {}}, actor=dpo
    )
