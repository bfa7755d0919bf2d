"""A small register: two systems, three recipients (by e-mail, by a signed HTTP request, by post), and an erasure
request from a person who asked to be told who the recipients are."""

import pytest
from django.contrib.auth.models import Group

from casework import roles
from datasystems.models import DataSystem, NotifyBy, Recipient, RecipientKind, SystemRecipient
from requests_app.models import Right
from requests_app.scope import ErasureGround, ErasureScope
from tests.factories import StaffUserFactory, in_progress_request

# A base64 Standard Webhooks secret, put in the environment variable the register names.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_ENV = "PARTNER_NOTICE_SECRET"


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


def _system(name: str) -> DataSystem:
    return DataSystem.objects.create(name=name, data_subjects="customers", retention="6 years")


@pytest.fixture
def shop(db):
    return _system("Shop")


@pytest.fixture
def mailing(db):
    return _system("Mailing list")


@pytest.fixture
def mailer(shop, mailing):
    """An e-mail provider receiving from both systems."""
    recipient = Recipient.objects.create(
        name="Mailwise Inc.", kind=RecipientKind.PROCESSOR, role="Sends e-mails", email="dpo@mailwise.example"
    )
    SystemRecipient.objects.create(system=shop, recipient=recipient, disclosed="order e-mails")
    SystemRecipient.objects.create(system=mailing, recipient=recipient, disclosed="newsletter address")
    return recipient


@pytest.fixture
def partner(shop, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    recipient = Recipient.objects.create(
        name="Partner Ltd",
        kind=RecipientKind.CONTROLLER,
        role="Delivers orders",
        notify_by=NotifyBy.HTTP,
        notify_url="http://127.0.0.1:9/notices",
        notify_secret_env=SECRET_ENV,
    )
    SystemRecipient.objects.create(system=shop, recipient=recipient, disclosed="delivery address")
    return recipient


@pytest.fixture
def tax_office(mailing):
    recipient = Recipient.objects.create(
        name="HM Revenue & Customs",
        kind=RecipientKind.PUBLIC_AUTHORITY,
        role="Receives accounts",
        address="BX9 1AA",
        notify_by=NotifyBy.POST,
    )
    SystemRecipient.objects.create(system=mailing, recipient=recipient, disclosed="accounting records")
    return recipient


def erasure_request(*, recipients_wanted: bool = True, **overrides):
    scope = ErasureScope(grounds=(ErasureGround.CONSENT_WITHDRAWN,), recipients_wanted=recipients_wanted)
    values = {
        "right": Right.ERASURE,
        "details": scope.as_details(),
        "identifiers": {"customer_number": "C-1001"},
    }
    return in_progress_request(**{**values, **overrides})
