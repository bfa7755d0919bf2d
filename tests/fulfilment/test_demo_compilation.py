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
