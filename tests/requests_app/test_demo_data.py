"""The demo a newcomer gets from `make run`: loaded twice without harm, and the printed login works."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from requests_app.models import DataSubjectRequest, Status

pytestmark = pytest.mark.django_db(transaction=True)


def _load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_has_requests_in_different_states_and_a_working_dpo_login(client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    printed = _load_demo()
    password = re.search(r"user: dpo\s+password: (\S+)", printed).group(1)
    statuses = set(DataSubjectRequest.objects.values_list("status", flat=True))
    assert {Status.AWAITING_EMAIL_CONFIRMATION, Status.IN_PROGRESS, Status.COMPLETED, Status.REFUSED} <= statuses

    response = client.post(reverse("admin:login"), {"username": "dpo", "password": password, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    # The DPO can work the identity checks.
    assert client.get(reverse("identity:verification_queue")).status_code == 200


def test_loading_the_demo_twice_does_no_harm(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = _load_demo()
    count = DataSubjectRequest.objects.count()
    second = _load_demo()
    assert DataSubjectRequest.objects.count() == count
    assert re.search(r"password: (\S+)", first).group(1) == re.search(r"password: (\S+)", second).group(1)
