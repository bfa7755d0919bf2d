"""Without beat (the embedded default), one command runs the periodic jobs."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from requests_app.models import DataSubjectRequest, Status
from tests.factories import submitted_request

pytestmark = pytest.mark.django_db(transaction=True)


def test_run_scheduled_jobs_closes_a_request_never_confirmed(settings, mailoutbox):
    request = submitted_request()
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        received_at=timezone.now() - timedelta(days=settings.DSAR_UNCONFIRMED_CLOSE_DAYS + 1)
    )
    out = io.StringIO()
    call_command("run_scheduled_jobs", stdout=out)
    request.refresh_from_db()
    assert request.status == Status.CLOSED_UNCONFIRMED
    assert "1 closed" in out.getvalue()
    assert "has been closed" in mailoutbox[-1].subject
