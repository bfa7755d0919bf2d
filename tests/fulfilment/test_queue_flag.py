"""The queue flags a request whose fulfilment task failed (issue 11, "what needs a human now"), and filters on it,
for the page's rows only and in the same one query as casework's own flags (casework imports no fulfilment)."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from datasystems.connectors.base import ConnectorError
from datasystems.connectors.demo_app import DemoAppConnector
from fulfilment.models import JobStatus, SearchJob

from .conftest import alan_request

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = reverse("casework:queue")
FLAG = "A fulfilment task failed"


def _broken(self, identifiers):
    raise ConnectorError("The configuration names a table 'orderz' the system does not have.")


def _references(response) -> list[str]:
    return [row.reference for row in response.context["rows"]]


def test_a_failed_search_is_flagged_and_found_by_the_filter(client, automated_register, dpo):
    fine = alan_request(email="fine@example.net")
    with mock.patch.object(DemoAppConnector, "search", _broken):
        failed = alan_request(email="failed@example.net")
    assert SearchJob.objects.filter(request=failed, status=JobStatus.FAILED).exists()
    assert not SearchJob.objects.filter(request=fine, status=JobStatus.FAILED).exists()
    client.force_login(dpo)

    response = client.get(QUEUE)
    flagged = [row.reference for row in response.context["rows"] if row.fulfilment_task_failed]
    assert flagged == [failed.reference]
    assert response.content.decode().count(FLAG) == 1
    assert "With a failed fulfilment task" in response.content.decode()
    assert _references(client.get(QUEUE, {"fulfilment_task_failed": "on"})) == [failed.reference]


def test_the_flag_goes_when_the_search_is_retried(client, automated_register, dpo):
    with mock.patch.object(DemoAppConnector, "search", _broken):
        failed = alan_request()
    SearchJob.objects.filter(request=failed).update(status=JobStatus.QUEUED)
    client.force_login(dpo)
    assert client.get(QUEUE, {"fulfilment_task_failed": "on"}).context["rows"] == []
    assert FLAG not in client.get(QUEUE).content.decode()


def test_the_flag_costs_no_query_of_its_own(client, automated_register, dpo):
    """A page with no failed task and one with several run the same number of queries."""
    alan_request(email="first@example.net")
    client.force_login(dpo)
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as before:
        client.get(QUEUE)
    with mock.patch.object(DemoAppConnector, "search", _broken):
        for number in range(3):
            alan_request(email=f"failed{number}@example.net")
    client.get(QUEUE)  # as before the first count (the cached list of staff may have been forgotten meanwhile)
    with CaptureQueriesContext(connection) as after:
        response = client.get(QUEUE)
    assert response.content.decode().count(FLAG) == 3
    assert len(after.captured_queries) == len(before.captured_queries)
