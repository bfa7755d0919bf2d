"""`make run` shows a compiled answer arriving (issue 12, "Done when"): on a fresh database the demo has a verified
access request in progress, planned against the whole register, whose manual search waits for the demo's system
owner; the banner says where to look. Loading the demo again plans nothing more."""

import io
import re

import pytest
from django.core.management import call_command

from demo.register import SYSTEM_OWNER_USERNAME
from dsar_portal.crypto import email_lookup_hash
from fulfilment.models import Compilation, JobStatus, SearchJob
from requests_app.models import DataSubjectRequest, Right, Status

pytestmark = pytest.mark.django_db(transaction=True)


def _load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_a_fresh_demo_compiles_an_access_answer_with_a_task_waiting_for_the_system_owner(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    printed = _load_demo()

    request = DataSubjectRequest.objects.get(email_hash=email_lookup_hash("alan@demo.example"), right=Right.ACCESS)
    compilation = Compilation.objects.get(request=request)
    assert request.right == Right.ACCESS and request.status == Status.IN_PROGRESS
    jobs = list(compilation.jobs.select_related("system__owner"))
    # Every active system of the register is searched: the demo CRM's by the worker (eager here), the manual ones
    # wait for their owners.
    assert {job.connector for job in jobs} == {"demo_app", "manual"}
    assert all(job.status == JobStatus.DONE for job in jobs if job.connector == "demo_app")
    waiting = [job for job in jobs if job.status == JobStatus.WAITING]
    owned = [job for job in waiting if job.system.owner.username == SYSTEM_OWNER_USERNAME]
    assert owned, "the demo's system owner has a manual search task waiting"
    # The banner says what to look at.
    line = next(line for line in printed.splitlines() if "A compiled answer arriving" in line)
    assert f"/staff/requests/{request.reference}/" in line and SYSTEM_OWNER_USERNAME in line
    assert owned[0].system.name in line
    assert re.search(r"privacy notice: http://127\.0\.0\.1:8000/privacy-notice/", printed)

    # Loading the demo again plans nothing more and runs no job again.
    compilations, jobs_before = Compilation.objects.count(), SearchJob.objects.count()
    again = _load_demo()
    assert Compilation.objects.count() == compilations and SearchJob.objects.count() == jobs_before
    assert "A compiled answer arriving" in again


def test_the_demos_system_owner_signs_in_with_the_printed_login_and_sees_the_waiting_task(client, settings, tmp_path):
    """The compiled answer arrives once the system owner answers their task: `make run` prints their login and
    second factor, as it does the DPO's, so a newcomer can do it."""
    import pyotp
    from django.urls import reverse

    settings.DATA_DIR = tmp_path
    printed = _load_demo()
    found = re.search(rf"user: {re.escape(SYSTEM_OWNER_USERNAME)}\s+password: (\S+)\s+TOTP secret: (\S+)", printed)
    assert found, "the banner prints the system owner's login"
    password, secret = found.groups()
    response = client.post(reverse("account_login"), {"login": SYSTEM_OWNER_USERNAME, "password": password})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    tasks = client.get(reverse("fulfilment_tasks:task_list"))
    assert tasks.status_code == 200
    waiting = SearchJob.objects.filter(status=JobStatus.WAITING, system__owner__username=SYSTEM_OWNER_USERNAME)
    assert waiting.exists() and all(job.public_id in tasks.content.decode() for job in waiting)
    # Loading again prints the same login.
    assert found.group(0) in _load_demo()
