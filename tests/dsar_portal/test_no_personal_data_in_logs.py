"""Logs carry IDs, never personal data: a whole request's life, logged at DEBUG, names no one."""

import logging

import pytest
from django.urls import reverse

from requests_app import services
from requests_app.confirmation import email_code_issue
from requests_app.models import DataSubjectRequest, Outcome
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PERSONAL = {
    "name": "Zebedee Quartermaine",
    "email": "zebedee.quartermaine@example.com",
    "customer_number": "ZQ-778899",
    "phone": "07700 900777",
    "address": "17 Quince Lane, Norwich NR1 1AA",
    "description": "my neighbour Ottoline Pettigrew knows about this",
}


def test_a_request_from_filing_to_completion_logs_no_personal_data(client, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post(
        reverse("requests_app:request_create", args=["access"]),
        {
            "requester_role": "data_subject",
            "name": PERSONAL["name"],
            "email": PERSONAL["email"],
            "customer_number": PERSONAL["customer_number"],
            "phone": PERSONAL["phone"],
            "address": PERSONAL["address"],
            "description": PERSONAL["description"],
            "access_scope": "all",
            "access_format": "report",
        },
    )
    status_url = response["Location"]
    request = DataSubjectRequest.objects.get()
    client.post(status_url + "confirm-email/", {"code": "000000"})  # a wrong try is logged too
    client.post(status_url + "confirm-email/", {"code": email_code_issue(request=request)})
    client.get(status_url)
    staff = StaffUserFactory()
    services.request_identity_verified(request=request, actor=staff)
    services.request_complete(request=request, actor=staff, outcome=Outcome.FULFILLED, summary="Sent.")

    logged = "\n".join(record.getMessage() + " " + repr(record.args) for record in caplog.records)
    assert f"request {request.pk} submitted" in logged  # the logs do say what happened, by ID
    for kind, value in PERSONAL.items():
        assert value not in logged, f"the {kind} appears in the logs"
    assert "Zebedee" not in logged and "zebedee" not in logged.lower()
